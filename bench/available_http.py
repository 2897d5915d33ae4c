"""Available contacts over HTTP: 100 spacecraft x 30 stations x 7 days in one API call.

    python bench/available_http.py [--repeat 5] [--eirp-dbw 10]
                                   [--backend sqlite --backend postgresql] [--json]

The workload of ``bench/available_contacts.py`` (100 satellites taken evenly
through ``population.tle``, 7 days from 2024-06-01T00:00Z, an X-band
downlink of 50 Mbit/s, the service's default mission profile: 0° minimum
elevation, 60 s minimum contact, 120 s pre-pass, 60 s post-pass), asked of
a real server: a throwaway database per backend (see ``bench/_service.py``)
seeded with the demo network (the same 30 stations, G/T 31 dB/K, S and X
bands) and a tenant whose 100 spacecraft each have that downlink and their
TLE as an ephemeris; then uvicorn serving ``create_serving_app`` and
``GET /v1/contacts/available`` over the week with ``sort_by=volume_bytes``,
``descending=true``, ``max_results=100``: every contact of the fleet-week
is computed, the first page of 100 by volume is returned.

Reported: the first call after the server started (cold: the server's
first use of numpy, SGP4 and its caches) and ``--repeat`` calls after it
(warm: p50 and best), client-side wall time; next to them the in-process
``available_contacts`` call on the same workload in this process (p50 and
best of ``--repeat``), as ``bench/available_contacts.py`` measures it. The
first page must hold the same 100 volumes over HTTP as in-process.
Progress on stderr; the table (or ``--json``) on stdout.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from _service import BACKENDS, DATA, Server, running_server, throwaway_database
from _timing import best_of
from available_contacts import END, PROFILE, START, X_BAND
from groundlink.adapters.db import create_engine_from_url, session_factory
from groundlink.adapters.db.models import Ephemeris, RfLink
from groundlink.adapters.db.models import Spacecraft as SpacecraftRow
from groundlink.api.auth import create_tenant_with_key
from groundlink.api.seed import seed_demo
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.ingest import read_elements_file
from groundlink.services.availability import (
    AntennaReceiver,
    DownlinkLink,
    Spacecraft,
    available_contacts,
    page_contacts,
)
from groundlink.stations.io import read_stations_file

TARGET_S = 1.0
PAGE = 100

stderr = Console(stderr=True)


@dataclass
class Result:
    """The figures of one backend, in seconds."""

    backend: str
    cold_s: float
    warm_p50_s: float
    warm_best_s: float
    warm_runs_s: list[float]
    in_process_p50_s: float
    in_process_best_s: float
    contacts_in_process: int
    first_page_matches: bool


def _fleet() -> list[OrbitalElements]:
    population = read_elements_file(DATA / "population.tle").elements
    return list(population[:: len(population) // 100][:100])


def _downlink(eirp_dbw: float) -> DownlinkLink:
    return DownlinkLink(8_200_000_000, 20_000_000, eirp_dbw=eirp_dbw, data_rate_bps=50e6)


def _seed(url: str, fleet: list[OrbitalElements], link: DownlinkLink) -> str:
    """The demo network and a tenant owning ``fleet`` with ``link``; returns its API key."""
    engine = create_engine_from_url(url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    try:
        with sessions() as session:
            seed_demo(session, now)
        with sessions() as session:
            tenant_id, key = create_tenant_with_key(session, "bench-fleet", ("read",), now=now)
        with sessions.begin() as session:
            for elements in fleet:
                craft = SpacecraftRow(
                    tenant_id=tenant_id,
                    name=elements.object_name,
                    norad_id=elements.norad_cat_id,
                    created_at=now,
                    updated_at=now,
                )
                session.add(craft)
                session.flush()
                session.add(
                    RfLink(
                        spacecraft_id=craft.id,
                        direction="downlink",
                        center_frequency_hz=link.center_frequency_hz,
                        bandwidth_hz=link.bandwidth_hz,
                        polarization=link.polarization,
                        eirp_dbw=link.eirp_dbw,
                        data_rate_bps=link.data_rate_bps,
                    )
                )
                session.add(
                    Ephemeris(
                        spacecraft_id=craft.id,
                        version=1,
                        source_format="tle",
                        omm=elements.to_omm(),
                        priority=1,
                        enabled=True,
                        expires_at=None,
                        created_at=now,
                    )
                )
    finally:
        engine.dispose()
    return key


def _in_process(
    fleet: list[OrbitalElements], link: DownlinkLink, repeat: int
) -> tuple[list[float], int, list[float]]:
    """Times of ``repeat`` in-process calls, the number of contacts, the first page's volumes."""
    stations = [
        replace(s, antennas=tuple(replace(a, bands=(X_BAND,)) for a in s.antennas))
        for s in read_stations_file(DATA / "stations.csv")
    ]
    receivers = {(s.id, a.id): AntennaReceiver(31.0) for s in stations for a in s.antennas}
    craft = [Spacecraft(e.object_name, e, link) for e in fleet]
    _, times, result = best_of(
        repeat, lambda: available_contacts(craft, stations, receivers, PROFILE, START, END)
    )
    page = page_contacts(result, sort_by="volume_bytes", descending=True, limit=PAGE)
    return times, len(result), sorted(round(row.volume_bytes) for row in page.contacts.rows())


