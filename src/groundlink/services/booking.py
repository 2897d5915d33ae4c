"""Booking: reserve, change, cancel and list contacts, with no double booking ever.

Read this module top to bottom: the public functions first, then the checks
they share, then the database plumbing.

How double booking is prevented, on each database:

* **The rule** is :mod:`groundlink.contacts.conflicts`, the one place that
  decides whether two contacts conflict: on an antenna, a contact's reserved
  span ``[aos - prepass, los + postpass)`` may not come within the antenna's
  turnaround of another's (touching is fine); a spacecraft may be in at most
  ``max_simultaneous_contacts`` passes at once. Slew time is not counted:
  contacts do not store their pointing yet, so ``turnaround_s`` must cover
  the antenna's worst slew.
* **SQLite**: every change runs in a ``BEGIN IMMEDIATE`` transaction
  (:func:`~groundlink.adapters.db.engine.write_transaction`), which holds the
  database's only write lock from the first read to the commit, so the check
  and the insert cannot be separated by another writer.
* **PostgreSQL**: the exclusion constraint ``contacts_no_double_booking``
  forbids two active contacts on one antenna whose ``[reserved_start,
  blocked_end)`` ranges overlap, where ``blocked_end = reserved_end +
  turnaround``: exactly the antenna rule. A race that slips past the check
  fails at insert, and is reported as the same :class:`ContactConflict`.
  Before checking, a write locks the spacecraft's row and then the
  antenna's (one ``SELECT ... FOR NO KEY UPDATE OF spacecraft, antennas``,
  always in that order): the
  spacecraft limit has no constraint, and without the antenna lock many
  simultaneous overlapping inserts wait on each other inside the exclusion
  check and fall into a storm of deadlocks (seen with 60 threads). Writes to
  one antenna therefore queue; writes to different antennas do not. Deadlocks
  and serialization failures are retried a few times.

Every status change goes through :func:`groundlink.contacts.states.transition`
and writes a row to the audit log in the same transaction.

A reservation is the API's busiest write, so it is kept to few statements
(one lock, two checks, two inserts) and reads and writes rows with
SQLAlchemy Core: on a two-core machine the ORM's object loading and unit of
work cost more CPU than PostgreSQL spends on the whole transaction
(``bench/booking.py``).
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, Select, and_, bindparam, insert, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from groundlink.adapters.db.engine import write_transaction
from groundlink.adapters.db.models import (
    ACTIVE_STATUSES,
    AntennaRow,
    AuditRecord,
    Contact,
    MaintenanceWindow,
    MissionProfile,
    Spacecraft,
    new_id,
)
from groundlink.contacts.conflicts import (
    ContactWindow,
    antenna_conflict,
    iso_z,
    spacecraft_conflicts,
)
from groundlink.contacts.states import (
    TIME_DRIVEN,
    ContactStatus,
    status_at,
    transition,
)
from groundlink.errors import InvalidInput
from groundlink.services.errors import (
    AntennaUnavailable,
    ContactConflict,
    LockedForChanges,
    NotFound,
    StaleVersion,
)

#: Changes stop this many seconds before a contact's reserved start (AWS: 15 minutes).
DEFAULT_LOCK_S = 900
#: Longest pass (AOS to LOS) that can be booked, in seconds.
MAX_PASS_S = 86_400
#: Longest pre-pass or post-pass, in seconds (AWS's limit).
MAX_PREPOST_S = 21_600
#: Most contacts one page of :func:`list_contacts` returns.
MAX_PAGE_SIZE = 100
#: Longest window ``[window_start, window_end)`` one :func:`list_contacts` call may ask for.
MAX_LIST_WINDOW = timedelta(days=31)
#: How many times a transaction that lost a deadlock or a lock wait is run again.
MAX_ATTEMPTS = 5

_ACTIVE = [status.value for status in ACTIVE_STATUSES]
#: A row of a Core query: its columns are named by the query.
_Row = Row[*tuple[Any, ...]]
_T = TypeVar("_T")


# --- what callers pass in and get back -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    """A contact to reserve: a pass of ``spacecraft_id`` on ``antenna_id``.

    ``aos``/``los`` (and ``tca`` if known) are timezone-aware; ``max_elevation_deg``
    in degrees. ``prepass_s``/``postpass_s`` (whole seconds, 0-21600) default
    to the mission profile's, or 0 without a profile.
    """

    spacecraft_id: str
    antenna_id: str
    aos: datetime
    los: datetime
    tca: datetime | None = None
    max_elevation_deg: float | None = None
    mission_profile_id: str | None = None
    prepass_s: int | None = None
    postpass_s: int | None = None


@dataclass(frozen=True, slots=True)
class ContactChanges:
    """New times for a booked contact; ``None`` keeps the current value."""

    aos: datetime | None = None
    los: datetime | None = None
    tca: datetime | None = None
    max_elevation_deg: float | None = None


@dataclass(frozen=True, slots=True)
class ContactFilters:
    """What :func:`list_contacts` keeps; ``None`` keeps everything.

    ``window_start``/``window_end`` keep contacts whose pass ``[aos, los)``
    overlaps ``[window_start, window_end)``; with both given, the window must
    not be reversed nor longer than :data:`MAX_LIST_WINDOW` (31 days).
    """

    statuses: frozenset[ContactStatus] | None = None
    spacecraft_id: str | None = None
    antenna_id: str | None = None
    station_id: str | None = None
    mission_profile_id: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class ContactPage:
    """One page of contacts, ordered by AOS then id; ``next_cursor`` is ``None`` on the last."""

    items: list[Contact]
    next_cursor: str | None


# --- reserve -------------------------------------------------------------------------------------


def reserve_contact(
    session: Session,
    tenant_id: str,
    request: ReservationRequest,
    clock_now: datetime,
    *,
    api_key_id: str | None = None,
    lock_s: float = DEFAULT_LOCK_S,
) -> Contact:
    """Book a contact for ``tenant_id`` and return it, SCHEDULED, or raise.

    ``clock_now`` is the current time (timezone-aware); the contact's
    reserved start must be at least ``lock_s`` seconds after it.
    ``session`` must not be in a transaction: this function runs its own.

    Raises:
        InvalidInput: a bad time, duration or elevation (naming the field).
        NotFound: the spacecraft, antenna or mission profile does not exist
            for this tenant.
        AntennaUnavailable: the antenna is in maintenance then.
        ContactConflict: the antenna or the spacecraft is taken.
    """
    _require_aware("clock_now", clock_now)

    pending = _Pending()

    def attempt() -> Contact:
        locked = _lock(session, tenant_id, request.spacecraft_id, request.antenna_id)
        profile = _owned_profile(session, tenant_id, request.mission_profile_id)
        spans = _spans(
            aos=request.aos,
            los=request.los,
            tca=request.tca,
            max_elevation_deg=request.max_elevation_deg,
            prepass_s=_prepost("prepass_s", request.prepass_s, profile),
            postpass_s=_prepost("postpass_s", request.postpass_s, profile),
            turnaround_s=locked.turnaround_s,
        )
        _check_profile(spans, profile)
        _check_not_locked(spans, clock_now, lock_s)
        _check_available(session, tenant_id, locked, spans, exclude_id=None)
        pending.about(locked.antenna_id, spans, contact_id=None)
        scheduling = transition(ContactStatus.AVAILABLE, ContactStatus.SCHEDULING)
        status = transition(scheduling, ContactStatus.SCHEDULED)
        contact = Contact(
            id=new_id("ct"),
            tenant_id=tenant_id,
            spacecraft_id=locked.spacecraft_id,
            antenna_id=locked.antenna_id,
            mission_profile_id=None if profile is None else profile.id,
            profile_snapshot=_snapshot(profile, spans),
            status=status.value,
            created_at=clock_now,
            updated_at=clock_now,
            version=1,
            prediction=None,
            **spans.columns(),
        )
        # Written with two Core INSERTs rather than through the ORM's unit of work,
        # which would cost more Python time than everything else a booking does.
        session.connection().execute(_INSERT_CONTACT, _column_values(contact))
        _audit(
            session,
            clock_now,
            tenant_id,
            api_key_id,
            "contact.reserved",
            contact.id,
            {"from": None, "to": status.value, **_describe(contact)},
        )
        return contact

    return _run_write(session, tenant_id, attempt, pending)


# --- change --------------------------------------------------------------------------------------


def update_contact(
    session: Session,
    tenant_id: str,
    contact_id: str,
    changes: ContactChanges,
    expected_version: int,
    clock_now: datetime,
    *,
    api_key_id: str | None = None,
    lock_s: float = DEFAULT_LOCK_S,
) -> Contact:
    """Move a SCHEDULED contact's pass to new times, until its lock time.

    ``expected_version`` is the version the caller read: if the contact
    changed since, nothing is written. The new times are checked exactly
    like a new reservation (the contact does not conflict with itself).

    Raises:
        NotFound: no such contact for this tenant.
        StaleVersion: the contact is no longer at ``expected_version``.
        LockedForChanges: past the lock time, or no longer SCHEDULED.
        InvalidInput, AntennaUnavailable, ContactConflict: as for :func:`reserve_contact`.
    """
    _require_aware("clock_now", clock_now)

    pending = _Pending()

    def attempt() -> Contact:
        contact = _owned_contact(session, tenant_id, contact_id, for_update=True)
        if contact.version != expected_version:
            raise StaleVersion(contact.id, expected_version, contact.version)
        locked_at = contact.reserved_start - timedelta(seconds=lock_s)
        if contact.status != ContactStatus.SCHEDULED or clock_now >= locked_at:
            raise LockedForChanges(
                contact.id,
                locked_at,
                status=None if contact.status == "SCHEDULED" else contact.status,
            )
        locked = _lock(session, tenant_id, contact.spacecraft_id, contact.antenna_id)
        spans = _spans(
            aos=changes.aos or contact.aos,
            los=changes.los or contact.los,
            tca=changes.tca or contact.tca,
            max_elevation_deg=(
                contact.max_elevation_deg
                if changes.max_elevation_deg is None
                else changes.max_elevation_deg
            ),
            prepass_s=(contact.aos - contact.reserved_start).total_seconds(),
            postpass_s=(contact.reserved_end - contact.los).total_seconds(),
            turnaround_s=locked.turnaround_s,
        )
        _check_not_locked(spans, clock_now, lock_s)
        _check_available(session, tenant_id, locked, spans, exclude_id=contact.id)
        pending.about(locked.antenna_id, spans, contact_id=contact.id)
        before = _describe(contact)
        for name, value in spans.columns().items():
            setattr(contact, name, value)
        contact.prediction = None  # it spoke of the old times: unchecked until the next upload
        contact.version += 1
        contact.updated_at = clock_now
        session.flush()
        _audit(
            session,
            clock_now,
            tenant_id,
            api_key_id,
            "contact.updated",
            contact.id,
            {"before": before, "after": _describe(contact), "version": contact.version},
        )
        return contact

    return _run_write(session, tenant_id, attempt, pending)


def cancel_contact(
    session: Session,
    tenant_id: str,
    contact_id: str,
    clock_now: datetime,
    *,
    api_key_id: str | None = None,
) -> Contact:
    """Cancel a contact that has not begun, and return it, CANCELLED.

    The stored status is first brought up to what the clock says
    (:func:`~groundlink.contacts.states.status_at`), so a contact whose
    pre-pass has begun cannot be cancelled outright.

    Raises:
        NotFound: no such contact for this tenant.
        ContactStateError: the life cycle does not allow CANCELLED from the
            contact's status (already cancelled, under way, finished).
    """
    _require_aware("clock_now", clock_now)

    def attempt() -> Contact:
        contact = _owned_contact(session, tenant_id, contact_id, for_update=True)
        stored = ContactStatus(contact.status)
        current = stored
        if stored in TIME_DRIVEN:
            by_clock = status_at(_window(contact), clock_now)
            current = max(stored, by_clock, key=TIME_DRIVEN.index)
        target = transition(current, ContactStatus.CANCELLED)
        contact.status = target.value
        contact.version += 1
        contact.updated_at = clock_now
        session.flush()
        _audit(
            session,
            clock_now,
            tenant_id,
            api_key_id,
            "contact.cancelled",
            contact.id,
            {"from": stored.value, "to": target.value},
        )
        return contact

    return _run_write(session, tenant_id, attempt, _Pending())


# --- read ----------------------------------------------------------------------------------------


def get_contact(session: Session, tenant_id: str, contact_id: str) -> Contact:
    """The tenant's contact ``contact_id``.

    Raises:
        NotFound: no such contact, or it belongs to another tenant.
    """
    with session.begin():
        return _owned_contact(session, tenant_id, contact_id, for_update=False)


def list_contacts(
    session: Session,
    tenant_id: str,
    filters: ContactFilters = ContactFilters(),  # frozen, so a safe default
    cursor: str | None = None,
    limit: int = 50,
) -> ContactPage:
    """One page of the tenant's contacts that pass ``filters``, ordered by AOS then id.

    ``cursor`` is the ``next_cursor`` of the previous page (opaque text);
    ``limit`` is 1 to :data:`MAX_PAGE_SIZE`.

    Raises:
        InvalidInput: a bad limit, cursor or window.
    """
    if not (isinstance(limit, int) and 1 <= limit <= MAX_PAGE_SIZE):
        raise InvalidInput("limit", limit, f"a whole number from 1 to {MAX_PAGE_SIZE}")
    query = _filtered(select(Contact).where(Contact.tenant_id == tenant_id), filters)
    if cursor is not None:
        after_aos, after_id = _decode_cursor(cursor)
        query = query.where(
            or_(Contact.aos > after_aos, and_(Contact.aos == after_aos, Contact.id > after_id))
        )
    query = query.order_by(Contact.aos, Contact.id).limit(limit + 1)
    with session.begin():
        rows = list(session.scalars(query))
    if len(rows) <= limit:
        return ContactPage(rows, None)
    rows = rows[:limit]
    return ContactPage(rows, _encode_cursor(rows[-1]))


def _filtered(query: Select[Any], filters: ContactFilters) -> Select[Any]:
    if filters.statuses is not None:
        query = query.where(Contact.status.in_([s.value for s in filters.statuses]))
    if filters.spacecraft_id is not None:
        query = query.where(Contact.spacecraft_id == filters.spacecraft_id)
    if filters.antenna_id is not None:
        query = query.where(Contact.antenna_id == filters.antenna_id)
    if filters.mission_profile_id is not None:
        query = query.where(Contact.mission_profile_id == filters.mission_profile_id)
    if filters.station_id is not None:
        on_station = select(AntennaRow.id).where(AntennaRow.station_id == filters.station_id)
        query = query.where(Contact.antenna_id.in_(on_station))
    start, end = filters.window_start, filters.window_end
    if start is not None:
        _require_aware("window_start", start)
        query = query.where(Contact.los > start)
    if end is not None:
        _require_aware("window_end", end)
        query = query.where(Contact.aos < end)
    if start is not None and end is not None and not end > start:
        raise InvalidInput("window_end", iso_z(end), f"a time after window_start ({iso_z(start)})")
    if start is not None and end is not None and end - start > MAX_LIST_WINDOW:
        raise InvalidInput(
            "window_end",
            iso_z(end),
            f"at most {MAX_LIST_WINDOW.days} days after window_start ({iso_z(start)}): "
            "list a longer span in several windows",
        )
    return query


def _encode_cursor(last: Contact) -> str:
    raw = json.dumps([last.aos.isoformat(), last.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        aos_text, contact_id = json.loads(raw)
        aos = datetime.fromisoformat(aos_text)
        if not isinstance(contact_id, str) or aos.utcoffset() is None:
            raise ValueError(cursor)
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidInput("cursor", cursor, "a next_cursor returned by a previous page") from error
    return aos, contact_id


# --- the times of a contact ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Spans:
    """A contact's pass and the spans it holds its antenna, all UTC-aware."""

    aos: datetime
    los: datetime
    tca: datetime | None
    max_elevation_deg: float | None
    reserved_start: datetime
    reserved_end: datetime
    blocked_end: datetime

    @property
    def prepass_s(self) -> float:
        return (self.aos - self.reserved_start).total_seconds()

    @property
    def postpass_s(self) -> float:
        return (self.reserved_end - self.los).total_seconds()

    def columns(self) -> dict[str, Any]:
        """The :class:`Contact` columns these spans fill."""
        return {
            "aos": self.aos,
            "los": self.los,
            "tca": self.tca,
            "max_elevation_deg": self.max_elevation_deg,
            "reserved_start": self.reserved_start,
            "reserved_end": self.reserved_end,
            "blocked_end": self.blocked_end,
        }


