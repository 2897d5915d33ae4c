"""The real race: 200 concurrent reservations of one antenna against a real server over HTTP.

The API runs as its own process (uvicorn, ``create_serving_app`` as a factory,
as ``groundlink up`` does; the database in ``GROUNDLINK_DATABASE_URL``, rate
limits raised), on SQLite and on PostgreSQL. 200 clients at once ask for
overlapping passes on ONE antenna, each with its own spacecraft (so the
antenna rule, not the spacecraft's own limit, is what decides): exactly one
gets 201, the 199 others 409 ``contact_conflict``; nothing else, no 5xx; and
the database holds exactly one active contact on that antenna, with no two
active rows overlapping.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db_fixtures import NOW, make_network
from groundlink.adapters.db.models import ACTIVE_STATUSES, Contact
from groundlink.api.auth import issue_key

REQUESTS = 200
ACTIVE = [status.value for status in ACTIVE_STATUSES]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    base_url: str
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """The API served by uvicorn in a child process on the test database."""
    port = _free_port()
    env = {
        **os.environ,
        "GROUNDLINK_DATABASE_URL": database_url,
        "GROUNDLINK_RATE_LIMIT_PER_S": "100000",
        "GROUNDLINK_RATE_LIMIT_BURST": "100000",
    }
    log = tmp_path / "uvicorn.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "groundlink.api.app:create_serving_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--backlog",
        "1024",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    served = Server(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60.0
        while True:
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited with {process.returncode}:\n{served.log_tail()}")
            try:
                if httpx.get(f"{served.base_url}/openapi.json", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not answer within 60 s:\n{served.log_tail()}")
            time.sleep(0.1)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _fire(base_url: str, key: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=120.0, headers=headers
    ) as client:
        return list(await asyncio.gather(*(client.post("/v1/contacts", json=b) for b in bodies)))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_200_concurrent_reservations_of_one_antenna(
    server: Server, sessions: sessionmaker[Session]
) -> None:
    network = make_network(sessions, spacecraft=REQUESTS, turnaround_s=60.0)
    with sessions.begin() as session:
        _row, key = issue_key(session, network.tenant_id, "race", ["read", "book"], NOW)
    # The server runs on the real clock: book well after it (and after NOW).
    base = max(datetime.now(UTC), NOW) + timedelta(days=2)
    # Every pass lasts 10 minutes and starts within 200 s of the others: all overlap.
    bodies = [
        {
            "spacecraft_id": spacecraft_id,
            "antenna_id": network.antenna_id,
            "aos": _iso(base + timedelta(seconds=i)),
            "los": _iso(base + timedelta(seconds=i, minutes=10)),
            "prepass_s": 60,
            "postpass_s": 60,
        }
        for i, spacecraft_id in enumerate(network.spacecraft_ids)
    ]
    assert len(bodies) == REQUESTS

    started = time.perf_counter()
    responses = asyncio.run(_fire(server.base_url, key, bodies))
    elapsed = time.perf_counter() - started

    codes = Counter(response.status_code for response in responses)
    context = f"codes {dict(codes)} in {elapsed:.1f} s; server log:\n{server.log_tail()}"
    assert codes == {201: 1, 409: REQUESTS - 1}, context
    conflicts = [r.json()["error"]["code"] for r in responses if r.status_code == 409]
    assert set(conflicts) == {"contact_conflict"}, context
    (winner,) = [r.json() for r in responses if r.status_code == 201]

    with sessions() as session:
        rows = session.scalars(
            select(Contact).where(Contact.antenna_id == network.antenna_id)
        ).all()
    active = [row for row in rows if row.status in ACTIVE]
    assert [row.id for row in active] == [winner["id"]]
    assert len(rows) == 1
    ordered = sorted(active, key=lambda row: row.reserved_start)
    for earlier, later in itertools.pairwise(ordered):
        assert earlier.blocked_end <= later.reserved_start
