"""Network-scheduling benchmark: generated fleets on the reference network, and SatNet's DSN weeks.

    python bench/schedule.py [--size small --size large] [--satnet] [--seed 1]
                             [--limits 10 60] [--large-limits 10 60 120] [--satnet-limit 60]
                             [--fairness on|off] [--satnet-fairness both|on|off]
                             [--json] [--save-instances DIR]

**Generated instances** (:func:`generate`), seeded, from the reference data
in ``../shared/data``: ``small`` is 300 spacecraft x 20 antennas x 24 h,
``large`` 1,000 x 60 x 24 h, from 2024-06-01T00:00Z.

* Spacecraft: taken evenly through ``population.tle`` (every shell and the
  sun-synchronous satellites); three in four downlink in X band (150 Mbit/s,
  EIRP 12 dBW), one in four in S band (2 Mbit/s, EIRP 3 dBW).
* Antennas: one per site on 20 of the 30 sites of ``stations.csv`` spread
  through the file (small), or two per site on all 30 (large); every
  antenna receives X band, two in three also S band; G/T 31 dB/K, 60 s
  turnaround, 3 deg/s slew. Passes above each site's mask.
* Tenants: 15, each with a priority 1-5 (three per priority) and weight 1,
  owning a random share of the fleet (Dirichlet); one request per
  spacecraft, for contacts per day (six in ten, 4-10 minutes each) or bytes
  per day (four in ten, at least 2 minutes per contact), 60 s pre-pass and
  30 s post-pass held on the antenna.
* Demand about equal to capacity: capacity is the antenna time the passes
  can fill (per antenna, the union of its opportunity windows, summed);
  each tenant's share of it is split over its requests, and a request's
  share becomes a number of contacts, each holding the antenna for its mean
  usable length plus pre-pass, post-pass and turnaround, asked for as a
  contact count or as the bytes those contacts bring at the request's mean
  rate. ``demand/capacity`` in the output says how close that came.

**Runs** per instance: the greedy heuristic alone
(:func:`~groundlink.scheduling.greedy.greedy_schedule`, best of 3, timed
only), then through :func:`groundlink.scheduling.solve.solve`: greedy
(``method="greedy"``, which adds the bound and the explanations), then
``auto`` at each time limit. Each row
reports value, bound (the bound's method), gap, wall time, contacts, the
share of antenna time held (contacts, setup, teardown and turnaround over
antennas x 24 h), and fairness: the lowest tenant share (value over
requested value), the lowest ratio to its fair share, and Jain's index of
those ratios (1 = every tenant at the same fraction of its fair share).
Then an **outage**: the antenna with the most contacts in the longest run's
plan goes down for 6 h (06:00 to 12:00);
:func:`groundlink.scheduling.repair.repair` re-plans with a 1 s limit, and
its time, changes and value are compared with a fresh solve of the changed
instance at the shortest limit.

**SatNet** (``--satnet``): both weeks of ``../shared/data/satnet`` read
with :func:`groundlink.scheduling.satnet.parse_satnet_week`, solved at
``--satnet-limit`` with the fairness floor on (the default) and off (hours
alone, the paper's RL objective; ``--satnet-fairness on|off`` runs only
one); reported as the paper does: hours allocated of hours requested,
requests satisfied, U_max and U_rms, with value (= hours), bound (and its
method: the whole-track Lagrangian of
:mod:`groundlink.scheduling.satnet_bound` where it is below the LP's), gap
and the solver's path.

Progress on stderr; the summary tables (or ``--json``) on stdout. Figures
go in ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from _timing import best_of
from groundlink.orbits.ingest import read_elements_file
from groundlink.scheduling.fairness import jain_index, min_ratio
from groundlink.scheduling.from_available import PlanRequest
from groundlink.scheduling.greedy import greedy_schedule
from groundlink.scheduling.instance_io import dumps_instance
from groundlink.scheduling.model import DemandKind, Instance, Interval, Request, Schedule
from groundlink.scheduling.passes_to_instance import instance_from_passes
from groundlink.scheduling.repair import repair
from groundlink.scheduling.satnet import (
    parse_maintenance_csv,
    parse_satnet_week,
    satnet_metrics,
    satnet_tracks,
)
from groundlink.scheduling.solve import solve
from groundlink.scheduling.validate import check_schedule, schedule_value
from groundlink.services.availability import AntennaReceiver, DownlinkLink, Spacecraft
from groundlink.stations.io import read_stations_file
from groundlink.stations.model import FrequencyBand, GroundStation

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
START = datetime(2024, 6, 1, tzinfo=UTC)
X_BAND = FrequencyBand("X", 8_025_000_000, 8_400_000_000)
S_BAND = FrequencyBand("S", 2_200_000_000, 2_300_000_000)
X_LINK = DownlinkLink(8_212_500_000, 150_000_000, eirp_dbw=12.0, data_rate_bps=150e6)
S_LINK = DownlinkLink(2_250_000_000, 2_000_000, eirp_dbw=3.0, data_rate_bps=2e6)
TENANTS = 15
PREPASS_S = 60.0
POSTPASS_S = 30.0
TURNAROUND_S = 60.0
OUTAGE = (timedelta(hours=6), timedelta(hours=12))
SIZES = {"small": (300, 20), "large": (1000, 60)}


@dataclass(frozen=True)
class Generated:
    """A generated instance and how it was made."""

    name: str
    instance: Instance
    build_s: float
    capacity_s: float
    demand_s: float


# --- the generator ------------------------------------------------------------------------------


def network(antennas: int) -> list[GroundStation]:
    """``antennas`` antennas on the reference sites: one per site spread through the file, or more.

    Antenna ids are ``<site>-<n>``; every antenna takes X band, two in three S band as well.
    """
    sites = read_stations_file(DATA / "stations.csv")
    per_site = max(1, math.ceil(antennas / len(sites)))
    chosen_sites = (
        [sites[int(i)] for i in np.linspace(0, len(sites) - 1, antennas).round()]
        if antennas <= len(sites)
        else sites
    )
    result, made = [], 0
    for site in chosen_sites:
        template = site.antennas[0]
        dishes = []
        for k in range(per_site):
            if made == antennas:
                break
            bands = (X_BAND,) if made % 3 == 2 else (S_BAND, X_BAND)
            dishes.append(replace(template, id=f"{site.id}-{k + 1}", bands=bands))
            made += 1
        result.append(replace(site, antennas=tuple(dishes)))
    return result


def generate(spacecraft: int, antennas: int, *, seed: int = 1, hours: float = 24.0) -> Generated:
    """A seeded instance with demand about equal to capacity (see the module docstring)."""
    began = time.perf_counter()
    rng = np.random.default_rng(seed)
    population = read_elements_file(DATA / "population.tle").elements
    picked = [population[int(i)] for i in np.linspace(0, len(population) - 1, spacecraft).round()]
    fleet = [Spacecraft(e.name, e, S_LINK if i % 4 == 3 else X_LINK) for i, e in enumerate(picked)]
    stations = network(antennas)
    receivers = {
        (s.id, a.id): AntennaReceiver(31.0, turnaround_s=TURNAROUND_S)
        for s in stations
        for a in s.antennas
    }
    priorities = [1 + (t % 5) for t in range(TENANTS)]
    tenant_of = rng.choice(TENANTS, size=spacecraft, p=rng.dirichlet(np.full(TENANTS, 2.0)))
    plans = []
    for i, craft in enumerate(fleet):
        tenant = int(tenant_of[i])
        by_contacts = rng.random() < 0.6
        plans.append(
            PlanRequest(
                id=f"req-{i:04d}",
                tenant=f"tenant-{tenant + 1:02d}",
                spacecraft_id=craft.id,
                amount_per_day=1.0,
                demand_kind=DemandKind.CONTACTS if by_contacts else DemandKind.BYTES,
                min_duration_s=float(rng.choice([240.0, 300.0])) if by_contacts else 120.0,
                max_duration_s=float(rng.choice([360.0, 480.0, 600.0]))
                if by_contacts
                else math.inf,
                priority=priorities[tenant],
                prepass_s=PREPASS_S,
                postpass_s=POSTPASS_S,
            )
        )
    end = START + timedelta(hours=hours)
    draft = instance_from_passes(
        fleet, stations, receivers, plans, START, end, name=f"{spacecraft}x{antennas}x{hours:g}h"
    )
    capacity_s = _capacity_s(draft)
    requests, demand_s = _calibrated(draft, capacity_s, rng)
    instance = replace(draft, requests=requests)
    return Generated(instance.name, instance, time.perf_counter() - began, capacity_s, demand_s)


def _capacity_s(instance: Instance) -> float:
    """Antenna seconds the passes can fill: per antenna, the union of its windows, summed."""
    windows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for o in instance.opportunities:
        windows[o.resources[0]].append((o.start_s, o.end_s))
    total = 0.0
    for spans in windows.values():
        spans.sort()
        end = -math.inf
        for start, finish in spans:
            if finish > end:
                total += finish - max(start, end)
                end = finish
    return total


def _calibrated(
    instance: Instance, capacity_s: float, rng: np.random.Generator
) -> tuple[tuple[Request, ...], float]:
    """Requests whose demands add up to ``capacity_s`` of antenna time, split as tenants' shares.

    A contact's antenna time is its length plus pre-pass, post-pass and turnaround.
    """
    overhead_s = PREPASS_S + POSTPASS_S + TURNAROUND_S
    windows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for o in instance.opportunities:
        windows[o.request].append((o.duration_s, o.rate_bytes_s))
    tenants = sorted({r.tenant for r in instance.requests})
    tenant_share = dict(zip(tenants, rng.dirichlet(np.full(len(tenants), 3.0)), strict=True))
    members = Counter(r.tenant for r in instance.requests if windows[r.id])
    requests, demand_s = [], 0.0
    for request in instance.requests:
        own = windows[request.id]
        if not own:
            requests.append(request)  # no pass at all: kept, unserved ("no_opportunity")
            continue
        seconds = capacity_s * tenant_share[request.tenant] / members[request.tenant]
        mean_s = float(np.mean([min(d, request.max_duration_s) for d, _ in own]))
        contacts = seconds / (mean_s + overhead_s)
        if request.demand_kind is DemandKind.CONTACTS:
            demand = float(max(1, round(contacts)))
            demand_s += demand * (mean_s + overhead_s)
        else:
            demand = contacts * mean_s * float(np.mean([r for _, r in own]))
            demand_s += seconds
        requests.append(replace(request, demand=demand))
    return tuple(requests), demand_s


# --- measuring ----------------------------------------------------------------------------------


def fairness(schedule: Schedule) -> dict[str, float]:
    """Lowest tenant share, lowest ratio to fair share, and Jain's index of the ratios."""
    return {
        "min_share": min((s.share for s in schedule.shares), default=math.nan),
        "min_ratio": min_ratio(schedule.shares),
        "jain": jain_index(schedule.shares),
    }


