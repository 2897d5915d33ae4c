"""SatNet: a week of NASA Deep Space Network requests as an :class:`Instance`, and its metrics.

SatNet (Goh et al., "SatNet: A Benchmark for Satellite Scheduling
Optimization", AAAI 2022 workshop / IEEE Aerospace 2021; data and the
reference simulator at github.com/edwinytgoh/satnet) is the public
benchmark of DSN scheduling: about 300 requests of some 30 missions over a
week, on 12 antennas at Goldstone, Canberra and Madrid. This module reads a
week as the benchmark publishes it and states its rules in this model's
words, so that the scheduler's solvers and bound run on it unchanged.

The benchmark's rules, and how each maps onto :mod:`.model`:

* **Units.** ``duration`` and ``duration_min`` are hours; ``setup_time``
  and ``teardown_time`` are minutes; times (``time_window_*``, view
  periods, maintenance) are POSIX seconds. Here: seconds everywhere.
* **A request** (one ``track_id``) asks for ``duration`` hours of tracking
  (its demand, in seconds) and is *satisfied* when the tracks it gets total
  at least ``duration_min`` hours, and never more than ``duration``.
  Less than that minimum counts for nothing: ``min_served``.
* **Splitting.** A request of 8 hours or more may be split into several
  tracks, each at least 4 hours long (``min_duration_s`` = 4 h; at most
  ``floor(duration / 4 h)`` tracks, ``max_contacts``); shorter requests get
  one track of ``duration_min`` to ``duration`` hours (``max_contacts`` =
  1). Every track has its own setup and teardown.
* **Setup and teardown** (``setup_s``/``teardown_s``) hold the antenna
  just before and after the track and may fall outside the view period, as
  long as the antenna is free (no other track's setup-track-teardown, no
  maintenance). Turnaround between tracks is otherwise 0 and slew is not
  modelled (the DSN's setup includes it).
* **View periods.** ``resource_vp_dict`` maps a resource to its view
  periods; a track lies inside one, between ``TRX ON`` and ``TRX OFF`` (the
  transmitter-on times; ``RISE``/``SET`` are the geometric visibility and
  are used only when TRX times are absent), clipped to the request's time
  window. Each view period long enough for one track is one
  :class:`~.model.Opportunity`.
* **Arrays.** A resource named ``DSS-34_DSS-35`` is an array: the track
  holds both antennas at once, each with the setup and teardown; here an
  opportunity on ``("DSS-34", "DSS-35")``. Results name it back with the
  ids joined by ``_``, as SatNet does.
* **Maintenance** (the CSV) makes an antenna unavailable:
  :attr:`~.model.Resource.maintenance`.
* **Missions.** ``subject`` is the mission: the request's tenant and its
  spacecraft (one spacecraft per mission, as the paper assumes). As in the
  reference simulator, a mission's tracks do not overlap each other
  (the model's default of one contact per spacecraft at a time).
* **Objective.** The benchmark maximises hours allocated; every request
  has the same priority and ``value_weight`` = its requested hours, so the
  scheduler's value *is* hours allocated and its bound and gap are in hours.

The metrics (:func:`satnet_metrics`) are the paper's: hours allocated
``T_S`` of ``T_R`` requested, requests satisfied, and per mission ``m`` the
unsatisfied time fraction ``U_m = (T_R,m - T_S,m) / T_R,m``, with its
maximum ``U_max`` and root mean square ``U_rms`` over missions.

Pure functions on text: reading the files is the caller's job.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from groundlink.errors import InvalidInput
from groundlink.scheduling.instance_io import invalid_input_from
from groundlink.scheduling.model import (
    DemandKind,
    Instance,
    Interval,
    Opportunity,
    Request,
    Resource,
    ScheduledContact,
)

#: Requests at least this long (seconds) may be split into several tracks (8 h).
SPLIT_FROM_S = 8 * 3600.0
#: Shortest track of a split request, seconds (4 h).
MIN_SPLIT_TRACK_S = 4 * 3600.0
#: Slack on durations, seconds: tracks and totals this much short still count.
TOLERANCE_S = 1e-6

_HOUR_S = 3600.0
_MINUTE_S = 60.0


# --- the week file, as SatNet writes it ---------------------------------------------------------


class _ViewPeriod(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    rise: float = Field(alias="RISE")
    set_: float = Field(alias="SET")
    trx_on: float | None = Field(default=None, alias="TRX ON")
    trx_off: float | None = Field(default=None, alias="TRX OFF")


class _SatNetRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    subject: int | str
    track_id: str
    duration: float
    duration_min: float
    setup_time: float
    teardown_time: float
    time_window_start: float
    time_window_end: float
    resource_vp_dict: dict[str, list[_ViewPeriod]]
    user: str = ""


_REQUESTS = TypeAdapter(list[_SatNetRequest])


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """One row of a SatNet maintenance file: ``antenna`` down over [start, end) POSIX seconds."""

    antenna: str
    start_unix_s: float
    end_unix_s: float


def parse_maintenance_csv(text: str, *, source: str | None = None) -> tuple[MaintenanceWindow, ...]:
    """The rows of a SatNet maintenance CSV (``week,year,starttime,endtime,antenna``).

    Raises:
        InvalidInput: naming the line and column of a missing column or a
            time that is not a number, or an end not after its start.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = {"starttime", "endtime", "antenna"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(
            "header",
            ",".join(reader.fieldnames or ()),
            "the columns week,year,starttime,endtime,antenna",
            source=source,
            line=1,
        )
    windows = []
    for row in reader:
        line = reader.line_num
        times = []
        for column in ("starttime", "endtime"):
            try:
                value = float(row[column])
            except (TypeError, ValueError):
                raise InvalidInput(
                    column, row[column], "POSIX seconds", source=source, line=line
                ) from None
            times.append(value)
        if not (math.isfinite(times[0]) and math.isfinite(times[1]) and times[1] > times[0]):
            raise InvalidInput(
                "endtime", row["endtime"], "a time after starttime", source=source, line=line
            )
        antenna = (row["antenna"] or "").strip()
        if not antenna:
            raise InvalidInput(
                "antenna", row["antenna"], "an antenna name", source=source, line=line
            )
        windows.append(MaintenanceWindow(antenna, times[0], times[1]))
    return tuple(windows)


def parse_satnet_week(
    text: str | bytes,
    *,
    maintenance: Sequence[MaintenanceWindow] = (),
    week: str | None = None,
    source: str | None = None,
) -> Instance:
    """The scheduling instance of one SatNet week (see the module docstring for the rules).

    Args:
        text: the week's JSON: ``{"W10_2018": [request, ...]}`` as the
            benchmark ships a week, a file of several weeks (then ``week``
            picks one), or a bare list of requests.
        maintenance: antenna down-times (:func:`parse_maintenance_csv`);
            those outside the week are left out, the others clipped to it.
        week: which week of a file of several (``"W10_2018"``).
        source: file name, for error messages.

    Returns:
        An :class:`Instance` named after the week whose epoch is the
        earliest request time window start and whose horizon ends at the
        latest time window end; one resource per antenna (``DSS-14``, ...).

    Raises:
        InvalidInput: naming the request (``W10_2018[3].duration``) and the
            field for a missing or mistyped field, a minimum above the
            requested duration, a reversed time window or view period, or
            an unknown or missing week.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            "(document)", error.msg, "valid JSON", source=source, line=error.lineno
        ) from None
    name, raw = _pick_week(document, week, source)
    try:
        requests = _REQUESTS.validate_python(raw)
    except ValidationError as error:
        raise invalid_input_from(error, prefix=name).located(source=source) from None
    if not requests:
        raise InvalidInput(name, "[]", "at least one request", source=source)
    try:
        return _instance(name, requests, maintenance)
    except InvalidInput as error:
        raise error.located(source=source) from None


def _pick_week(parsed: object, week: str | None, source: str | None) -> tuple[str, object]:
    if isinstance(parsed, list):
        return week or "week", parsed
    if not isinstance(parsed, dict) or not parsed:
        raise InvalidInput(
            "(document)",
            type(parsed).__name__,
            'a SatNet week: {"W10_2018": [request, ...]} or a list of requests',
            source=source,
        )
    if week is None:
        if len(parsed) != 1:
            raise InvalidInput(
                "week",
                None,
                f"one of {', '.join(sorted(parsed))} (the file has several)",
                source=source,
            )
        week = next(iter(parsed))
    if week not in parsed:
        raise InvalidInput("week", week, f"one of {', '.join(sorted(parsed))}", source=source)
    return week, parsed[week]


def _instance(
    name: str, raw: Sequence[_SatNetRequest], maintenance: Sequence[MaintenanceWindow]
) -> Instance:
    epoch_unix_s = min(r.time_window_start for r in raw)
    horizon_s = max(r.time_window_end for r in raw) - epoch_unix_s
    requests: list[Request] = []
    opportunities: list[Opportunity] = []
    antennas: set[str] = {m.antenna for m in maintenance}
    for index, item in enumerate(raw):
        where = f"{name}[{index}]"
        request = _request(item, where, epoch_unix_s)
        requests.append(request)
        for resource, periods in item.resource_vp_dict.items():
            members = tuple(resource.split("_"))
            if not all(members):
                raise InvalidInput(
                    f"{where}.resource_vp_dict", resource, "antenna names joined by '_'"
                )
            antennas.update(members)
            for k, period in enumerate(periods):
                start_s, end_s = _usable_span(
                    period, item, f"{where}.resource_vp_dict.{resource}[{k}]"
                )
                if end_s - start_s < request.min_duration_s - TOLERANCE_S:
                    continue
                opportunities.append(
                    Opportunity(
                        id=len(opportunities),
                        request=request.id,
                        resources=members,
                        start_s=start_s - epoch_unix_s,
                        end_s=end_s - epoch_unix_s,
                    )
                )
    down: dict[str, list[Interval]] = defaultdict(list)
    for window in maintenance:
        start_s = max(window.start_unix_s - epoch_unix_s, 0.0)
        end_s = min(window.end_unix_s - epoch_unix_s, horizon_s)
        if end_s > start_s:
            down[window.antenna].append(Interval(start_s, end_s))
    resources = tuple(
        Resource(
            id=antenna,
            station=_complex(antenna),
            maintenance=tuple(sorted(down.get(antenna, []), key=lambda i: i.start_s)),
        )
        for antenna in sorted(antennas, key=_antenna_order)
    )
    return Instance(
        epoch=datetime.fromtimestamp(epoch_unix_s, UTC),
        horizon_s=horizon_s,
        resources=resources,
        requests=tuple(requests),
        opportunities=tuple(opportunities),
        name=name,
    )


def _request(item: _SatNetRequest, where: str, epoch_unix_s: float) -> Request:
    duration_s = item.duration * _HOUR_S
    minimum_s = item.duration_min * _HOUR_S
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise InvalidInput(f"{where}.duration", item.duration, "positive hours")
    if not (math.isfinite(minimum_s) and 0 < minimum_s <= duration_s):
        raise InvalidInput(
            f"{where}.duration_min", item.duration_min, f"hours in (0, duration ({item.duration})]"
        )
    if not item.time_window_end > item.time_window_start:
        raise InvalidInput(
            f"{where}.time_window_end", item.time_window_end, "a time after time_window_start"
        )
    for field_name in ("setup_time", "teardown_time"):
        minutes = getattr(item, field_name)
        if not (math.isfinite(minutes) and minutes >= 0):
            raise InvalidInput(f"{where}.{field_name}", minutes, "non-negative minutes")
    splittable = duration_s >= SPLIT_FROM_S - TOLERANCE_S
    mission = str(item.subject)
    return Request(
        id=item.track_id,
        tenant=mission,
        spacecraft=mission,
        demand=duration_s,
        demand_kind=DemandKind.SECONDS,
        min_duration_s=MIN_SPLIT_TRACK_S if splittable else minimum_s,
        max_duration_s=duration_s,
        earliest_s=item.time_window_start - epoch_unix_s,
        latest_s=item.time_window_end - epoch_unix_s,
        setup_s=item.setup_time * _MINUTE_S,
        teardown_s=item.teardown_time * _MINUTE_S,
        max_contacts=int(duration_s // MIN_SPLIT_TRACK_S) if splittable else 1,
        min_served=minimum_s,
        value_weight=item.duration,
    )


def _usable_span(period: _ViewPeriod, item: _SatNetRequest, where: str) -> tuple[float, float]:
    """The part of a view period a track may use (TRX ON-OFF within the time window), POSIX s."""
    on = period.rise if period.trx_on is None else period.trx_on
    off = period.set_ if period.trx_off is None else period.trx_off
    if not (math.isfinite(on) and math.isfinite(off) and off > on):
        raise InvalidInput(f"{where}.TRX OFF", off, f"a time after TRX ON ({on})")
    return max(on, item.time_window_start), min(off, item.time_window_end)


def _complex(antenna: str) -> str:
    """The DSN complex of an antenna: DSS-1x/2x Goldstone, 3x/4x Canberra, 5x/6x Madrid."""
    digits = antenna.removeprefix("DSS-")
    if not digits.isdigit():
        return ""
    return {"1": "goldstone", "2": "goldstone", "3": "canberra", "4": "canberra"}.get(
        digits[0], "madrid" if digits[0] in "56" else ""
    )


def _antenna_order(antenna: str) -> tuple[int, str]:
    digits = antenna.removeprefix("DSS-")
    return (int(digits) if digits.isdigit() else 10**9, antenna)


# --- tracks and metrics ------------------------------------------------------------------------


def satnet_tracks(
    instance: Instance, contacts: Sequence[ScheduledContact]
) -> tuple[ScheduledContact, ...]:
    """The tracks SatNet would accept: those of satisfied requests, within the requested hours.

    For each request: contacts shorter than its per-track minimum are
    dropped; beyond ``max_contacts`` the shortest are dropped; if the rest
    fall short of its minimum total the request gets no track at all (they
    would count for nothing, and a checker rejects them); if they exceed the
    requested duration the longest are shortened at their end (never below
    the per-track minimum), which keeps each inside its view period and
    frees antenna time. Other contacts (a request unknown to the instance)
    are kept as they are. Returned sorted by start.
    """
    requests = {request.id: request for request in instance.requests}
    by_request: dict[str, list[ScheduledContact]] = defaultdict(list)
    kept: list[ScheduledContact] = []
    for contact in contacts:
        if contact.request in requests:
            by_request[contact.request].append(contact)
        else:
            kept.append(contact)
    for request_id, own in by_request.items():
        kept.extend(_accepted_tracks(requests[request_id], own))
    return tuple(sorted(kept, key=lambda c: (c.start_s, c.resources, c.request)))


def _accepted_tracks(request: Request, own: list[ScheduledContact]) -> list[ScheduledContact]:
    tracks = [c for c in own if c.duration_s >= request.min_duration_s - TOLERANCE_S]
    tracks.sort(key=lambda c: c.duration_s, reverse=True)
    if request.max_contacts is not None:
        tracks = tracks[: request.max_contacts]
    total_s = sum(c.duration_s for c in tracks)
    if total_s < request.min_served - TOLERANCE_S:
        return []
    excess_s = total_s - request.demand
    trimmed = []
    for track in tracks:
        cut_s = min(max(excess_s, 0.0), track.duration_s - request.min_duration_s)
        if cut_s > 0:
            track = replace(track, end_s=track.end_s - cut_s)
            excess_s -= cut_s
        trimmed.append(track)
    return trimmed


@dataclass(frozen=True)
class SatNetMetrics:
    """A schedule measured as the SatNet paper measures it.

    Hours are hours; ``unsatisfied_fraction`` maps each mission to
    ``U_m = (T_R,m - T_S,m) / T_R,m`` (0 = fully served, 1 = nothing).
    """

    hours_requested: float
    hours_allocated: float
    requests: int
    requests_satisfied: int
    missions: int
    unsatisfied_fraction: Mapping[str, float]
    u_max: float
    u_rms: float
    worst_mission: str

    def to_json(self) -> dict[str, Any]:
        """The metrics as a JSON-ready dict (missions sorted by name)."""
        return {
            "hours_requested": self.hours_requested,
            "hours_allocated": self.hours_allocated,
            "requests": self.requests,
            "requests_satisfied": self.requests_satisfied,
            "missions": self.missions,
            "u_max": self.u_max,
            "u_rms": self.u_rms,
            "worst_mission": self.worst_mission,
            "unsatisfied_fraction": dict(sorted(self.unsatisfied_fraction.items())),
        }


def satnet_metrics(instance: Instance, contacts: Sequence[ScheduledContact]) -> SatNetMetrics:
    """Hours allocated, requests satisfied and U_max/U_rms of ``contacts`` on a SatNet instance.

    A request counts as satisfied, and its hours (at most those requested)
    as allocated, exactly when :func:`satnet_tracks` keeps tracks for it.
    """
    accepted = satnet_tracks(instance, contacts)
    allocated_s: dict[str, float] = defaultdict(float)
    for track in accepted:
        allocated_s[track.request] += track.duration_s
    requested_h: dict[str, float] = defaultdict(float)
    served_h: dict[str, float] = defaultdict(float)
    for request in instance.requests:
        requested_h[request.tenant] += request.demand / _HOUR_S
        served_h[request.tenant] += min(allocated_s.get(request.id, 0.0), request.demand) / _HOUR_S
    unsatisfied = {
        mission: (requested_h[mission] - served_h[mission]) / requested_h[mission]
        for mission in requested_h
    }
    worst = max(sorted(unsatisfied), key=lambda m: unsatisfied[m]) if unsatisfied else ""
    values = list(unsatisfied.values())
    return SatNetMetrics(
        hours_requested=sum(requested_h.values()),
        hours_allocated=sum(served_h.values()),
        requests=len(instance.requests),
        requests_satisfied=sum(1 for r in instance.requests if allocated_s.get(r.id, 0.0) > 0),
        missions=len(unsatisfied),
        unsatisfied_fraction=unsatisfied,
        u_max=max(values, default=0.0),
        u_rms=math.sqrt(sum(u * u for u in values) / len(values)) if values else 0.0,
        worst_mission=worst,
    )
