"""The request and response bodies of the API (pydantic 2).

Every model forbids unknown fields (``extra="forbid"``): a client that sends
a server-owned field (``id``, ``tenant_id``, ``status``, ``created_at``, ...)
gets a 422 naming it, instead of having it silently ignored. Times are
timezone-aware on input (a naive time is a 422) and ISO-8601 UTC with ``Z``
on output.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
)

from groundlink.contacts.conflicts import iso_z
from groundlink.contacts.states import ContactStatus

#: The times the API accepts: from Sputnik to well past any mission (UTC).
EARLIEST = datetime(1957, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"a time from {iso_z(EARLIEST)} to before {iso_z(LATEST)}")
    return value.astimezone(UTC)


#: An aware datetime in [EARLIEST, LATEST), read as UTC, written as ISO-8601 UTC with ``Z``.
UTCTime = Annotated[
    AwareDatetime,
    AfterValidator(_in_range),
    PlainSerializer(iso_z, return_type=str, when_used="json"),
]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]*$")]
Scope = Literal["read", "book", "admin"]


class Model(BaseModel):
    """Base of every body: unknown (and server-owned) fields are rejected."""

    model_config = ConfigDict(extra="forbid")


# --- keys ----------------------------------------------------------------------------------------


class KeyCreate(Model):
    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=3)]


class KeyOut(Model):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: UTCTime
    revoked_at: UTCTime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The whole key. Shown once: store it now.")


# --- spacecraft ----------------------------------------------------------------------------------


class RfLinkIn(Model):
    direction: Literal["uplink", "downlink"]
    center_frequency_hz: Annotated[int, Field(gt=0, le=300_000_000_000)]
    bandwidth_hz: Annotated[int, Field(gt=0, le=10_000_000_000)]
    polarization: Literal["RIGHT_HAND", "LEFT_HAND", "NONE"]
    eirp_dbw: Annotated[float | None, Field(ge=-100, le=100, allow_inf_nan=False)] = None
    data_rate_bps: Annotated[float | None, Field(gt=0, le=1e12, allow_inf_nan=False)] = None


class RfLinkOut(RfLinkIn):
    id: str


NoradId = Annotated[int, Field(ge=1, le=999_999_999)]
MaxSimultaneous = Annotated[int, Field(ge=1, le=100)]


class SpacecraftCreate(Model):
    name: Name
    norad_id: NoradId | None = None
    max_simultaneous_contacts: MaxSimultaneous = 1
    rf_links: Annotated[list[RfLinkIn], Field(max_length=32)] = []


class SpacecraftUpdate(Model):
    """Fields to change; those left out keep their value. ``rf_links`` replaces all links."""

    name: Name | None = None
    norad_id: NoradId | None = None
    max_simultaneous_contacts: MaxSimultaneous | None = None
    rf_links: Annotated[list[RfLinkIn] | None, Field(max_length=32)] = None


class SpacecraftOut(Model):
    id: str
    name: str
    norad_id: int | None
    max_simultaneous_contacts: int
    rf_links: list[RfLinkOut]
    created_at: UTCTime
    updated_at: UTCTime


class EphemerisCreate(Model):
    """One element set as text: a TLE (2 or 3 lines) or an OMM (JSON, CSV, XML or KVN)."""

    text: Annotated[str, Field(min_length=1, max_length=100_000)]
    format: Literal["tle", "json", "csv", "xml", "kvn"] | None = Field(
        default=None, description="The text's format; detected when left out."
    )
    priority: Annotated[int, Field(ge=0, le=99_999)] = 1
    enabled: bool = True
    expires_at: UTCTime | None = None


class EphemerisOut(Model):
    id: str
    spacecraft_id: str
    version: int
    source_format: str
    epoch: UTCTime
    omm: dict[str, object]
    priority: int
    enabled: bool
    expires_at: UTCTime | None
    created_at: UTCTime


# --- ground stations -----------------------------------------------------------------------------


class BandIn(Model):
    name: Annotated[str, Field(min_length=1, max_length=40)]
    min_hz: Annotated[int, Field(gt=0)]
    max_hz: Annotated[int, Field(gt=0)]
    direction: Literal["uplink", "downlink"] = "downlink"


Finite = Annotated[float, Field(allow_inf_nan=False)]


class AntennaIn(Model):
    name: Name
    min_elevation_deg: Annotated[Finite, Field(ge=0, le=90)] = 0.0
    g_over_t_db_k: Annotated[Finite | None, Field(ge=-50, le=100)] = None
    bands: Annotated[list[BandIn], Field(max_length=16)] = []
    max_slew_azimuth_deg_s: Annotated[Finite, Field(gt=0, le=100)] = 3.0
    max_slew_elevation_deg_s: Annotated[Finite, Field(gt=0, le=100)] = 3.0
    turnaround_s: Annotated[Finite, Field(ge=0, le=3600)] = 0.0


class AntennaOut(AntennaIn):
    id: str


class GroundStationCreate(Model):
    name: Name
    latitude_deg: Annotated[Finite, Field(ge=-90, le=90)]
    longitude_deg: Annotated[Finite, Field(ge=-180, le=180)]
    altitude_m: Annotated[Finite, Field(ge=-500, le=10_000)] = 0.0
    antennas: Annotated[list[AntennaIn], Field(min_length=1, max_length=32)]


class GroundStationOut(Model):
    id: str
    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float
    antennas: list[AntennaOut]


# --- contacts ------------------------------------------------------------------------------------

PrePost = Annotated[int, Field(ge=0, le=21_600)]


class ContactCreate(Model):
    """A contact to reserve: a pass of a spacecraft on an antenna, by its times.

    Either ``antenna_id``, ``aos`` and ``los`` (and optionally ``tca`` and
    ``max_elevation_deg``), or ``available_contact_id`` from
    ``GET /v1/contacts/available`` alone, which gives them.
    """

    spacecraft_id: Annotated[str, Field(min_length=1, max_length=40)]
    antenna_id: Annotated[str | None, Field(min_length=1, max_length=40)] = None
    aos: UTCTime | None = None
    los: UTCTime | None = None
    tca: UTCTime | None = None
    max_elevation_deg: Annotated[Finite | None, Field(ge=0, le=90)] = None
    mission_profile_id: Annotated[str | None, Field(min_length=1, max_length=40)] = None
    prepass_s: PrePost | None = None
    postpass_s: PrePost | None = None
    available_contact_id: Annotated[
        str | None, Field(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f]*$")
    ] = None


class ContactOut(Model):
    id: str
    spacecraft_id: str
    antenna_id: str
    mission_profile_id: str | None
    status: ContactStatus
    aos: UTCTime
    tca: UTCTime | None
    los: UTCTime
    reserved_start: UTCTime
    reserved_end: UTCTime
    max_elevation_deg: float | None
    version: int
    created_at: UTCTime
    updated_at: UTCTime


class ContactPageOut(Model):
    """One page of contacts; ``next_token`` is ``null`` on the last page."""

    items: list[ContactOut]
    next_token: str | None


# --- mission profiles ----------------------------------------------------------------------------

PlainText = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[^\x00-\x1f]*$")]


class TrackingConfig(Model):
    """How the antenna tracks: ``autotrack`` as AWS (REQUIRED, PREFERRED or REMOVED)."""

    autotrack: Literal["REQUIRED", "PREFERRED", "REMOVED"] = "PREFERRED"


class ProfileLink(Model):
    """A link the contact uses; ``band_name`` (e.g. ``"X"``) requires an antenna band so named."""

    direction: Literal["uplink", "downlink"] = "downlink"
    band_name: Annotated[str | None, Field(min_length=1, max_length=40)] = None


class DataflowEndpoint(Model):
    """Where the contact's data goes: a name and, optionally, a URL."""

    name: Name
    url: PlainText | None = None


