"""Connecting to the database: one engine per URL, configured for safe concurrent writes.

SQLite (the embedded default) is a file in WAL mode, so readers never wait
for the writer, with ``synchronous=FULL`` so that a committed booking
survives a power cut, foreign keys on, and a busy timeout so that writers
queue instead of failing. Python's ``sqlite3`` module starts transactions
lazily, too late to take the write lock up front; the engine here turns that
off and emits ``BEGIN`` itself, ``BEGIN IMMEDIATE`` for a session opened with
:func:`write_transaction` (SQLAlchemy's documented recipe for SQLite
transactions). A check-then-insert in such a transaction cannot race another
one: the second waits at ``BEGIN IMMEDIATE`` until the first commits.

SQLite has one write lock for the whole file, and a writer that finds it
taken sleeps and retries (1 ms, 2 ms, ... up to 100 ms between tries), so
under load the lock is often free while every writer sleeps, and an unlucky
one waits seconds. Writers of one process therefore queue on a lock of
their own first (:func:`write_transaction`) and reach ``BEGIN IMMEDIATE``
one at a time, woken as soon as the previous one commits; the busy timeout
still arbitrates between processes (``groundlink up --workers``).

PostgreSQL goes through psycopg 3; there, races are stopped by constraints
and row locks (see ``groundlink.services.booking``). Its pool keeps
:data:`POSTGRES_POOL_SIZE` connections: starting a PostgreSQL backend costs
milliseconds of CPU, and SQLAlchemy's default (5 kept, 10 more opened and
closed as needed) made the API open and close a connection for most
requests once more than 5 ran at once.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

#: Where the embedded database lives when ``GROUNDLINK_DATABASE_URL`` is not set.
DEFAULT_DATABASE_URL = "sqlite:///./groundlink-data/groundlink.db"

#: How long a SQLite writer waits for the lock before giving up, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: PostgreSQL connections an engine keeps open, and how many more it may open for a while.
#: Their sum is anyio's default of 40 worker threads, which run the API's synchronous routes
#: (one connection each at most), so a request never waits for a connection.
POSTGRES_POOL_SIZE = 32
POSTGRES_MAX_OVERFLOW = 8

#: Execution option that asks for ``BEGIN IMMEDIATE`` on SQLite (ignored elsewhere).
_BEGIN_OPTION = "groundlink_sqlite_begin"

#: The in-process writer queue of each SQLite engine (see the module docstring).
_SQLITE_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = (
    weakref.WeakKeyDictionary()
)


def database_url_from_env() -> str:
    """``GROUNDLINK_DATABASE_URL`` if set, else :data:`DEFAULT_DATABASE_URL`."""
    return os.environ.get("GROUNDLINK_DATABASE_URL") or DEFAULT_DATABASE_URL


def _normalise(url: str) -> str:
    """Send plain ``postgresql://`` URLs to psycopg 3 (SQLAlchemy's default is psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_engine_from_url(url: str | None = None, **engine_options: Any) -> Engine:
    """An engine for ``url`` (default: :func:`database_url_from_env`).

    ``engine_options`` go to :func:`sqlalchemy.create_engine` (e.g.
    ``pool_size``). For a SQLite file, the folder is created if missing.
    """
    url = _normalise(url or database_url_from_env())
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, engine_options)
    engine_options.setdefault("pool_pre_ping", True)
    engine_options.setdefault("pool_size", POSTGRES_POOL_SIZE)
    engine_options.setdefault("max_overflow", POSTGRES_MAX_OVERFLOW)
    return create_engine(url, **engine_options)


def _sqlite_engine(url: str, engine_options: dict[str, Any]) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        os.makedirs(os.path.dirname(os.path.abspath(database)), exist_ok=True)
    connect_args = engine_options.pop("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, connect_args=connect_args, **engine_options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    _SQLITE_WRITE_LOCKS[engine] = threading.RLock()
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine`` whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One write transaction on ``session``: committed on success, rolled back on error.

    On SQLite it starts with ``BEGIN IMMEDIATE``, taking the database's write
    lock before the first read, so everything read inside it stays true
    until the commit; before that it waits its turn behind the process's
    other writers. ``session`` must not be in a transaction already.
    """
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _SQLITE_WRITE_LOCKS.get(engine) or nullcontext(), session.begin():
        session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})
        yield session


@contextmanager
def one_read(session: Session) -> Iterator[Connection]:
    """A connection for one read statement that needs no transaction around it.

    On PostgreSQL the statement runs in autocommit mode (it is its own
    snapshot), which saves the ``BEGIN`` and ``COMMIT`` round trips: two of
    the three a one-query read would otherwise make. The API's key check
    runs on every request through it. On SQLite it is an ordinary deferred
    transaction. ``session`` must not be in a transaction already.
    """
    options = {"isolation_level": "AUTOCOMMIT"} if _is_postgresql(session) else {}
    with session.begin():
        yield session.connection(execution_options=options)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


__all__ = [
    "DEFAULT_DATABASE_URL",
    "POSTGRES_MAX_OVERFLOW",
    "POSTGRES_POOL_SIZE",
    "create_engine_from_url",
    "database_url_from_env",
    "one_read",
    "session_factory",
    "write_transaction",
]