def _spans(
    *,
    aos: datetime,
    los: datetime,
    tca: datetime | None,
    max_elevation_deg: float | None,
    prepass_s: float,
    postpass_s: float,
    turnaround_s: float,
) -> _Spans:
    _require_aware("aos", aos)
    _require_aware("los", los)
    if not los > aos:
        raise InvalidInput("los", iso_z(los), f"a time after aos ({iso_z(aos)})")
    if (los - aos).total_seconds() > MAX_PASS_S:
        raise InvalidInput("los", iso_z(los), f"at most {MAX_PASS_S} s after aos ({iso_z(aos)})")
    if tca is not None:
        _require_aware("tca", tca)
        if not aos <= tca <= los:
            raise InvalidInput("tca", iso_z(tca), f"a time from aos ({iso_z(aos)}) to los")
    if max_elevation_deg is not None and not 0 <= max_elevation_deg <= 90:
        raise InvalidInput("max_elevation_deg", max_elevation_deg, "degrees in [0, 90]")
    reserved_end = los + timedelta(seconds=postpass_s)
    return _Spans(
        aos=aos,
        los=los,
        tca=tca,
        max_elevation_deg=max_elevation_deg,
        reserved_start=aos - timedelta(seconds=prepass_s),
        reserved_end=reserved_end,
        blocked_end=reserved_end + timedelta(seconds=turnaround_s),
    )


