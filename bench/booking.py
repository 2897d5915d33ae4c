"""Booking benchmark: concurrent clients reserving contacts over HTTP, on SQLite and PostgreSQL.

    python bench/booking.py [--seconds 30] [--clients 32] [--workers 1]
                            [--backend sqlite --backend postgresql] [--json]

For each database: a throwaway database (a SQLite file; a PostgreSQL
database ``groundlink_bench_<random>`` at ``GROUNDLINK_BENCH_POSTGRES_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), seeded
with the demo network (the 30 stations of ``stations.csv``, one antenna
each, 60 s turnaround) and one tenant per client, each with its own API key
(``read``, ``book``) and spacecraft; then a real server process (uvicorn
serving ``create_serving_app``, ``--workers`` processes, rate limits raised, access
log off) and ``--clients`` clients, each on its own keep-alive connection,
reserving contacts back to back with ``POST /v1/contacts`` for
``--warmup-seconds`` (not counted) and then ``--seconds``.

No request should conflict: client ``i``'s ``k``-th reservation takes slot
``s = k * clients + i``, on antenna ``s mod A`` in the 15-minute row
``s div A`` (A = the number of antennas used, at most ``clients``, so that
one client's reservations never share a row): a 10-minute pass with 60 s
pre-pass and post-pass, 780 s with the turnaround, inside the row. Every
answer other than 201 is counted as an error (409s and 5xx separately);
afterwards the database must hold exactly the 201s as active contacts and
no two of them on one antenna may overlap.

Reported per database: reservations/s over the measured window (201s
received in it), latency p50/p95/p99/max (client-side, request sent to
answer read), errors, CPU milliseconds per reservation of the server
processes, of PostgreSQL's processes (all of them: other users of that
server count too) and of this client process, and how busy the whole
machine was. The client runs on the same machine as the server and the
database, so it takes CPU from them. Progress goes to stderr; the summary table (or
``--json``) to stdout. Figures go in ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from _http import LeanConnection, ProtocolError
from _service import (
    APP_FACTORY,
    BACKENDS,
    Server,
    machine_busy_s,
    postgres_cpu_s,
    process_tree_cpu_s,
    running_server,
    throwaway_database,
)
from groundlink.adapters.db import create_engine_from_url, session_factory
from groundlink.adapters.db.models import ACTIVE_STATUSES, AntennaRow, Contact, Spacecraft
from groundlink.api.auth import create_tenant_with_key
from groundlink.api.seed import seed_demo

#: Length of one time row: every reservation of a row fits in it, turnaround included.
ROW_S = 900
PASS_S = 600
PREPASS_S = 60
POSTPASS_S = 60
#: Targets from the issue (PostgreSQL).
TARGET_RATE_PER_S = 500.0
TARGET_P99_MS = 100.0

stderr = Console(stderr=True)


@dataclass(frozen=True)
class Workload:
    """What the clients book with: one (API key, spacecraft) per client, the antennas, a start."""

    clients: list[tuple[str, str]]
    antenna_ids: list[str]
    first_row: datetime


@dataclass
class Tally:
    """Answers as they come: latencies in the measured window, status codes, first errors."""

    measuring_from: float = float("inf")
    measuring_until: float = float("inf")
    stop: bool = False
    created: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    codes: Counter[int] = field(default_factory=Counter)
    codes_all: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    examples: list[str] = field(default_factory=list)

    def record(self, status: int, started: float, ended: float, body: str) -> None:
        self.codes_all[status] += 1
        if status == 201:
            self.created += 1
        elif len(self.examples) < 5:
            self.examples.append(f"{status}: {body[:300]}")
        if self.measuring_from <= ended <= self.measuring_until:
            self.codes[status] += 1
            self.latencies_ms.append((ended - started) * 1000.0)

    def transport_error(self, error: Exception) -> None:
        self.transport_errors += 1
        if len(self.examples) < 5:
            self.examples.append(f"transport: {error!r}")


@dataclass
class Result:
    """The figures of one database."""

    backend: str
    workers: int
    clients: int
    seconds: float
    reservations: int
    reservations_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    conflicts_409: int
    server_errors_5xx: int
    other_errors: int
    transport_errors: int
    server_cpu_ms_per_reservation: float
    postgres_cpu_ms_per_reservation: float | None
    client_cpu_ms_per_reservation: float
    machine_busy_pct: float
    active_contacts_checked: int
    error_examples: list[str]


def _seed(url: str, clients: int) -> Workload:
    """The demo network plus one tenant, key and spacecraft per client."""
    engine = create_engine_from_url(url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    try:
        with sessions() as session:
            seed_demo(session, now)
        pairs: list[tuple[str, str]] = []
        for index in range(clients):
            with sessions() as session:
                tenant_id, key = create_tenant_with_key(
                    session, f"bench-client-{index:02d}", ("read", "book"), now=now
                )
            with sessions.begin() as session:
                craft = Spacecraft(
                    tenant_id=tenant_id, name=f"BENCH-{index:02d}", created_at=now, updated_at=now
                )
                session.add(craft)
                session.flush()
                pairs.append((key, craft.id))
        with sessions() as session:
            antennas = list(session.scalars(select(AntennaRow.id).order_by(AntennaRow.id)))
    finally:
        engine.dispose()
    # A day ahead, on a whole hour: far past the 15-minute lock time.
    first_row = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    return Workload(pairs, antennas[: min(len(antennas), clients)], first_row)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _body(workload: Workload, client: int, k: int) -> dict[str, Any]:
    """Client ``client``'s ``k``-th reservation: slot ``k * clients + client`` (see the module)."""
    slot = k * len(workload.clients) + client
    row, antenna = divmod(slot, len(workload.antenna_ids))
    aos = workload.first_row + timedelta(seconds=row * ROW_S + PREPASS_S)
    return {
        "spacecraft_id": workload.clients[client][1],
        "antenna_id": workload.antenna_ids[antenna],
        "aos": _iso(aos),
        "los": _iso(aos + timedelta(seconds=PASS_S)),
        "prepass_s": PREPASS_S,
        "postpass_s": POSTPASS_S,
    }


