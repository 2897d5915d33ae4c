"""Which opportunities a request may use at all, and the pointing rule at a contact's edges.

These are the *static* rules of a schedule: they depend on one request and
one opportunity only, never on other contacts. The validator
(:mod:`.validate`), the solvers and the explanations all read them here, so
that "may this request use this pass" means one thing everywhere.

An opportunity is **usable** by its request when, in this order (the first
rule that fails is the opportunity's :class:`Usability`):

1. its window ``[start_s, end_s]`` overlaps the request's
   ``[earliest_s, latest_s]`` (else ``OUTSIDE_WINDOW``);
2. every one of its resources serves every band of the request, when both
   list bands (else ``BAND_MISMATCH``);
3. every one of its resources sits at a station the request allows: in
   ``stations`` when that is given, never in ``excluded_stations`` (else
   ``EXCLUDED_STATION``);
4. the window clipped to ``[earliest_s, latest_s]`` is at least the
   request's ``min_duration_s`` long, and longer than zero (else
   ``TOO_SHORT``).

**Pointing at a contact's edges.** A contact that starts exactly at its
opportunity's start (within :data:`TIME_TOLERANCE_S`) starts at the
opportunity's start pointing; one that starts later was trimmed, and its
start pointing is unknown (NaN), which the conflict rule of
:mod:`groundlink.contacts.conflicts` counts as the worst case (a 180°
azimuth move). The same holds at the end. Fixed contacts have no pointing.

Times are seconds since the instance epoch; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from groundlink.scheduling.model import (
    DemandKind,
    FixedContact,
    Instance,
    Opportunity,
    Request,
    Resource,
    ScheduledContact,
)

#: Float seconds carry rounding; containment and durations are compared to a microsecond.
TIME_TOLERANCE_S = 1e-6

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Usability(IntEnum):
    """Whether a request may use an opportunity, or the first static rule it breaks."""

    USABLE = 0
    OUTSIDE_WINDOW = 1
    BAND_MISMATCH = 2
    EXCLUDED_STATION = 3
    TOO_SHORT = 4


def serves_bands(request: Request, resource: Resource) -> bool:
    """Whether ``resource`` serves every band ``request`` needs (true when either lists none)."""
    if not request.bands or not resource.bands:
        return True
    return set(request.bands) <= set(resource.bands)


def station_allowed(request: Request, resource: Resource) -> bool:
    """Whether ``request`` may use an antenna at ``resource``'s station."""
    if request.stations and resource.station not in request.stations:
        return False
    return resource.station not in request.excluded_stations


def usability(
    request: Request, opportunity: Opportunity, resources: Sequence[Resource]
) -> Usability:
    """The static verdict for one opportunity of ``request`` on ``resources`` (its resources)."""
    start_s = max(opportunity.start_s, request.earliest_s)
    end_s = min(opportunity.end_s, request.latest_s)
    if not end_s > start_s:
        return Usability.OUTSIDE_WINDOW
    if not all(serves_bands(request, r) for r in resources):
        return Usability.BAND_MISMATCH
    if not all(station_allowed(request, r) for r in resources):
        return Usability.EXCLUDED_STATION
    if end_s - start_s < request.min_duration_s - TIME_TOLERANCE_S:
        return Usability.TOO_SHORT
    return Usability.USABLE


def start_is_trimmed(opportunity: Opportunity, start_s: float) -> bool:
    """Whether a contact starting at ``start_s`` starts after its opportunity (unknown pointing)."""
    return start_s > opportunity.start_s + TIME_TOLERANCE_S


def end_is_trimmed(opportunity: Opportunity, end_s: float) -> bool:
    """Whether a contact ending at ``end_s`` ends before its opportunity (unknown pointing)."""
    return end_s < opportunity.end_s - TIME_TOLERANCE_S