def _prepost(name: str, value: int | None, profile: MissionProfile | None) -> int:
    if value is None:
        return 0 if profile is None else int(getattr(profile, name))
    if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PREPOST_S):
        raise InvalidInput(name, value, f"whole seconds from 0 to {MAX_PREPOST_S}")
    return value


def _window(contact: Contact | _Row) -> ContactWindow:
    """The contact (or a row of :data:`_WINDOW_COLUMNS`) as the conflict rule sees it."""
    return ContactWindow(
        start=contact.aos,
        end=contact.los,
        prepass_s=(contact.aos - contact.reserved_start).total_seconds(),
        postpass_s=(contact.reserved_end - contact.los).total_seconds(),
        antenna_id=contact.antenna_id,
        spacecraft_id=contact.spacecraft_id,
        contact_id=contact.id,
    )


def _new_window(
    spans: _Spans, antenna_id: str, spacecraft_id: str, contact_id: str
) -> ContactWindow:
    return ContactWindow(
        start=spans.aos,
        end=spans.los,
        prepass_s=spans.prepass_s,
        postpass_s=spans.postpass_s,
        antenna_id=antenna_id,
        spacecraft_id=spacecraft_id,
        contact_id=contact_id or "(requested)",
    )


# --- the checks ----------------------------------------------------------------------------------


