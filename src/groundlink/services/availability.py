"""Available contacts: which passes of a fleet a network can offer, and what each would deliver.

An operator asks "when can my spacecraft talk to the ground this week, and
how much data would each contact bring down?". The answer is the pass
engine's passes, kept where an antenna can actually serve the spacecraft's
downlink, cut around maintenance and contacts already booked, each with the
reserved span an antenna would be held for and the bytes the link budget
says it delivers. This module computes that from plain domain objects, with
no database: the booking service and the REST API call it with what they
loaded, so the same answer comes out of every interface.

The steps, each a small function below:

1. check the inputs at the edge (window of at most 7 days, links, profile);
2. decide which (spacecraft, antenna) pairs are compatible: an antenna
   downlink band holds the whole channel (centre ± bandwidth/2), its name
   matches the profile's band if one is required, and the antenna receives
   the link's polarisation;
3. :func:`~groundlink.passes.engine.find_passes` for the spacecraft and
   antennas that have a compatible partner, above max(profile minimum,
   antenna minimum and mask);
4. keep compatible pairs and passes at least the minimum viable contact
   duration long;
5. trim (or drop) passes whose reserved span collides with maintenance or a
   busy interval on the same antenna, by the rule of
   :mod:`groundlink.contacts.conflicts` (half-open spans, turnaround gap;
   slew is not counted against busy intervals, whose pointing is unknown);
6. expected volume: the link closes where the slant range is at most the
   range at which the margin is 0 dB, so the volume of a fixed-rate link is
   ``rate × (time with range <= that range) / 8``.

**How the slant range is sampled, and its error.** SGP4 is evaluated, in
one ``sgp4_array`` call per spacecraft, at :data:`NODES_PER_PASS` instants
per pass: AOS, TCA, LOS and two more evenly spaced on each side of TCA.
Between nodes, the squared range is a cubic Hermite curve through the
nodes' values and exact derivatives (2 r ṙ, from SGP4's velocity): for a
straight fly-by r² is exactly quadratic in time, so the curve follows it
closely. The link's closing instants are then found by bisection on that
curve. Measured on 161 passes that close only part of the time (20 sampled
satellites of every shell, 10 stations, 24 h), the closing time differs from
the budget integrated on a 0.05 s :func:`~groundlink.passes.track.sample_track`
by at most 0.048 s (p50 0.016 s), about the reference's own granularity.
Against :func:`~groundlink.linkbudget.expected_volume_bytes` on a 1 s track
(``tests/test_availability.py``) the difference is below
:data:`VOLUME_TOLERANCE_S`: that reference counts each switch half-way
between two samples, so it alone may be 0.5 s off at each of the two
switches. Volumes are thus within ``rate × 0.05 s / 8`` bytes of the exact
integral. Passes that close throughout are exact.

Only fixed-rate links are modelled (the spacecraft link's data rate and
required Eb/N0); adaptive modcods are left to a later change.

Results are columnar, like :class:`~groundlink.passes.table.PassTable`:
tens of thousands of contacts for a fleet-week are normal. Listing them is
:func:`page_contacts`: sorted by AOS, volume or maximum elevation, in pages
of at most 100, with an opaque cursor that holds the last sort key and
contact id, so paging through yields every contact exactly once.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from groundlink.contacts.conflicts import find_antenna_conflicts
from groundlink.errors import InvalidInput
from groundlink.linkbudget import (
    DEFAULT_ATMOSPHERIC_LOSS_DB,
    DEFAULT_POINTING_LOSS_DB,
    DEFAULT_POLARIZATION_LOSS_DB,
    DEFAULT_REQUIRED_EBN0_DB,
    GroundReceiver,
    SpacecraftTransmitter,
    link_margin_db,
)
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.frames import (
    dot,
    east_north_up,
    geodetic_to_ecef_km,
    gmst82_rad,
    look_angles,
    teme_to_ecef,
)
from groundlink.orbits.propagation import SGP4_ERRORS, satrec_from_elements, split_julian_date
from groundlink.passes.engine import find_passes
from groundlink.passes.table import PassTable, iso_utc_ms, select_rows, unix_seconds
from groundlink.stations.model import Antenna, FrequencyBand, GroundStation

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]

Polarization = Literal["RIGHT_HAND", "LEFT_HAND", "NONE"]
#: An antenna, named by its station id and its antenna id.
AntennaKey = tuple[str, str]
#: A time interval ``[start, end)``, timezone-aware UTC datetimes.
Interval = tuple[datetime, datetime]
SortField = Literal["aos", "volume_bytes", "max_elevation_deg"]

#: Longest window one call accepts.
MAX_WINDOW = timedelta(days=7)
#: Most contacts one page holds.
MAX_PAGE_SIZE = 100
#: Fields a listing can be sorted by.
SORT_FIELDS: tuple[str, ...] = get_args(SortField)
#: SGP4 nodes per pass: AOS, two between AOS and TCA, TCA, two between TCA and LOS, LOS.
NODES_PER_SIDE = 3
NODES_PER_PASS = 2 * NODES_PER_SIDE + 1
#: Bound on the closing-time difference from a 1 s sampled budget integral, seconds:
#: 2 × 0.5 s of the reference's trapezoid granularity + 0.1 s for this method (0.05 s measured).
VOLUME_TOLERANCE_S = 1.1
#: Bisection steps for a closing instant: 2^-40 of a node interval (< 1 ns).
_BISECTION_STEPS = 40
#: Trimmed passes keep this far (seconds) from a blocked span, against float rounding.
_TRIM_GUARD_S = 1e-3
_POLARIZATIONS: frozenset[Polarization] = frozenset(get_args(Polarization))


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DownlinkLink:
    """A spacecraft's downlink channel.

    ``center_frequency_hz`` and ``bandwidth_hz`` in whole Hz; ``eirp_dbw``
    towards the ground, dBW; ``data_rate_bps`` the information rate, bit/s;
    ``required_ebn0_db`` what its modulation and coding need, dB.

    Raises:
        InvalidInput: naming the first field out of range.
    """

    center_frequency_hz: int
    bandwidth_hz: int
    eirp_dbw: float
    data_rate_bps: float
    polarization: Polarization = "RIGHT_HAND"
    required_ebn0_db: float = DEFAULT_REQUIRED_EBN0_DB

    def __post_init__(self) -> None:
        if not (_whole(self.center_frequency_hz) and self.center_frequency_hz > 0):
            raise InvalidInput("center_frequency_hz", self.center_frequency_hz, "whole Hz > 0")
        if not (_whole(self.bandwidth_hz) and 0 <= self.bandwidth_hz <= self.center_frequency_hz):
            raise InvalidInput("bandwidth_hz", self.bandwidth_hz, "whole Hz in [0, centre]")
        if self.polarization not in _POLARIZATIONS:
            raise InvalidInput("polarization", self.polarization, "RIGHT_HAND, LEFT_HAND or NONE")
        self.transmitter  # noqa: B018 - validates the budget fields

    @property
    def transmitter(self) -> SpacecraftTransmitter:
        """The link as the link budget's transmitter."""
        return SpacecraftTransmitter(self.eirp_dbw, self.data_rate_bps, self.required_ebn0_db)

    @property
    def low_hz(self) -> float:
        """Lower edge of the channel, Hz."""
        return self.center_frequency_hz - self.bandwidth_hz / 2

    @property
    def high_hz(self) -> float:
        """Upper edge of the channel, Hz."""
        return self.center_frequency_hz + self.bandwidth_hz / 2


