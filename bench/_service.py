"""What the service benchmarks share: a throwaway database, a real server process, CPU clocks.

``bench/booking.py`` and ``bench/available_http.py`` measure the REST API as
a user meets it: a separate server process (uvicorn serving
:func:`groundlink.api.app.create_serving_app`, as ``groundlink up`` does) on a fresh
database, driven over loopback HTTP. This module gives them:

* :func:`throwaway_database`: a migrated SQLite file in a temporary folder,
  or a PostgreSQL database ``groundlink_bench_<random>`` created on the
  server at ``GROUNDLINK_BENCH_POSTGRES_URL`` (default
  ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) and dropped
  afterwards: the same recipe as ``tests/db_fixtures.py``, which cannot be
  imported from here without pytest;
* :func:`running_server`: the API in a child process, ``--workers`` uvicorn
  processes, rate limits raised so that they do not decide the figures
  (the limiter still runs on every request), access log off;
* :func:`process_tree_cpu_s` and :func:`machine_busy_s`: CPU seconds from
  ``/proc`` (Linux), so a report can say where the machine's time went.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from groundlink.adapters.db import upgrade

#: The reference data (``population.tle``, ``stations.csv``) next to the repository.
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

#: The PostgreSQL server the benchmark creates its throwaway database on.
POSTGRES_ADMIN_URL = os.environ.get(
    "GROUNDLINK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

BACKENDS = ("sqlite", "postgresql")
#: What uvicorn serves: the application factory ``groundlink up`` uses.
APP_FACTORY = "groundlink.api.app:create_serving_app"


@contextmanager
def throwaway_database(backend: str) -> Iterator[str]:
    """Yield the URL of a new, migrated database on ``backend``; delete it afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="groundlink-bench-") as folder:
            url = f"sqlite:///{Path(folder) / 'groundlink.db'}"
            upgrade(url)
            yield url
        return
    if backend != "postgresql":
        raise ValueError(f"backend: got {backend!r}, expected one of {', '.join(BACKENDS)}")
    admin = create_engine(
        POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"groundlink_bench_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            yield url
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    """A running API server: where it listens, its process id, its log file."""

    base_url: str
    pid: int
    log: Path

    def log_tail(self) -> str:
        """The last 4,000 characters of the server's output."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


@contextmanager
def running_server(
    database_url: str, *, workers: int = 1, app_factory: str = APP_FACTORY
) -> Iterator[Server]:
    """Serve the API on ``database_url`` in a child process; stop it on exit.

    uvicorn runs ``app_factory`` (an import string, by default
    :data:`APP_FACTORY`) as a factory, the database from
    ``GROUNDLINK_DATABASE_URL``, with ``workers`` processes.

    Raises:
        RuntimeError: the server exited or did not answer within 60 s (with its log).
    """
    port = free_port()
    env = {
        **os.environ,
        "GROUNDLINK_DATABASE_URL": database_url,
        "GROUNDLINK_RATE_LIMIT_PER_S": "1000000",
        "GROUNDLINK_RATE_LIMIT_BURST": "1000000",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        app_factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
        "--backlog",
        "2048",
    ]
    with tempfile.TemporaryDirectory(prefix="groundlink-bench-log-") as folder:
        log = Path(folder) / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        server = Server(f"http://127.0.0.1:{port}", process.pid, log)
        try:
            _wait_until_up(process, server)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], server: Server) -> None:
    deadline = time.monotonic() + 60.0
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.base_url}/openapi.json", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not answer within 60 s:\n{server.log_tail()}")
        time.sleep(0.1)


_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _parents() -> dict[int, int]:
    """Every live process id and its parent's, from ``/proc/*/stat``."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    return parents


def _cpu_s(pid: int, *, reaped_children: bool = False) -> float:
    """CPU seconds of ``pid``; with ``reaped_children``, plus those of its exited children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 0; utime, stime, cutime, cstime are fields 11-14.
    used = int(fields[11]) + int(fields[12])
    if reaped_children:
        used += int(fields[13]) + int(fields[14])
    return used / _TICKS_PER_S


def postgres_cpu_s() -> float:
    """CPU seconds used so far by the processes named ``postgres``, backends that exited included.

    A backend's seconds go to the postmaster (its parent) when it exits.
    Other users of the same PostgreSQL server are counted too.
    """
    total = 0.0
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "postgres":
                total += _cpu_s(int(comm.parent.name), reaped_children=True)
        except OSError:
            continue
    return total


def process_tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its live descendants.

    0.0 where ``/proc`` is missing (not Linux) or the process is gone.
    """
    parents = _parents()
    tree = {pid}
    grew = True
    while grew:
        found = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return sum(_cpu_s(member) for member in tree)


def machine_busy_s() -> tuple[float, float]:
    """``(busy, total)`` CPU seconds of the whole machine since boot, all CPUs summed.

    ``(0.0, 0.0)`` where ``/proc/stat`` is missing.
    """
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0, 0.0
    ticks = [int(value) for value in first[1:9]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    total = sum(ticks)
    return (total - idle) / _TICKS_PER_S, total / _TICKS_PER_S


__all__ = [
    "APP_FACTORY",
    "BACKENDS",
    "DATA",
    "POSTGRES_ADMIN_URL",
    "Server",
    "free_port",
    "machine_busy_s",
    "postgres_cpu_s",
    "process_tree_cpu_s",
    "running_server",
    "throwaway_database",
]
