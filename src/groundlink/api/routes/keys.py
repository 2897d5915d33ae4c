"""``/v1/keys``: a tenant's API keys. Create (the key is shown once), list, revoke.

A key can only grant scopes it holds itself, and only revoke keys whose
scopes it holds: a ``read`` key cannot mint or remove a ``book`` key.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from groundlink.adapters.db import write_transaction
from groundlink.adapters.db.models import ApiKey
from groundlink.api.auth import NowDep, Principal, Reader, SessionDep, issue_key
from groundlink.api.errors import ApiError
from groundlink.api.routes._common import audit
from groundlink.api.schemas import KeyCreate, KeyCreated, KeyOut
from groundlink.services.errors import NotFound

router = APIRouter(prefix="/keys", tags=["keys"])


def _out(row: ApiKey) -> KeyOut:
    return KeyOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=list(row.scopes),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _require_all(principal: Principal, scopes: list[str], what: str) -> None:
    missing = sorted(set(scopes) - principal.scopes)
    if missing:
        raise ApiError(
            403,
            "forbidden",
            f"this API key cannot {what} scopes it does not hold: {', '.join(missing)}",
            missing_scopes=missing,
        )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, principal: Reader, session: SessionDep, now: NowDep) -> KeyCreated:
    """Create a key for the caller's tenant; the response holds the whole key, once."""
    _require_all(principal, list(body.scopes), "grant")
    with write_transaction(session):
        row, plaintext = issue_key(session, principal.tenant_id, body.name, body.scopes, now)
        audit(session, now, principal, "key.created", "api_key", row.id, {"scopes": row.scopes})
    return KeyCreated(key=plaintext, **_out(row).model_dump())


@router.get("")
def list_keys(principal: Reader, session: SessionDep) -> list[KeyOut]:
    """The tenant's keys, revoked ones included, oldest first (no secrets)."""
    query = (
        select(ApiKey)
        .where(ApiKey.tenant_id == principal.tenant_id)
        .order_by(ApiKey.created_at, ApiKey.id)
    )
    with session.begin():
        return [_out(row) for row in session.scalars(query)]


@router.delete("/{key_id}")
def revoke_key(key_id: str, principal: Reader, session: SessionDep, now: NowDep) -> KeyOut:
    """Revoke a key: refused from now on. Revoking a revoked key changes nothing."""
    with write_transaction(session):
        row = session.get(ApiKey, key_id)
        if row is None or row.tenant_id != principal.tenant_id:
            raise NotFound("api_key", key_id)
        _require_all(principal, list(row.scopes), "revoke")
        if row.revoked_at is None:
            row.revoked_at = now
            audit(session, now, principal, "key.revoked", "api_key", row.id)
    return _out(row)
