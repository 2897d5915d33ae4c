"""``Idempotency-Key`` on creates: the same key and request return the first result.

The first successful create sent with a key stores its response (status 201
and body) in ``idempotency_keys``, per tenant, with a SHA-256 fingerprint of
the method, path and body. A later request with that key and the same
fingerprint gets the stored response back without creating anything; with
another fingerprint, a 422 naming the header. Only successes are stored: a
request that failed can be retried with the same key.

Where the create runs in this module's caller's transaction, the key row is
written in the same transaction, so two racing requests with one key create
one object: the loser's insert fails on the unique key and it returns the
winner's result. API keys are not idempotent: their response holds the
secret, which is never stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Header
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from groundlink.adapters.db.models import IdempotencyKey
from groundlink.errors import InvalidInput

_M = TypeVar("_M", bound=BaseModel)

#: The header, as a route parameter.
IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Send the same key again to get the first result instead of a duplicate.",
    ),
]


def fingerprint(method: str, path: str, body: BaseModel) -> str:
    """SHA-256 of the method, the path and the body's canonical JSON."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def replayed(
    session: Session, tenant_id: str, key: str | None, request_fingerprint: str, model: type[_M]
) -> _M | None:
    """The stored result for ``key``, or ``None`` if there is none (or no key).

    Raises:
        InvalidInput: the key was used with another request.
    """
    if key is None:
        return None
    query = select(IdempotencyKey).where(
        IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.key == key
    )
    with session.begin():
        row = session.scalars(query).one_or_none()
    if row is None:
        return None
    if row.request_fingerprint != request_fingerprint:
        raise InvalidInput(
            "Idempotency-Key", key, "a new key: this one was used with a different request"
        )
    return model.model_validate(row.response_body)


def create_once(
    session: Session,
    tenant_id: str,
    key: str | None,
    request_fingerprint: str,
    model: type[_M],
    create: Callable[[], _M],
    conflict: Callable[[IntegrityError], Exception] | None = None,
) -> _M:
    """Run ``create`` unless ``key`` already has a result; return that result otherwise.

    ``create`` stores the key in its own transaction (:func:`remember`): when
    two requests with one key race, the loser's insert fails and it returns
    the winner's result. Any other integrity error becomes ``conflict(error)``
    (re-raised as it is without one).
    """
    first = replayed(session, tenant_id, key, request_fingerprint, model)
    if first is not None:
        return first
    try:
        return create()
    except IntegrityError as error:
        first = replayed(session, tenant_id, key, request_fingerprint, model)
        if first is not None:
            return first
        if conflict is None:
            raise
        raise conflict(error) from error


def remember(
    session: Session,
    tenant_id: str,
    key: str | None,
    request_fingerprint: str,
    now: datetime,
    result: BaseModel,
) -> None:
    """Add the result of a create under ``key`` to ``session``'s transaction (no key: nothing)."""
    if key is None:
        return
    session.add(
        IdempotencyKey(
            tenant_id=tenant_id,
            key=key,
            request_fingerprint=request_fingerprint,
            response_status=201,
            response_body=result.model_dump(mode="json"),
            created_at=now,
        )
    )
    session.flush()


__all__ = ["IdempotencyHeader", "create_once", "fingerprint", "remember", "replayed"]
