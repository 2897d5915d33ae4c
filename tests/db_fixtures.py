"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

``database_url`` is parametrized over both backends. SQLite gets a fresh
file; PostgreSQL a throwaway database ``groundlink_test_<random>`` on the
server at ``GROUNDLINK_TEST_POSTGRES_URL`` (default: the CI server,
``postgresql://postgres@127.0.0.1:5432/postgres``), dropped afterwards. Both
are migrated with the packaged Alembic migrations, as in production.

Without PostgreSQL the PostgreSQL tests are skipped, saying why; with
``CI=true`` they fail instead, because CI must test both.

Test modules load this file with ``pytest_plugins = ["db_fixtures"]``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from groundlink.adapters.db import create_engine_from_url, session_factory, upgrade
from groundlink.adapters.db.models import AntennaRow, GroundStationRow, Spacecraft, Tenant

POSTGRES_ADMIN_URL = os.environ.get(
    "GROUNDLINK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

#: A fixed "now" for every booking test: contacts are booked a day or more after it.
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _postgres_admin_engine() -> Engine:
    engine = create_engine(
        POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        engine.dispose()
        reason = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {error.orig}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL is required)")
        pytest.skip(f"{reason} (set CI=true to make this a failure)")
    return engine


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a freshly migrated database, one per backend (and per xdist worker)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "groundlink.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    admin = _postgres_admin_engine()
    name = f"groundlink_test_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test database."""
    engine = create_engine_from_url(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions on the test database (objects stay readable after commit)."""
    return session_factory(engine)


@dataclass(frozen=True)
class Network:
    """Ids of a fresh tenant with spacecraft, and a station with two antennas."""

    tenant_id: str
    other_tenant_id: str
    spacecraft_ids: tuple[str, ...]
    other_spacecraft_id: str
    station_id: str
    antenna_id: str
    second_antenna_id: str
    turnaround_s: float


def make_network(
    sessions: sessionmaker[Session], *, spacecraft: int = 3, turnaround_s: float = 60.0
) -> Network:
    """Insert a new tenant (with ``spacecraft`` spacecraft), another tenant and a station."""
    tag = secrets.token_hex(4)
    with sessions.begin() as session:
        tenant = Tenant(name=f"tenant-{tag}", created_at=NOW)
        other = Tenant(name=f"other-{tag}", created_at=NOW)
        station = GroundStationRow(
            name=f"station-{tag}", latitude_deg=78.2, longitude_deg=15.4, altitude_m=500.0
        )
        session.add_all([tenant, other, station])
        session.flush()
        fleet = [
            Spacecraft(
                tenant_id=tenant.id,
                name=f"sat-{i}",
                norad_id=90000 + i,
                created_at=NOW,
                updated_at=NOW,
            )
            for i in range(spacecraft)
        ]
        foreign = Spacecraft(tenant_id=other.id, name="foreign", created_at=NOW, updated_at=NOW)
        antennas = [
            AntennaRow(
                station_id=station.id,
                name=name,
                bands=[],
                turnaround_s=turnaround_s,
            )
            for name in ("dish-1", "dish-2")
        ]
        session.add_all([*fleet, foreign, *antennas])
        session.flush()
        return Network(
            tenant_id=tenant.id,
            other_tenant_id=other.id,
            spacecraft_ids=tuple(s.id for s in fleet),
            other_spacecraft_id=foreign.id,
            station_id=station.id,
            antenna_id=antennas[0].id,
            second_antenna_id=antennas[1].id,
            turnaround_s=turnaround_s,
        )


@pytest.fixture
def network(sessions: sessionmaker[Session]) -> Network:
    """A fresh tenant, another tenant and a station with two antennas (turnaround 60 s)."""
    return make_network(sessions)