@dataclass(frozen=True, slots=True)
class Spacecraft:
    """A spacecraft as this module needs it: an id, the elements to use, its downlink.

    Choosing the ephemeris (newest enabled, unexpired, highest priority) is
    the caller's job: ``elements`` is the one to predict with.
    """

    id: str
    elements: OrbitalElements
    downlink: DownlinkLink


@dataclass(frozen=True, slots=True)
class MissionProfile:
    """What a contact must satisfy, and how long the antenna is held around it.

    ``min_elevation_deg`` in [0, 90] (raised per antenna to its own minimum
    and mask); ``min_viable_contact_duration_s``, ``prepass_s`` and
    ``postpass_s`` in seconds (pre/post-pass in [0, 21600], as AWS);
    ``band_name``: if set, the antenna band that holds the channel must
    have this name (e.g. ``"X"``).
    """

    min_elevation_deg: float = 0.0
    min_viable_contact_duration_s: float = 60.0
    prepass_s: float = 120.0
    postpass_s: float = 60.0
    band_name: str | None = None

    def __post_init__(self) -> None:
        _require_range("min_elevation_deg", self.min_elevation_deg, 0, 90, "degrees in [0, 90]")
        _require_range(
            "min_viable_contact_duration_s",
            self.min_viable_contact_duration_s,
            0,
            86_400,
            "seconds in [0, 86400]",
        )
        for name in ("prepass_s", "postpass_s"):
            _require_range(name, getattr(self, name), 0, 21_600, "seconds in [0, 21600]")


@dataclass(frozen=True, slots=True)
class AntennaReceiver:
    """Receive-side facts about one antenna that the station model does not carry.

    ``g_over_t_db_k``: figure of merit, dB/K; the losses (dB, positive) as
    in :class:`~groundlink.linkbudget.GroundReceiver`; ``polarizations``
    it can receive; ``turnaround_s``: setup seconds it needs between two
    uses (applied against maintenance and busy intervals).
    """

    g_over_t_db_k: float
    polarizations: frozenset[Polarization] = _POLARIZATIONS
    turnaround_s: float = 0.0
    atmospheric_loss_db: float = DEFAULT_ATMOSPHERIC_LOSS_DB
    polarization_loss_db: float = DEFAULT_POLARIZATION_LOSS_DB
    pointing_loss_db: float = DEFAULT_POINTING_LOSS_DB

    def __post_init__(self) -> None:
        self.ground_receiver  # noqa: B018 - validates the budget fields
        _require_range("turnaround_s", self.turnaround_s, 0, 86_400, "seconds in [0, 86400]")
        unknown = set(self.polarizations) - _POLARIZATIONS
        if unknown:
            raise InvalidInput("polarizations", sorted(unknown), "RIGHT_HAND, LEFT_HAND or NONE")

    @property
    def ground_receiver(self) -> GroundReceiver:
        """The antenna as the link budget's receiver."""
        return GroundReceiver(
            self.g_over_t_db_k,
            self.atmospheric_loss_db,
            self.polarization_loss_db,
            self.pointing_loss_db,
        )


