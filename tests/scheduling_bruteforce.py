"""Exact optima of tiny scheduling instances by enumeration, to check the bound and CP-SAT.

``whole_window_instance(seed)`` builds a small random instance in which every
opportunity of a request is exactly as long as the request's minimum and
maximum duration: the only contact an opportunity can hold is the whole
window, so the valid schedules are exactly the subsets of opportunities the
referee (:func:`~groundlink.scheduling.validate.check_schedule`) accepts,
and :func:`brute_force` can enumerate them all. The referee decides every
single contact and every pair (the antenna rule, maintenance, fixed
contacts and a spacecraft limit of one are all pairwise), and the final
schedule once more as a whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from groundlink.scheduling.feasibility import Usability, fixed_contacts, index_instance
from groundlink.scheduling.model import (
    DemandKind,
    FixedContact,
    Instance,
    Interval,
    Opportunity,
    Request,
    Resource,
    ScheduledContact,
)
from groundlink.scheduling.validate import check_schedule, schedule_value
from scheduling_fixtures import EPOCH


def whole_window_instance(
    seed: int,
    *,
    slew: bool = True,
    integral: bool = False,
    opportunities: int = 11,
    antennas: int = 2,
) -> Instance:
    """A tiny random instance whose contacts can only be whole windows (module docstring).

    ``integral`` makes every time a whole number of seconds and leaves slew
    out (the case CP-SAT models exactly); else times are fractional and,
    with ``slew``, antennas slew at 3 and 1.5 deg/s between edge pointings.
    """
    rng = np.random.default_rng(seed)
    slew = slew and not integral
    resources = tuple(
        Resource(
            f"A{a}",
            station=f"S{a // 2}",
            turnaround_s=float(rng.choice([0.0, 30.0, 60.0])),
            max_az_rate_deg_s=3.0 if slew else None,
            max_el_rate_deg_s=1.5 if slew else None,
            maintenance=(Interval(2000.0, 2300.0),) if rng.random() < 0.3 else (),
        )
        for a in range(antennas)
    )
    count = int(rng.integers(3, 5))
    requests = []
    for r in range(count):
        kind = [DemandKind.CONTACTS, DemandKind.SECONDS, DemandKind.BYTES][int(rng.integers(3))]
        length = float(rng.integers(120, 400))
        demand = {
            DemandKind.CONTACTS: float(rng.integers(1, 4)),
            DemandKind.SECONDS: float(int(length * float(rng.integers(1, 4)) * 0.8)),
            DemandKind.BYTES: 1e8 * float(rng.integers(1, 5)),
        }[kind]
        requests.append(
            Request(
                f"r{r}",
                tenant=f"t{r % 2}",
                spacecraft=f"sc{r}",
                demand=demand,
                demand_kind=kind,
                min_duration_s=length,
                max_duration_s=length,
                priority=int(rng.integers(1, 6)),
                setup_s=float(rng.choice([0.0, 20.0])),
                teardown_s=float(rng.choice([0.0, 10.0])),
                max_contacts=int(rng.integers(1, 3)) if rng.random() < 0.2 else None,
            )
        )
    opps = []
    for o in range(opportunities):
        request = requests[int(rng.integers(count))]
        start = float(rng.integers(0, 3000)) + (0.0 if integral else float(rng.random()))
        on = resources[int(rng.integers(antennas))].id
        opps.append(
            Opportunity(
                o,
                request.id,
                (on,),
                start,
                start + request.min_duration_s,
                rate_bytes_s=float(rng.uniform(2e5, 1e6)),
                start_azimuth_deg=float(rng.uniform(0, 360)),
                start_elevation_deg=float(rng.uniform(0, 10)),
                end_azimuth_deg=float(rng.uniform(0, 360)),
                end_elevation_deg=float(rng.uniform(0, 10)),
            )
        )
    fixed: tuple[FixedContact, ...] = ()
    if rng.random() < 0.4:
        start = float(rng.integers(0, 3000))
        fixed = (FixedContact("f0", (resources[0].id,), start, start + 200.0),)
    return Instance(
        epoch=EPOCH,
        horizon_s=3600.0,
        resources=resources,
        requests=tuple(requests),
        opportunities=tuple(opps),
        fixed=fixed,
        name=f"whole-window-{seed}",
    )


def brute_force(instance: Instance) -> tuple[float, tuple[ScheduledContact, ...]]:
    """The best value over every valid schedule of whole-window contacts, and one that has it."""
    index = index_instance(instance)
    held = list(fixed_contacts(instance))
    singles = []
    for position, o in enumerate(instance.opportunities):
        if index.usability[position] != Usability.USABLE:
            continue
        contact = ScheduledContact(o.request, o.id, o.resources, o.start_s, o.end_s)
        if not check_schedule(instance, [*held, contact]):
            singles.append(contact)
    n = len(singles)
    clash = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(i + 1, n):
            if check_schedule(instance, [*held, singles[i], singles[j]]):
                clash[i, j] = clash[j, i] = True
    limits = {r.id: (r.max_contacts or math.inf) for r in instance.requests}
    best: tuple[float, tuple[ScheduledContact, ...]] = (
        schedule_value(instance, held),
        tuple(held),
    )

    def grow(start: int, chosen: list[int], counts: dict[str, int]) -> None:
        nonlocal best
        contacts = tuple(held + [singles[k] for k in chosen])
        value = schedule_value(instance, contacts)
        if value > best[0] + 1e-9:
            best = (value, contacts)
        for k in range(start, n):
            request = singles[k].request
            if counts.get(request, 0) >= limits[request]:
                continue
            if any(clash[k, c] for c in chosen):
                continue
            counts[request] = counts.get(request, 0) + 1
            grow(k + 1, [*chosen, k], counts)
            counts[request] -= 1

    grow(0, [], {})
    assert check_schedule(instance, best[1]) == []
    return best


def values_of(instance: Instance, schedules: Sequence[Sequence[ScheduledContact]]) -> list[float]:
    """The value of each schedule (after checking it is valid)."""
    values = []
    for contacts in schedules:
        assert check_schedule(instance, contacts) == []
        values.append(schedule_value(instance, contacts))
    return values