def _ask(client: httpx.Client, server: Server) -> tuple[float, list[float]]:
    """One listing call: its wall time and the first page's volumes."""
    params = {
        "start": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": END.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sort_by": "volume_bytes",
        "descending": "true",
        "max_results": str(PAGE),
    }
    started = time.perf_counter()
    response = client.get("/v1/contacts/available", params=params)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(
            f"GET /v1/contacts/available: {response.status_code} {response.text[:500]}\n"
            f"server log:\n{server.log_tail()}"
        )
    body: dict[str, Any] = response.json()
    if body.get("skipped"):
        raise SystemExit(f"spacecraft skipped by the server: {body['skipped'][:3]}")
    return elapsed, sorted(round(item["volume_bytes"]) for item in body["items"])


def run_backend(backend: str, args: argparse.Namespace, fleet: list[OrbitalElements]) -> Result:
    """Seed, serve and ask one database; measure in-process on the same workload."""
    link = _downlink(args.eirp_dbw)
    with throwaway_database(backend) as url:
        stderr.print(f"[dim]{backend}: seeding the demo network and {len(fleet)} spacecraft[/]")
        key = _seed(url, fleet, link)
        with (
            running_server(url) as server,
            httpx.Client(
                base_url=server.base_url,
                headers={"Authorization": f"Bearer {key}"},
                timeout=120.0,
            ) as client,
        ):
            cold, first_page = _ask(client, server)
            stderr.print(f"{backend}: cold call {cold:.3f} s")
            warm = []
            for run in range(args.repeat):
                elapsed, page = _ask(client, server)
                warm.append(elapsed)
                stderr.print(f"{backend}: warm call {run + 1}/{args.repeat} {elapsed:.3f} s")
                if page != first_page:
                    raise SystemExit("the first page changed from one call to the next")
    stderr.print(f"[dim]{backend}: in-process available_contacts x {args.repeat}[/]")
    local, count, local_page = _in_process(fleet, link, args.repeat)
    return Result(
        backend=backend,
        cold_s=cold,
        warm_p50_s=statistics.median(warm),
        warm_best_s=min(warm),
        warm_runs_s=warm,
        in_process_p50_s=statistics.median(local),
        in_process_best_s=min(local),
        contacts_in_process=count,
        first_page_matches=local_page == first_page,
    )


def _table(results: list[Result]) -> Table:
    table = Table(title="GET /v1/contacts/available: 100 spacecraft x 30 stations x 7 days")
    for name in (
        "database",
        "HTTP cold",
        "HTTP warm p50",
        "HTTP warm best",
        "in-process p50",
        "in-process best",
        "contacts",
        "same first page",
    ):
        table.add_column(name, justify="left" if name == "database" else "right")
    for r in results:
        table.add_row(
            r.backend,
            f"{r.cold_s:.3f} s",
            f"{r.warm_p50_s:.3f} s",
            f"{r.warm_best_s:.3f} s",
            f"{r.in_process_p50_s:.3f} s",
            f"{r.in_process_best_s:.3f} s",
            f"{r.contacts_in_process:,}",
            "yes" if r.first_page_matches else "NO",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="warm calls (and in-process calls)")
    parser.add_argument("--eirp-dbw", type=float, default=10.0)
    parser.add_argument(
        "--backend",
        action="append",
        choices=BACKENDS,
        help="database to run on (repeatable; default: both)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")

    fleet = _fleet()
    results = [run_backend(backend, args, fleet) for backend in args.backend or BACKENDS]
    if args.json:
        machine = {"processor": platform.processor(), "python": platform.python_version()}
        print(json.dumps({"machine": machine, "results": [asdict(r) for r in results]}))
    else:
        Console(width=max(Console().width, 130)).print(_table(results))
        for r in results:
            met = "met" if r.warm_p50_s < TARGET_S else "missed"
            print(f"target on {r.backend} (warm p50 < {TARGET_S:g} s): {met}")
    sys.exit(0 if all(r.first_page_matches for r in results) else 1)


if __name__ == "__main__":
    main()
