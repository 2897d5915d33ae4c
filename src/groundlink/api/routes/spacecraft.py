"""``/v1/spacecraft``: a tenant's spacecraft, their RF links and their ephemerides.

Another tenant's spacecraft is a 404, exactly like one that does not exist.
Ephemerides are uploads of one element set (TLE or OMM), numbered from 1 per
spacecraft; a bad record is a 422 naming the field and the line. An upload
that becomes the ephemeris in use re-predicts the spacecraft's booked
contacts in the same transaction (:mod:`groundlink.services.reprediction`)
and lists how each fits in ``affected_contacts``; contacts are flagged, never
moved or cancelled.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from groundlink.adapters.db import write_transaction
from groundlink.adapters.db.models import ACTIVE_STATUSES, Contact, Ephemeris, RfLink, Spacecraft
from groundlink.api.auth import Booker, NowDep, Principal, Reader, SessionDep
from groundlink.api.errors import ApiError
from groundlink.api.idempotency import IdempotencyHeader, create_once, fingerprint, remember
from groundlink.api.routes._common import audit
from groundlink.api.schemas import (
    ContactFitOut,
    EphemerisCreate,
    EphemerisOut,
    EphemerisUploadOut,
    RfLinkIn,
    RfLinkOut,
    SpacecraftCreate,
    SpacecraftOut,
    SpacecraftUpdate,
)
from groundlink.errors import InvalidInput
from groundlink.orbits.elements import parse_utc
from groundlink.orbits.ingest import parse_elements
from groundlink.services import reprediction
from groundlink.services.errors import NotFound

router = APIRouter(prefix="/spacecraft", tags=["spacecraft"])


def _owned(session: Session, tenant_id: str, spacecraft_id: str) -> Spacecraft:
    row = session.get(Spacecraft, spacecraft_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("spacecraft", spacecraft_id)
    return row


def _links(session: Session, spacecraft_id: str) -> list[RfLink]:
    query = select(RfLink).where(RfLink.spacecraft_id == spacecraft_id).order_by(RfLink.id)
    return list(session.scalars(query))


def _out(row: Spacecraft, links: list[RfLink]) -> SpacecraftOut:
    return SpacecraftOut(
        id=row.id,
        name=row.name,
        norad_id=row.norad_id,
        max_simultaneous_contacts=row.max_simultaneous_contacts,
        rf_links=[
            RfLinkOut(
                id=link.id,
                direction=link.direction,  # type: ignore[arg-type]
                center_frequency_hz=link.center_frequency_hz,
                bandwidth_hz=link.bandwidth_hz,
                polarization=link.polarization,  # type: ignore[arg-type]
                eirp_dbw=link.eirp_dbw,
                data_rate_bps=link.data_rate_bps,
            )
            for link in links
        ],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _add_links(session: Session, spacecraft_id: str, links: list[RfLinkIn]) -> None:
    session.add_all(RfLink(spacecraft_id=spacecraft_id, **link.model_dump()) for link in links)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_spacecraft(
    body: SpacecraftCreate,
    principal: Booker,
    session: SessionDep,
    now: NowDep,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> SpacecraftOut:
    """Register a spacecraft with its RF links."""
    print_ = fingerprint("POST", request.url.path, body)
    return create_once(
        session,
        principal.tenant_id,
        idempotency_key,
        print_,
        SpacecraftOut,
        lambda: _create_spacecraft(body, principal, session, now, idempotency_key, print_),
    )


def _create_spacecraft(
    body: SpacecraftCreate,
    principal: Principal,
    session: Session,
    now: datetime,
    idempotency_key: str | None,
    print_: str,
) -> SpacecraftOut:
    with write_transaction(session):
        row = Spacecraft(
            tenant_id=principal.tenant_id,
            name=body.name,
            norad_id=body.norad_id,
            max_simultaneous_contacts=body.max_simultaneous_contacts,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        _add_links(session, row.id, body.rf_links)
        session.flush()
        audit(session, now, principal, "spacecraft.created", "spacecraft", row.id)
        result = _out(row, _links(session, row.id))
        remember(session, principal.tenant_id, idempotency_key, print_, now, result)
        return result


@router.get("")
def list_spacecraft(principal: Reader, session: SessionDep) -> list[SpacecraftOut]:
    """The tenant's spacecraft, oldest first."""
    query = (
        select(Spacecraft)
        .where(Spacecraft.tenant_id == principal.tenant_id)
        .order_by(Spacecraft.created_at, Spacecraft.id)
    )
    with session.begin():
        rows = list(session.scalars(query))
        links: dict[str, list[RfLink]] = {row.id: [] for row in rows}
        if rows:
            link_query = (
                select(RfLink).where(RfLink.spacecraft_id.in_(list(links))).order_by(RfLink.id)
            )
            for link in session.scalars(link_query):
                links[link.spacecraft_id].append(link)
        return [_out(row, links[row.id]) for row in rows]


