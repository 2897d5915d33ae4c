"""Scheduling instances for tests: a small hand-built builder and a seeded random generator.

``build(...)`` makes a hand-written instance with short defaults (one
antenna "A1" at station "S1", epoch 2024-06-01T00:00Z, a day's horizon).
``random_instance(seed, ...)`` makes a LEO-like network: every spacecraft
flies an orbit of 90-105 minutes and sees each antenna on some revolutions
(passes of 3-12 minutes, AOS and LOS on a 5° mask, azimuths that sweep
90-270°), antennas at two-antenna stations with S/X/Ka bands, slew rates
and turnaround, maintenance windows, fixed contacts, tenants with weights,
and requests for contacts, seconds or bytes whose total demand is about
``load`` times the network's capacity. Same seed, same instance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from groundlink.scheduling.model import (
    DemandKind,
    FixedContact,
    Instance,
    Interval,
    Opportunity,
    Request,
    Resource,
)

EPOCH = datetime(2024, 6, 1, tzinfo=UTC)
DAY_S = 86_400.0


#: ``random_instance`` keyword sets, each switching on one feature of the model or one kind
#: of demand: tests run over all of them.
CONFIGURATIONS: list[dict[str, object]] = [
    {},
    {"setup_s": 45.0},
    {"multi_k": True},
    {"arrays": True},
    {"requests_per_spacecraft": 2},
    {"slew": False, "turnaround_s": 0.0},
    {"kinds": ("contacts",), "load": 2.0},
    {"kinds": ("seconds", "bytes"), "load": 0.5},
    {"priority_by_tenant": True, "load": 1.5},
]


def configuration_id(config: dict[str, object]) -> str:
    """A test id for a configuration: its keywords, or "default"."""
    return ",".join(config) or "default"


def build(
    requests: Sequence[Request],
    opportunities: Sequence[Opportunity],
    resources: Sequence[Resource] = (Resource("A1", station="S1"),),
    *,
    fixed: Sequence[FixedContact] = (),
    tenant_weights: dict[str, float] | None = None,
    max_simultaneous: dict[str, int] | None = None,
    horizon_s: float = DAY_S,
) -> Instance:
    """A hand-built instance with the test defaults (see the module docstring)."""
    return Instance(
        epoch=EPOCH,
        horizon_s=horizon_s,
        resources=tuple(resources),
        requests=tuple(requests),
        opportunities=tuple(opportunities),
        fixed=tuple(fixed),
        tenant_weights=tenant_weights or {},
        max_simultaneous=max_simultaneous or {},
        name="hand-built",
    )


def request(
    id: str,
    *,
    tenant: str = "t1",
    spacecraft: str | None = None,
    demand: float = 1,
    **kwargs: object,
) -> Request:
    """A request; the spacecraft defaults to ``sc-<id>``."""
    return Request(
        id=id,
        tenant=tenant,
        spacecraft=spacecraft or f"sc-{id}",
        demand=demand,
        **kwargs,  # type: ignore[arg-type]
    )


def opportunity(
    id: int,
    request: str,
    start_s: float,
    end_s: float,
    resources: str | tuple[str, ...] = "A1",
    **kwargs: float,
) -> Opportunity:
    """An opportunity on one resource (a string) or several (a tuple)."""
    on = (resources,) if isinstance(resources, str) else resources
    return Opportunity(id, request, on, start_s, end_s, **kwargs)


def random_instance(
    seed: int,
    *,
    spacecraft: int = 12,
    antennas: int = 4,
    hours: float = 6.0,
    tenants: int = 3,
    load: float = 1.0,
    slew: bool = True,
    turnaround_s: float = 60.0,
    setup_s: float = 0.0,
    maintenance: bool = True,
    fixed: bool = True,
    kinds: Sequence[DemandKind] = (DemandKind.CONTACTS, DemandKind.SECONDS, DemandKind.BYTES),
    bands: bool = True,
    time_windows: bool = True,
    arrays: bool = False,
    multi_k: bool = False,
    requests_per_spacecraft: int = 1,
    priority_by_tenant: bool = False,
) -> Instance:
    """A seeded LEO-like instance (see the module docstring); demand about ``load`` x capacity.

    ``arrays`` adds opportunities that hold both antennas of a station at
    once; ``multi_k`` lets a few spacecraft be in two contacts at once;
    ``requests_per_spacecraft`` > 1 gives a spacecraft requests of several
    tenants, each with its own copy of every pass (as the platform builds
    them). ``priority_by_tenant`` gives all of tenant ``t``'s requests
    priority ``1 + t % 5`` (the case where a priority-only greedy starves
    the low-priority tenants).
    """
    rng = np.random.default_rng(seed)
    horizon_s = hours * 3600.0
    station_count = max(1, (antennas + 1) // 2)
    band_sets = [("S", "X"), ("S", "X", "Ka"), ("X",), ("S",)]
    resources = []
    for a in range(antennas):
        windows: list[Interval] = []
        if maintenance and rng.random() < 0.5:
            start = float(rng.uniform(0, horizon_s * 0.8))
            windows.append(Interval(start, start + float(rng.uniform(1800, 5400))))
        resources.append(
            Resource(
                id=f"A{a}",
                station=f"S{a // 2}",
                bands=band_sets[a % len(band_sets)] if bands else (),
                turnaround_s=turnaround_s,
                max_az_rate_deg_s=3.0 if slew else None,
                max_el_rate_deg_s=1.5 if slew else None,
                maintenance=tuple(windows),
            )
        )

    # Passes: spacecraft s sees antenna a on some revolutions, at a station-dependent offset.
    mean_hold_s = 300.0 + turnaround_s + setup_s * 2 + (30.0 if slew else 0.0)
    capacity_contacts = antennas * horizon_s / mean_hold_s
    passes: list[tuple[int, tuple[int, ...], float, float, float, float]] = []
    for s in range(spacecraft):
        period = float(rng.uniform(5400, 6300))
        phase = float(rng.uniform(0, period))
        for station in range(station_count):
            offset = float(rng.uniform(0, period))
            members = [a for a in range(antennas) if a // 2 == station]
            first_aos = (phase + offset) % period - period / 2
            for n in range(int(horizon_s // period) + 2):
                if rng.random() > 0.3:
                    continue
                aos = first_aos + n * period + float(rng.uniform(-300, 300))
                duration = float(rng.uniform(180, 720))
                start, end = max(0.0, aos), min(horizon_s, aos + duration)
                if end - start < 30:
                    continue
                start_az = float(rng.uniform(0, 360))
                end_az = (start_az + float(rng.uniform(90, 270))) % 360
                antenna_sets: list[tuple[int, ...]] = [(a,) for a in members]
                if arrays and len(members) == 2 and rng.random() < 0.3:
                    antenna_sets.append(tuple(members))
                for on in antenna_sets:
                    passes.append((s, on, start, end, start_az, end_az))

    requests: list[Request] = []
    demand_contacts = load * capacity_contacts / (spacecraft * requests_per_spacecraft)
    for s in range(spacecraft):
        for copy in range(requests_per_spacecraft):
            kind = DemandKind(kinds[int(rng.integers(len(kinds)))])
            min_duration = float(rng.choice([0.0, 120.0, 240.0]))
            if kind is DemandKind.CONTACTS:
                demand = max(1.0, round(demand_contacts * float(rng.uniform(0.5, 1.5))))
            elif kind is DemandKind.SECONDS:
                demand = max(60.0, demand_contacts * 300.0 * float(rng.uniform(0.5, 1.5)))
            else:
                demand = max(1e6, demand_contacts * 300.0 * 2e6 * float(rng.uniform(0.5, 1.5)))
            earliest, latest = -math.inf, math.inf
            if time_windows and rng.random() < 0.25:
                earliest = float(rng.uniform(0, horizon_s / 3))
                latest = earliest + float(rng.uniform(horizon_s / 3, horizon_s))
            request_bands: tuple[str, ...] = ()
            if bands and rng.random() < 0.3:
                request_bands = ("X",) if rng.random() < 0.7 else ("Ka",)
            excluded: tuple[str, ...] = ()
            if rng.random() < 0.15:
                excluded = (f"S{int(rng.integers(station_count))}",)
            requests.append(
                Request(
                    id=f"r{s}" + (f"-{copy}" if requests_per_spacecraft > 1 else ""),
                    tenant=f"t{(s + copy) % tenants}",
                    spacecraft=f"sc{s}",
                    demand=demand,
                    demand_kind=kind,
                    min_duration_s=min_duration,
                    max_duration_s=float(rng.choice([600.0, math.inf])),
                    priority=(
                        1 + (s + copy) % tenants % 5
                        if priority_by_tenant
                        else int(rng.integers(1, 6))
                    ),
                    earliest_s=earliest,
                    latest_s=latest,
                    bands=request_bands,
                    excluded_stations=excluded,
                    setup_s=setup_s,
                    teardown_s=setup_s,
                )
            )

    opportunities: list[Opportunity] = []
    for s, on, start, end, start_az, end_az in passes:
        for copy in range(requests_per_spacecraft):
            req = requests[s * requests_per_spacecraft + copy]
            opportunities.append(
                Opportunity(
                    id=len(opportunities),
                    request=req.id,
                    resources=tuple(f"A{a}" for a in on),
                    start_s=start,
                    end_s=end,
                    rate_bytes_s=float(rng.uniform(1e6, 3e6)),
                    start_azimuth_deg=start_az,
                    start_elevation_deg=5.0,
                    end_azimuth_deg=end_az,
                    end_elevation_deg=5.0,
                )
            )

    fixed_contacts: list[FixedContact] = []
    if fixed and opportunities:
        for f in range(max(1, antennas // 3)):
            chosen = opportunities[int(rng.integers(len(opportunities)))]
            span_end = min(chosen.end_s, chosen.start_s + 200.0)
            fixed_contacts.append(
                FixedContact(
                    id=f"F{f}",
                    resources=chosen.resources,
                    start_s=chosen.start_s,
                    end_s=span_end,
                    request=chosen.request if rng.random() < 0.7 else "",
                )
            )

    limits: dict[str, int] = {}
    if multi_k:
        for s in range(0, spacecraft, 4):
            limits[f"sc{s}"] = 2
    weights = {f"t{t}": float(1 + t % 2) for t in range(tenants)}
    return Instance(
        epoch=EPOCH,
        horizon_s=horizon_s,
        resources=tuple(resources),
        requests=tuple(requests),
        opportunities=tuple(opportunities),
        fixed=tuple(fixed_contacts),
        tenant_weights=weights,
        max_simultaneous=limits,
        name=f"random-{seed}",
    )
