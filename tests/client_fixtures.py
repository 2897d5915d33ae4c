"""Helpers for the client and CLI-resource tests: the real app in-process, on SQLite in tmp.

The :class:`~groundlink.client.GroundlinkClient` reaches the app through a
Starlette ``TestClient`` (same process, no socket), so every request goes
through routing, auth, validation and the database.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from db_fixtures import NOW
from groundlink.adapters.db import session_factory, upgrade
from groundlink.api import create_app, create_tenant_with_key
from groundlink.client import GroundlinkClient

ISS = (
    "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927",
    "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537",
)


class InProcessTransport(httpx.BaseTransport):
    """An httpx transport that sends each request through a Starlette ``TestClient``.

    The client is built on ``httpx``; the ``TestClient`` is built on ``httpx2``
    where that is installed (Starlette's choice), and the two packages' requests
    and responses do not mix, so each request is handed over as method, URL,
    headers and body, and the response comes back the same way.
    """

    def __init__(self, test_client: TestClient) -> None:
        self.test_client = test_client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """The app's response to ``request``, read whole."""
        answer = self.test_client.request(
            request.method,
            str(request.url),
            headers=request.headers.multi_items(),
            content=request.read(),
        )
        return httpx.Response(
            answer.status_code,
            headers=answer.headers.multi_items(),
            content=answer.content,
            request=request,
        )


@dataclass
class InProcess:
    """An app on a SQLite file, the transport that reaches it, and keys of two tenants."""

    transport: httpx.BaseTransport
    key: str
    other_key: str
    admin_key: str

    def client(self, key: str | None = None) -> GroundlinkClient:
        """A client on the in-process app with ``key`` (default: the first tenant's)."""
        return GroundlinkClient(
            "http://testserver", self.key if key is None else key, transport=self.transport
        )

    def station(self) -> dict[str, str]:
        """A new ground station with two antennas; its id and the antennas' ids."""
        with self.client(self.admin_key) as admin:
            created = admin.create_ground_station(
                {
                    "name": f"station-{secrets.token_hex(4)}",
                    "latitude_deg": 78.23,
                    "longitude_deg": 15.39,
                    "altitude_m": 500,
                    "antennas": [{"name": "dish-1"}, {"name": "dish-2"}],
                }
            )
        return {
            "id": created.id,
            "antenna": created.antennas[0].id,
            "antenna2": created.antennas[1].id,
        }


@contextmanager
def in_process(tmp: Path) -> Iterator[InProcess]:
    """The API on a fresh SQLite file under ``tmp``, clock fixed at NOW."""
    url = f"sqlite:///{tmp / 'groundlink.db'}"
    upgrade(url)
    app = create_app(url, clock=lambda: NOW)
    sessions = session_factory(app.state.engine)
    keys = []
    for scopes in (("read", "book"), ("read", "book"), ("read", "book", "admin")):
        with sessions() as session:
            _tenant, key = create_tenant_with_key(
                session, f"tenant-{secrets.token_hex(6)}", scopes, now=NOW
            )
        keys.append(key)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield InProcess(InProcessTransport(test_client), *keys)