def utilization(instance: Instance, schedule: Schedule) -> float:
    """Share of antenna time held: contacts with setup, teardown and the turnaround after them."""
    requests = {r.id: r for r in instance.requests}
    turnaround = {r.id: r.turnaround_s for r in instance.resources}
    held_s = 0.0
    for contact in schedule.contacts:
        request = requests.get(contact.request)
        pad_s = request.setup_s + request.teardown_s if request else 0.0
        held_s += sum(contact.duration_s + pad_s + turnaround[r] for r in contact.resources)
    return held_s / (len(instance.resources) * instance.horizon_s)


def run_row(label: str, instance: Instance, schedule: Schedule, wall_s: float) -> dict[str, Any]:
    """One measured run as a flat dict."""
    return {
        "run": label,
        "value": schedule.value,
        "bound": schedule.bound,
        "bound_method": schedule.bound_method,
        "gap": schedule.gap,
        "wall_s": wall_s,
        "solve_s": schedule.solve_s,
        "contacts": len(schedule.contacts),
        "utilization": utilization(instance, schedule),
        "status": schedule.status,
        **fairness(schedule),
    }


def measure_instance(
    generated: Generated, limits: list[float], say: Console, *, fair: bool = True
) -> dict[str, Any]:
    """Greedy and the optimiser at each limit (fairness floor ``fair``), then the 6 h outage."""
    instance = generated.instance
    rows = []
    say.print(f"[{generated.name}] greedy")
    greedy_s, _, _ = best_of(3, lambda: greedy_schedule(instance, fairness=fair))
    began = time.perf_counter()
    greedy = solve(instance, time_limit_s=min(limits), method="greedy", fairness=fair)
    rows.append(run_row("greedy", instance, greedy, time.perf_counter() - began))
    best = greedy
    for limit in limits:
        say.print(f"[{generated.name}] auto, {limit:g} s")
        began = time.perf_counter()
        schedule = solve(instance, time_limit_s=limit, method="auto", fairness=fair)
        rows.append(run_row(f"auto {limit:g} s", instance, schedule, time.perf_counter() - began))
        best = schedule
    say.print(f"[{generated.name}] outage and repair")
    return {
        "instance": generated.name,
        "fairness": fair,
        "spacecraft": len({r.spacecraft for r in instance.requests}),
        "antennas": len(instance.resources),
        "requests": len(instance.requests),
        "tenants": len({r.tenant for r in instance.requests}),
        "opportunities": len(instance.opportunities),
        "build_s": generated.build_s,
        "demand_over_capacity": generated.demand_s / generated.capacity_s,
        "greedy_schedule_s": greedy_s,
        "runs": rows,
        "outage": measure_outage(instance, best, min(limits), fair=fair),
    }


