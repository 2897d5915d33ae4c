"""``/v1/contacts``: reserve, describe, list, change and cancel contacts, and their history.

Double booking is refused by :mod:`groundlink.services.booking` (and the
database): a conflict is a 409 ``contact_conflict`` naming the contact in the
way (when the caller owns it) and both time ranges. A change
(``PATCH``) carries the ``version`` the caller read (optimistic locking); the
history (``/events``) is the contact's audit log, status changes made by the
clock (:mod:`groundlink.services.lifecycle`) included.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from groundlink.adapters.db import write_transaction
from groundlink.adapters.db.models import Contact
from groundlink.api.auth import Booker, NowDep, Principal, Reader, SessionDep
from groundlink.api.idempotency import IdempotencyHeader, create_once, fingerprint, remember
from groundlink.api.routes import available
from groundlink.api.schemas import (
    ContactCreate,
    ContactEventOut,
    ContactEventsOut,
    ContactOut,
    ContactPageOut,
    ContactPrediction,
    ContactUpdate,
    UTCTime,
)
from groundlink.contacts.states import ContactStatus
from groundlink.errors import InvalidInput
from groundlink.services import booking, lifecycle
from groundlink.services.batching import Batcher

router = APIRouter(prefix="/contacts", tags=["contacts"])


def contact_out(row: Contact) -> ContactOut:
    """A stored contact as the API shows it."""
    return ContactOut(
        id=row.id,
        spacecraft_id=row.spacecraft_id,
        antenna_id=row.antenna_id,
        mission_profile_id=row.mission_profile_id,
        status=ContactStatus(row.status),
        aos=row.aos,
        tca=row.tca,
        los=row.los,
        reserved_start=row.reserved_start,
        reserved_end=row.reserved_end,
        max_elevation_deg=row.max_elevation_deg,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        prediction=(
            None if row.prediction is None else ContactPrediction.model_validate(row.prediction)
        ),
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def reserve_contact(
    body: ContactCreate,
    principal: Booker,
    session: SessionDep,
    now: NowDep,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> ContactOut:
    """Reserve a pass of a spacecraft on an antenna; 409 if the antenna or spacecraft is taken.

    The pass is given by ``antenna_id``, ``aos`` and ``los``, or by an
    ``available_contact_id`` from ``GET /v1/contacts/available``.

    With an ``Idempotency-Key``, a retry of a reservation that succeeded
    returns it (a concurrent duplicate is refused by the booking rule itself).
    """
    # Reservations are booked in batches with those other requests ask for meanwhile
    # (group commit: services.batching). The common case, a pass given by its times and no
    # key, needs no other database work and waits for its batch on the event loop.
    batcher: Batcher[booking.Reservation, Contact] = request.app.state.reservations
    if body.available_contact_id is None and idempotency_key is None:
        wanted = _reservation_by_times(body)
        reservation = booking.Reservation(principal.tenant_id, wanted, now, principal.key_id)
        return contact_out(await asyncio.wrap_future(batcher.submit(reservation)))
    return await run_in_threadpool(
        _reserve, body, principal, session, now, request.url.path, idempotency_key, batcher
    )


def _reserve(
    body: ContactCreate,
    principal: Principal,
    session: Session,
    now: datetime,
    path: str,
    idempotency_key: str | None,
    batcher: Batcher[booking.Reservation, Contact],
) -> ContactOut:
    tenant = principal.tenant_id
    print_ = "" if idempotency_key is None else fingerprint("POST", path, body)

    def reserve() -> ContactOut:
        if body.available_contact_id is None:
            wanted = _reservation_by_times(body)
        else:
            wanted = _reservation_of_offer(body, body.available_contact_id, tenant, session, now)
        reservation = booking.Reservation(tenant, wanted, now, principal.key_id)
        result = contact_out(batcher.submit(reservation).result())
        # The booking commits in its own transaction (retried on deadlocks); the key after it.
        if idempotency_key is not None:
            with write_transaction(session):
                remember(session, tenant, idempotency_key, print_, now, result)
        return result

    return create_once(session, tenant, idempotency_key, print_, ContactOut, reserve)


def _reservation_by_times(body: ContactCreate) -> booking.ReservationRequest:
    """The reservation ``body`` asks for by its antenna and times."""
    for name in ("antenna_id", "aos", "los"):
        if getattr(body, name) is None:
            raise InvalidInput(name, None, "a value (or available_contact_id instead)")
    assert body.antenna_id is not None and body.aos is not None and body.los is not None
    return booking.ReservationRequest(
        spacecraft_id=body.spacecraft_id,
        antenna_id=body.antenna_id,
        aos=body.aos,
        los=body.los,
        tca=body.tca,
        max_elevation_deg=body.max_elevation_deg,
        mission_profile_id=body.mission_profile_id,
        prepass_s=body.prepass_s,
        postpass_s=body.postpass_s,
    )


def _reservation_of_offer(
    body: ContactCreate, offer_id: str, tenant_id: str, session: Session, now: datetime
) -> booking.ReservationRequest:
    """The reservation of the available contact ``offer_id`` that ``body`` names."""
    given = {
        "antenna_id": body.antenna_id,
        "aos": body.aos,
        "los": body.los,
        "tca": body.tca,
        "max_elevation_deg": body.max_elevation_deg,
    }
    for name, value in given.items():
        if value is not None:
            raise InvalidInput(
                name, str(value), "no value: available_contact_id gives the antenna and times"
            )
    offer = available.resolve_available_contact(
        session, tenant_id, offer_id, body.spacecraft_id, body.mission_profile_id, now
    )
    # Hold the antenna over the span the listing showed (its profile's pre/post-pass).
    prepass_s = round((offer.aos - offer.reserved_start).total_seconds())
    postpass_s = round((offer.reserved_end - offer.los).total_seconds())
    return booking.ReservationRequest(
        spacecraft_id=body.spacecraft_id,
        antenna_id=offer.antenna_id,
        aos=offer.aos,
        los=offer.los,
        tca=offer.tca,
        max_elevation_deg=offer.max_elevation_deg,
        mission_profile_id=body.mission_profile_id,
        prepass_s=prepass_s if body.prepass_s is None else body.prepass_s,
        postpass_s=postpass_s if body.postpass_s is None else body.postpass_s,
    )


@router.get("")
def list_contacts(
    principal: Reader,
    session: SessionDep,
    status_: Annotated[list[ContactStatus] | None, Query(alias="status")] = None,
    spacecraft_id: Annotated[str | None, Query(max_length=40)] = None,
    station_id: Annotated[str | None, Query(max_length=40)] = None,
    antenna_id: Annotated[str | None, Query(max_length=40)] = None,
    start: Annotated[UTCTime | None, Query(description="keep passes ending after")] = None,
    end: Annotated[UTCTime | None, Query(description="keep passes starting before")] = None,
    max_results: Annotated[int, Query(ge=1, le=booking.MAX_PAGE_SIZE)] = 50,
    next_token: Annotated[str | None, Query(max_length=1000)] = None,
) -> ContactPageOut:
    """The tenant's contacts by AOS, filtered, a page at a time (``next_token``)."""
    filters = booking.ContactFilters(
        statuses=frozenset(status_) if status_ else None,
        spacecraft_id=spacecraft_id,
        station_id=station_id,
        antenna_id=antenna_id,
        window_start=start,
        window_end=end,
    )
    page = booking.list_contacts(session, principal.tenant_id, filters, next_token, max_results)
    return ContactPageOut(
        items=[contact_out(row) for row in page.items], next_token=page.next_cursor
    )


