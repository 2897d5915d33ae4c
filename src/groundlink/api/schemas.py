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


Fit = Literal["fits", "shifted", "lost"]


class ContactFitOut(Model):
    """A booked contact checked against a new ephemeris: its booked pass and how it fits.

    ``fit``: ``fits`` (a predicted pass covers the booked AOS to LOS),
    ``shifted`` (a predicted pass overlaps it: the ``predicted_*`` times),
    ``lost`` (none does; ``predicted_*`` null).
    """

    id: str
    antenna_id: str
    aos: UTCTime
    los: UTCTime
    fit: Fit
    predicted_aos: UTCTime | None
    predicted_tca: UTCTime | None
    predicted_los: UTCTime | None


class EphemerisUploadOut(EphemerisOut):
    """An uploaded ephemeris and its effect on the booked contacts.

    ``in_use``: it became the ephemeris passes are predicted from (enabled,
    unexpired, highest priority, newest). If so, every SCHEDULED contact of
    the spacecraft that has not begun was checked against it and is listed
    in ``affected_contacts`` (by AOS); the contacts are flagged, not moved.
    """

    in_use: bool
    affected_contacts: list[ContactFitOut]


# --- ground stations -----------------------------------------------------------------------------


class BandIn(Model):
    name: Annotated[str, Field(min_length=1, max_length=40)]
    min_hz: Annotated[int, Field(gt=0)]
    max_hz: Annotated[int, Field(gt=0)]
    direction: Literal["uplink", "downlink"] = "downlink"


Finite = Annotated[float, Field(allow_inf_nan=False)]
#: Most points in a horizon mask (one every quarter degree).
MAX_MASK_POINTS = 1440


class HorizonMaskIn(Model):
    """Minimum elevation by azimuth: ``elevation_deg[i]`` at ``azimuth_deg[i]``.

    Linear in between, wrapping across north. Checked by
    :class:`groundlink.stations.model.HorizonMask` (422 naming the field):
    azimuths strictly increasing in [0, 360), elevations in [0, 90], as many
    of each.
    """

    azimuth_deg: Annotated[
        list[Finite],
        Field(
            min_length=1,
            max_length=MAX_MASK_POINTS,
            description="degrees clockwise from true north, strictly increasing, in [0, 360)",
        ),
    ]
    elevation_deg: Annotated[
        list[Finite],
        Field(
            min_length=1,
            max_length=MAX_MASK_POINTS,
            description="degrees above the horizon, in [0, 90], one per azimuth",
        ),
    ]


class AntennaIn(Model):
    name: Name
    min_elevation_deg: Annotated[Finite, Field(ge=0, le=90)] = 0.0
    g_over_t_db_k: Annotated[
        Finite | None, Field(ge=-50, le=100, description="figure of merit, dB/K")
    ] = None
    bands: Annotated[list[BandIn], Field(max_length=16)] = []
    horizon_mask: HorizonMaskIn | None = None
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


class MaintenanceWindowCreate(Model):
    """A time ``[start, end)`` in which antennas of a station take no contacts.

    ``antenna_id`` names one antenna of the station; left out, the window
    applies to every antenna of the station (one window per antenna).
    """

    antenna_id: Annotated[str | None, Field(min_length=1, max_length=40)] = None
    start: UTCTime
    end: Annotated[UTCTime, Field(description="after start (the window excludes it)")]
    reason: Annotated[str, Field(max_length=2000, pattern=r"^[^\x00-\x1f]*$")] = ""


class MaintenanceWindowOut(Model):
    id: str
    station_id: str
    antenna_id: str
    start: UTCTime
    end: UTCTime
    reason: str


class AffectedContactOut(Model):
    """A booked, active contact whose reserved span overlaps a new maintenance window."""

    id: str
    tenant_id: str
    spacecraft_id: str
    antenna_id: str
    status: ContactStatus
    aos: UTCTime
    los: UTCTime
    reserved_start: UTCTime
    reserved_end: UTCTime


class MaintenanceCreatedOut(Model):
    """The windows created (one per antenna) and the booked contacts they overlap.

    Overlapping contacts are not cancelled: the admin decides what to do with them.
    """

    windows: list[MaintenanceWindowOut]
    affected_contacts: list[AffectedContactOut]


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