MinElevation = Annotated[Finite, Field(ge=0, le=90)]
MinViable = Annotated[Finite, Field(ge=0, le=86_400)]


class MissionProfileCreate(Model):
    """A mission profile: what a contact must satisfy and how the antenna is held around it."""

    name: Name
    min_elevation_deg: MinElevation = 0.0
    min_viable_contact_duration_s: MinViable = 60.0
    prepass_s: PrePost = 120
    postpass_s: PrePost = 60
    tracking_config: TrackingConfig = TrackingConfig()
    links: Annotated[list[ProfileLink], Field(max_length=16)] = []
    dataflow_endpoint: DataflowEndpoint | None = None


class MissionProfileUpdate(Model):
    """Fields to change; those left out keep their value."""

    name: Name | None = None
    min_elevation_deg: MinElevation | None = None
    min_viable_contact_duration_s: MinViable | None = None
    prepass_s: PrePost | None = None
    postpass_s: PrePost | None = None
    tracking_config: TrackingConfig | None = None
    links: Annotated[list[ProfileLink] | None, Field(max_length=16)] = None
    dataflow_endpoint: DataflowEndpoint | None = None


class MissionProfileOut(Model):
    id: str
    name: str
    min_elevation_deg: float
    min_viable_contact_duration_s: float
    prepass_s: int
    postpass_s: int
    tracking_config: TrackingConfig
    links: list[ProfileLink]
    dataflow_endpoint: DataflowEndpoint | None
    created_at: UTCTime
    updated_at: UTCTime


# --- available contacts --------------------------------------------------------------------------


class AvailableContactOut(Model):
    """A contact the network can offer: reserve it with its times (or its id, where supported)."""

    available_contact_id: str
    spacecraft_id: str
    station_id: str
    station_name: str
    antenna_id: str
    antenna_name: str
    aos: UTCTime
    tca: UTCTime
    los: UTCTime
    max_elevation_deg: float
    aos_azimuth_deg: float
    tca_azimuth_deg: float
    los_azimuth_deg: float
    reserved_start: UTCTime
    reserved_end: UTCTime
    volume_bytes: float
    trimmed: bool


class SkippedSpacecraft(Model):
    """A spacecraft left out of a listing, and why."""

    spacecraft_id: str
    reason: str


class AvailableContactPageOut(Model):
    """One page of available contacts; ``next_token`` is ``null`` on the last page."""

    items: list[AvailableContactOut]
    next_token: str | None
    skipped: list[SkippedSpacecraft]
