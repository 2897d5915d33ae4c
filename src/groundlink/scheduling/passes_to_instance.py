"""A scheduling instance from orbital elements and a ground network: the pass engine's way in.

Given spacecraft (elements and downlink), ground stations, the receive side
of each antenna and what each tenant asks for, this builds the
:class:`~groundlink.scheduling.model.Instance` the solvers take, without a
database. It stands on two pieces that already do the work:

* :func:`groundlink.services.availability.available_contacts` runs
  :func:`~groundlink.passes.engine.find_passes`, keeps the (spacecraft,
  antenna) pairs whose band holds the downlink channel and gives each pass
  its expected volume from the link budget (the one place that computes
  it; nothing is re-derived here);
* :func:`groundlink.scheduling.from_available.instance_from_available`
  turns those contacts into requests and opportunities (AOS to LOS, the
  request's stations and time limits applied, pre/post-pass as setup and
  teardown, ``rate_bytes_s`` = volume / duration).

What this module adds is what a planner needs beyond a booking: the
antennas' maintenance as :attr:`~.model.Resource.maintenance` (the solver
plans around it instead of the passes being cut), each request's bands (the
names of the network's bands that hold its spacecraft's channel), and the
pointing at both edges of every window: azimuth from the pass engine and
elevation = the antenna's limit at that azimuth (its minimum elevation or
horizon mask, where AOS and LOS are by definition), NaN at the edges of the
planning window where a pass is cut.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from groundlink.errors import InvalidInput
from groundlink.scheduling.from_available import PlanRequest, instance_from_available
from groundlink.scheduling.model import Instance, Interval, Opportunity, Request, Resource
from groundlink.services.availability import (
    AntennaKey,
    AntennaReceiver,
    MissionProfile,
    Spacecraft,
    available_contacts,
)
from groundlink.stations.model import Antenna, GroundStation

#: Longest minimum contact duration the pass search accepts (a day), seconds.
_MAX_MIN_DURATION_S = 86_400.0


def instance_from_passes(
    fleet: Sequence[Spacecraft],
    stations: Sequence[GroundStation],
    receivers: Mapping[AntennaKey, AntennaReceiver],
    requests: Sequence[PlanRequest],
    start: datetime,
    end: datetime,
    *,
    maintenance: Mapping[str, Sequence[tuple[datetime, datetime]]] | None = None,
    tenant_weights: Mapping[str, float] | None = None,
    workers: int | None = None,
    name: str = "",
) -> Instance:
    """The scheduling instance of ``requests`` over the passes of ``fleet`` in [start, end].

    Args:
        fleet: spacecraft with elements and downlink (unique ids); those
            without a request are left out of the pass search.
        stations: the network; antenna ids must be unique across it (they
            are the instance's resource ids).
        receivers: per ``(station id, antenna id)``: G/T, losses,
            polarisations and turnaround (the resource's ``turnaround_s``).
        requests: what each tenant asks for one spacecraft, per day.
        start, end: the planning window, timezone-aware UTC (at most 7 days).
        maintenance: per antenna id, ``(start, end)`` intervals when it takes
            no contact.
        tenant_weights: each tenant's weight in the fairness rule (default 1).
        workers: processes for the pass search.
        name: the instance's name.

    Returns:
        The instance: epoch ``start``, one resource per antenna, one
        opportunity per (request, compatible pass) long enough for it.

    Raises:
        InvalidInput: for duplicate antenna ids, a request of an unknown
            spacecraft, maintenance on an unknown antenna, or any input
            :func:`~groundlink.services.availability.available_contacts`
            rejects.
    """
    antennas = _antennas_by_id(stations)
    crafts = {craft.id: craft for craft in fleet}
    for i, plan in enumerate(requests):
        if plan.spacecraft_id not in crafts:
            raise InvalidInput(
                f"requests[{i}].spacecraft_id", plan.spacecraft_id, "the id of a fleet spacecraft"
            )
    wanted = {plan.spacecraft_id for plan in requests}
    shortest_s = min((plan.min_duration_s for plan in requests), default=0.0)
    profile = MissionProfile(
        min_elevation_deg=0.0,
        min_viable_contact_duration_s=min(max(shortest_s, 0.0), _MAX_MIN_DURATION_S),
        prepass_s=0.0,
        postpass_s=0.0,
    )
    contacts = available_contacts(
        [craft for craft in fleet if craft.id in wanted],
        stations,
        receivers,
        profile,
        start,
        end,
        workers=workers,
    )
    turnaround_s = {antenna_id: receivers[key].turnaround_s for key, antenna_id in _keys(stations)}
    base, _rows = instance_from_available(contacts, requests, start, end, turnaround_s, name=name)
    return Instance(
        epoch=base.epoch,
        horizon_s=base.horizon_s,
        resources=_with_maintenance(base, maintenance or {}),
        requests=tuple(_with_bands(r, crafts[r.spacecraft], stations) for r in base.requests),
        opportunities=_with_edge_elevations(base, antennas),
        tenant_weights=dict(tenant_weights or {}),
        name=name,
    )


def _keys(stations: Sequence[GroundStation]) -> list[tuple[AntennaKey, str]]:
    return [((s.id, a.id), a.id) for s in stations for a in s.antennas]


def _antennas_by_id(stations: Sequence[GroundStation]) -> dict[str, Antenna]:
    counts = Counter(a.id for s in stations for a in s.antennas)
    repeated = sorted(antenna_id for antenna_id, n in counts.items() if n > 1)
    if repeated:
        raise InvalidInput(
            "stations[].antennas[].id",
            repeated[0],
            "antenna ids unique across the network (they name the instance's resources)",
        )
    return {a.id: a for s in stations for a in s.antennas}


def _with_maintenance(
    base: Instance, maintenance: Mapping[str, Sequence[tuple[datetime, datetime]]]
) -> tuple[Resource, ...]:
    known = {resource.id for resource in base.resources}
    for antenna_id in maintenance:
        if antenna_id not in known:
            raise InvalidInput("maintenance", antenna_id, "the id of an antenna of the network")
    resources = []
    for resource in base.resources:
        spans = []
        for begin, finish in maintenance.get(resource.id, ()):
            start_s = max(base.seconds(begin), 0.0)
            end_s = min(base.seconds(finish), base.horizon_s)
            if end_s > start_s:
                spans.append(Interval(start_s, end_s))
        spans.sort(key=lambda span: span.start_s)
        resources.append(
            Resource(
                id=resource.id,
                station=resource.station,
                bands=resource.bands,
                turnaround_s=resource.turnaround_s,
                max_az_rate_deg_s=resource.max_az_rate_deg_s,
                max_el_rate_deg_s=resource.max_el_rate_deg_s,
                maintenance=tuple(spans),
            )
        )
    return tuple(resources)


def _with_bands(request: Request, craft: Spacecraft, stations: Sequence[GroundStation]) -> Request:
    """``request`` with ``bands``: the names of the network's bands that hold its channel."""
    link = craft.downlink
    names = sorted(
        {
            band.name
            for station in stations
            for antenna in station.antennas
            for band in antenna.bands
            if band.direction == "downlink"
            and band.min_hz <= link.low_hz
            and link.high_hz <= band.max_hz
        }
    )
    return Request(
        id=request.id,
        tenant=request.tenant,
        spacecraft=request.spacecraft,
        demand=request.demand,
        demand_kind=request.demand_kind,
        min_duration_s=request.min_duration_s,
        max_duration_s=request.max_duration_s,
        priority=request.priority,
        earliest_s=request.earliest_s,
        latest_s=request.latest_s,
        bands=tuple(names),
        stations=request.stations,
        excluded_stations=request.excluded_stations,
        setup_s=request.setup_s,
        teardown_s=request.teardown_s,
        max_contacts=request.max_contacts,
        min_served=request.min_served,
        value_weight=request.value_weight,
    )


def _with_edge_elevations(
    base: Instance, antennas: Mapping[str, Antenna]
) -> tuple[Opportunity, ...]:
    """The opportunities with the elevation at each uncut edge: the antenna's limit there."""
    result = []
    for opportunity in base.opportunities:
        antenna = antennas[opportunity.resources[0]]
        start_el = _limit_deg(antenna, opportunity.start_azimuth_deg, opportunity.start_s, 0.0)
        end_el = _limit_deg(antenna, opportunity.end_azimuth_deg, opportunity.end_s, base.horizon_s)
        result.append(
            Opportunity(
                id=opportunity.id,
                request=opportunity.request,
                resources=opportunity.resources,
                start_s=opportunity.start_s,
                end_s=opportunity.end_s,
                rate_bytes_s=opportunity.rate_bytes_s,
                start_azimuth_deg=opportunity.start_azimuth_deg,
                start_elevation_deg=start_el,
                end_azimuth_deg=opportunity.end_azimuth_deg,
                end_elevation_deg=end_el,
            )
        )
    return tuple(result)


def _limit_deg(antenna: Antenna, azimuth_deg: float, edge_s: float, window_edge_s: float) -> float:
    """Elevation at a pass edge (NaN if the azimuth is unknown or the planning window cuts it)."""
    if math.isnan(azimuth_deg) or edge_s == window_edge_s:
        return math.nan
    return float(np.asarray(antenna.elevation_limit_deg(azimuth_deg)))