def edge_pointing_deg(
    opportunity: Opportunity, start_s: float, end_s: float
) -> tuple[float, float, float, float]:
    """Pointing of a contact ``[start_s, end_s)`` in ``opportunity``, degrees, NaN where trimmed.

    Returns ``(start_azimuth, start_elevation, end_azimuth, end_elevation)``.
    """
    nan = math.nan
    if start_is_trimmed(opportunity, start_s):
        start_az, start_el = nan, nan
    else:
        start_az, start_el = opportunity.start_azimuth_deg, opportunity.start_elevation_deg
    if end_is_trimmed(opportunity, end_s):
        end_az, end_el = nan, nan
    else:
        end_az, end_el = opportunity.end_azimuth_deg, opportunity.end_elevation_deg
    return start_az, start_el, end_az, end_el


@dataclass(frozen=True)
class IndexedInstance:
    """An :class:`Instance` with lookups by id and per-opportunity arrays, built once per call.

    Opportunity arrays are in the order of ``instance.opportunities``:
    ``opportunity_request`` (index into ``instance.requests``),
    ``window_start_s`` and ``window_end_s`` (the window clipped to the
    request's earliest/latest), ``rate_bytes_s``, ``resource_set`` (a number
    per distinct tuple of resources: ``resource_sets[n]``) and
    ``usability`` (:class:`Usability` codes).
    """

    instance: Instance
    request_index: dict[str, int]
    resource_index: dict[str, int]
    opportunity_index: dict[int, int]
    opportunity_request: IntArray
    window_start_s: FloatArray
    window_end_s: FloatArray
    rate_bytes_s: FloatArray
    resource_set: IntArray
    resource_sets: list[tuple[str, ...]]
    usability: IntArray

    def request(self, request_id: str) -> Request:
        """The request with that id."""
        return self.instance.requests[self.request_index[request_id]]

    def opportunity(self, opportunity_id: int) -> Opportunity | None:
        """The opportunity with that id, or ``None``."""
        index = self.opportunity_index.get(opportunity_id)
        return None if index is None else self.instance.opportunities[index]

    def resources(self, resource_ids: Sequence[str]) -> list[Resource]:
        """The resources with those ids."""
        return [self.instance.resources[self.resource_index[r]] for r in resource_ids]

    def rate_of(self, opportunity_id: int) -> float:
        """Downlink rate (bytes/s) of the opportunity with that id (0 if there is none)."""
        index = self.opportunity_index.get(opportunity_id)
        return 0.0 if index is None else float(self.rate_bytes_s[index])


