"""``groundlink doctor``: versions, the SGP4 core in use, and the services groundlink would use.

Reports, one ``name  value`` line each: the versions of groundlink, Python,
numpy, sgp4 and matplotlib; whether sgp4's C++ core is active (the pure-Python
fallback is far slower); the CPU count (the pass engine's default number of
workers); the database URL (``GROUNDLINK_DATABASE_URL``, password hidden);
and whether PostgreSQL and NATS accept TCP connections on their default
ports. Only the loopback address is ever contacted.
"""

from __future__ import annotations

import os
import platform
import socket
from importlib import metadata
from urllib.parse import urlsplit, urlunsplit

from groundlink import __version__
from groundlink.cli.edge import say, stdout_console
from groundlink.plots import INSTALL_HINT

#: The database groundlink uses when ``GROUNDLINK_DATABASE_URL`` is not set.
DEFAULT_DATABASE_URL = "sqlite:///./groundlink-data/groundlink.db"
#: Services probed, always on the loopback address: (label, port).
LOCAL_SERVICES: tuple[tuple[str, int], ...] = (("postgresql", 5432), ("nats", 4222))
_LOOPBACK = "127.0.0.1"
_PROBE_TIMEOUT_S = 0.3


def doctor() -> None:
    """Show versions, whether sgp4's C++ core is active, and the services groundlink would use."""
    console = stdout_console()
    for name, value in diagnosis():
        say(console, f"{name:<12} {value}")


def diagnosis() -> list[tuple[str, str]]:
    """The doctor's findings as (name, value) pairs, in the order shown."""
    database_url = os.environ.get("GROUNDLINK_DATABASE_URL", DEFAULT_DATABASE_URL)
    origin = "GROUNDLINK_DATABASE_URL" if "GROUNDLINK_DATABASE_URL" in os.environ else "default"
    findings = [
        ("groundlink", __version__),
        ("python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("numpy", _version("numpy")),
        ("sgp4", _version("sgp4")),
        ("sgp4 core", _sgp4_core()),
        (
            "matplotlib",
            _version("matplotlib", missing=f"not installed: {INSTALL_HINT}"),
        ),
        ("cpus", str(os.cpu_count() or 1)),
        ("database", f"{hide_password(database_url)} ({origin})"),
    ]
    for label, port in LOCAL_SERVICES:
        findings.append((label, f"{_LOOPBACK}:{port} {probe_tcp(port)}"))
    return findings


def _version(distribution: str, missing: str = "not installed") -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return missing


def _sgp4_core() -> str:
    from sgp4.api import accelerated

    if accelerated:
        return "C++ core active (sgp4.api.accelerated = True)"
    return "C++ core NOT active: pure-Python fallback, far slower (reinstall sgp4 from a wheel)"


def hide_password(url: str) -> str:
    """``postgresql://user:secret@host/db`` → ``postgresql://user:***@host/db``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def probe_tcp(port: int) -> str:
    """Whether something accepts TCP connections on the loopback address at ``port``."""
    try:
        with socket.create_connection((_LOOPBACK, port), timeout=_PROBE_TIMEOUT_S):
            return "accepting connections"
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        return f"not reachable ({reason})"