def _check_profile(spans: _Spans, profile: MissionProfile | None) -> None:
    if profile is None:
        return
    minimum_s = profile.min_viable_contact_duration_s
    if (spans.los - spans.aos).total_seconds() < minimum_s:
        raise InvalidInput(
            "los",
            iso_z(spans.los),
            f"a pass of at least {minimum_s:g} s (mission profile {profile.id})",
        )
    if spans.max_elevation_deg is not None and spans.max_elevation_deg < profile.min_elevation_deg:
        raise InvalidInput(
            "max_elevation_deg",
            spans.max_elevation_deg,
            f"at least {profile.min_elevation_deg:g} deg (mission profile {profile.id})",
        )


def _check_not_locked(spans: _Spans, now: datetime, lock_s: float) -> None:
    earliest = now + timedelta(seconds=lock_s)
    if spans.reserved_start < earliest:
        raise InvalidInput(
            "aos",
            iso_z(spans.aos),
            f"a contact whose pre-pass starts at or after {iso_z(earliest)} "
            f"(the lock time is {lock_s:g} s before the start)",
        )


def _check_available(
    session: Session,
    tenant_id: str,
    locked: _Locked,
    spans: _Spans,
    *,
    exclude_id: str | None,
) -> None:
    """Raise unless the antenna is up and free and the spacecraft under its limit for ``spans``."""
    connection = session.connection()
    maintenance = connection.execute(
        _MAINTENANCE_OVERLAPPING,
        {
            "antenna_id": locked.antenna_id,
            "reserved_start": spans.reserved_start,
            "reserved_end": spans.reserved_end,
        },
    ).first()
    if maintenance is not None:
        raise AntennaUnavailable(
            locked.antenna_id, maintenance.start, maintenance.end, maintenance.reason
        )

    # One query for both rules: the active contacts on the antenna near the new one's
    # span, and those of the spacecraft during its pass.
    nearby = connection.execute(
        _ACTIVE_NEARBY,
        {
            "antenna_id": locked.antenna_id,
            "reserved_start": spans.reserved_start,
            "blocked_end": spans.blocked_end,
            "spacecraft_id": locked.spacecraft_id,
            "aos": spans.aos,
            "los": spans.los,
            "exclude_id": exclude_id or "",
        },
    ).all()
    new = _new_window(spans, locked.antenna_id, locked.spacecraft_id, exclude_id or "")
    for other in nearby:
        if other.antenna_id != locked.antenna_id:
            continue
        if antenna_conflict(_window(other), new, turnaround_s=locked.turnaround_s) is not None:
            raise _antenna_conflict(tenant_id, spans, other)

    windows = [_window(c) for c in nearby if c.spacecraft_id == locked.spacecraft_id] + [new]
    for conflict in spacecraft_conflicts(windows, locked.max_simultaneous_contacts):
        if new in (conflict.first, conflict.second):
            other_window = conflict.other(new)
            raise ContactConflict(
                "spacecraft",
                other_window.contact_id,
                (spans.aos, spans.los),
                (other_window.start, other_window.end),
            )