# --- the result ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AvailableContact:
    """One available contact, as a row of :class:`AvailableContacts` (UTC datetimes)."""

    contact_id: str
    spacecraft_id: str
    station_id: str
    antenna_id: str
    aos: datetime
    tca: datetime
    los: datetime
    max_elevation_deg: float
    aos_azimuth_deg: float
    tca_azimuth_deg: float
    los_azimuth_deg: float
    reserved_start: datetime
    reserved_end: datetime
    volume_bytes: float
    trimmed: bool


@dataclass(frozen=True)
class AvailableContacts:
    """Available contacts, column by column (N rows), sorted by AOS then contact id.

    ``spacecraft_ids`` and ``antennas`` are what the indices refer to.
    Columns: ``contact_id`` (N,) str, stable for the same pass;
    ``aos_unix_s``, ``tca_unix_s``, ``los_unix_s``, ``reserved_start_unix_s``
    and ``reserved_end_unix_s`` (POSIX seconds, UTC; the reserved span is
    ``[AOS - prepass, LOS + postpass)``); ``max_elevation_deg`` and the
    azimuths at AOS, TCA and LOS in degrees; ``volume_bytes`` expected from
    the link budget; ``trimmed``: the pass was shortened around a blocked
    interval. ``problems`` lists spacecraft SGP4 could not propagate.
    """

    spacecraft_ids: tuple[str, ...]
    antennas: tuple[tuple[GroundStation, Antenna], ...]
    spacecraft_index: IntArray
    antenna_index: IntArray
    contact_id: StrArray
    aos_unix_s: FloatArray
    tca_unix_s: FloatArray
    los_unix_s: FloatArray
    max_elevation_deg: FloatArray
    aos_azimuth_deg: FloatArray
    tca_azimuth_deg: FloatArray
    los_azimuth_deg: FloatArray
    reserved_start_unix_s: FloatArray
    reserved_end_unix_s: FloatArray
    volume_bytes: FloatArray
    trimmed: BoolArray
    problems: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.aos_unix_s.shape[0])

    @classmethod
    def empty(cls) -> AvailableContacts:
        """No contacts: no spacecraft, no antennas, every column of length 0."""
        no_floats = np.zeros(0)
        return cls(
            spacecraft_ids=(),
            antennas=(),
            spacecraft_index=np.zeros(0, np.int64),
            antenna_index=np.zeros(0, np.int64),
            contact_id=np.zeros(0, np.str_),
            aos_unix_s=no_floats,
            tca_unix_s=no_floats,
            los_unix_s=no_floats,
            max_elevation_deg=no_floats,
            aos_azimuth_deg=no_floats,
            tca_azimuth_deg=no_floats,
            los_azimuth_deg=no_floats,
            reserved_start_unix_s=no_floats,
            reserved_end_unix_s=no_floats,
            volume_bytes=no_floats,
            trimmed=np.zeros(0, np.bool_),
        )

    @property
    def duration_s(self) -> FloatArray:
        """LOS minus AOS, seconds, (N,)."""
        return self.los_unix_s - self.aos_unix_s

    def select(self, rows: npt.ArrayLike) -> AvailableContacts:
        """The contacts at ``rows`` (indices or a boolean mask), in that order."""
        return select_rows(self, rows)

    def row(self, i: int) -> AvailableContact:
        """Contact number ``i`` as an :class:`AvailableContact`."""
        station, antenna = self.antennas[int(self.antenna_index[i])]
        return AvailableContact(
            contact_id=str(self.contact_id[i]),
            spacecraft_id=self.spacecraft_ids[int(self.spacecraft_index[i])],
            station_id=station.id,
            antenna_id=antenna.id,
            aos=_datetime(self.aos_unix_s[i]),
            tca=_datetime(self.tca_unix_s[i]),
            los=_datetime(self.los_unix_s[i]),
            max_elevation_deg=float(self.max_elevation_deg[i]),
            aos_azimuth_deg=float(self.aos_azimuth_deg[i]),
            tca_azimuth_deg=float(self.tca_azimuth_deg[i]),
            los_azimuth_deg=float(self.los_azimuth_deg[i]),
            reserved_start=_datetime(self.reserved_start_unix_s[i]),
            reserved_end=_datetime(self.reserved_end_unix_s[i]),
            volume_bytes=float(self.volume_bytes[i]),
            trimmed=bool(self.trimmed[i]),
        )

    def rows(self) -> list[AvailableContact]:
        """Every contact as an :class:`AvailableContact` (for pages, not whole fleets)."""
        return [self.row(i) for i in range(len(self))]


@dataclass(frozen=True)
class ContactPage:
    """One page of a listing: the contacts and the cursor of the next page (None at the end)."""

    contacts: AvailableContacts
    next_cursor: str | None


# --- the service -----------------------------------------------------------------------------


