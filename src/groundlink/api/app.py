"""The application factory: one engine per app, one session per request.

``create_app(url)`` connects to the database at ``url`` (default:
``GROUNDLINK_DATABASE_URL`` or the embedded SQLite file). The schema must be
migrated: by the caller, or here with ``migrate=True``. ``clock`` returns the
current time, timezone-aware UTC; tests pass a fixed one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI

from groundlink.adapters.db import create_engine_from_url, session_factory, upgrade
from groundlink.api.errors import ERROR_RESPONSES, install_error_handlers
from groundlink.api.limits import install_limits
from groundlink.api.routes import (
    available,
    contacts,
    ground_stations,
    keys,
    mission_profiles,
    spacecraft,
)

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
) -> FastAPI:
    """The groundlink REST API on the database at ``database_url``.

    Args:
        database_url: a SQLAlchemy URL; ``None`` reads ``GROUNDLINK_DATABASE_URL``.
        clock: returns the current time, timezone-aware UTC.
        migrate: bring the schema up to date before serving.
    """
    engine = create_engine_from_url(database_url)
    if migrate:
        upgrade(engine=engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="groundlink",
        version="1",
        summary="Open ground-station-as-a-service: spacecraft, ground stations, contacts.",
        description=(
            "Every time is ISO-8601 UTC with `Z`. Validation errors (422) use FastAPI's "
            '`detail[]` shape; domain errors use one envelope, `{"error": {"code": ..., '
            '"message": ..., ...}}`: 401 missing or bad key, 403 missing scope, 404 unknown '
            "id (including another tenant's), 409 conflict, 422 invalid input."
        ),
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.clock = clock
    install_error_handlers(app)
    install_limits(app)
    # available before contacts: /contacts/available must not match /contacts/{contact_id}.
    for module in (keys, spacecraft, ground_stations, mission_profiles, available, contacts):
        app.include_router(module.router, prefix=API_PREFIX)
    return app


__all__ = ["API_PREFIX", "create_app", "utc_now"]