#: What the conflict rule reads of a booked contact (:func:`_window`), and whose it is.
_WINDOW_COLUMNS = (
    Contact.id,
    Contact.tenant_id,
    Contact.spacecraft_id,
    Contact.antenna_id,
    Contact.aos,
    Contact.los,
    Contact.reserved_start,
    Contact.reserved_end,
    Contact.blocked_end,
)
_CONTACT_COLUMNS = tuple(column.key for column in Contact.__table__.columns)


def _active() -> Select[*tuple[Any, ...]]:
    return select(*_WINDOW_COLUMNS).where(Contact.status.in_(_ACTIVE))


# The statements every reservation runs, built once with their values as bound parameters
# (typed by the column each is compared with): building a statement and its cache key is
# Python work, about 0.2 ms each, that would otherwise be repeated on every request.
_SPACECRAFT_AND_ANTENNA_FOR_UPDATE = (
    select(
        Spacecraft.id.label("spacecraft_id"),
        Spacecraft.max_simultaneous_contacts,
        AntennaRow.id.label("antenna_id"),
        AntennaRow.turnaround_s,
    )
    .join(AntennaRow, AntennaRow.id == bindparam("antenna_id"))
    .where(
        Spacecraft.id == bindparam("spacecraft_id"),
        Spacecraft.tenant_id == bindparam("tenant_id"),
    )
    # PostgreSQL locks the rows in the order of the FROM list: spacecraft, then antenna.
    .with_for_update(key_share=True, of=[Spacecraft, AntennaRow])
)
_OWNED_SPACECRAFT = select(Spacecraft.id).where(
    Spacecraft.id == bindparam("spacecraft_id"), Spacecraft.tenant_id == bindparam("tenant_id")
)
_MAINTENANCE_OVERLAPPING = (
    select(MaintenanceWindow.start, MaintenanceWindow.end, MaintenanceWindow.reason)
    .where(
        MaintenanceWindow.antenna_id == bindparam("antenna_id"),
        MaintenanceWindow.start < bindparam("reserved_end"),
        MaintenanceWindow.end > bindparam("reserved_start"),
    )
    .order_by(MaintenanceWindow.start)
    .limit(1)
)
#: A contact whose blocked span overlaps the new one's (the exclusion constraint's test).
_NEAR_ON_ANTENNA = and_(
    Contact.antenna_id == bindparam("antenna_id"),
    Contact.reserved_start < bindparam("blocked_end"),
    Contact.blocked_end > bindparam("reserved_start"),
)
#: A contact of the spacecraft whose pass overlaps the new one's.
_DURING_PASS_OF_SPACECRAFT = and_(
    Contact.spacecraft_id == bindparam("spacecraft_id"),
    Contact.aos < bindparam("los"),
    Contact.los > bindparam("aos"),
)
_NOT_ITSELF = Contact.id != bindparam("exclude_id")
_ACTIVE_ON_ANTENNA = _active().where(_NEAR_ON_ANTENNA, _NOT_ITSELF).order_by(Contact.reserved_start)
_ACTIVE_NEARBY = _active().where(or_(_NEAR_ON_ANTENNA, _DURING_PASS_OF_SPACECRAFT), _NOT_ITSELF)
_INSERT_CONTACT = insert(Contact)
_INSERT_AUDIT = insert(AuditRecord)


