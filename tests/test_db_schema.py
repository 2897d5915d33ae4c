"""The database adapter: migrations match the models, engines are set up safely, times are UTC."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, Table, text
from sqlalchemy.exc import OperationalError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from groundlink.adapters.db import (
    DEFAULT_DATABASE_URL,
    create_engine_from_url,
    database_url_from_env,
    upgrade,
    write_transaction,
)
from groundlink.adapters.db.models import Base, Tenant


def _schema_diff(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    assert _schema_diff(engine, Base.metadata) == []


def test_schema_comparison_sees_a_difference(engine: Engine) -> None:
    # The check above could fail: a table the migrations lack shows up as a difference.
    metadata = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    Table("not_migrated", metadata, Column("id", Integer, primary_key=True))
    diff = _schema_diff(engine, metadata)
    assert [d[0] for d in diff if isinstance(d, tuple)] == ["add_table"]


def test_upgrade_twice_leaves_the_database_at_head(database_url: str, engine: Engine) -> None:
    upgrade(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
            ("0003",)
        ]


def test_postgresql_has_the_no_double_booking_constraint(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("exclusion constraints exist on PostgreSQL only; SQLite uses BEGIN IMMEDIATE")
    with engine.connect() as connection:
        definition = connection.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'contacts_no_double_booking' AND contype = 'x'"
            )
        ).scalar_one()
    assert "gist" in definition
    assert "tstzrange(reserved_start, blocked_end, '[)'::text) WITH &&" in definition
    assert "'SCHEDULED'" in definition and "'CANCELLED'" not in definition


def test_sqlite_connections_are_durable_and_checked(tmp_path: object) -> None:
    engine = create_engine_from_url(f"sqlite:///{tmp_path}/sub/dir/x.db")
    with engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    engine.dispose()
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1,
                      "busy_timeout": 30000}  # fmt: skip


def test_sqlite_write_transaction_takes_the_write_lock_at_begin(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/lock.db"
    upgrade(url)
    holder = create_engine_from_url(url)
    other = create_engine_from_url(url, connect_args={"timeout": 0.1})
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with Session(holder) as session, write_transaction(session):
            entered.set()  # nothing written yet: only BEGIN IMMEDIATE has run
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert entered.wait(5)
        with other.connect() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout=100")
            with pytest.raises(OperationalError, match="database is locked"):
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            # Readers are not blocked (WAL):
            assert connection.exec_driver_sql("SELECT count(*) FROM tenants").scalar() == 0
    finally:
        release.set()
        worker.join()
        holder.dispose()
        other.dispose()


def test_times_come_back_aware_utc(sessions: sessionmaker[Session]) -> None:
    cest = timezone(timedelta(hours=2))
    created = datetime(2030, 6, 1, 14, 30, 0, 123456, tzinfo=cest)
    with sessions.begin() as session:
        tenant = Tenant(name=f"tz-{id(created)}", created_at=created)
        session.add(tenant)
    with sessions() as session:
        stored = session.get(Tenant, tenant.id)
        assert stored is not None
        assert stored.created_at == created
        assert stored.created_at.utcoffset() == timedelta(0)
        assert stored.created_at.hour == 12


def test_naive_times_are_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        session.add(Tenant(name="naive", created_at=datetime(2030, 1, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_ids_carry_their_type(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        tenant = Tenant(name=f"ids-{datetime.now(UTC).timestamp()}", created_at=datetime.now(UTC))
        session.add(tenant)
    assert tenant.id.startswith("tn-") and len(tenant.id) == 35


def test_database_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROUNDLINK_DATABASE_URL", raising=False)
    assert (
        database_url_from_env()
        == DEFAULT_DATABASE_URL
        == ("sqlite:///./groundlink-data/groundlink.db")
    )
    monkeypatch.setenv("GROUNDLINK_DATABASE_URL", "postgresql://u@h/db")
    assert database_url_from_env() == "postgresql://u@h/db"
    engine = create_engine_from_url()
    assert engine.dialect.driver == "psycopg"  # plain postgresql:// goes to psycopg 3
    engine.dispose()