async def _client(
    base_url: str, workload: Workload, index: int, tally: Tally, http_client: str
) -> None:
    """Client ``index``: reserve its slots back to back on one keep-alive connection."""
    headers = {"Authorization": f"Bearer {workload.clients[index][0]}"}
    async with _poster(http_client, base_url, headers) as post:
        for k in itertools.count():
            if tally.stop:
                return
            body = _body(workload, index, k)
            started = time.perf_counter()
            try:
                status, text = await post("/v1/contacts", body)
            except (ProtocolError, OSError, httpx.HTTPError) as error:
                tally.transport_error(error)
                continue
            tally.record(status, started, time.perf_counter(), text)


@asynccontextmanager
async def _poster(
    http_client: str, base_url: str, headers: dict[str, str]
) -> AsyncIterator[Callable[[str, Any], Awaitable[tuple[int, str]]]]:
    """``post(path, body) -> (status, text)`` on one keep-alive connection of ``http_client``."""
    if http_client == "lean":
        connection = LeanConnection(base_url, headers)
        try:
            yield connection.post_json
        finally:
            await connection.close()
        return
    async with httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=60.0,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    ) as client:

        async def post(path: str, body: Any) -> tuple[int, str]:
            response = await client.post(path, json=body)
            return response.status_code, response.text

        yield post