def with_outage(instance: Instance, antenna: str) -> Instance:
    """``instance`` with ``antenna`` down over :data:`OUTAGE` (added to its maintenance)."""
    start_s, end_s = (instance.seconds(START + t) for t in OUTAGE)
    resources = tuple(
        replace(r, maintenance=(*r.maintenance, Interval(start_s, end_s))) if r.id == antenna else r
        for r in instance.resources
    )
    return replace(instance, resources=resources)


def measure_outage(
    instance: Instance, plan: Schedule, fresh_limit_s: float, *, fair: bool = True
) -> dict[str, Any]:
    """Repair of ``plan`` after the busiest antenna's 6 h outage, against a fresh solve."""
    busiest = Counter(r for c in plan.contacts for r in c.resources).most_common(1)[0][0]
    changed = with_outage(instance, busiest)
    outage_start_s, outage_end_s = (instance.seconds(START + t) for t in OUTAGE)
    hit = sum(
        1
        for c in plan.contacts
        if busiest in c.resources and c.start_s < outage_end_s and c.end_s > outage_start_s
    )
    began = time.perf_counter()
    repaired = repair(changed, plan.contacts, time_limit_s=1.0)
    repair_s = time.perf_counter() - began
    fresh = solve(changed, time_limit_s=fresh_limit_s, method="auto", fairness=fair)
    value = schedule_value(changed, repaired.contacts)
    return {
        "antenna": busiest,
        "contacts_in_outage": hit,
        "repair_s": repair_s,
        "kept": len(repaired.kept),
        "moved": len(repaired.moved),
        "dropped": len(repaired.dropped),
        "added": len(repaired.added),
        "changes": repaired.changed,
        "changes_fraction": repaired.changed_fraction,
        "value_before": plan.value,
        "value": value,
        "fresh_value": fresh.value,
        "value_vs_fresh": value / fresh.value if fresh.value else math.nan,
        "valid": not check_schedule(changed, repaired.contacts),
    }


