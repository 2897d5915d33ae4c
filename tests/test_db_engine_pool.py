"""Engine settings that keep the API fast under concurrent writers (see ``bench/booking.py``)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from groundlink.adapters.db import create_engine_from_url, one_read, upgrade, write_transaction
from groundlink.adapters.db import engine as engine_module
from groundlink.adapters.db.models import Tenant


def test_postgresql_pool_covers_every_worker_thread() -> None:
    # No connection is made: the pool's sizes are set when the engine is created.
    engine = create_engine_from_url("postgresql://nobody@127.0.0.1:1/none")
    try:
        size, overflow = engine.pool.size(), engine.pool._max_overflow
    finally:
        engine.dispose()
    assert (size, overflow) == (
        engine_module.POSTGRES_POOL_SIZE,
        engine_module.POSTGRES_MAX_OVERFLOW,
    )
    # The rationale of the numbers: one connection per thread that runs a synchronous route.
    limiter = anyio.to_thread.current_default_thread_limiter

    async def threads() -> float:
        return float(limiter().total_tokens)

    assert size + overflow == anyio.run(threads)


def test_postgresql_pool_size_can_still_be_chosen() -> None:
    engine = create_engine_from_url("postgresql://nobody@127.0.0.1:1/none", pool_size=3)
    try:
        assert engine.pool.size() == 3
    finally:
        engine.dispose()


def test_sqlite_writers_of_one_process_queue_instead_of_timing_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A busy timeout far shorter than the first writer's transaction: without the
    # in-process queue the second writer would give up with "database is locked".
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    url = f"sqlite:///{tmp_path}/queue.db"
    upgrade(url)
    engine = create_engine_from_url(url)
    entered, order = threading.Event(), []
    hold_s = 0.5

    def first() -> None:
        with Session(engine) as session, write_transaction(session):
            entered.set()
            time.sleep(hold_s)
            session.add(Tenant(name="first", created_at=datetime.now(UTC)))
            order.append("first committed")

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert entered.wait(5)
        started = time.monotonic()
        with Session(engine) as session, write_transaction(session):
            waited_s = time.monotonic() - started
            order.append("second began")
            names = list(session.scalars(select(Tenant.name)))
            session.add(Tenant(name="second", created_at=datetime.now(UTC)))
    finally:
        worker.join()
        engine.dispose()
    assert order == ["first committed", "second began"]
    assert names == ["first"]  # the second writer saw the first's commit
    assert waited_s > 0.05 * 2  # it waited far past the busy timeout, and did not fail


def test_one_read_skips_begin_and_commit_on_postgresql_only(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        with one_read(session) as connection:
            dbapi: Any = connection.connection.dbapi_connection
            assert connection.execute(select(Tenant.id).limit(1)).all() is not None
            postgresql = session.get_bind().dialect.name == "postgresql"
            if postgresql:
                # psycopg in autocommit: no transaction was opened around the statement.
                assert dbapi.autocommit is True
                assert dbapi.info.transaction_status.name == "IDLE"
            else:
                assert dbapi.in_transaction
        # The next transaction on the pooled connection is an ordinary one again.
        with session.begin():
            again: Any = session.connection().connection.dbapi_connection
            session.execute(select(Tenant.id).limit(1)).all()
            if postgresql:
                assert again.autocommit is False
                assert again.info.transaction_status.name == "INTRANS"