def available_contacts(
    spacecraft: Sequence[Spacecraft],
    stations: Sequence[GroundStation],
    receivers: Mapping[AntennaKey, AntennaReceiver],
    profile: MissionProfile,
    start: datetime,
    end: datetime,
    *,
    maintenance: Mapping[AntennaKey, Sequence[Interval]] | None = None,
    busy: Mapping[AntennaKey, Sequence[Interval]] | None = None,
    ut1_minus_utc_s: float = 0.0,
    workers: int | None = None,
) -> AvailableContacts:
    """Every contact ``spacecraft`` could have with ``stations`` in [start, end].

    Args:
        spacecraft: the fleet (unique ids), each with its elements and downlink.
        stations: the network; every antenna needs an entry in ``receivers``.
        receivers: per antenna ``(station id, antenna id)``: G/T, losses,
            polarisations, turnaround.
        profile: minimum elevation, minimum viable duration, pre/post-pass,
            required band name.
        start, end: timezone-aware UTC window, at most :data:`MAX_WINDOW`.
        maintenance, busy: per antenna, intervals ``[start, end)`` when it is
            not available (maintenance; contacts already booked, their own
            pre/post-pass included). Passes colliding with them are trimmed
            to their longest free part, or dropped if that is shorter than
            the minimum viable duration.
        ut1_minus_utc_s: DUT1, seconds.
        workers: processes for the pass search (see ``find_passes``).

    Returns:
        :class:`AvailableContacts` sorted by AOS then contact id.

    Raises:
        InvalidInput: for a bad window, duplicate spacecraft ids, a missing
            receiver, an interval on an unknown antenna or a reversed one.
    """
    _check_window(start, end)
    spacecraft = tuple(spacecraft)
    _check_unique_ids(spacecraft)
    antennas = tuple((station, antenna) for station in stations for antenna in station.antennas)
    keys = [(station.id, antenna.id) for station, antenna in antennas]
    receiver_list = _receivers_for(keys, receivers)
    blocked = _blocked_intervals(keys, maintenance, busy)

    compatible = _compatibility(spacecraft, antennas, receiver_list, profile)
    table = _passes_of_compatible(spacecraft, antennas, compatible, profile, start, end, workers)
    found = _Passes.from_table(table, np.flatnonzero(compatible.any(axis=1)), keys)
    found = found.take(compatible[found.sat, found.ant])
    found = found.take(found.duration_s >= profile.min_viable_contact_duration_s)
    turnaround = np.array([r.turnaround_s for r in receiver_list], dtype=np.float64)
    found = _trim_around_blocked(found, blocked, turnaround, profile)

    geometry = _sample_nodes(found, spacecraft, antennas, start, ut1_minus_utc_s)
    found = found.with_trimmed_geometry(geometry)
    threshold_km = _closing_range_km(spacecraft, receiver_list)[found.sat, found.ant]
    closing_s = _closing_time_s(geometry, threshold_km)
    rate_bps = np.array([s.downlink.data_rate_bps for s in spacecraft])[found.sat]
    problems = table.problems + geometry.problems
    return _assemble(found, spacecraft, antennas, profile, closing_s * rate_bps / 8.0, problems)


def page_contacts(
    contacts: AvailableContacts,
    *,
    sort_by: str = "aos",
    descending: bool = False,
    cursor: str | None = None,
    limit: int = MAX_PAGE_SIZE,
) -> ContactPage:
    """One page of ``contacts`` sorted by ``sort_by``, after ``cursor``.

    Order: by the sort field (ascending, or descending), ties by contact id
    ascending: a total order, so pages never overlap or skip. The cursor
    holds the last row's sort value and contact id (base64url JSON), so it
    stays valid when contacts before it disappear.

    Args:
        sort_by: one of :data:`SORT_FIELDS`.
        descending: largest first.
        cursor: ``next_cursor`` of the previous page, or None for the first.
        limit: contacts per page, 1..:data:`MAX_PAGE_SIZE`.

    Raises:
        InvalidInput: for an unknown sort field, a bad limit, or a cursor
            that is not one of this listing's (other sort or order).
    """
    key = _sort_key(contacts, sort_by)
    if not (_whole(limit) and 1 <= limit <= MAX_PAGE_SIZE):
        raise InvalidInput("limit", limit, f"a whole number in 1..{MAX_PAGE_SIZE}")
    rows = np.arange(len(contacts))
    if cursor is not None:
        value, last_id = _decode_cursor(cursor, sort_by, descending)
        rows = np.flatnonzero(_after(key, contacts.contact_id, value, last_id, descending))
    signed = -key[rows] if descending else key[rows]
    page_rows = rows[_smallest(signed, contacts.contact_id[rows], limit)]
    page = contacts.select(page_rows)
    next_cursor = None
    if rows.size > limit:
        last = int(page_rows[-1])
        next_cursor = _encode_cursor(
            sort_by, descending, float(key[last]), str(contacts.contact_id[last])
        )
    return ContactPage(page, next_cursor)


# --- validation ------------------------------------------------------------------------------


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_range(name: str, value: float, low: float, high: float, expected: str) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and low <= value <= high):
        raise InvalidInput(name, value, expected)


def _check_window(start: datetime, end: datetime) -> None:
    for name, moment in (("start", start), ("end", end)):
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            raise InvalidInput(name, moment, "a timezone-aware UTC time")
    if end <= start:
        raise InvalidInput("end", end.isoformat(), f"a time after start ({start.isoformat()})")
    if end - start > MAX_WINDOW:
        raise InvalidInput(
            "end", end.isoformat(), f"a window of at most {MAX_WINDOW.days} days from start"
        )


def _check_unique_ids(spacecraft: Sequence[Spacecraft]) -> None:
    seen: set[str] = set()
    for item in spacecraft:
        if not (isinstance(item.id, str) and item.id):
            raise InvalidInput("spacecraft.id", item.id, "a non-empty id")
        if item.id in seen:
            raise InvalidInput("spacecraft.id", item.id, "ids unique within one request")
        seen.add(item.id)