async def _load(
    server: Server,
    workload: Workload,
    warmup_s: float,
    seconds: float,
    label: str,
    http_client: str,
) -> tuple[Tally, dict[str, float]]:
    """Run the clients for ``warmup_s`` + ``seconds``; the tally and CPU seconds of the window."""
    tally = Tally()
    clients = [
        asyncio.create_task(_client(server.base_url, workload, i, tally, http_client))
        for i in range(len(workload.clients))
    ]
    cpu: dict[str, float] = {}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=stderr,
        transient=False,
    ) as progress:
        task = progress.add_task(label, total=warmup_s + seconds, status="warming up")
        begun = time.perf_counter()
        await asyncio.sleep(warmup_s)
        tally.measuring_from = time.perf_counter()
        tally.measuring_until = tally.measuring_from + seconds
        server_cpu, client_cpu, database_cpu, machine = (
            process_tree_cpu_s(server.pid),
            time.process_time(),
            postgres_cpu_s(),
            machine_busy_s(),
        )
        while (now := time.perf_counter()) < tally.measuring_until:
            done = len(tally.latencies_ms)
            rate = done / max(now - tally.measuring_from, 1e-9)
            progress.update(
                task,
                completed=now - begun,
                status=f"{done:,} answers in window, {rate:,.0f}/s",
            )
            await asyncio.sleep(min(0.5, tally.measuring_until - now))
        machine_after = machine_busy_s()
        cpu["server"] = process_tree_cpu_s(server.pid) - server_cpu
        cpu["client"] = time.process_time() - client_cpu
        cpu["postgres"] = postgres_cpu_s() - database_cpu
        busy, total = machine_after[0] - machine[0], machine_after[1] - machine[1]
        cpu["machine_pct"] = 100.0 * busy / total if total > 0 else 0.0
        tally.stop = True
        progress.update(task, completed=warmup_s + seconds, status="finishing requests in flight")
        await asyncio.gather(*clients)
        progress.update(task, status=f"{len(tally.latencies_ms):,} answers in window")
    return tally, cpu


def _check_database(url: str, created: int) -> int:
    """Check the active contacts: exactly ``created`` of them, none overlapping on an antenna."""
    engine = create_engine_from_url(url)
    try:
        with session_factory(engine)() as session:
            rows = session.execute(
                select(Contact.antenna_id, Contact.reserved_start, Contact.blocked_end)
                .where(Contact.status.in_([s.value for s in ACTIVE_STATUSES]))
                .order_by(Contact.antenna_id, Contact.reserved_start)
            ).all()
    finally:
        engine.dispose()
    if len(rows) != created:
        raise SystemExit(f"the database holds {len(rows)} active contacts, but {created} got 201")
    for earlier, later in itertools.pairwise(rows):
        if earlier.antenna_id == later.antenna_id and earlier.blocked_end > later.reserved_start:
            raise SystemExit(f"double booking on antenna {earlier.antenna_id}: {earlier}, {later}")
    return len(rows)


def run_backend(backend: str, args: argparse.Namespace) -> Result:
    """Seed, serve and load one database; return its figures."""
    with throwaway_database(backend) as url:
        stderr.print(f"[dim]{backend}: seeding the demo network and {args.clients} tenants[/]")
        workload = _seed(url, args.clients)
        with running_server(url, workers=args.workers, app_factory=args.app) as server:
            label = (
                f"{backend}, {args.workers} worker(s), {args.clients} {args.http_client} clients"
            )
            tally, cpu = asyncio.run(
                _load(server, workload, args.warmup_seconds, args.seconds, label, args.http_client)
            )
            log_tail = server.log_tail()
        checked = _check_database(url, tally.created)
    latencies = np.asarray(tally.latencies_ms)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) if latencies.size else (np.nan,) * 3
    codes = tally.codes
    if log_tail.strip() and (codes[500] or tally.transport_errors):
        tally.examples.append(f"server log: {log_tail[-1500:]}")
    return Result(
        backend=backend,
        workers=args.workers,
        clients=args.clients,
        seconds=args.seconds,
        reservations=codes[201],
        reservations_per_s=codes[201] / args.seconds,
        p50_ms=float(p50),
        p95_ms=float(p95),
        p99_ms=float(p99),
        max_ms=float(latencies.max()) if latencies.size else float("nan"),
        conflicts_409=tally.codes_all[409],
        server_errors_5xx=sum(n for code, n in tally.codes_all.items() if code >= 500),
        other_errors=sum(
            n for code, n in tally.codes_all.items() if code not in (201, 409) and code < 500
        ),
        transport_errors=tally.transport_errors,
        server_cpu_ms_per_reservation=_per_reservation_ms(cpu["server"], codes[201]),
        postgres_cpu_ms_per_reservation=(
            _per_reservation_ms(cpu["postgres"], codes[201]) if backend == "postgresql" else None
        ),
        client_cpu_ms_per_reservation=_per_reservation_ms(cpu["client"], codes[201]),
        machine_busy_pct=cpu["machine_pct"],
        active_contacts_checked=checked,
        error_examples=tally.examples,
    )