def index_instance(instance: Instance) -> IndexedInstance:
    """Lookups and the static verdict of every opportunity (see the module docstring).

    Runs on every solver call over up to hundreds of thousands of
    opportunities, so it reads each attribute once in C (``attrgetter``) and
    decides bands and stations per distinct (request profile, resources)
    pair with numpy, not per opportunity.
    """
    requests, opportunities = instance.requests, instance.opportunities
    request_index = {r.id: i for i, r in enumerate(requests)}
    resource_index = {r.id: i for i, r in enumerate(instance.resources)}
    n = len(opportunities)

    # One attribute at a time: lists of floats and existing objects, no new tuples for the
    # garbage collector to walk (building 300k row tuples costs more in GC than in copying).
    def column(name: str) -> list[Any]:
        return list(map(attrgetter(name), opportunities))

    ids, request_ids, resource_tuples = column("id"), column("request"), column("resources")
    starts, ends, rates = column("start_s"), column("end_s"), column("rate_bytes_s")
    opportunity_request = np.array(
        list(map(request_index.__getitem__, request_ids)), dtype=np.int64
    ).reshape(n)
    resource_sets = list(dict.fromkeys(resource_tuples))
    set_numbers = {on: number for number, on in enumerate(resource_sets)}
    resource_set = np.array(
        list(map(set_numbers.__getitem__, resource_tuples)), dtype=np.int64
    ).reshape(n)
    start = np.array(starts, dtype=np.float64).reshape(n)
    end = np.array(ends, dtype=np.float64).reshape(n)
    earliest = np.array([r.earliest_s for r in requests], dtype=np.float64)
    latest = np.array([r.latest_s for r in requests], dtype=np.float64)
    min_duration = np.array([r.min_duration_s for r in requests], dtype=np.float64)
    window_start = np.maximum(start, earliest[opportunity_request]) if n else start
    window_end = np.minimum(end, latest[opportunity_request]) if n else end

    # Bands and stations depend on the request's profile and the resources only.
    profiles: dict[tuple[tuple[str, ...], ...], int] = {}
    profile_of_request = np.array(
        [
            profiles.setdefault((r.bands, r.stations, r.excluded_stations), len(profiles))
            for r in requests
        ],
        dtype=np.int64,
    )
    pair = profile_of_request[opportunity_request] * max(1, len(resource_sets)) + resource_set
    distinct, inverse = np.unique(pair, return_inverse=True)
    example_request: dict[int, Request] = {}
    for r, profile in enumerate(profile_of_request.tolist()):
        example_request.setdefault(profile, requests[r])
    verdicts = []
    for key in distinct.tolist():
        profile, number = divmod(key, max(1, len(resource_sets)))
        request = example_request[profile]
        resources = [instance.resources[resource_index[a]] for a in resource_sets[number]]
        if not all(serves_bands(request, r) for r in resources):
            verdicts.append(int(Usability.BAND_MISMATCH))
        elif not all(station_allowed(request, r) for r in resources):
            verdicts.append(int(Usability.EXCLUDED_STATION))
        else:
            verdicts.append(int(Usability.USABLE))
    verdict = np.array(verdicts, dtype=np.int64)[inverse.reshape(n)] if n else np.zeros(0, np.int64)
    if n:
        length = window_end - window_start
        too_short = (length < min_duration[opportunity_request] - TIME_TOLERANCE_S) | (length <= 0)
        verdict = np.where((verdict == Usability.USABLE) & too_short, Usability.TOO_SHORT, verdict)
        verdict = np.where(window_end > window_start, verdict, Usability.OUTSIDE_WINDOW)
    return IndexedInstance(
        instance=instance,
        request_index=request_index,
        resource_index=resource_index,
        opportunity_index=dict(zip(ids, range(n), strict=True)),
        opportunity_request=opportunity_request,
        window_start_s=window_start,
        window_end_s=window_end,
        rate_bytes_s=np.array(rates, dtype=np.float64).reshape(n),
        resource_set=resource_set,
        resource_sets=resource_sets,
        usability=verdict.astype(np.int64),
    )


def fixed_contacts(instance: Instance) -> tuple[ScheduledContact, ...]:
    """The instance's fixed contacts as :class:`ScheduledContact` with ``fixed=True``.

    ``opportunity`` is the id of an opportunity of the same request on the
    same resources that contains the contact (so that a bytes demand finds
    its downlink rate), or -1 when there is none or the fixed contact serves
    no request.
    """
    by_request: dict[str, list[Opportunity]] = {}
    wanted = {f.request for f in instance.fixed if f.request}
    for opportunity in instance.opportunities:
        if opportunity.request in wanted:
            by_request.setdefault(opportunity.request, []).append(opportunity)
    return tuple(
        ScheduledContact(
            request=f.request,
            opportunity=_containing_opportunity(f, by_request.get(f.request, [])),
            resources=f.resources,
            start_s=f.start_s,
            end_s=f.end_s,
            fixed=True,
        )
        for f in instance.fixed
    )


def _containing_opportunity(fixed: FixedContact, candidates: Sequence[Opportunity]) -> int:
    for opportunity in candidates:
        if (
            sorted(opportunity.resources) == sorted(fixed.resources)
            and opportunity.start_s <= fixed.start_s + TIME_TOLERANCE_S
            and fixed.end_s <= opportunity.end_s + TIME_TOLERANCE_S
        ):
            return opportunity.id
    return -1


def amount_of(request: Request, duration_s: float, rate_bytes_s: float) -> float:
    """What one contact of ``duration_s`` serves of ``request``, in its demand unit.

    Zero when the contact is shorter than the request's minimum duration.
    """
    if duration_s < request.min_duration_s - TIME_TOLERANCE_S:
        return 0.0
    if request.demand_kind is DemandKind.CONTACTS:
        return 1.0
    if request.demand_kind is DemandKind.SECONDS:
        return duration_s
    return duration_s * rate_bytes_s