def measure_satnet(
    limit_s: float, say: Console, fairness: tuple[bool, ...] = (True, False)
) -> list[dict[str, Any]]:
    """Both SatNet weeks at ``limit_s``, fairness on and/or off: the paper's metrics and the gap."""
    rows = []
    for week in ("W10_2018", "W20_2018"):
        folder = DATA / "satnet"
        maintenance = parse_maintenance_csv((folder / f"{week}_maintenance.csv").read_text())
        instance = parse_satnet_week(
            (folder / f"{week}.json").read_bytes(), maintenance=maintenance
        )
        for fair in fairness:
            say.print(f"[{week}] auto, {limit_s:g} s, fairness {'on' if fair else 'off'}")
            began = time.perf_counter()
            schedule = solve(instance, time_limit_s=limit_s, method="auto", fairness=fair)
            rows.append(_satnet_row(week, fair, instance, schedule, time.perf_counter() - began))
    return rows


def _satnet_row(
    week: str, fair: bool, instance: Instance, schedule: Schedule, wall_s: float
) -> dict[str, Any]:
    tracks = satnet_tracks(instance, schedule.contacts)
    metrics = satnet_metrics(instance, tracks)
    return {
        "week": week,
        "fairness": fair,
        "requests": metrics.requests,
        "hours_requested": metrics.hours_requested,
        "hours_allocated": metrics.hours_allocated,
        "requests_satisfied": metrics.requests_satisfied,
        "u_max": metrics.u_max,
        "u_rms": metrics.u_rms,
        "value": schedule.value,
        "bound": schedule.bound,
        "bound_method": schedule.bound_method,
        "gap": schedule.gap,
        "solver": schedule.solver,
        "wall_s": wall_s,
        "tracks": len(tracks),
    }


