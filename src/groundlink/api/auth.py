"""API keys: ``Authorization: Bearer gl_<prefix>_<secret>``, stored as SHA-256, scoped.

A key is ``gl_`` + a 12-hex-digit public prefix + ``_`` + a 43-character
random secret (32 bytes, base64url). The row is found by its prefix; the
SHA-256 of the whole key is compared in constant time. A revoked key is
refused from the instant ``revoked_at`` is written: every request reads the
row again (nothing is cached).

Scopes: ``read`` (see), ``book`` (create, change, delete the tenant's
objects), ``admin`` (manage the shared network of ground stations).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from groundlink.adapters.db import one_read
from groundlink.adapters.db.models import ApiKey, Tenant
from groundlink.api.errors import ApiError
from groundlink.errors import InvalidInput
from groundlink.services.batching import Batcher

#: Every scope a key may hold.
SCOPES: tuple[str, ...] = ("read", "book", "admin")
_KEY_PREFIX = "gl"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(scopes))
    for scope in chosen:
        if scope not in SCOPES:
            raise InvalidInput("scopes", scope, f"one of {', '.join(SCOPES)}")
    if not chosen:
        raise InvalidInput("scopes", "[]", f"at least one of {', '.join(SCOPES)}")
    return chosen


def issue_key(
    session: Session, tenant_id: str, name: str, scopes: Iterable[str], now: datetime
) -> tuple[ApiKey, str]:
    """Add a new key for ``tenant_id`` to ``session`` (not committed); return it and its text."""
    prefix = secrets.token_hex(6)
    plaintext = f"{_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        tenant_id=tenant_id,
        name=name,
        prefix=prefix,
        secret_sha256=_hash(plaintext),
        scopes=_check_scopes(scopes),
        created_at=now,
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return row, plaintext


def create_tenant_with_key(
    session: Session,
    name: str,
    scopes: Iterable[str] = ("read", "book"),
    *,
    now: datetime | None = None,
) -> tuple[str, str]:
    """Create tenant ``name`` with one API key; return ``(tenant_id, plaintext_key)``.

    The plaintext is returned once and never stored. ``session`` must not be
    in a transaction: this commits its own.
    """
    moment = now or datetime.now(UTC)
    with session.begin():
        tenant = Tenant(name=name, created_at=moment)
        session.add(tenant)
        session.flush()
        _row, plaintext = issue_key(session, tenant.id, "bootstrap", scopes, moment)
        return tenant.id, plaintext


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the tenant, the key and its scopes."""

    tenant_id: str
    key_id: str
    scopes: frozenset[str]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for one request (no transaction open), closed afterwards.

    async, so that FastAPI runs it on the event loop rather than in a worker
    thread (twice: to open and to close): making a session touches no
    database, and every transaction a route opens ends, connection returned
    to the pool, before the route returns, so closing touches none either.
    """
    sessions: sessionmaker[Session] = request.app.state.sessions
    session = sessions()
    try:
        yield session
    finally:
        session.close()


async def get_now(request: Request) -> datetime:
    """The app's clock, read once for this request (on the event loop: no thread needed)."""
    now: datetime = request.app.state.clock()
    return now


SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer gl_<prefix>_<secret>`")


#: Built once: every request runs it (building a statement costs about 0.2 ms of Python).
#: Columns, not the ORM object: loading an object costs more than the query itself.
_KEYS_BY_PREFIX = select(
    ApiKey.prefix,
    ApiKey.id,
    ApiKey.tenant_id,
    ApiKey.secret_sha256,
    ApiKey.scopes,
    ApiKey.revoked_at,
).where(ApiKey.prefix.in_(bindparam("prefixes", expanding=True)))


def key_batcher(sessions: sessionmaker[Session]) -> Batcher[str, Row[Any] | None]:
    """Finds API keys by prefix: the keys of every request that arrived meanwhile, one read.

    The answer for a prefix is its row (the columns of ``_KEYS_BY_PREFIX``)
    or ``None``. Each read sees every revocation committed before it
    (:mod:`groundlink.services.batching`).
    """

    def look_up(prefixes: Sequence[str]) -> list[Row[Any] | None]:
        with sessions() as session, one_read(session) as connection:
            rows = connection.execute(_KEYS_BY_PREFIX, {"prefixes": sorted(set(prefixes))})
            found = {row.prefix: row for row in rows}
        return [found.get(prefix) for prefix in prefixes]

    return Batcher(look_up, name="groundlink-keys")


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller of this request, from its bearer key; 401 if there is none that works.

    The key's row is read afresh for every request (a revocation takes effect
    at once), together with those of the requests that arrived meanwhile
    (``app.state.keys``, :func:`key_batcher`), while the event loop goes on.
    """
    if credentials is None:
        raise _unauthorized("send an API key: Authorization: Bearer gl_<prefix>_<secret>")
    key = credentials.credentials
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != _KEY_PREFIX or not parts[1] or not parts[2]:
        raise _unauthorized("malformed API key: expected gl_<prefix>_<secret>")
    keys: Batcher[str, Row[Any] | None] = request.app.state.keys
    row = await asyncio.wrap_future(keys.submit(parts[1]))
    if row is None or not hmac.compare_digest(row.secret_sha256, _hash(key)):
        raise _unauthorized("unknown API key")
    if row.revoked_at is not None:
        raise _unauthorized("this API key has been revoked")
    return Principal(row.tenant_id, row.id, frozenset(row.scopes))


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must hold ``scope`` (403 otherwise)."""

    # async: a check this small runs on the event loop instead of taking a worker thread.
    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if scope not in principal.scopes:
            raise ApiError(
                403,
                "forbidden",
                f"this API key lacks the {scope!r} scope",
                required_scope=scope,
            )
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require("read"))]
Booker = Annotated[Principal, Depends(require("book"))]
Admin = Annotated[Principal, Depends(require("admin"))]

__all__ = [
    "SCOPES",
    "Admin",
    "Booker",
    "NowDep",
    "Principal",
    "Reader",
    "SessionDep",
    "authenticate",
    "create_tenant_with_key",
    "get_session",
    "issue_key",
    "key_batcher",
    "require",
]
