"""The platform's scheduling instance: available contacts in, :class:`~.model.Instance` out.

The platform already knows, for a fleet and the network, every contact it
could offer: :func:`groundlink.services.availability.available_contacts`
finds the passes, keeps the antennas whose bands and polarisation fit the
downlink, trims passes around maintenance and contacts booked already, and
gives each pass its expected volume from the link budget. So the network
scheduler does not predict passes again: each available contact becomes one
:class:`~.model.Opportunity` of every request of its spacecraft, and the
antenna is held for the profile's pre-pass and post-pass exactly as a
booking holds it (the request's ``setup_s``/``teardown_s``), so that a plan
can be booked through the same path as a reservation and pass the same rule.

For a repair (:mod:`.repair`), :func:`with_booked` adds the contacts booked
already: those to re-plan become the previous schedule, the others fixed
blocks on their antennas.

Pure functions: no database, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

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
from groundlink.services.availability import AvailableContacts

SECONDS_PER_DAY = 86_400.0
#: Seconds a booked contact may overhang its recomputed pass and still count as inside it:
#: the pass search's roots move by milliseconds with the window it searches.
PASS_EDGE_TOLERANCE_S = 1.0


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What an operator asks of the network for one spacecraft, per day.

    ``amount_per_day`` is in the unit of ``demand_kind`` (contacts, seconds
    or bytes per day); the request's demand over a plan is that times the
    plan's length in days. ``prepass_s``/``postpass_s`` are the antenna time
    held around each contact (the mission profile's). ``earliest``/``latest``
    narrow the plan's window; ``stations`` (ids) limits it to those stations,
    ``excluded_stations`` removes some.
    """

    id: str
    tenant: str
    spacecraft_id: str
    amount_per_day: float
    demand_kind: DemandKind = DemandKind.CONTACTS
    min_duration_s: float = 60.0
    max_duration_s: float = math.inf
    priority: int = 3
    earliest: datetime | None = None
    latest: datetime | None = None
    stations: tuple[str, ...] = ()
    excluded_stations: tuple[str, ...] = ()
    prepass_s: float = 0.0
    postpass_s: float = 0.0


def _request(plan: PlanRequest, epoch: datetime, horizon_s: float) -> Request:
    earliest_s = 0.0 if plan.earliest is None else (plan.earliest - epoch).total_seconds()
    latest_s = horizon_s if plan.latest is None else (plan.latest - epoch).total_seconds()
    return Request(
        id=plan.id,
        tenant=plan.tenant,
        spacecraft=plan.spacecraft_id,
        demand=plan.amount_per_day * horizon_s / SECONDS_PER_DAY,
        demand_kind=plan.demand_kind,
        min_duration_s=plan.min_duration_s,
        max_duration_s=plan.max_duration_s,
        priority=plan.priority,
        earliest_s=max(0.0, earliest_s),
        latest_s=min(horizon_s, latest_s),
        stations=plan.stations,
        excluded_stations=plan.excluded_stations,
        setup_s=plan.prepass_s,
        teardown_s=plan.postpass_s,
    )


def resources_of(
    contacts: AvailableContacts, turnaround_s: Mapping[str, float]
) -> tuple[Resource, ...]:
    """One :class:`~.model.Resource` per antenna of ``contacts`` (id = antenna id).

    ``turnaround_s`` maps antenna id to its setup seconds between contacts
    (0 when absent); slew rates come from the antenna model.
    """
    return tuple(
        Resource(
            id=antenna.id,
            station=station.id,
            bands=tuple(band.name for band in antenna.bands),
            turnaround_s=turnaround_s.get(antenna.id, 0.0),
            max_az_rate_deg_s=antenna.max_slew_azimuth_deg_s,
            max_el_rate_deg_s=antenna.max_slew_elevation_deg_s,
        )
        for station, antenna in contacts.antennas
    )