def _active_on_antenna(
    session: Session, antenna_id: str, spans: _Spans, exclude_id: str | None
) -> Sequence[_Row]:
    """Active contacts on the antenna whose blocked span overlaps ``spans``' (the DB's test).

    Each row holds :data:`_WINDOW_COLUMNS`.
    """
    return (
        session.connection()
        .execute(
            _ACTIVE_ON_ANTENNA,
            {
                "antenna_id": antenna_id,
                "reserved_start": spans.reserved_start,
                "blocked_end": spans.blocked_end,
                "exclude_id": exclude_id or "",
            },
        )
        .all()
    )


def _antenna_conflict(tenant_id: str, spans: _Spans, other: Contact | _Row) -> ContactConflict:
    return ContactConflict(
        "antenna",
        other.id if other.tenant_id == tenant_id else None,
        (spans.reserved_start, spans.blocked_end),
        (other.reserved_start, other.blocked_end),
    )


# --- rows of this tenant -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Locked:
    """The spacecraft and antenna rows a write holds, with what the checks need of them."""

    spacecraft_id: str
    max_simultaneous_contacts: int
    antenna_id: str
    turnaround_s: float


def _lock(session: Session, tenant_id: str, spacecraft_id: str, antenna_id: str) -> _Locked:
    """Lock the tenant's spacecraft and the antenna until commit (PostgreSQL), in one statement.

    Writes to one antenna therefore queue, as do writes for one spacecraft.

    Raises:
        NotFound: no such spacecraft for this tenant, or no such antenna.
    """
    connection = session.connection()
    found = connection.execute(
        _SPACECRAFT_AND_ANTENNA_FOR_UPDATE,
        {"spacecraft_id": spacecraft_id, "tenant_id": tenant_id, "antenna_id": antenna_id},
    ).first()
    if found is not None:
        return _Locked(
            found.spacecraft_id,
            found.max_simultaneous_contacts,
            found.antenna_id,
            found.turnaround_s,
        )
    owned = {"spacecraft_id": spacecraft_id, "tenant_id": tenant_id}
    if connection.execute(_OWNED_SPACECRAFT, owned).first() is None:
        raise NotFound("spacecraft", spacecraft_id)
    raise NotFound("antenna", antenna_id)