def _receivers_for(
    keys: Sequence[AntennaKey], receivers: Mapping[AntennaKey, AntennaReceiver]
) -> list[AntennaReceiver]:
    missing = [key for key in keys if key not in receivers]
    if missing:
        raise InvalidInput(
            "receivers", "/".join(missing[0]), "an AntennaReceiver for every antenna"
        )
    return [receivers[key] for key in keys]


@dataclass(frozen=True)
class _Blocked:
    """Blocked intervals: antenna index, start and end (POSIX seconds), (B,) each."""

    antenna: IntArray
    start_s: FloatArray
    end_s: FloatArray


def _blocked_intervals(
    keys: Sequence[AntennaKey],
    *mappings: Mapping[AntennaKey, Sequence[Interval]] | None,
) -> _Blocked:
    index = {key: i for i, key in enumerate(keys)}
    antenna: list[int] = []
    starts: list[float] = []
    ends: list[float] = []
    for name, mapping in zip(("maintenance", "busy"), mappings, strict=True):
        for key, intervals in (mapping or {}).items():
            if key not in index:
                raise InvalidInput(name, "/".join(key), "an antenna of the given stations")
            for interval_start, interval_end in intervals:
                _check_interval(name, interval_start, interval_end)
                antenna.append(index[key])
                starts.append(unix_seconds(interval_start))
                ends.append(unix_seconds(interval_end))
    return _Blocked(
        np.array(antenna, dtype=np.int64),
        np.array(starts, dtype=np.float64),
        np.array(ends, dtype=np.float64),
    )


def _check_interval(name: str, start: datetime, end: datetime) -> None:
    for moment in (start, end):
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            raise InvalidInput(name, moment, "timezone-aware UTC times")
    if end <= start:
        raise InvalidInput(name, end.isoformat(), f"an end after its start ({start.isoformat()})")


# --- compatibility and passes ----------------------------------------------------------------


def _holds(band: FrequencyBand, link: DownlinkLink, band_name: str | None) -> bool:
    """Whether ``band`` receives the whole channel of ``link`` (and has the required name)."""
    return (
        band.direction in ("downlink", "both")
        and band.min_hz <= link.low_hz
        and link.high_hz <= band.max_hz
        and (band_name is None or band.name == band_name)
    )


def _compatibility(
    spacecraft: Sequence[Spacecraft],
    antennas: Sequence[tuple[GroundStation, Antenna]],
    receivers: Sequence[AntennaReceiver],
    profile: MissionProfile,
) -> BoolArray:
    """(S, A): antenna a can receive spacecraft s's downlink."""
    result = np.zeros((len(spacecraft), len(antennas)), dtype=np.bool_)
    for s, craft in enumerate(spacecraft):
        link = craft.downlink
        for a, ((_, antenna), receiver) in enumerate(zip(antennas, receivers, strict=True)):
            result[s, a] = link.polarization in receiver.polarizations and any(
                _holds(band, link, profile.band_name) for band in antenna.bands
            )
    return result


def _passes_of_compatible(
    spacecraft: Sequence[Spacecraft],
    antennas: Sequence[tuple[GroundStation, Antenna]],
    compatible: BoolArray,
    profile: MissionProfile,
    start: datetime,
    end: datetime,
    workers: int | None,
) -> PassTable:
    """Passes of the spacecraft and antennas that have at least one compatible partner."""
    craft_used: list[bool] = np.asarray(compatible.any(axis=1)).tolist()
    antenna_used: list[bool] = np.asarray(compatible.any(axis=0)).tolist()
    used_craft = [s.elements for s, ok in zip(spacecraft, craft_used, strict=True) if ok]
    used_antennas = {
        (station.id, antenna.id)
        for (station, antenna), ok in zip(antennas, antenna_used, strict=True)
        if ok
    }
    stations: dict[str, GroundStation] = {}
    for station, _ in antennas:
        kept = tuple(a for a in station.antennas if (station.id, a.id) in used_antennas)
        if kept:
            stations[station.id] = replace(station, antennas=kept)
    return find_passes(
        used_craft,
        list(stations.values()),
        start,
        end,
        min_elevation_deg=profile.min_elevation_deg,
        workers=workers,
    )


@dataclass(frozen=True)
class _Passes:
    """Candidate contacts while they are filtered: (N,) columns, indices into the request."""

    sat: IntArray
    ant: IntArray
    aos_s: FloatArray
    tca_s: FloatArray
    los_s: FloatArray
    max_elevation_deg: FloatArray
    aos_azimuth_deg: FloatArray
    tca_azimuth_deg: FloatArray
    los_azimuth_deg: FloatArray
    trimmed: BoolArray

    @classmethod
    def from_table(
        cls, table: PassTable, used_spacecraft: IntArray, keys: Sequence[AntennaKey]
    ) -> _Passes:
        """The table's passes, with indices mapped back to the request's spacecraft and antennas.

        ``find_passes`` saw only the spacecraft ``used_spacecraft`` (indices
        into the request) and the antennas that had a compatible partner.
        """
        antenna_of = {key: i for i, key in enumerate(keys)}
        antenna_map = np.array(
            [antenna_of[(st.id, a.id)] for st, a in table.antennas], dtype=np.int64
        )
        return cls(
            sat=used_spacecraft.astype(np.int64)[table.satellite_index],
            ant=antenna_map[table.antenna_index] if len(table) else table.antenna_index,
            aos_s=table.aos_unix_s,
            tca_s=table.tca_unix_s,
            los_s=table.los_unix_s,
            max_elevation_deg=table.max_elevation_deg,
            aos_azimuth_deg=table.aos_azimuth_deg,
            tca_azimuth_deg=table.tca_azimuth_deg,
            los_azimuth_deg=table.los_azimuth_deg,
            trimmed=np.zeros(len(table), dtype=np.bool_),
        )

    @property
    def duration_s(self) -> FloatArray:
        return self.los_s - self.aos_s

    def take(self, rows: npt.ArrayLike) -> _Passes:
        picked = np.asarray(rows)
        return _Passes(**{f.name: getattr(self, f.name)[picked] for f in fields(self)})

    def with_trimmed_geometry(self, geometry: _NodeGeometry) -> _Passes:
        """Trimmed passes get AOS/LOS azimuths and TCA angles from the SGP4 nodes."""
        t = self.trimmed
        tca = NODES_PER_SIDE
        return replace(
            self,
            max_elevation_deg=np.where(t, geometry.elevation_deg[:, tca], self.max_elevation_deg),
            aos_azimuth_deg=np.where(t, geometry.azimuth_deg[:, 0], self.aos_azimuth_deg),
            tca_azimuth_deg=np.where(t, geometry.azimuth_deg[:, tca], self.tca_azimuth_deg),
            los_azimuth_deg=np.where(t, geometry.azimuth_deg[:, -1], self.los_azimuth_deg),
        )


