"""The tables of the platform, as SQLAlchemy 2 typed declarative models.

One model per table, in the order a reader meets them: who (tenants, API
keys), what they fly (spacecraft, RF links, ephemerides), the shared network
(ground stations, antennas, maintenance windows), how they want a contact run
(mission profiles), the bookings (contacts), and the two bookkeeping tables
(audit log, idempotency keys).

Decisions (also in ``docs/storage.md``):

* **Ids** are text: a short type prefix, a dash and a random UUID4 in hex,
  e.g. ``ct-1f0c…``. The prefix makes an id say what it names in logs,
  URLs and error messages, and a spacecraft id passed where a contact id is
  expected can never match a row. Ids are generated here, never by a client.
* **Times** are :class:`UTCDateTime`: timezone-aware UTC in Python, ``timestamptz``
  on PostgreSQL, naive UTC text on SQLite (which has no time zones). The
  rest of the code only ever sees aware UTC datetimes.
* **Frequencies** are integer hertz (``BigInteger``: X-band does not fit 32 bits).
* **API key secrets** are stored as the SHA-256 of a 32-byte random secret,
  not bcrypt: bcrypt's slowness protects low-entropy passwords from
  guessing, but a 256-bit random secret cannot be guessed, and a fast hash
  keeps key lookup cheap on every request.
* **No double booking** is enforced by the database: on PostgreSQL by an
  exclusion constraint over ``[reserved_start, blocked_end)`` per antenna
  (created by the migration, see ``migrations/versions/0001_initial.py``),
  on SQLite by ``BEGIN IMMEDIATE`` transactions in the booking service.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from groundlink.contacts.states import TERMINAL, ContactStatus

#: Length of every id column: a prefix of up to 4 letters, a dash and 32 hex digits.
ID_LENGTH = 40

#: Statuses in which a contact holds its antenna (and counts against its spacecraft's limit).
#: Every non-terminal status a stored contact can have; AVAILABLE is never stored.
ACTIVE_STATUSES: tuple[ContactStatus, ...] = tuple(
    status
    for status in ContactStatus
    if status not in TERMINAL and status is not ContactStatus.AVAILABLE
)


def new_id(prefix: str) -> str:
    """A fresh id such as ``ct-9b2e…``: ``prefix``, a dash, a random UUID4 in 32 hex digits."""
    return f"{prefix}-{uuid.uuid4().hex}"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    Binding a naive datetime raises :class:`ValueError`: a naive time is a
    bug, not a guess to make. Values come back aware, in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given: times must be UTC-aware")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _id_column(prefix: str) -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id(prefix))


def _owner(table: str, *, nullable: bool = False) -> Mapped[Any]:
    return mapped_column(
        String(ID_LENGTH), ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=nullable
    )


class Base(DeclarativeBase):
    """The declarative base of every groundlink table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


# --- who ---------------------------------------------------------------------------------------


class Tenant(Base):
    """An operator: owns spacecraft, mission profiles, contacts and API keys."""

    __tablename__ = "tenants"

    id: Mapped[str] = _id_column("tn")
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]


class ApiKey(Base):
    """A tenant's API key. The secret is shown once at creation; only its SHA-256 is kept.

    ``prefix`` is the public start of the key, used to find the row;
    ``secret_sha256`` the hex digest of the whole key. ``scopes`` is a JSON
    list of ``"read"``, ``"book"``, ``"admin"``. A key with ``revoked_at``
    set is refused from that instant on.
    """

    __tablename__ = "api_keys"

    id: Mapped[str] = _id_column("key")
    tenant_id: Mapped[str] = _owner("tenants")
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[Any]]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_api_keys_tenant_id", "tenant_id"),)


# --- what they fly -----------------------------------------------------------------------------


class Spacecraft(Base):
    """A tenant's spacecraft. ``norad_id`` is the NORAD catalogue number (up to 9 digits).

    ``max_simultaneous_contacts`` bounds how many contacts (AOS to LOS) it may
    be in at once.
    """

    __tablename__ = "spacecraft"

    id: Mapped[str] = _id_column("sc")
    tenant_id: Mapped[str] = _owner("tenants")
    name: Mapped[str] = mapped_column(String(200))
    norad_id: Mapped[int | None] = mapped_column(Integer)
    max_simultaneous_contacts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_spacecraft_tenant_id", "tenant_id"),)