@router.get("/{spacecraft_id}")
def get_spacecraft(spacecraft_id: str, principal: Reader, session: SessionDep) -> SpacecraftOut:
    """One spacecraft of the tenant."""
    with session.begin():
        row = _owned(session, principal.tenant_id, spacecraft_id)
        return _out(row, _links(session, row.id))


@router.patch("/{spacecraft_id}")
def update_spacecraft(
    spacecraft_id: str,
    body: SpacecraftUpdate,
    principal: Booker,
    session: SessionDep,
    now: NowDep,
) -> SpacecraftOut:
    """Change the fields sent; ``rf_links``, when sent, replaces every link."""
    changes = body.model_dump(exclude_unset=True)
    for name in ("name", "max_simultaneous_contacts", "rf_links"):
        if name in changes and changes[name] is None:
            raise InvalidInput(name, None, "a value (this field cannot be null)")
    with write_transaction(session):
        row = _owned(session, principal.tenant_id, spacecraft_id)
        for name in ("name", "norad_id", "max_simultaneous_contacts"):
            if name in changes:
                setattr(row, name, changes[name])
        if body.rf_links is not None:
            session.execute(delete(RfLink).where(RfLink.spacecraft_id == row.id))
            _add_links(session, row.id, body.rf_links)
        row.updated_at = now
        session.flush()
        audit(
            session,
            now,
            principal,
            "spacecraft.updated",
            "spacecraft",
            row.id,
            {"fields": sorted(changes)},
        )
        return _out(row, _links(session, row.id))


