"""Helpers the routers share: the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from groundlink.adapters.db.models import AuditRecord
from groundlink.api.auth import Principal


def audit(
    session: Session,
    now: datetime,
    principal: Principal,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit-log row (in the caller's transaction)."""
    session.add(
        AuditRecord(
            at=now,
            tenant_id=principal.tenant_id,
            api_key_id=principal.key_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail or {},
        )
    )