class RfLink(Base):
    """One radio link of a spacecraft: direction, frequencies in Hz, polarization, EIRP, rate.

    ``direction`` is ``uplink`` or ``downlink``; ``polarization`` one of
    ``RIGHT_HAND``, ``LEFT_HAND``, ``NONE``; ``eirp_dbw`` in dBW;
    ``data_rate_bps`` in bits per second.
    """

    __tablename__ = "rf_links"

    id: Mapped[str] = _id_column("rf")
    spacecraft_id: Mapped[str] = _owner("spacecraft")
    direction: Mapped[str] = mapped_column(String(8))
    center_frequency_hz: Mapped[int] = mapped_column(BigInteger)
    bandwidth_hz: Mapped[int] = mapped_column(BigInteger)
    polarization: Mapped[str] = mapped_column(String(12))
    eirp_dbw: Mapped[float | None] = mapped_column(Float)
    data_rate_bps: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_rf_links_spacecraft_id", "spacecraft_id"),)


class Ephemeris(Base):
    """One uploaded ephemeris of a spacecraft, stored as OMM (``OrbitalElements.to_omm()``).

    ``version`` counts uploads per spacecraft from 1. ``source_format`` says
    what was uploaded (``tle`` or ``omm``). The one used is the newest
    enabled, unexpired one of highest ``priority`` (AWS's rule).
    """

    __tablename__ = "ephemerides"

    id: Mapped[str] = _id_column("eph")
    spacecraft_id: Mapped[str] = _owner("spacecraft")
    version: Mapped[int] = mapped_column(Integer)
    source_format: Mapped[str] = mapped_column(String(8))
    omm: Mapped[dict[str, Any]]
    priority: Mapped[int] = mapped_column(Integer, default=1)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("spacecraft_id", "version"),)


# --- the shared network ------------------------------------------------------------------------


class GroundStationRow(Base):
    """A ground-station site of the shared network (WGS-84 degrees, metres)."""

    __tablename__ = "ground_stations"

    id: Mapped[str] = _id_column("gs")
    name: Mapped[str] = mapped_column(String(200), unique=True)
    latitude_deg: Mapped[float] = mapped_column(Float)
    longitude_deg: Mapped[float] = mapped_column(Float)
    altitude_m: Mapped[float] = mapped_column(Float, default=0.0)


class AntennaRow(Base):
    """One antenna of a station.

    ``bands`` is a JSON list of ``{"name", "min_hz", "max_hz", "direction"}``;
    ``horizon_mask`` ``{"azimuth_deg": [...], "elevation_deg": [...]}`` or
    null. ``turnaround_s`` is the setup time in seconds the antenna needs
    between two contacts; slew rates are in degrees per second.
    """

    __tablename__ = "antennas"

    id: Mapped[str] = _id_column("ant")
    station_id: Mapped[str] = _owner("ground_stations")
    name: Mapped[str] = mapped_column(String(200))
    min_elevation_deg: Mapped[float] = mapped_column(Float, default=0.0)
    g_over_t_db_k: Mapped[float | None] = mapped_column(Float)
    bands: Mapped[list[Any]]
    horizon_mask: Mapped[dict[str, Any] | None]
    max_slew_azimuth_deg_s: Mapped[float] = mapped_column(Float, default=3.0)
    max_slew_elevation_deg_s: Mapped[float] = mapped_column(Float, default=3.0)
    turnaround_s: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (UniqueConstraint("station_id", "name"),)


class MaintenanceWindow(Base):
    """A time ``[start, end)`` in which an antenna takes no contacts."""

    __tablename__ = "maintenance_windows"

    id: Mapped[str] = _id_column("mw")
    antenna_id: Mapped[str] = _owner("antennas")
    start: Mapped[datetime]
    end: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_maintenance_windows_antenna_id_start", "antenna_id", "start"),)


# --- how a contact is run ----------------------------------------------------------------------


class MissionProfile(Base):
    """A tenant's mission profile (AWS's word; Azure: contact profile).

    Durations in seconds: ``prepass_s`` and ``postpass_s`` in [0, 21600],
    ``min_viable_contact_duration_s``; ``min_elevation_deg`` in degrees.
    ``tracking_config``, ``links`` and ``dataflow_endpoint`` are JSON as the
    API receives them. A reservation copies the profile into the contact's
    ``profile_snapshot``, so later edits do not change booked contacts.
    """

    __tablename__ = "mission_profiles"

    id: Mapped[str] = _id_column("mp")
    tenant_id: Mapped[str] = _owner("tenants")
    name: Mapped[str] = mapped_column(String(200))
    min_elevation_deg: Mapped[float] = mapped_column(Float, default=0.0)
    min_viable_contact_duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    prepass_s: Mapped[int] = mapped_column(Integer, default=0)
    postpass_s: Mapped[int] = mapped_column(Integer, default=0)
    tracking_config: Mapped[dict[str, Any]]
    links: Mapped[list[Any]]
    dataflow_endpoint: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("tenant_id", "name"),)