# --- maintenance and busy intervals ----------------------------------------------------------


def _trim_around_blocked(
    passes: _Passes, blocked: _Blocked, turnaround_s: FloatArray, profile: MissionProfile
) -> _Passes:
    """Trim each pass to its longest part clear of blocked intervals on its antenna, or drop it.

    Which pass collides with which interval is decided by
    :func:`~groundlink.contacts.conflicts.find_antenna_conflicts` on the
    reserved spans (the one conflict rule). A pass [aos, los] is then clear
    of a blocked [b0, b1) when ``los + postpass + turnaround <= b0`` or
    ``aos - prepass >= b1 + turnaround``: the same rule solved for the pass.
    """
    exposed = np.flatnonzero(np.isin(passes.ant, blocked.antenna))
    if exposed.size == 0:
        return passes
    n = exposed.size
    antenna = np.concatenate([passes.ant[exposed], blocked.antenna])
    pairs = find_antenna_conflicts(
        np.concatenate([passes.aos_s[exposed] - profile.prepass_s, blocked.start_s]),
        np.concatenate([passes.los_s[exposed] + profile.postpass_s, blocked.end_s]),
        antenna,
        turnaround_s[antenna],
    )
    pairs = pairs[(pairs[:, 0] < n) & (pairs[:, 1] >= n)]  # pass-interval pairs only
    if pairs.size == 0:
        return passes
    aos, los = passes.aos_s.copy(), passes.los_s.copy()
    trimmed = passes.trimmed.copy()
    for row, intervals in _group_pairs(pairs, n):
        i = int(exposed[row])
        gap = float(turnaround_s[passes.ant[i]])
        spans = [
            (
                blocked.start_s[j] - profile.postpass_s - gap - _TRIM_GUARD_S,
                blocked.end_s[j] + profile.prepass_s + gap + _TRIM_GUARD_S,
            )
            for j in intervals
        ]
        aos[i], los[i] = _longest_clear_part(float(aos[i]), float(los[i]), spans)
        trimmed[i] = True
    result = replace(
        passes, aos_s=aos, los_s=los, tca_s=np.clip(passes.tca_s, aos, los), trimmed=trimmed
    )
    return result.take(result.duration_s >= max(profile.min_viable_contact_duration_s, 1e-6))


def _group_pairs(pairs: IntArray, n: int) -> list[tuple[int, list[int]]]:
    """(pass row, [blocked interval indices]) for each pass row in ``pairs``."""
    groups: dict[int, list[int]] = {}
    for row, other in pairs.tolist():
        groups.setdefault(row, []).append(other - n)
    return sorted(groups.items())


def _longest_clear_part(
    aos: float, los: float, blocked: list[tuple[float, float]]
) -> tuple[float, float]:
    """The longest part of [aos, los] outside every open interval (lo, hi); may be empty."""
    best = (aos, aos)
    free_from = aos
    for lo, hi in sorted(blocked):
        part = (free_from, min(lo, los))
        if part[1] - part[0] > best[1] - best[0]:
            best = part
        free_from = max(free_from, hi)
    if los - free_from > best[1] - best[0]:
        best = (free_from, los)
    return best


# --- geometry at the nodes and the link budget -----------------------------------------------


@dataclass(frozen=True)
class _NodeGeometry:
    """Look angles at the SGP4 nodes of N passes, each (N, NODES_PER_PASS).

    ``range_km`` is +inf where SGP4 failed (the link is then taken as open).
    """

    times_s: FloatArray
    range_km: FloatArray
    range_rate_km_s: FloatArray
    azimuth_deg: FloatArray
    elevation_deg: FloatArray
    problems: tuple[str, ...]


def _node_times(passes: _Passes) -> FloatArray:
    """(N, NODES_PER_PASS) POSIX seconds: AOS..TCA and TCA..LOS, evenly spaced, TCA shared."""
    fractions = np.linspace(0.0, 1.0, NODES_PER_SIDE + 1)
    rising = passes.aos_s[:, None] + (passes.tca_s - passes.aos_s)[:, None] * fractions
    setting = passes.tca_s[:, None] + (passes.los_s - passes.tca_s)[:, None] * fractions[1:]
    return np.concatenate([rising, setting], axis=1)


