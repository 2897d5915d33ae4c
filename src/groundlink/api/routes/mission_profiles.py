"""``/v1/mission-profiles``: a tenant's mission profiles (AWS's word; Azure: contact profiles).

A profile says what a contact must satisfy (minimum elevation, minimum
viable duration), how long the antenna is held around it (pre-pass and
post-pass, 0-21600 s, as AWS), how it tracks, which links and bands it uses
and where the data goes. A reservation copies the profile into the contact,
so editing or deleting a profile never changes a booked contact. Another
tenant's profile is a 404, exactly like one that does not exist; names are
unique per tenant (409 ``name_taken``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from groundlink.adapters.db import write_transaction
from groundlink.adapters.db.models import MissionProfile
from groundlink.api.auth import Booker, NowDep, Principal, Reader, SessionDep
from groundlink.api.errors import ApiError
from groundlink.api.idempotency import IdempotencyHeader, create_once, fingerprint, remember
from groundlink.api.routes._common import audit
from groundlink.api.schemas import (
    DataflowEndpoint,
    MissionProfileCreate,
    MissionProfileOut,
    MissionProfileUpdate,
    ProfileLink,
    TrackingConfig,
)
from groundlink.errors import InvalidInput
from groundlink.services.errors import NotFound

router = APIRouter(prefix="/mission-profiles", tags=["mission profiles"])

_NOT_NULL = (
    "name",
    "min_elevation_deg",
    "min_viable_contact_duration_s",
    "prepass_s",
    "postpass_s",
    "tracking_config",
    "links",
)


def owned_profile(session: Session, tenant_id: str, profile_id: str) -> MissionProfile:
    """The tenant's profile ``profile_id``; :class:`NotFound` otherwise (another tenant's too)."""
    row = session.get(MissionProfile, profile_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("mission profile", profile_id)
    return row


def _out(row: MissionProfile) -> MissionProfileOut:
    return MissionProfileOut(
        id=row.id,
        name=row.name,
        min_elevation_deg=row.min_elevation_deg,
        min_viable_contact_duration_s=row.min_viable_contact_duration_s,
        prepass_s=row.prepass_s,
        postpass_s=row.postpass_s,
        tracking_config=TrackingConfig.model_validate(row.tracking_config),
        links=[ProfileLink.model_validate(link) for link in row.links],
        dataflow_endpoint=(
            DataflowEndpoint.model_validate(row.dataflow_endpoint)
            if row.dataflow_endpoint
            else None
        ),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _columns(body: MissionProfileCreate | MissionProfileUpdate, fields: set[str]) -> dict[str, Any]:
    """The stored form of the ``fields`` of ``body`` (JSON columns as plain JSON)."""
    values = body.model_dump(mode="json", include=fields)
    if "dataflow_endpoint" in values and values["dataflow_endpoint"] is None:
        values["dataflow_endpoint"] = {}
    return values


def _name_taken(name: str | None) -> ApiError:
    return ApiError(409, "name_taken", f"a mission profile named {name!r} exists already")


@router.post("", status_code=status.HTTP_201_CREATED)
def create_mission_profile(
    body: MissionProfileCreate,
    principal: Booker,
    session: SessionDep,
    now: NowDep,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> MissionProfileOut:
    """Create a mission profile; 409 ``name_taken`` if the tenant has one of that name."""
    print_ = fingerprint("POST", request.url.path, body)
    return create_once(
        session,
        principal.tenant_id,
        idempotency_key,
        print_,
        MissionProfileOut,
        lambda: _create(body, principal, session, now, idempotency_key, print_),
        conflict=lambda _error: _name_taken(body.name),
    )


def _create(
    body: MissionProfileCreate,
    principal: Principal,
    session: Session,
    now: datetime,
    idempotency_key: str | None,
    print_: str,
) -> MissionProfileOut:
    with write_transaction(session):
        row = MissionProfile(
            tenant_id=principal.tenant_id,
            created_at=now,
            updated_at=now,
            **_columns(body, set(MissionProfileCreate.model_fields)),
        )
        session.add(row)
        session.flush()
        audit(session, now, principal, "mission_profile.created", "mission_profile", row.id)
        result = _out(row)
        remember(session, principal.tenant_id, idempotency_key, print_, now, result)
        return result


@router.get("")
def list_mission_profiles(principal: Reader, session: SessionDep) -> list[MissionProfileOut]:
    """The tenant's mission profiles, oldest first."""
    query = (
        select(MissionProfile)
        .where(MissionProfile.tenant_id == principal.tenant_id)
        .order_by(MissionProfile.created_at, MissionProfile.id)
    )
    with session.begin():
        return [_out(row) for row in session.scalars(query)]


@router.get("/{profile_id}")
def get_mission_profile(
    profile_id: str, principal: Reader, session: SessionDep
) -> MissionProfileOut:
    """One mission profile of the tenant."""
    with session.begin():
        return _out(owned_profile(session, principal.tenant_id, profile_id))


@router.patch("/{profile_id}")
def update_mission_profile(
    profile_id: str,
    body: MissionProfileUpdate,
    principal: Booker,
    session: SessionDep,
    now: NowDep,
) -> MissionProfileOut:
    """Change the fields sent (booked contacts keep the profile they were booked with)."""
    changes = body.model_dump(exclude_unset=True)
    for name in _NOT_NULL:
        if name in changes and changes[name] is None:
            raise InvalidInput(name, None, "a value (this field cannot be null)")
    try:
        with write_transaction(session):
            row = owned_profile(session, principal.tenant_id, profile_id)
            for name, value in _columns(body, set(changes)).items():
                setattr(row, name, value)
            row.updated_at = now
            session.flush()
            audit(
                session,
                now,
                principal,
                "mission_profile.updated",
                "mission_profile",
                row.id,
                {"fields": sorted(changes)},
            )
            return _out(row)
    except IntegrityError as error:
        raise _name_taken(body.name) from error


@router.delete("/{profile_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_mission_profile(
    profile_id: str, principal: Booker, session: SessionDep, now: NowDep
) -> Response:
    """Delete a mission profile (contacts booked with it keep their snapshot of it)."""
    with write_transaction(session):
        row = owned_profile(session, principal.tenant_id, profile_id)
        session.delete(row)
        audit(session, now, principal, "mission_profile.deleted", "mission_profile", profile_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