@router.delete("/{spacecraft_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_spacecraft(
    spacecraft_id: str, principal: Booker, session: SessionDep, now: NowDep
) -> Response:
    """Delete a spacecraft with no active contacts (cancel them first: 409 otherwise)."""
    active = [s.value for s in ACTIVE_STATUSES]
    with write_transaction(session):
        row = _owned(session, principal.tenant_id, spacecraft_id)
        booked = session.scalars(
            select(Contact.id)
            .where(Contact.spacecraft_id == row.id, Contact.status.in_(active))
            .limit(5)
        ).all()
        if booked:
            raise ApiError(
                409,
                "spacecraft_has_contacts",
                f"spacecraft {row.id} has active contacts; cancel them first",
                contact_ids=list(booked),
            )
        session.delete(row)
        audit(session, now, principal, "spacecraft.deleted", "spacecraft", spacecraft_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- ephemerides ---------------------------------------------------------------------------------


def _ephemeris_out(row: Ephemeris) -> EphemerisOut:
    return EphemerisOut(
        id=row.id,
        spacecraft_id=row.spacecraft_id,
        version=row.version,
        source_format=row.source_format,
        epoch=parse_utc(str(row.omm["EPOCH"])),
        omm=row.omm,
        priority=row.priority,
        enabled=row.enabled,
        expires_at=row.expires_at,
        created_at=row.created_at,
    )


def _parse_one(
    body: EphemerisCreate, norad_id: int | None, now: datetime
) -> tuple[dict[str, object], str]:
    report = parse_elements(body.text, source="text", fmt=body.format)
    if report.problems:
        raise report.problems[0]
    if len(report.elements) != 1:
        raise InvalidInput(
            "text", f"{len(report.elements)} element sets", "exactly one element set (TLE or OMM)"
        )
    elements = report.elements[0]
    if norad_id is not None and elements.norad_cat_id != norad_id:
        raise InvalidInput(
            "NORAD_CAT_ID", elements.norad_cat_id, f"{norad_id}, this spacecraft's norad_id"
        )
    if body.expires_at is not None and body.expires_at <= now:
        raise InvalidInput("expires_at", body.expires_at.isoformat(), "a time in the future")
    source_format = "tle" if report.fmt == "tle" else "omm"
    return elements.to_omm(), source_format


@router.post("/{spacecraft_id}/ephemerides", status_code=status.HTTP_201_CREATED)
def upload_ephemeris(
    spacecraft_id: str,
    body: EphemerisCreate,
    principal: Booker,
    session: SessionDep,
    now: NowDep,
    request: Request,
    idempotency_key: IdempotencyHeader = None,
) -> EphemerisUploadOut:
    """Upload one element set (TLE or OMM) as the spacecraft's next ephemeris version.

    If it becomes the ephemeris in use (enabled, unexpired, highest priority,
    newest), every SCHEDULED contact of the spacecraft that has not begun is
    checked against its passes: ``affected_contacts`` says for each whether
    the booked pass still ``fits``, has ``shifted`` (with the predicted AOS,
    TCA and LOS to move it to) or is ``lost``. The same goes into each
    contact's ``prediction``. Contacts are flagged, not changed: the operator
    decides.
    """
    print_ = fingerprint("POST", request.url.path, body)
    return create_once(
        session,
        principal.tenant_id,
        idempotency_key,
        print_,
        EphemerisUploadOut,
        lambda: _upload(spacecraft_id, body, principal, session, now, idempotency_key, print_),
    )


def _upload(
    spacecraft_id: str,
    body: EphemerisCreate,
    principal: Principal,
    session: Session,
    now: datetime,
    idempotency_key: str | None,
    print_: str,
) -> EphemerisUploadOut:
    with write_transaction(session):
        row = session.scalars(
            select(Spacecraft).where(Spacecraft.id == spacecraft_id).with_for_update()
        ).one_or_none()
        if row is None or row.tenant_id != principal.tenant_id:
            raise NotFound("spacecraft", spacecraft_id)
        omm, source_format = _parse_one(body, row.norad_id, now)
        latest = session.scalar(
            select(func.max(Ephemeris.version)).where(Ephemeris.spacecraft_id == row.id)
        )
        ephemeris = Ephemeris(
            spacecraft_id=row.id,
            version=(latest or 0) + 1,
            source_format=source_format,
            omm=omm,
            priority=body.priority,
            enabled=body.enabled,
            expires_at=body.expires_at,
            created_at=now,
        )
        session.add(ephemeris)
        session.flush()
        audit(
            session,
            now,
            principal,
            "ephemeris.uploaded",
            "ephemeris",
            ephemeris.id,
            {"spacecraft_id": row.id, "version": ephemeris.version},
        )
        check = reprediction.check_after_upload(
            session, ephemeris, now, api_key_id=principal.key_id
        )
        result = EphemerisUploadOut(
            **_ephemeris_out(ephemeris).model_dump(),
            in_use=check.in_use,
            affected_contacts=[_fit_out(contact) for contact in check.contacts],
        )
        remember(session, principal.tenant_id, idempotency_key, print_, now, result)
        return result


def _fit_out(contact: Contact) -> ContactFitOut:
    """A contact just checked (its ``prediction`` set), as the upload answer lists it."""
    prediction = contact.prediction
    assert prediction is not None, "repredict_contacts sets every contact it returns"
    return ContactFitOut(
        id=contact.id,
        antenna_id=contact.antenna_id,
        aos=contact.aos,
        los=contact.los,
        fit=prediction["fit"],
        predicted_aos=prediction["predicted_aos"],
        predicted_tca=prediction["predicted_tca"],
        predicted_los=prediction["predicted_los"],
    )


@router.get("/{spacecraft_id}/ephemerides")
def list_ephemerides(
    spacecraft_id: str, principal: Reader, session: SessionDep
) -> list[EphemerisOut]:
    """Every ephemeris version of the spacecraft, newest first."""
    with session.begin():
        row = _owned(session, principal.tenant_id, spacecraft_id)
        query = (
            select(Ephemeris)
            .where(Ephemeris.spacecraft_id == row.id)
            .order_by(Ephemeris.version.desc())
        )
        return [_ephemeris_out(e) for e in session.scalars(query)]