def _sample_nodes(
    passes: _Passes,
    spacecraft: Sequence[Spacecraft],
    antennas: Sequence[tuple[GroundStation, Antenna]],
    start: datetime,
    ut1_minus_utc_s: float,
) -> _NodeGeometry:
    """SGP4 at every node, one ``sgp4_array`` call per spacecraft, then look angles at once."""
    times = _node_times(passes)
    n = times.shape[0]
    jd_whole, jd_fraction = split_julian_date(start)
    fraction = jd_fraction + (times - unix_seconds(start)) / 86400.0
    position = np.full((3, n, NODES_PER_PASS), np.nan)
    velocity = np.full((3, n, NODES_PER_PASS), np.nan)
    problems: list[str] = []
    order = np.argsort(passes.sat, kind="stable")
    bounds = np.searchsorted(passes.sat[order], np.arange(len(spacecraft) + 1))
    for s, craft in enumerate(spacecraft):
        rows = order[bounds[s] : bounds[s + 1]]
        if rows.size == 0:
            continue
        part = fraction[rows].ravel()
        error, r, v = satrec_from_elements(craft.elements).sgp4_array(
            np.full_like(part, jd_whole), part
        )
        r[error != 0] = np.nan
        if error.any():
            code = int(error[error != 0][0])
            problems.append(
                f"{craft.id}: SGP4 error {code} ({SGP4_ERRORS.get(code, 'unknown')}) during "
                "a pass; no volume counted where it fails"
            )
        position[:, rows] = r.T.reshape(3, rows.size, NODES_PER_PASS)
        velocity[:, rows] = v.T.reshape(3, rows.size, NODES_PER_PASS)
    gmst = gmst82_rad(jd_whole, fraction, ut1_minus_utc_s)
    ecef, ecef_velocity = teme_to_ecef(position, velocity, gmst)
    site, east, north, up = _antenna_frames(antennas)
    picked = [frame[:, passes.ant, None] for frame in (site, east, north, up)]
    relative = ecef - picked[0]
    azimuth, elevation, slant = look_angles(relative, picked[1], picked[2], picked[3])
    rate = dot(relative, ecef_velocity) / slant
    slant = np.where(np.isfinite(slant), slant, np.inf)
    return _NodeGeometry(times, slant, rate, azimuth, elevation, tuple(problems))


