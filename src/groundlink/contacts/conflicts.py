"""The one place that decides whether two contacts conflict.

Booking, the network scheduler and the AWS-compatible layer all ask this
module, so that "these two contacts conflict" means one thing everywhere.

A :class:`ContactWindow` is a pass (AOS to LOS) on one antenna for one
spacecraft, plus the pre-pass and post-pass time the antenna is held for it.
Its **reserved span** is ``[start - prepass_s, end + postpass_s)``.

The rules (see ``docs/contacts.md``):

* **Half-open intervals.** Every span is ``[start, end)``: a contact whose
  span ends at the very instant another one's begins does *not* conflict
  with it.
* **Antenna.** Two contacts on the same antenna conflict when the later
  reservation starts less than ``turnaround_s + slew_s`` after the earlier
  one ends (overlap included): ``turnaround_s`` is the antenna's fixed setup
  time between contacts, ``slew_s`` the time to move from the earlier
  contact's LOS pointing to the later one's AOS pointing at the antenna's
  slew rates (:func:`slew_time_s`). Contacts on different antennas never
  conflict on antenna grounds.
* **Spacecraft.** A spacecraft may be in at most ``max_simultaneous``
  contacts at once, counted over the *pass* intervals ``[start, end)``
  (pre-pass and post-pass are ground-side time and do not use the
  spacecraft), so back-to-back handovers between stations are allowed.

Times are timezone-aware datetimes on the object API and POSIX seconds
(float64, UTC) on the array API; durations are seconds, angles degrees,
slew rates degrees per second.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt

from groundlink.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Largest azimuth move an antenna ever needs, the short way round, in degrees.
MAX_AZIMUTH_MOVE_DEG = 180.0
#: Largest elevation move between two pointings in [-90, 90], in degrees.
MAX_ELEVATION_MOVE_DEG = 180.0


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def iso_z(moment: datetime) -> str:
    """A timezone-aware datetime as ISO-8601 UTC with ``Z``: seconds, or milliseconds if needed."""
    utc = moment.astimezone(UTC)
    if utc.microsecond == 0:
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


@dataclass(frozen=True, slots=True)
class ContactWindow:
    """One contact's use of one antenna: the pass plus the pre-pass and post-pass time.

    ``start`` and ``end`` are the pass (AOS and LOS), timezone-aware (UTC at
    the edges), ``end > start``. ``prepass_s`` and ``postpass_s`` are the
    seconds (>= 0) the antenna is held before AOS and after LOS, so the
    reserved span is ``[start - prepass_s, end + postpass_s)``.

    ``contact_id`` names the contact in conflict messages (optional).
    ``start_azimuth_deg``/``start_elevation_deg`` are the pointing at AOS and
    ``end_azimuth_deg``/``end_elevation_deg`` at LOS, in degrees (azimuth
    clockwise from true north in [0, 360), elevation in [-90, 90]); they are
    only used for slew time. An unknown azimuth (``None``) counts as the worst
    case, a 180° move; an unknown elevation counts as no elevation move (AOS
    and LOS both lie on the horizon mask).

    Raises:
        InvalidInput: naming the first field that is out of range.
    """

    start: datetime
    end: datetime
    prepass_s: float
    postpass_s: float
    antenna_id: str
    spacecraft_id: str
    contact_id: str = ""
    start_azimuth_deg: float | None = None
    start_elevation_deg: float | None = None
    end_azimuth_deg: float | None = None
    end_elevation_deg: float | None = None

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not _aware(value):
                raise InvalidInput(name, value, "a timezone-aware datetime (UTC)")
        if not self.end > self.start:
            raise InvalidInput("end", iso_z(self.end), f"a time after start ({iso_z(self.start)})")
        for name in ("prepass_s", "postpass_s"):
            value = getattr(self, name)
            if not (_finite_number(value) and value >= 0):
                raise InvalidInput(name, value, "a non-negative number of seconds")
        for name in ("antenna_id", "spacecraft_id"):
            value = getattr(self, name)
            if not (isinstance(value, str) and value):
                raise InvalidInput(name, value, "a non-empty id")
        for name in ("start_azimuth_deg", "end_azimuth_deg"):
            value = getattr(self, name)
            if value is not None and not (_finite_number(value) and 0 <= value < 360):
                raise InvalidInput(name, value, "degrees in [0, 360) or None")
        for name in ("start_elevation_deg", "end_elevation_deg"):
            value = getattr(self, name)
            if value is not None and not (_finite_number(value) and -90 <= value <= 90):
                raise InvalidInput(name, value, "degrees in [-90, 90] or None")

    @property
    def reserved_start(self) -> datetime:
        """Start of the reserved span: AOS minus the pre-pass time."""
        return self.start - timedelta(seconds=self.prepass_s)

    @property
    def reserved_end(self) -> datetime:
        """End of the reserved span (excluded): LOS plus the post-pass time."""
        return self.end + timedelta(seconds=self.postpass_s)

    @property
    def duration_s(self) -> float:
        """Length of the pass (LOS minus AOS), seconds."""
        return (self.end - self.start).total_seconds()

    @property
    def label(self) -> str:
        """How messages name this contact: its id, or its spacecraft and AOS."""
        if self.contact_id:
            return self.contact_id
        return f"of {self.spacecraft_id} at {iso_z(self.start)}"


@dataclass(frozen=True, slots=True)
class Conflict:
    """Why two contacts cannot both be kept.

    ``first`` is the contact whose span starts first (ties: the earlier in
    the input), ``second`` the other. ``start``/``end`` bound the time in
    conflict (UTC, end excluded):

    * ``kind="antenna"``: the part of ``second``'s reserved span that falls
      before ``first``'s reserved end plus the required gap
      (``turnaround_s + slew_s``);
    * ``kind="spacecraft"``: from ``second``'s AOS until the first of the
      contacts then in progress ends (the time the limit
      ``max_simultaneous`` is exceeded).
    """

    kind: Literal["antenna", "spacecraft"]
    first: ContactWindow
    second: ContactWindow
    start: datetime
    end: datetime
    turnaround_s: float = 0.0
    slew_s: float = 0.0
    max_simultaneous: int = 1

    @property
    def required_gap_s(self) -> float:
        """Seconds the antenna needs between the two reservations (antenna conflicts)."""
        return self.turnaround_s + self.slew_s

    def other(self, window: ContactWindow) -> ContactWindow:
        """The contact of this conflict that is not ``window``.

        Raises:
            InvalidInput: if ``window`` is neither contact of this conflict.
        """
        if window == self.first:
            return self.second
        if window == self.second:
            return self.first
        raise InvalidInput("window", window.label, "one of the two contacts of this conflict")

    def describe(self, subject: ContactWindow | None = None) -> str:
        """One sentence for a 409 message.

        With ``subject`` (one of the two contacts, e.g. the one being
        booked): ``"conflicts with contact X on antenna A from T1 to T2"``;
        without: ``"contact Y conflicts with contact X on antenna A ..."``.
        """
        if subject is None:
            lead, other = f"contact {self.first.label} conflicts", self.second
        else:
            lead, other = "conflicts", self.other(subject)
        span = f"from {iso_z(self.start)} to {iso_z(self.end)}"
        if self.kind == "antenna":
            text = f"{lead} with contact {other.label} on antenna {other.antenna_id} {span}"
            if self.required_gap_s > 0:
                text += (
                    f" (the antenna needs {self.required_gap_s:g} s between contacts: "
                    f"{self.turnaround_s:g} s turnaround + {self.slew_s:g} s slew)"
                )
            return text
        return (
            f"{lead} with contact {other.label} of spacecraft {other.spacecraft_id} {span}"
            f" (at most {self.max_simultaneous} simultaneous contact"
            f"{'' if self.max_simultaneous == 1 else 's'})"
        )


# --- slew ------------------------------------------------------------------------------------


def _positive_rates(
    max_az_rate_deg_s: npt.ArrayLike, max_el_rate_deg_s: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    rates = []
    for name, value in (
        ("max_az_rate_deg_s", max_az_rate_deg_s),
        ("max_el_rate_deg_s", max_el_rate_deg_s),
    ):
        array = np.asarray(value, dtype=np.float64)
        bad = ~(np.isfinite(array) & (array > 0))
        if bad.any():
            raise InvalidInput(name, array[bad].ravel()[0].item(), "a positive rate in deg/s")
        rates.append(array)
    return rates[0], rates[1]


def _slew_s(
    azimuth_move_deg: FloatArray,
    elevation_move_deg: FloatArray,
    az_rate: FloatArray,
    el_rate: FloatArray,
) -> FloatArray:
    result: FloatArray = np.maximum(azimuth_move_deg / az_rate, elevation_move_deg / el_rate)
    return result


def _azimuth_move_deg(from_az_deg: npt.ArrayLike, to_az_deg: npt.ArrayLike) -> FloatArray:
    difference = np.asarray(to_az_deg, dtype=np.float64) - np.asarray(from_az_deg, np.float64)
    move: FloatArray = np.abs((difference + 180.0) % 360.0 - 180.0)
    return move


def slew_time_s(
    from_az_deg: npt.ArrayLike,
    from_el_deg: npt.ArrayLike,
    to_az_deg: npt.ArrayLike,
    to_el_deg: npt.ArrayLike,
    max_az_rate_deg_s: npt.ArrayLike,
    max_el_rate_deg_s: npt.ArrayLike,
) -> FloatArray:
    """Seconds an azimuth-elevation antenna needs to move between two pointings.

    Both axes move at once, each at its maximum rate, so the time is the
    larger of the two: azimuth the short way round (at most 180°, so a move
    across north from 350° to 10° is 20°), elevation the plain difference.
    Acceleration and cable-wrap limits are not modelled.

    Args are in degrees and degrees per second and broadcast together
    (scalars or arrays of any compatible shapes); the result has the
    broadcast shape (0-d for scalars: use ``float()``). NaN in, NaN out.

    Raises:
        InvalidInput: for a rate that is not positive and finite.
    """
    az_rate, el_rate = _positive_rates(max_az_rate_deg_s, max_el_rate_deg_s)
    azimuth_move = _azimuth_move_deg(from_az_deg, to_az_deg)
    elevation_move = np.abs(
        np.asarray(to_el_deg, dtype=np.float64) - np.asarray(from_el_deg, dtype=np.float64)
    )
    return _slew_s(azimuth_move, elevation_move, az_rate, el_rate)


def _window_slew_s(
    before: ContactWindow,
    after: ContactWindow,
    max_az_rate_deg_s: float | None,
    max_el_rate_deg_s: float | None,
) -> float:
    if max_az_rate_deg_s is None and max_el_rate_deg_s is None:
        return 0.0
    if max_az_rate_deg_s is None or max_el_rate_deg_s is None:
        raise InvalidInput(
            "max_az_rate_deg_s" if max_az_rate_deg_s is None else "max_el_rate_deg_s",
            None,
            "both slew rates, or neither (slew not counted)",
        )
    from_az, to_az = before.end_azimuth_deg, after.start_azimuth_deg
    from_el, to_el = before.end_elevation_deg, after.start_elevation_deg
    return float(
        _pair_slew_s(
            np.array([math.nan if from_az is None else from_az]),
            np.array([math.nan if from_el is None else from_el]),
            np.array([math.nan if to_az is None else to_az]),
            np.array([math.nan if to_el is None else to_el]),
            *_positive_rates(max_az_rate_deg_s, max_el_rate_deg_s),
        )[0]
    )


def _pair_slew_s(
    from_az: FloatArray,
    from_el: FloatArray,
    to_az: FloatArray,
    to_el: FloatArray,
    az_rate: FloatArray,
    el_rate: FloatArray,
) -> FloatArray:
    """Slew with unknown pointings: NaN azimuth -> 180° move, NaN elevation -> no move."""
    azimuth_move = _azimuth_move_deg(from_az, to_az)
    azimuth_move = np.where(np.isnan(azimuth_move), MAX_AZIMUTH_MOVE_DEG, azimuth_move)
    elevation_move = np.abs(to_el - from_el)
    elevation_move = np.where(np.isnan(elevation_move), 0.0, elevation_move)
    return _slew_s(azimuth_move, elevation_move, az_rate, el_rate)


# --- pairs of contacts -----------------------------------------------------------------------


def antenna_conflict(
    a: ContactWindow,
    b: ContactWindow,
    *,
    turnaround_s: float = 0.0,
    max_az_rate_deg_s: float | None = None,
    max_el_rate_deg_s: float | None = None,
) -> Conflict | None:
    """The antenna conflict between two contacts, or ``None`` if they can both be kept.

    Contacts on different antennas never conflict here. On the same antenna,
    with ``first`` the one whose reserved span starts first (``a`` on a tie),
    they conflict when ``second.reserved_start - first.reserved_end <
    turnaround_s + slew_s``: an overlap always conflicts, touching spans
    (end == start) do not when no gap is required. ``slew_s`` is the time to
    move from ``first``'s LOS pointing to ``second``'s AOS pointing
    (:func:`slew_time_s`); it is counted only when both rates (deg/s) are
    given.

    Raises:
        InvalidInput: for a negative ``turnaround_s`` or a bad rate.
    """
    if not (_finite_number(turnaround_s) and turnaround_s >= 0):
        raise InvalidInput("turnaround_s", turnaround_s, "a non-negative number of seconds")
    if a.antenna_id != b.antenna_id:
        return None
    first, second = (b, a) if b.reserved_start < a.reserved_start else (a, b)
    slew_s = _window_slew_s(first, second, max_az_rate_deg_s, max_el_rate_deg_s)
    gap_s = (second.reserved_start - first.reserved_end).total_seconds()
    if not gap_s < turnaround_s + slew_s:
        return None
    blocked_until = first.reserved_end + timedelta(seconds=turnaround_s + slew_s)
    return Conflict(
        kind="antenna",
        first=first,
        second=second,
        start=second.reserved_start,
        end=min(blocked_until, second.reserved_end),
        turnaround_s=float(turnaround_s),
        slew_s=slew_s,
    )


def _per_antenna(
    name: str, value: float | Mapping[str, float] | None, antenna_ids: Sequence[str]
) -> FloatArray | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return np.full(len(antenna_ids), float(value))
    missing = sorted(set(antenna_ids) - set(value))
    if missing:
        raise InvalidInput(name, missing[0], f"a value for every antenna in {name}")
    return np.array([float(value[a]) for a in antenna_ids], dtype=np.float64)


def antenna_conflicts(
    windows: Sequence[ContactWindow],
    *,
    turnaround_s: float | Mapping[str, float] = 0.0,
    max_az_rate_deg_s: float | Mapping[str, float] | None = None,
    max_el_rate_deg_s: float | Mapping[str, float] | None = None,
) -> list[Conflict]:
    """Every antenna conflict among ``windows``, by :func:`antenna_conflict`'s rule.

    ``turnaround_s`` and the slew rates are one value for every antenna or a
    mapping from antenna id to value. Runs the array finder
    (:func:`find_antenna_conflicts`, O(n log n + pairs)) on the windows'
    times, then confirms each pair with :func:`antenna_conflict` on the exact
    datetimes. Conflicts come sorted by the two windows' positions in the
    input.

    Raises:
        InvalidInput: for a bad value, or a mapping that lacks an antenna.
    """
    if len(windows) < 2:
        return []
    antennas = [w.antenna_id for w in windows]
    turnaround = _per_antenna("turnaround_s", turnaround_s, antennas)
    az_rate = _per_antenna("max_az_rate_deg_s", max_az_rate_deg_s, antennas)
    el_rate = _per_antenna("max_el_rate_deg_s", max_el_rate_deg_s, antennas)
    assert turnaround is not None

    def column(values: list[float | None]) -> FloatArray:
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64)

    # Float seconds carry ~0.2 µs of rounding: widen the gap by 1 ms to find a superset of
    # candidate pairs, then decide each one exactly on the datetimes.
    pairs = find_antenna_conflicts(
        np.array([w.reserved_start.timestamp() for w in windows]),
        np.array([w.reserved_end.timestamp() for w in windows]),
        np.array(antennas, dtype=object),
        turnaround + 1e-3,
        start_azimuth_deg=column([w.start_azimuth_deg for w in windows]),
        start_elevation_deg=column([w.start_elevation_deg for w in windows]),
        end_azimuth_deg=column([w.end_azimuth_deg for w in windows]),
        end_elevation_deg=column([w.end_elevation_deg for w in windows]),
        max_az_rate_deg_s=az_rate,
        max_el_rate_deg_s=el_rate,
    )
    conflicts = []
    for i, j in pairs.tolist():
        found = antenna_conflict(
            windows[i],
            windows[j],
            turnaround_s=float(turnaround[i]),
            max_az_rate_deg_s=None if az_rate is None else float(az_rate[i]),
            max_el_rate_deg_s=None if el_rate is None else float(el_rate[i]),
        )
        if found is not None:
            conflicts.append(found)
    return conflicts


def spacecraft_conflicts(
    windows: Sequence[ContactWindow], max_simultaneous: int | Mapping[str, int] = 1
) -> list[Conflict]:
    """Contacts that would put a spacecraft in more than ``max_simultaneous`` contacts at once.

    Counts pass intervals ``[start, end)`` (pre-pass and post-pass are
    ground-side and not counted), per spacecraft. ``max_simultaneous`` is
    one limit k for all, or a mapping from spacecraft id to k.

    Sweep line over the contacts of each spacecraft in order of AOS (ties:
    input order): when a contact starts while k or more contacts of the same
    spacecraft are in progress, it conflicts with each of them, from its AOS
    until the first of those contacts (or itself) ends. With k = 1 this is
    exactly every pair of overlapping passes. O(n log n + conflicts).

    Returns conflicts with ``first`` the contact already in progress and
    ``second`` the one that starts, ordered by ``second``'s AOS.

    Raises:
        InvalidInput: for a limit that is not a whole number >= 1, or a
            mapping that lacks a spacecraft.
    """

    def limit_of(spacecraft_id: str) -> int:
        if isinstance(max_simultaneous, Mapping):
            if spacecraft_id not in max_simultaneous:
                raise InvalidInput(
                    "max_simultaneous", spacecraft_id, "a limit for every spacecraft"
                )
            value = max_simultaneous[spacecraft_id]
        else:
            value = max_simultaneous
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            raise InvalidInput("max_simultaneous", value, "a whole number of contacts >= 1")
        return value

    order = sorted(range(len(windows)), key=lambda i: (windows[i].start, i))
    active: dict[str, list[tuple[datetime, int]]] = {}
    conflicts: list[Conflict] = []
    for index in order:
        window = windows[index]
        limit = limit_of(window.spacecraft_id)
        heap = active.setdefault(window.spacecraft_id, [])
        while heap and heap[0][0] <= window.start:  # half-open: ended at or before this AOS
            heapq.heappop(heap)
        if len(heap) >= limit:
            until = min(window.end, heap[0][0])
            for _, other in sorted(heap, key=lambda item: item[1]):
                conflicts.append(
                    Conflict(
                        kind="spacecraft",
                        first=windows[other],
                        second=window,
                        start=window.start,
                        end=until,
                        max_simultaneous=limit,
                    )
                )
        heapq.heappush(heap, (window.end, index))
    return conflicts


# --- arrays ----------------------------------------------------------------------------------


def _column(name: str, value: npt.ArrayLike | None, n: int, fill: float) -> FloatArray:
    if value is None:
        return np.full(n, fill)
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return np.full(n, float(array))
    if array.shape != (n,):
        raise InvalidInput(name, f"shape {array.shape}", f"a scalar or shape ({n},)")
    return array


def find_antenna_conflicts(
    reserved_start_unix_s: npt.ArrayLike,
    reserved_end_unix_s: npt.ArrayLike,
    antenna_ids: npt.ArrayLike,
    turnaround_s: npt.ArrayLike = 0.0,
    *,
    start_azimuth_deg: npt.ArrayLike | None = None,
    start_elevation_deg: npt.ArrayLike | None = None,
    end_azimuth_deg: npt.ArrayLike | None = None,
    end_elevation_deg: npt.ArrayLike | None = None,
    max_az_rate_deg_s: npt.ArrayLike | None = None,
    max_el_rate_deg_s: npt.ArrayLike | None = None,
) -> IntArray:
    """Every pair of contacts that conflict on an antenna, for thousands of contacts at once.

    The same rule as :func:`antenna_conflict`, on arrays of N contacts:

    Args:
        reserved_start_unix_s, reserved_end_unix_s: (N,) reserved spans
            ``[start, end)`` in POSIX seconds (pre-pass and post-pass
            included), ``end > start``.
        antenna_ids: (N,) antenna of each contact (strings or integers).
        turnaround_s: scalar or (N,): setup seconds the antenna needs after
            each contact (the earlier contact's value is used for a pair).
        start_azimuth_deg, start_elevation_deg: (N,) pointing at AOS, degrees;
        end_azimuth_deg, end_elevation_deg: (N,) pointing at LOS, degrees.
            ``None`` or NaN means unknown: a 180° azimuth move, no elevation
            move.
        max_az_rate_deg_s, max_el_rate_deg_s: scalar or (N,) slew rates of
            each contact's antenna, deg/s; slew is counted only when both
            are given.

    Returns:
        (K, 2) int64 indices ``i < j`` into the inputs, one row per
        conflicting pair, rows sorted. Touching spans (end == start, no gap
        required) are not a conflict.

    Sort by (antenna, start), then for each contact find by binary search
    how many later contacts on its antenna start before its end plus the
    largest gap it could need, and keep those pairs that really conflict:
    O(N log N + candidate pairs), no O(N²) loop.

    Raises:
        InvalidInput: for mismatched shapes, non-finite times, an end not
            after its start, a negative turnaround or a bad rate.
    """
    starts = np.asarray(reserved_start_unix_s, dtype=np.float64)
    ends = np.asarray(reserved_end_unix_s, dtype=np.float64)
    ids = np.asarray(antenna_ids)
    if starts.ndim != 1:
        raise InvalidInput("reserved_start_unix_s", f"shape {starts.shape}", "a 1-D array")
    n = starts.shape[0]
    for name, array in (("reserved_end_unix_s", ends), ("antenna_ids", ids)):
        if array.shape != (n,):
            raise InvalidInput(name, f"shape {array.shape}", f"shape ({n},) like the starts")
    bad = ~(np.isfinite(starts) & np.isfinite(ends) & (ends > starts))
    if bad.any():
        first_bad = int(np.argmax(bad))
        raise InvalidInput(
            "reserved_end_unix_s",
            f"[{first_bad}] = {ends[first_bad]!r} (start {starts[first_bad]!r})",
            "finite times with every end after its start",
        )
    turnaround = _column("turnaround_s", turnaround_s, n, 0.0)
    if not (np.isfinite(turnaround) & (turnaround >= 0)).all():
        raise InvalidInput("turnaround_s", turnaround.min(), "non-negative seconds")
    with_slew = max_az_rate_deg_s is not None or max_el_rate_deg_s is not None
    if with_slew and (max_az_rate_deg_s is None or max_el_rate_deg_s is None):
        raise InvalidInput(
            "max_az_rate_deg_s" if max_az_rate_deg_s is None else "max_el_rate_deg_s",
            None,
            "both slew rates, or neither (slew not counted)",
        )
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)

    _, codes = np.unique(ids, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    order = np.lexsort((starts, codes))
    code_s, start_s, end_s, turn_s = codes[order], starts[order], ends[order], turnaround[order]

    if with_slew:
        az_rate = _column("max_az_rate_deg_s", max_az_rate_deg_s, n, 1.0)[order]
        el_rate = _column("max_el_rate_deg_s", max_el_rate_deg_s, n, 1.0)[order]
        _positive_rates(az_rate, el_rate)
        worst_slew = np.maximum(MAX_AZIMUTH_MOVE_DEG / az_rate, MAX_ELEVATION_MOVE_DEG / el_rate)
    else:
        worst_slew = np.zeros(n)
    # Candidates: later contacts on the same antenna starting at or before end + worst gap
    # (padded so rounding never drops a true conflict); the exact test comes after.
    reach = end_s + (turn_s + worst_slew) * (1 + 1e-12) + 1e-6
    # Count, for each query (code, reach), the sorted contacts (code', start') <= (code, reach):
    # merge both in one lexicographic sort; on ties a contact sorts before a query.
    merged = np.lexsort(
        (
            np.concatenate([np.zeros(n, np.int8), np.ones(n, np.int8)]),
            np.concatenate([start_s, reach]),
            np.concatenate([code_s, code_s]),
        )
    )
    is_contact = merged < n
    contacts_before = np.cumsum(is_contact)
    upto = np.empty(n, dtype=np.int64)
    upto[merged[~is_contact] - n] = contacts_before[~is_contact]
    counts = np.maximum(upto - np.arange(1, n + 1), 0)
    total = int(counts.sum())
    if total == 0:
        return np.zeros((0, 2), dtype=np.int64)
    first = np.repeat(np.arange(n), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    second = first + 1 + offsets

    gap = turn_s[first]
    if with_slew:
        gap = gap + _pair_slew_s(
            _column("end_azimuth_deg", end_azimuth_deg, n, math.nan)[order][first],
            _column("end_elevation_deg", end_elevation_deg, n, math.nan)[order][first],
            _column("start_azimuth_deg", start_azimuth_deg, n, math.nan)[order][second],
            _column("start_elevation_deg", start_elevation_deg, n, math.nan)[order][second],
            az_rate[first],
            el_rate[first],
        )
    keep = start_s[second] - end_s[first] < gap
    a, b = order[first[keep]], order[second[keep]]
    pairs = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1).astype(np.int64)
    rows = np.lexsort((pairs[:, 1], pairs[:, 0]))
    result: IntArray = pairs[rows]
    return result
