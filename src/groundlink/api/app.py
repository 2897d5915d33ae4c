"""The application factory: one engine per app, one session per request.

``create_app(url)`` connects to the database at ``url`` (default:
``GROUNDLINK_DATABASE_URL`` or the embedded SQLite file). The schema must be
migrated: by the caller, or here with ``migrate=True``. ``clock`` returns the
current time, timezone-aware UTC; tests pass a fixed one.

While the app runs (its lifespan), a thread moves booked contacts through
their time-driven statuses every ``status_interval_s`` seconds by that clock
(:class:`groundlink.services.lifecycle.StatusAdvancer`); ``0`` or ``None``
turns it off.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI

from groundlink.adapters.db import create_engine_from_url, session_factory, upgrade
from groundlink.api.auth import key_batcher
from groundlink.api.errors import ERROR_RESPONSES, install_error_handlers
from groundlink.api.limits import install_limits
from groundlink.api.routes import (
    available,
    contacts,
    ground_stations,
    keys,
    mission_profiles,
    schedules,
    spacecraft,
    usage,
)
from groundlink.api.schedule_jobs import ScheduleRunner
from groundlink.errors import InvalidInput
from groundlink.services.batching import reservation_batcher
from groundlink.services.lifecycle import StatusAdvancer

#: The prefix of every route of this version of the API.
API_PREFIX = "/v1"


def utc_now() -> datetime:
    """The real clock: now, timezone-aware UTC."""
    return datetime.now(UTC)


def create_app(
    database_url: str | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    migrate: bool = False,
    status_interval_s: float | None = 1.0,
) -> FastAPI:
    """The groundlink REST API on the database at ``database_url``.

    Args:
        database_url: a SQLAlchemy URL; ``None`` reads ``GROUNDLINK_DATABASE_URL``.
        clock: returns the current time, timezone-aware UTC.
        migrate: bring the schema up to date before serving.
        status_interval_s: seconds between two runs of the contact life cycle
            (time-driven status changes); ``0`` or ``None``: no runs.
    """
    if status_interval_s is not None and not status_interval_s >= 0:
        raise InvalidInput("status_interval_s", status_interval_s, "seconds >= 0, or None")
    engine = create_engine_from_url(database_url)
    if migrate:
        upgrade(engine=engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        advancer = None
        if status_interval_s:
            advancer = StatusAdvancer(app.state.sessions, clock, status_interval_s)
            advancer.start()
        app.state.status_advancer = advancer
        try:
            yield
        finally:
            app.state.schedule_runner.shutdown()
            await asyncio.to_thread(app.state.reservations.close)
            await asyncio.to_thread(app.state.keys.close)
            if advancer is not None:
                await asyncio.to_thread(advancer.stop)  # waits for a run under way
            engine.dispose()

    app = FastAPI(
        title="groundlink",
        version="1",
        summary="Open ground-station-as-a-service: spacecraft, ground stations, contacts.",
        description=(
            "Every time is ISO-8601 UTC with `Z`. Validation errors (422) use FastAPI's "
            '`detail[]` shape; domain errors use one envelope, `{"error": {"code": ..., '
            '"message": ..., ...}}`: 401 missing or bad key, 403 missing scope, 404 unknown '
            "id (including another tenant's), 409 conflict, 413 request body too large, "
            "422 invalid input, 429 rate limited (wait `Retry-After` seconds)."
        ),
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.clock = clock
    app.state.status_advancer = None
    app.state.schedule_runner = ScheduleRunner(app.state.sessions, clock)
    # Requests that arrive together share their database rounds (services.batching).
    app.state.keys = key_batcher(app.state.sessions)
    app.state.reservations = reservation_batcher(app.state.sessions)
    install_error_handlers(app)
    install_limits(app)
    # Routers are tried in this order: contacts (the busiest) come first, and available
    # before contacts, since /contacts/available must not match /contacts/{contact_id}.
    for module in (
        available,
        contacts,
        keys,
        spacecraft,
        ground_stations,
        mission_profiles,
        usage,
        schedules,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    return app


def settle_for_serving() -> None:
    """Tune this process for serving requests: call once, after the app is built.

    Every object alive by then (modules, the app, the libraries' machinery:
    hundreds of thousands) is moved out of the garbage collector's sight
    (:func:`gc.freeze`). Otherwise each full collection walks them all and
    stops every request for 100-200 ms, a few times a minute under load
    (``bench/booking.py``: p99 about 200 ms before, under 100 ms after).
    Tests build apps without it.
    """
    gc.collect()
    gc.freeze()


def create_serving_app() -> FastAPI:
    """The app of a server process (``groundlink up``, uvicorn's ``--factory``).

    :func:`create_app` on ``GROUNDLINK_DATABASE_URL``, then
    :func:`settle_for_serving`.
    """
    app = create_app()
    settle_for_serving()
    return app


__all__ = ["API_PREFIX", "create_app", "create_serving_app", "settle_for_serving", "utc_now"]