def _antenna_frames(
    antennas: Sequence[tuple[GroundStation, Antenna]],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Earth-fixed position (km) and east/north/up unit vectors of each antenna, (3, A) each."""
    lat = np.array([s.latitude_deg for s, _ in antennas], dtype=np.float64)
    lon = np.array([s.longitude_deg for s, _ in antennas], dtype=np.float64)
    alt = np.array([s.altitude_m for s, _ in antennas], dtype=np.float64)
    east, north, up = east_north_up(lat, lon)
    site = geodetic_to_ecef_km(lat, lon, alt)
    return (
        site.reshape(3, -1),
        east.reshape(3, -1),
        north.reshape(3, -1),
        up.reshape(3, -1),
    )


def _closing_range_km(
    spacecraft: Sequence[Spacecraft], receivers: Sequence[AntennaReceiver]
) -> FloatArray:
    """(S, A): the slant range in km up to which the link of s closes at antenna a.

    The margin falls by 20 log10(range) (free-space loss), so the link
    closes up to ``10^(margin at 1 km / 20)`` km. The margin at 1 km is the
    link budget's with an ideal receiver (0 dB/K, no losses), plus the
    antenna's G/T minus its losses: the budget is linear in both.
    """
    ideal = GroundReceiver(0.0, 0.0, 0.0, 0.0, 0.0)
    craft_db = np.array(
        [
            float(
                link_margin_db(1.0, s.downlink.center_frequency_hz, s.downlink.transmitter, ideal)
            )
            for s in spacecraft
        ]
    )
    antenna_db = np.array(
        [r.ground_receiver.g_over_t_db_k - r.ground_receiver.losses_db for r in receivers]
    )
    result: FloatArray = 10.0 ** ((craft_db[:, None] + antenna_db[None, :]) / 20.0)
    return result


def _closing_time_s(geometry: _NodeGeometry, threshold_km: FloatArray) -> FloatArray:
    """(N,) seconds of each pass during which the slant range is at most ``threshold_km``.

    Between nodes, r² is the cubic Hermite curve through the nodes' r² and
    its derivative 2 r ṙ; where the curve crosses the threshold inside a
    node interval, the crossing is found by bisection.
    """
    t = geometry.times_s
    r, rdot = geometry.range_km, geometry.range_rate_km_s
    excess = r * r - (threshold_km * threshold_km)[:, None]  # <= 0 where the link closes
    slope = np.where(np.isfinite(r), 2.0 * r * rdot, 0.0)
    h = np.diff(t, axis=1)
    e0, e1 = excess[:, :-1], excess[:, 1:]
    closed = np.where((e0 <= 0) & (e1 <= 0), h, 0.0)
    cross = np.flatnonzero(((e0 <= 0) != (e1 <= 0)).ravel() & (h.ravel() > 0))
    if cross.size:
        f0, f1 = e0.ravel()[cross], e1.ravel()[cross]
        d0, d1 = slope[:, :-1].ravel()[cross], slope[:, 1:].ravel()[cross]
        hc = h.ravel()[cross]
        s = _hermite_root(f0, f1, d0 * hc, d1 * hc)
        closed.ravel()[cross] = np.where(f0 <= 0, s, 1.0 - s) * hc
    result: FloatArray = closed.sum(axis=1)
    return result


def _hermite_root(f0: FloatArray, f1: FloatArray, m0: FloatArray, m1: FloatArray) -> FloatArray:
    """Where in [0, 1] the cubic Hermite curve (values f0, f1; scaled slopes m0, m1) is 0.

    The ends have opposite signs (f <= 0 against f > 0); bisection keeps that.
    """
    low, high = np.zeros_like(f0), np.ones_like(f0)
    start_closed = f0 <= 0
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (low + high)
        s2 = mid * mid
        s3 = s2 * mid
        value = (
            (2 * s3 - 3 * s2 + 1) * f0
            + (s3 - 2 * s2 + mid) * m0
            + (3 * s2 - 2 * s3) * f1
            + (s3 - s2) * m1
        )
        same_as_start = (value <= 0) == start_closed
        low = np.where(same_as_start, mid, low)
        high = np.where(same_as_start, high, mid)
    result: FloatArray = 0.5 * (low + high)
    return result


# --- assembling the result -------------------------------------------------------------------


def _assemble(
    passes: _Passes,
    spacecraft: Sequence[Spacecraft],
    antennas: tuple[tuple[GroundStation, Antenna], ...],
    profile: MissionProfile,
    volume_bytes: FloatArray,
    problems: tuple[str, ...],
) -> AvailableContacts:
    ids = _contact_ids(passes, spacecraft, antennas)
    order = np.lexsort((ids, passes.aos_s))
    p = passes.take(order)
    return AvailableContacts(
        spacecraft_ids=tuple(s.id for s in spacecraft),
        antennas=antennas,
        spacecraft_index=p.sat,
        antenna_index=p.ant,
        contact_id=ids[order],
        aos_unix_s=p.aos_s,
        tca_unix_s=p.tca_s,
        los_unix_s=p.los_s,
        max_elevation_deg=p.max_elevation_deg,
        aos_azimuth_deg=p.aos_azimuth_deg,
        tca_azimuth_deg=p.tca_azimuth_deg,
        los_azimuth_deg=p.los_azimuth_deg,
        reserved_start_unix_s=p.aos_s - profile.prepass_s,
        reserved_end_unix_s=p.los_s + profile.postpass_s,
        volume_bytes=volume_bytes[order],
        trimmed=p.trimmed,
        problems=problems,
    )


def _contact_ids(
    passes: _Passes,
    spacecraft: Sequence[Spacecraft],
    antennas: Sequence[tuple[GroundStation, Antenna]],
) -> StrArray:
    """``spacecraft:station:antenna:AOS`` (AOS in ISO-8601 UTC, ms), stable for the same pass."""
    craft = [s.id for s in spacecraft]
    antenna = [f"{st.id}:{a.id}" for st, a in antennas]
    aos = iso_utc_ms(passes.aos_s)
    ids = [
        f"{craft[s]}:{antenna[a]}:{t}"
        for s, a, t in zip(passes.sat.tolist(), passes.ant.tolist(), aos, strict=True)
    ]
    return np.array(ids, dtype=np.str_)


def _datetime(unix_s: float) -> datetime:
    return datetime.fromtimestamp(round(float(unix_s), 6), tz=UTC)


# --- sorting and cursors ---------------------------------------------------------------------


def _sort_key(contacts: AvailableContacts, sort_by: str) -> FloatArray:
    columns = {
        "aos": contacts.aos_unix_s,
        "volume_bytes": contacts.volume_bytes,
        "max_elevation_deg": contacts.max_elevation_deg,
    }
    if sort_by not in columns:
        raise InvalidInput("sort_by", sort_by, f"one of {', '.join(SORT_FIELDS)}")
    return columns[sort_by]


def _after(
    key: FloatArray, ids: StrArray, value: float, last_id: str, descending: bool
) -> BoolArray:
    """Rows that come after (value, last_id) in the listing's order."""
    beyond = key < value if descending else key > value
    result: BoolArray = beyond | ((key == value) & (ids > last_id))
    return result


def _smallest(signed: FloatArray, ids: StrArray, limit: int) -> IntArray:
    """Positions of the ``limit`` smallest (signed, id) pairs, in order: O(N), not a full sort."""
    candidates = np.arange(signed.size)
    if signed.size > limit:
        threshold = np.partition(signed, limit - 1)[limit - 1]
        candidates = np.flatnonzero(signed <= threshold)
    order = np.lexsort((ids[candidates], signed[candidates]))
    result: IntArray = candidates[order][:limit]
    return result


def _encode_cursor(sort_by: str, descending: bool, value: float, last_id: str) -> str:
    payload = {"sort": sort_by, "desc": descending, "value": value, "id": last_id}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort_by: str, descending: bool) -> tuple[float, str]:
    expected = "the next_cursor of a previous page of this listing"
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        value, last_id = float(payload["value"]), str(payload["id"])
        same_listing = payload["sort"] == sort_by and payload["desc"] is descending
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise InvalidInput("cursor", cursor, expected) from None
    if not same_listing:
        order = "descending" if descending else "ascending"
        raise InvalidInput("cursor", cursor, f"{expected} (sorted by {sort_by}, {order})")
    return value, last_id