def _owned_profile(
    session: Session, tenant_id: str, profile_id: str | None
) -> MissionProfile | None:
    if profile_id is None:
        return None
    found = session.scalars(
        select(MissionProfile).where(
            MissionProfile.id == profile_id, MissionProfile.tenant_id == tenant_id
        )
    ).first()
    if found is None:
        raise NotFound("mission profile", profile_id)
    return found


def _owned_contact(
    session: Session, tenant_id: str, contact_id: str, *, for_update: bool
) -> Contact:
    query = select(Contact).where(Contact.id == contact_id, Contact.tenant_id == tenant_id)
    if for_update:
        query = query.with_for_update()
    found = session.scalars(query).first()
    if found is None:
        raise NotFound("contact", contact_id)
    return found


def _snapshot(profile: MissionProfile | None, spans: _Spans) -> dict[str, Any]:
    """What the contact keeps of its mission profile, frozen at reservation."""
    snapshot: dict[str, Any] = {"prepass_s": spans.prepass_s, "postpass_s": spans.postpass_s}
    if profile is not None:
        snapshot.update(
            id=profile.id,
            name=profile.name,
            min_elevation_deg=profile.min_elevation_deg,
            min_viable_contact_duration_s=profile.min_viable_contact_duration_s,
            tracking_config=profile.tracking_config,
            links=profile.links,
            dataflow_endpoint=profile.dataflow_endpoint,
        )
    return snapshot


def _describe(contact: Contact) -> dict[str, Any]:
    return {
        "spacecraft_id": contact.spacecraft_id,
        "antenna_id": contact.antenna_id,
        "aos": iso_z(contact.aos),
        "los": iso_z(contact.los),
        "reserved_start": iso_z(contact.reserved_start),
        "reserved_end": iso_z(contact.reserved_end),
    }