def instance_from_available(
    contacts: AvailableContacts,
    plan_requests: Sequence[PlanRequest],
    start: datetime,
    end: datetime,
    turnaround_s: Mapping[str, float],
    *,
    name: str = "",
) -> tuple[Instance, npt.NDArray[np.int64]]:
    """The scheduling instance of ``plan_requests`` over the available ``contacts``.

    Returns the instance and, for each opportunity id, the row of
    ``contacts`` it came from (to book a planned contact with its TCA and
    maximum elevation).

    The epoch is ``start``; every available contact of a request's spacecraft
    that lies at a station it may use becomes an opportunity of that request
    (AOS to LOS, clipped to the request's earliest/latest; shorter than its
    minimum duration: left out). The rate is the contact's expected volume
    over its duration (bytes/s); pointing at the window's edges is the
    azimuth at AOS/LOS where the window is not clipped (elevation there is
    the antenna's horizon, unknown here: NaN, so slew counts the worst case
    in elevation only).
    """
    horizon_s = (end - start).total_seconds()
    epoch_unix_s = start.timestamp()
    requests = tuple(_request(plan, start, horizon_s) for plan in plan_requests)
    station_of = np.array([station.id for station, _antenna in contacts.antennas], dtype=object)
    antenna_of = np.array([antenna.id for _station, antenna in contacts.antennas], dtype=object)
    craft_of = np.array(contacts.spacecraft_ids, dtype=object)
    aos_s = contacts.aos_unix_s - epoch_unix_s
    los_s = contacts.los_unix_s - epoch_unix_s
    duration_s = np.maximum(contacts.duration_s, 1e-9)
    rate_bytes_s = contacts.volume_bytes / duration_s

    opportunities: list[Opportunity] = []
    source_rows: list[int] = []
    for request in requests:
        if len(contacts) == 0:
            break
        stations = station_of[contacts.antenna_index]
        mine = craft_of[contacts.spacecraft_index] == request.spacecraft
        if request.stations:
            mine &= np.isin(stations, request.stations)
        if request.excluded_stations:
            mine &= ~np.isin(stations, request.excluded_stations)
        window_start = np.maximum(aos_s, request.earliest_s)
        window_end = np.minimum(los_s, request.latest_s)
        mine &= window_end - window_start >= max(request.min_duration_s, 1e-6)
        for row in np.flatnonzero(mine):
            source_rows.append(int(row))
            opportunities.append(
                Opportunity(
                    id=len(opportunities),
                    request=request.id,
                    resources=(str(antenna_of[contacts.antenna_index[row]]),),
                    start_s=float(window_start[row]),
                    end_s=float(window_end[row]),
                    rate_bytes_s=float(rate_bytes_s[row]),
                    start_azimuth_deg=(
                        float(contacts.aos_azimuth_deg[row])
                        if window_start[row] == aos_s[row]
                        else math.nan
                    ),
                    end_azimuth_deg=(
                        float(contacts.los_azimuth_deg[row])
                        if window_end[row] == los_s[row]
                        else math.nan
                    ),
                )
            )
    instance = Instance(
        epoch=start,
        horizon_s=horizon_s,
        resources=resources_of(contacts, turnaround_s),
        requests=requests,
        opportunities=tuple(opportunities),
        name=name,
    )
    return instance, np.array(source_rows, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class BookedContact:
    """A contact booked already: its pass ``[aos, los)`` and the span its antenna is reserved.

    Times are timezone-aware UTC; ``reserved_start``/``reserved_end`` include
    its pre-pass and post-pass.
    """

    id: str
    spacecraft_id: str
    antenna_id: str
    aos: datetime
    los: datetime
    reserved_start: datetime
    reserved_end: datetime


def with_booked(
    instance: Instance,
    source_rows: npt.NDArray[np.int64],
    contacts: AvailableContacts,
    previous: Sequence[BookedContact],
    held: Sequence[BookedContact],
    *,
    tolerance_s: float = PASS_EDGE_TOLERANCE_S,
) -> tuple[Instance, tuple[ScheduledContact, ...]]:
    """``instance`` with the contacts booked already, for :func:`~.repair.repair`.

    ``instance`` and ``source_rows`` come from :func:`instance_from_available`
    on ``contacts``, computed as if no booked contact of ``previous`` or
    ``held`` took its antenna. Returns the instance, with each ``held``
    contact a :class:`~.model.FixedContact` over its reserved span (id = the
    contact's id; one on an antenna outside the instance is left out), and
    one :class:`~.model.ScheduledContact` per ``previous`` contact, in order:
    the request of its spacecraft with the opportunity on its antenna that
    overlaps it most (none: the spacecraft's first request, opportunity -1,
    which :func:`~.repair.repair` moves or drops). A contact that overhangs
    that opportunity by at most ``tolerance_s`` at an edge that is the
    pass's own AOS or LOS (not cut by the request's window, nor by a
    maintenance window or a booked contact) widens the opportunity to hold it.
    """
    epoch = instance.epoch
    resource_ids = {resource.id for resource in instance.resources}
    requests_of: dict[str, list[str]] = {}
    for request in instance.requests:
        requests_of.setdefault(request.spacecraft, []).append(request.id)
    craft_of = {request.id: request.spacecraft for request in instance.requests}
    by_key: dict[tuple[str, str], list[Opportunity]] = {}
    for opportunity in instance.opportunities:
        for antenna_id in opportunity.resources:
            key = (craft_of[opportunity.request], antenna_id)
            by_key.setdefault(key, []).append(opportunity)
    widened: dict[int, Opportunity] = {}
    scheduled: list[ScheduledContact] = []
    for booked in previous:
        start_s = (booked.aos - epoch).total_seconds()
        end_s = (booked.los - epoch).total_seconds()
        candidates = by_key.get((booked.spacecraft_id, booked.antenna_id), [])
        best = max(
            candidates,
            key=lambda o: min(o.end_s, end_s) - max(o.start_s, start_s),
            default=None,
        )
        if best is None or min(best.end_s, end_s) <= max(best.start_s, start_s):
            first = requests_of[booked.spacecraft_id][0]
            scheduled.append(ScheduledContact(first, -1, (booked.antenna_id,), start_s, end_s))
            continue
        best = widened.get(best.id, best)
        untrimmed = not bool(contacts.trimmed[source_rows[best.id]])
        if (
            untrimmed
            and 0 < best.start_s - start_s <= tolerance_s
            and not math.isnan(best.start_azimuth_deg)
        ):
            best = replace(best, start_s=start_s)
        if (
            untrimmed
            and 0 < end_s - best.end_s <= tolerance_s
            and not math.isnan(best.end_azimuth_deg)
        ):
            best = replace(best, end_s=end_s)
        widened[best.id] = best
        scheduled.append(
            ScheduledContact(best.request, best.id, (booked.antenna_id,), start_s, end_s)
        )
    fixed = tuple(
        FixedContact(
            id=booked.id,
            resources=(booked.antenna_id,),
            start_s=(booked.reserved_start - epoch).total_seconds(),
            end_s=(booked.reserved_end - epoch).total_seconds(),
        )
        for booked in held
        if booked.antenna_id in resource_ids
    )
    opportunities = tuple(widened.get(o.id, o) for o in instance.opportunities)
    changed = replace(instance, opportunities=opportunities, fixed=instance.fixed + fixed)
    return changed, tuple(scheduled)