def _per_reservation_ms(cpu_s: float, reservations: int) -> float:
    return 1000.0 * cpu_s / reservations if reservations else float("nan")


def _machine() -> dict[str, Any]:
    return {
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _table(results: list[Result]) -> Table:
    table = Table(title="POST /v1/contacts, non-conflicting reservations")
    for name in (
        "database",
        "workers",
        "clients",
        "reservations/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "409",
        "5xx",
        "other errors",
        "CPU ms each: server/PG/client",
        "machine busy",
    ):
        table.add_column(name, justify="left" if name == "database" else "right")
    for r in results:
        table.add_row(
            r.backend,
            str(r.workers),
            str(r.clients),
            f"{r.reservations_per_s:,.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p95_ms:.1f}",
            f"{r.p99_ms:.1f}",
            f"{r.max_ms:.0f}",
            str(r.conflicts_409),
            str(r.server_errors_5xx),
            str(r.other_errors + r.transport_errors),
            f"{r.server_cpu_ms_per_reservation:.1f} / "
            + (
                "-"
                if r.postgres_cpu_ms_per_reservation is None
                else f"{r.postgres_cpu_ms_per_reservation:.1f}"
            )
            + f" / {r.client_cpu_ms_per_reservation:.1f}",
            f"{r.machine_busy_pct:.0f}%",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window (s)")
    parser.add_argument("--warmup-seconds", type=float, default=3.0, help="not counted (s)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--backend",
        action="append",
        choices=BACKENDS,
        help="database to run on (repeatable; default: both)",
    )
    parser.add_argument(
        "--app", default=APP_FACTORY, help=f"uvicorn application factory (default {APP_FACTORY})"
    )
    parser.add_argument(
        "--http-client",
        choices=("lean", "httpx"),
        default="lean",
        help="the clients' HTTP code: lean (bench/_http.py, default) or httpx",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.clients < 1 or args.workers < 1 or args.seconds <= 0 or args.warmup_seconds < 0:
        parser.error("--clients and --workers must be >= 1, --seconds > 0, --warmup-seconds >= 0")

    results = [run_backend(backend, args) for backend in args.backend or BACKENDS]
    if args.json:
        print(json.dumps({"machine": _machine(), "results": [asdict(r) for r in results]}))
    else:
        Console(width=max(Console().width, 160)).print(_table(results))
        machine = _machine()
        print(
            f"machine: {machine['processor']}, {machine['cpus']} CPUs, Python {machine['python']}; "
            "server, database and clients share it"
        )
        for r in results:
            if r.backend == "postgresql":
                met = r.reservations_per_s >= TARGET_RATE_PER_S and r.p99_ms < TARGET_P99_MS
                print(
                    f"target on PostgreSQL (>= {TARGET_RATE_PER_S:.0f}/s, p99 < "
                    f"{TARGET_P99_MS:.0f} ms): {'met' if met else 'missed'}"
                )
    for r in results:
        for example in r.error_examples:
            stderr.print(f"[red]{r.backend}: {example}[/]")
    failed = any(
        r.conflicts_409 or r.server_errors_5xx or r.other_errors or r.transport_errors
        for r in results
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