def _audit(
    session: Session,
    at: datetime,
    tenant_id: str,
    api_key_id: str | None,
    action: str,
    contact_id: str,
    detail: dict[str, Any],
) -> None:
    """Append a line about a contact to the audit log, in the session's transaction."""
    session.connection().execute(
        _INSERT_AUDIT,
        {
            "at": at,
            "tenant_id": tenant_id,
            "api_key_id": api_key_id,
            "action": action,
            "object_type": "contact",
            "object_id": contact_id,
            "detail": detail,
        },
    )


def _column_values(contact: Contact) -> dict[str, Any]:
    """Every column of ``contact``'s row, by name."""
    return {name: getattr(contact, name) for name in _CONTACT_COLUMNS}


def _require_aware(name: str, value: object) -> None:
    if not (isinstance(value, datetime) and value.utcoffset() is not None):
        raise InvalidInput(name, value, "a timezone-aware datetime (UTC)")


# --- transactions --------------------------------------------------------------------------------

#: PostgreSQL SQLSTATEs worth running the transaction again for: deadlock, serialization failure.
_RETRY_SQLSTATES = frozenset({"40P01", "40001"})
#: PostgreSQL SQLSTATE of an exclusion-constraint violation.
_EXCLUSION_VIOLATION = "23P01"


@dataclass
class _Pending:
    """What a write is about to put on an antenna, to explain an exclusion violation."""

    antenna_id: str | None = None
    spans: _Spans | None = None
    contact_id: str | None = None

    def about(self, antenna_id: str, spans: _Spans, *, contact_id: str | None) -> None:
        self.antenna_id, self.spans, self.contact_id = antenna_id, spans, contact_id


def _run_write(
    session: Session, tenant_id: str, attempt: Callable[[], _T], pending: _Pending
) -> _T:
    """Run ``attempt`` in a write transaction, again on a deadlock, and translate double bookings.

    ``pending`` is filled by ``attempt`` with the antenna span it is about to
    write, so that an exclusion violation (PostgreSQL) can name the contact in
    the way.
    """
    for attempt_no in range(1, MAX_ATTEMPTS + 1):
        last = attempt_no == MAX_ATTEMPTS
        try:
            with write_transaction(session):
                return attempt()
        except IntegrityError as error:
            if _sqlstate(error) != _EXCLUSION_VIOLATION or pending.spans is None:
                raise
            conflict = _conflict_after_violation(session, tenant_id, pending)
            if conflict is not None:
                raise conflict from error
            if last:  # the contact in the way was gone each time we looked: still a conflict
                spans = (pending.spans.reserved_start, pending.spans.blocked_end)
                raise ContactConflict("antenna", None, spans, spans) from error
        except DBAPIError as error:
            if last or not _retryable(error):
                raise
            time.sleep(random.uniform(0, 0.01 * attempt_no))  # let the other side finish
    raise AssertionError("unreachable: the last attempt returns or raises")


def _sqlstate(error: DBAPIError) -> str | None:
    state = getattr(error.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def _retryable(error: DBAPIError) -> bool:
    return _sqlstate(error) in _RETRY_SQLSTATES or "database is locked" in str(error.orig)


def _conflict_after_violation(
    session: Session, tenant_id: str, pending: _Pending
) -> ContactConflict | None:
    """The :class:`ContactConflict` for an exclusion violation, or ``None`` if the cause is gone.

    PostgreSQL waits for the contact in the way to commit before it reports
    the violation, so a fresh transaction sees it.
    """
    assert pending.antenna_id is not None and pending.spans is not None
    with session.begin():
        others = _active_on_antenna(session, pending.antenna_id, pending.spans, pending.contact_id)
        return _antenna_conflict(tenant_id, pending.spans, others[0]) if others else None


__all__ = [
    "DEFAULT_LOCK_S",
    "MAX_LIST_WINDOW",
    "MAX_PAGE_SIZE",
    "ContactChanges",
    "ContactFilters",
    "ContactPage",
    "ReservationRequest",
    "cancel_contact",
    "get_contact",
    "list_contacts",
    "reserve_contact",
    "update_contact",
]