@router.get("/{contact_id}")
def get_contact(contact_id: str, principal: Reader, session: SessionDep) -> ContactOut:
    """One contact of the tenant."""
    return contact_out(booking.get_contact(session, principal.tenant_id, contact_id))


@router.patch("/{contact_id}")
def update_contact(
    contact_id: str, body: ContactUpdate, principal: Booker, session: SessionDep, now: NowDep
) -> ContactOut:
    """Move a SCHEDULED contact's pass to new times, until its lock time (15 min before start).

    ``version`` must be the contact's current version: 409 ``stale_version``
    (naming both) if it has changed since you read it, 409
    ``locked_for_changes`` (naming the lock time) past the lock time or once
    the contact is no longer SCHEDULED, 409 ``contact_conflict`` if the new
    times are taken. Pre-pass and post-pass keep their length. Returns the
    contact with its version one higher.
    """
    changes = booking.ContactChanges(
        aos=body.aos, los=body.los, tca=body.tca, max_elevation_deg=body.max_elevation_deg
    )
    if changes == booking.ContactChanges():
        raise InvalidInput("aos", None, "at least one of aos, los, tca, max_elevation_deg")
    row = booking.update_contact(
        session,
        principal.tenant_id,
        contact_id,
        changes,
        body.version,
        now,
        api_key_id=principal.key_id,
    )
    return contact_out(row)


@router.get("/{contact_id}/events")
def contact_events(contact_id: str, principal: Reader, session: SessionDep) -> ContactEventsOut:
    """The contact's history, oldest first: reserved, updated, status changes, cancelled."""
    events = lifecycle.contact_events(session, principal.tenant_id, contact_id)
    items = [
        ContactEventOut.model_validate(
            {
                "at": event.at,
                "action": event.action,
                "from": event.from_status,
                "to": event.to_status,
                "api_key_id": event.api_key_id,
                "detail": event.detail,
            }
        )
        for event in events
    ]
    return ContactEventsOut(contact_id=contact_id, items=items)


@router.delete("/{contact_id}")
def cancel_contact(
    contact_id: str, principal: Booker, session: SessionDep, now: NowDep
) -> ContactOut:
    """Cancel a contact that has not begun; returns it, CANCELLED."""
    row = booking.cancel_contact(
        session, principal.tenant_id, contact_id, now, api_key_id=principal.key_id
    )
    return contact_out(row)