# --- output -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "memory_gib": round(memory_gib, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def print_tables(results: dict[str, Any], console: Console) -> None:
    """The summary: one table per generated instance, one for SatNet."""
    for item in results["instances"]:
        table = Table(
            title=(
                f"{item['instance']}: {item['requests']:,} requests of {item['tenants']} tenants, "
                f"{item['opportunities']:,} opportunities, demand/capacity "
                f"{item['demand_over_capacity']:.2f}, built in {item['build_s']:.1f} s"
            )
        )
        for name in ("run", "value", "bound", "gap", "time", "contacts", "antenna use",
                     "min share", "min ratio", "Jain"):  # fmt: skip
            table.add_column(name, justify="left" if name == "run" else "right")
        for row in item["runs"]:
            table.add_row(
                row["run"],
                f"{row['value']:,.1f}",
                f"{row['bound']:,.1f} ({row['bound_method']})",
                f"{row['gap']:.1%}",
                f"{row['wall_s']:.2f} s",
                f"{row['contacts']:,}",
                f"{row['utilization']:.1%}",
                f"{row['min_share']:.2f}",
                f"{row['min_ratio']:.2f}",
                f"{row['jain']:.3f}",
            )
        console.print(table)
        console.print(
            f"the greedy heuristic alone (greedy_schedule, indexing included, best of 3): "
            f"{item['greedy_schedule_s']:.2f} s; the greedy row adds the bound and the "
            "explanations"
        )
        outage = item["outage"]
        console.print(
            f"outage of {outage['antenna']} 06:00-12:00 ({outage['contacts_in_outage']} contacts "
            f"hit): repair {outage['repair_s']:.2f} s, {outage['changes']} changes "
            f"({outage['changes_fraction']:.1%}: {outage['moved']} moved, "
            f"{outage['dropped']} dropped, {outage['added']} added), "
            f"value {outage['value']:,.1f} = "
            f"{outage['value_vs_fresh']:.1%} of a fresh solve, valid: {outage['valid']}"
        )
    if results.get("satnet"):
        table = Table(title="SatNet (DSN weeks)")
        for name in ("week", "fairness", "hours", "satisfied", "U_max", "U_rms", "value",
                     "bound", "gap", "time"):  # fmt: skip
            table.add_column(name, justify="left" if name == "week" else "right")
        for row in results["satnet"]:
            table.add_row(
                row["week"],
                "on" if row["fairness"] else "off",
                f"{row['hours_allocated']:,.1f} / {row['hours_requested']:,.1f}",
                f"{row['requests_satisfied']} / {row['requests']}",
                f"{row['u_max']:.3f}",
                f"{row['u_rms']:.3f}",
                f"{row['value']:,.1f}",
                f"{row['bound']:,.1f} ({row['bound_method']})",
                f"{row['gap']:.1%}",
                f"{row['wall_s']:.1f} s",
            )
        console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", action="append", choices=sorted(SIZES))
    parser.add_argument("--satnet", action="store_true", help="also the SatNet weeks")
    parser.add_argument("--no-generated", action="store_true", help="only --satnet")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limits", type=float, nargs="+", default=[10.0, 60.0])
    parser.add_argument("--large-limits", type=float, nargs="+", default=[10.0, 60.0, 120.0])
    parser.add_argument("--satnet-limit", type=float, default=60.0)
    parser.add_argument(
        "--satnet-fairness",
        choices=("both", "on", "off"),
        default="both",
        help="SatNet runs with the fairness floor, without it (hours alone), or both",
    )
    parser.add_argument(
        "--fairness",
        choices=("on", "off"),
        default="on",
        help="the fairness floor in the generated runs (solve()'s default: on)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--save-instances", type=Path, help="write each instance file here")
    args = parser.parse_args()

    progress = Console(file=sys.stderr)
    results: dict[str, Any] = {"machine": machine(), "seed": args.seed, "instances": []}
    if not args.no_generated:
        for size in args.size or ["small", "large"]:
            spacecraft, antennas = SIZES[size]
            progress.print(
                f"generating {size}: {spacecraft} spacecraft x {antennas} antennas x 24 h"
            )
            generated = generate(spacecraft, antennas, seed=args.seed)
            if args.save_instances:
                args.save_instances.mkdir(parents=True, exist_ok=True)
                path = args.save_instances / f"{size}.json"
                path.write_text(dumps_instance(generated.instance, indent=None))
            limits = args.large_limits if size == "large" else args.limits
            results["instances"].append(
                measure_instance(generated, limits, progress, fair=args.fairness == "on")
            )
    if args.satnet:
        fairness = {"both": (True, False), "on": (True,), "off": (False,)}[args.satnet_fairness]
        results["satnet"] = measure_satnet(args.satnet_limit, progress, fairness)
    if args.json:
        sys.stdout.write(json.dumps(results, indent=1, default=str) + "\n")
    else:
        print_tables(results, Console(width=max(Console().width, 150)))


if __name__ == "__main__":
    main()
