"""Helpers for the REST API tests: an app on the test database and tenants with keys.

Each test module defines its ``api`` fixture with :func:`api_for`, so every
API test runs on SQLite and on PostgreSQL (``database_url`` is parametrized
over both by ``db_fixtures``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from db_fixtures import NOW
from groundlink.adapters.db import session_factory
from groundlink.api import create_app, create_tenant_with_key

ALL_SCOPES = ("read", "book", "admin")


@dataclass
class Api:
    """A test client on one database, and a way to make tenants."""

    client: TestClient
    sessions: sessionmaker[Session]
    admin: dict[str, str] = field(default_factory=dict)

    def tenant(self, scopes: tuple[str, ...] = ("read", "book")) -> dict[str, str]:
        """Headers carrying the key of a new tenant with ``scopes``."""
        with self.sessions() as session:
            _tenant_id, key = create_tenant_with_key(
                session, f"tenant-{secrets.token_hex(6)}", scopes, now=NOW
            )
        return bearer(key)

    def station(self, turnaround_s: float = 60.0, **fields: Any) -> dict[str, Any]:
        """A new ground station (two antennas), created through the API as an admin."""
        body = {
            "name": f"station-{secrets.token_hex(6)}",
            "latitude_deg": 78.23,
            "longitude_deg": 15.39,
            "altitude_m": 500,
            "antennas": [
                {"name": "dish-1", "turnaround_s": turnaround_s},
                {"name": "dish-2", "turnaround_s": turnaround_s},
            ],
            **fields,
        }
        response = self.client.post("/v1/ground-stations", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        station: dict[str, Any] = response.json()
        return station

    def spacecraft(self, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
        """A new spacecraft of the tenant behind ``headers``."""
        body = {"name": f"sat-{secrets.token_hex(4)}", **fields}
        response = self.client.post("/v1/spacecraft", json=body, headers=headers)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


def bearer(key: str) -> dict[str, str]:
    """The ``Authorization`` header for ``key``."""
    return {"Authorization": f"Bearer {key}"}


@contextmanager
def api_for(database_url: str) -> Iterator[Api]:
    """An :class:`Api` on the (migrated) database at ``database_url``, clock fixed at NOW."""
    app = create_app(database_url, clock=lambda: NOW)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, session_factory(app.state.engine))
        api.admin = api.tenant(ALL_SCOPES)
        yield api
