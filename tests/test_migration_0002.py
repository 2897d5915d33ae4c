"""Migration 0002 (``contacts.prediction``) on a database with contacts: up, down, both backends.

Each test gets a database of its own (a SQLite file, or a throwaway
PostgreSQL database), migrated to 0001 first: the shared test databases are
at head and must stay there.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from db_fixtures import NOW, POSTGRES_ADMIN_URL, _postgres_admin_engine
from groundlink.adapters.db import create_engine_from_url, session_factory, upgrade
from groundlink.adapters.db.migrate import alembic_config
from groundlink.adapters.db.models import (
    AntennaRow,
    Contact,
    GroundStationRow,
    Spacecraft,
    Tenant,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    admin = _postgres_admin_engine()
    name = f"groundlink_migrate_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _book_a_contact(url: str) -> str:
    """One contact (and what it needs) written at revision 0001; its id."""
    engine = create_engine_from_url(url)
    try:
        with session_factory(engine).begin() as session:
            tenant = Tenant(name="t", created_at=NOW)
            station = GroundStationRow(name="s", latitude_deg=78.2, longitude_deg=15.4)
            station.altitude_m = 0.0
            session.add_all([tenant, station])
            session.flush()
            craft = Spacecraft(tenant_id=tenant.id, name="c", created_at=NOW, updated_at=NOW)
            antenna = AntennaRow(station_id=station.id, name="a", bands=[])
            session.add_all([craft, antenna])
            session.flush()
            aos = NOW + timedelta(days=1)
            contact = Contact(
                tenant_id=tenant.id,
                spacecraft_id=craft.id,
                antenna_id=antenna.id,
                profile_snapshot={},
                status="SCHEDULED",
                aos=aos,
                los=aos + timedelta(minutes=8),
                reserved_start=aos,
                reserved_end=aos + timedelta(minutes=8),
                blocked_end=aos + timedelta(minutes=8),
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(contact)  # prediction left unset: not in the INSERT at 0001
            session.flush()
            return contact.id
    finally:
        engine.dispose()


def _contact_columns(url: str) -> list[str]:
    engine = create_engine_from_url(url)
    try:
        return [column["name"] for column in inspect(engine).get_columns("contacts")]
    finally:
        engine.dispose()


def _revision(url: str) -> str:
    engine = create_engine_from_url(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar())
    finally:
        engine.dispose()


def test_0002_adds_a_null_prediction_to_existing_contacts_and_back(fresh_url: str) -> None:
    upgrade(fresh_url, revision="0001")
    assert "prediction" not in _contact_columns(fresh_url)
    contact_id = _book_a_contact(fresh_url)

    upgrade(fresh_url, revision="0002")
    assert _revision(fresh_url) == "0002"
    engine = create_engine_from_url(fresh_url)
    try:
        sessions = session_factory(engine)
        with sessions.begin() as session:
            contact = session.get(Contact, contact_id)
            assert contact is not None and contact.prediction is None
            contact.prediction = {"fit": "lost", "predicted_aos": None}
        with sessions() as session:
            stored = session.scalar(select(Contact.prediction).where(Contact.id == contact_id))
            assert stored == {"fit": "lost", "predicted_aos": None}
    finally:
        engine.dispose()

    engine = create_engine_from_url(fresh_url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        with engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM contacts")).scalar()
    finally:
        engine.dispose()
    assert count == 1  # the contact survives the downgrade (SQLite copies the table)
    assert "prediction" not in _contact_columns(fresh_url)
    assert _revision(fresh_url) == "0001"