class ContactPrediction(Model):
    """How a booked contact fits the passes of the ephemeris in use since (see ContactFitOut).

    Set when an upload becomes the spacecraft's ephemeris in use, or when the
    one in use expires; ``null`` on a contact not checked since it was
    booked. ``ephemeris_id`` is ``null`` (and ``fit`` ``lost``) when the
    last one expired and none is left. A flag for the operator: the
    contact's status and times are not changed.
    """

    ephemeris_id: str | None
    checked_at: UTCTime
    fit: Fit
    predicted_aos: UTCTime | None
    predicted_tca: UTCTime | None
    predicted_los: UTCTime | None


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
    prediction: ContactPrediction | None = None


class ContactPageOut(Model):
    """One page of contacts; ``next_token`` is ``null`` on the last page."""

    items: list[ContactOut]
    next_token: str | None


class ContactUpdate(Model):
    """New times for a SCHEDULED contact, accepted until its lock time (15 min before its start).

    Fields left out keep their value; pre-pass and post-pass keep their
    length. ``version`` is required: the contact's ``version`` as you last
    read it. If the contact has changed since, nothing is written and the
    answer is 409 ``stale_version`` naming both versions (optimistic locking).
    """

    version: Annotated[int, Field(ge=1, le=2_147_483_647)]
    aos: UTCTime | None = None
    los: UTCTime | None = None
    tca: UTCTime | None = None
    max_elevation_deg: Annotated[Finite | None, Field(ge=0, le=90)] = None


class ContactEventOut(Model):
    """One line of a contact's history, from the audit log.

    ``action``: ``contact.reserved``, ``contact.updated``,
    ``contact.status_changed`` or ``contact.cancelled``. ``from``/``to``: the
    statuses where the status changed (``from`` is null for the reservation),
    else null. ``api_key_id``: the key that made the change, null for what
    the platform did on its own (time-driven status changes). ``detail``: the
    audit record (times before and after an update; ``effective_at``, when
    the new phase began, for a status change).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    at: UTCTime
    action: str
    from_status: ContactStatus | None = Field(alias="from")
    to_status: ContactStatus | None = Field(alias="to")
    api_key_id: str | None
    detail: dict[str, object]


class ContactEventsOut(Model):
    """A contact's history, oldest first."""

    contact_id: str
    items: list[ContactEventOut]


# --- usage ---------------------------------------------------------------------------------------


class UsageTotalsOut(Model):
    """Contact minutes (reserved span, pre/post-pass included, exact) and counts by status group."""

    completed_minutes: float = Field(description="COMPLETED: what would be billed.")
    scheduled_minutes: float = Field(description="SCHEDULING, SCHEDULED.")
    in_progress_minutes: float = Field(description="PREPASS, PASS, POSTPASS.")
    completed_count: int
    scheduled_count: int
    in_progress_count: int
    cancelled_count: int = Field(description="CANCELLING, CANCELLED, PROVIDER_CANCELLED.")
    failed_count: int = Field(description="FAILED, PROVIDER_FAILED.")


class SpacecraftUsageOut(Model):
    """One spacecraft's share of the month."""

    spacecraft_id: str
    spacecraft_name: str
    totals: UsageTotalsOut


class UsageOut(Model):
    """A tenant's contact usage in one UTC month ``[start, end)``; minutes split at its edges."""

    month: str
    start: UTCTime
    end: UTCTime
    totals: UsageTotalsOut
    spacecraft: list[SpacecraftUsageOut]


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


# --- network schedules ---------------------------------------------------------------------------

ScheduleMethod = Literal["auto", "greedy", "cpsat"]
ScheduleMode = Literal["plan", "repair"]
JobStatus = Literal["queued", "running", "succeeded", "failed"]
DemandUnit = Literal["contacts", "seconds", "bytes"]


class ScheduleRequestIn(Model):
    """What one spacecraft needs per day; give exactly one of the three ``*_per_day``."""

    spacecraft_id: Annotated[str, Field(min_length=1, max_length=40)]
    contacts_per_day: Annotated[float | None, Field(gt=0, le=1000)] = None
    seconds_per_day: Annotated[float | None, Field(gt=0, le=86_400)] = None
    bytes_per_day: Annotated[float | None, Field(gt=0, le=1e16)] = None
    min_duration_s: Annotated[float, Field(ge=0, le=86_400)] = 60.0
    max_duration_s: Annotated[float | None, Field(gt=0, le=86_400)] = None
    priority: Annotated[int, Field(ge=1, le=5, description="1 is the most important")] = 3
    earliest: UTCTime | None = None
    latest: UTCTime | None = None
    station_ids: Annotated[list[str], Field(max_length=1000)] = []
    excluded_station_ids: Annotated[list[str], Field(max_length=1000)] = []