# --- bookings ----------------------------------------------------------------------------------


class Contact(Base):
    """A booked contact: one pass of one spacecraft on one antenna.

    ``aos``/``tca``/``los`` are the pass; the antenna is held over
    ``[reserved_start, reserved_end)`` = ``[aos - prepass, los + postpass)``
    and may take no other contact before ``blocked_end`` = ``reserved_end +
    turnaround``. ``status`` holds a :class:`~groundlink.contacts.states.ContactStatus`
    value. ``version`` starts at 1 and grows by one on every change
    (optimistic locking).

    ``prediction`` (null until checked) says how the booked ``[aos, los]``
    fits the passes predicted from the spacecraft's ephemeris in use, as
    written by :mod:`groundlink.services.reprediction` when a new ephemeris
    takes over: ``{"ephemeris_id", "checked_at", "fit", "predicted_aos",
    "predicted_tca", "predicted_los"}``. It is a flag for the operator, not
    a change of the booking: writing it changes neither ``version`` nor
    ``updated_at``.
    """

    __tablename__ = "contacts"

    id: Mapped[str] = _id_column("ct")
    tenant_id: Mapped[str] = _owner("tenants")
    spacecraft_id: Mapped[str] = _owner("spacecraft")
    antenna_id: Mapped[str] = _owner("antennas")
    mission_profile_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("mission_profiles.id", ondelete="SET NULL"), nullable=True
    )
    profile_snapshot: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(24))
    aos: Mapped[datetime]
    tca: Mapped[datetime | None]
    los: Mapped[datetime]
    reserved_start: Mapped[datetime]
    reserved_end: Mapped[datetime]
    blocked_end: Mapped[datetime]
    max_elevation_deg: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)
    prediction: Mapped[dict[str, Any] | None]

    __table_args__ = (
        Index("ix_contacts_antenna_id_reserved_start", "antenna_id", "reserved_start"),
        Index("ix_contacts_spacecraft_id_aos", "spacecraft_id", "aos"),
        Index("ix_contacts_tenant_id_aos_id", "tenant_id", "aos", "id"),
    )


# --- network plans ------------------------------------------------------------------------------


class ScheduleRow(Base):
    """A network-scheduling job and its plan (``POST /v1/schedules``).

    ``spec`` is the request as received (window, requests, solver options);
    ``status`` is ``queued``, ``running``, ``succeeded`` or ``failed``, with
    ``stage`` and ``progress`` (0-1) while it runs; ``result`` the plan
    (value, bound, gap, shares, unserved requests, contacts) once it
    succeeded; ``commit_result`` what booking the plan did (contacts booked,
    and those refused with why), set once when the plan is committed.
    """

    __tablename__ = "schedules"

    id: Mapped[str] = _id_column("sch")
    tenant_id: Mapped[str] = _owner("tenants")
    api_key_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(64), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    spec: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    commit_result: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    committed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_schedules_tenant_id_created_at", "tenant_id", "created_at"),)


# --- bookkeeping -------------------------------------------------------------------------------


class AuditRecord(Base):
    """One line of the append-only audit log: who did what to which object, when.

    ``action`` is a dotted verb such as ``contact.reserved``; ``detail`` a
    JSON object (for a status change: ``{"from": ..., "to": ...}``). Rows are
    only ever inserted.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    tenant_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    api_key_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    detail: Mapped[dict[str, Any]]

    __table_args__ = (Index("ix_audit_log_object_id", "object_id"),)


class IdempotencyKey(Base):
    """The first response to a create request sent with an ``Idempotency-Key`` header.

    ``request_fingerprint`` is a hash of the request (method, path, body):
    the same key with another fingerprint is refused.
    """

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    tenant_id: Mapped[str] = _owner("tenants")
    key: Mapped[str] = mapped_column(String(255))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("tenant_id", "key"),)


__all__ = [
    "ACTIVE_STATUSES",
    "AntennaRow",
    "ApiKey",
    "AuditRecord",
    "Base",
    "Contact",
    "Ephemeris",
    "GroundStationRow",
    "IdempotencyKey",
    "MaintenanceWindow",
    "MissionProfile",
    "RfLink",
    "ScheduleRow",
    "Spacecraft",
    "Tenant",
    "UTCDateTime",
    "new_id",
]