class ScheduleCreate(Model):
    """A planning job: the window, the requests, and how long the solver may take."""

    start: UTCTime
    end: UTCTime
    requests: Annotated[list[ScheduleRequestIn], Field(min_length=1, max_length=2000)]
    mission_profile_id: Annotated[str | None, Field(min_length=1, max_length=40)] = None
    station_ids: Annotated[list[str], Field(max_length=1000)] = []
    time_limit_s: Annotated[float, Field(gt=0, le=600)] = 10.0
    method: ScheduleMethod = "auto"
    fairness: bool = True
    commit: bool = Field(default=False, description="book the plan as soon as it is ready")
    mode: ScheduleMode = Field(
        default="plan",
        description="plan: a new plan; repair: re-plan the contacts booked in the window "
        "(after maintenance or an ephemeris update), changing as few as possible",
    )


class PlannedContactOut(BaseModel):
    request_index: int
    contact_id: str | None = Field(
        default=None, description="the booked contact it is (a repair's kept or moved contacts)"
    )
    spacecraft_id: str
    station_id: str
    antenna_id: str
    aos: UTCTime
    tca: UTCTime | None
    los: UTCTime
    max_elevation_deg: float | None
    prepass_s: int
    postpass_s: int
    expected_volume_bytes: float


class TenantShareOut(BaseModel):
    tenant_id: str
    value: float
    requested_value: float
    share: float
    fair_share: float
    ratio: float


class UnservedRequestOut(BaseModel):
    request_index: int
    spacecraft_id: str
    served: float
    demand: float
    unit: DemandUnit
    reason: str
    detail: str


class BookedContactOut(BaseModel):
    """A contact booked already, as a repair found it (``version`` guards a move)."""

    contact_id: str
    version: int
    tenant_id: str
    spacecraft_id: str
    antenna_id: str
    mission_profile_id: str | None
    aos: UTCTime
    los: UTCTime


class MovedContactOut(BaseModel):
    before: BookedContactOut
    after: PlannedContactOut


class UntouchedContactOut(BaseModel):
    contact: BookedContactOut
    reason: str


class RepairOut(BaseModel):
    """What a repair changes: booked contacts kept, moved, dropped; contacts added.

    ``untouched`` lists booked contacts of the requests' spacecraft in the
    window that the repair leaves as they are (and why); ``changed`` is
    moved + dropped + added, ``changed_fraction`` that over the contacts re-planned.
    """

    kept: list[BookedContactOut]
    moved: list[MovedContactOut]
    dropped: list[BookedContactOut]
    added: list[PlannedContactOut]
    untouched: list[UntouchedContactOut]
    changed: int
    changed_fraction: float


class PlanOut(BaseModel):
    """A plan: its value, an upper bound on any plan's value, the gap (0-1), and the contacts."""

    value: float
    bound: float
    bound_method: str
    gap: float
    solve_s: float
    solver: str
    status: str
    contacts: list[PlannedContactOut]
    shares: list[TenantShareOut]
    unserved: list[UnservedRequestOut]
    skipped: list[SkippedSpacecraft] = []
    repair: RepairOut | None = None


class RefusedContactOut(BaseModel):
    index: int
    code: str
    message: str


class ChangeOut(BaseModel):
    """One change of a committed repair: done, or refused with the booking error."""

    action: Literal["move", "drop", "add"]
    contact_id: str | None = Field(description="the booked contact moved or dropped")
    new_contact_id: str | None = Field(
        description="the contact booked: an added one, or a move that could not keep its id"
    )
    done: bool
    code: str | None = None
    message: str | None = None


class CommitOut(BaseModel):
    booked: list[str]
    refused: list[RefusedContactOut]
    changes: list[ChangeOut] = []


class ScheduleOut(BaseModel):
    id: str
    status: JobStatus
    stage: str
    progress: float
    created_at: UTCTime
    updated_at: UTCTime
    error: str | None
    plan: PlanOut | None
    committed_at: UTCTime | None
    commit: CommitOut | None
