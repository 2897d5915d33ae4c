"""``/v1/schedules``: let the network plan contacts for what a fleet needs, then book the plan.

An operator says what each spacecraft needs per day (contacts, seconds or
bytes, with durations, a priority 1-5, stations to use or avoid) over a
window of up to 7 days; the job (see :mod:`groundlink.api.schedule_jobs`)
plans it over the contacts the network can offer and reports value, an upper
bound on any plan's value, the gap, each tenant's share and why any request
was not fully served. A plan is a dry run until it is committed (``commit``
in the body, or ``POST /v1/schedules/{id}/commit``): then every contact is
booked through the same path as ``POST /v1/contacts``.

A key with the ``admin`` scope (a network administrator) may plan spacecraft
of every tenant at once: the fairness rule then shares the network between
tenants, and committing books each contact for the spacecraft's owner.

With ``"mode": "repair"`` the job re-plans the contacts booked in the window
for the requests' spacecraft instead (after a maintenance window, or an
ephemeris update), changing as few as possible: the plan says which are kept,
moved, dropped and added (``plan.repair``), and committing applies those
changes through the booking service, each reported done or refused.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from sqlalchemy import select

from groundlink.adapters.db import write_transaction
from groundlink.adapters.db.models import GroundStationRow, ScheduleRow
from groundlink.adapters.db.models import Spacecraft as SpacecraftRow
from groundlink.api.auth import Booker, NowDep, Principal, Reader, SessionDep
from groundlink.api.errors import ApiError
from groundlink.api.routes._common import audit
from groundlink.api.routes.mission_profiles import owned_profile
from groundlink.api.schedule_jobs import ScheduleRunner, claim_and_commit, stored_spec
from groundlink.api.schemas import CommitOut, PlanOut, ScheduleCreate, ScheduleOut
from groundlink.contacts.conflicts import iso_z
from groundlink.errors import InvalidInput
from groundlink.services.availability import MAX_WINDOW
from groundlink.services.errors import NotFound

router = APIRouter(prefix="/schedules", tags=["schedules"])


def _out(row: ScheduleRow) -> ScheduleOut:
    return ScheduleOut(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]
        stage=row.stage,
        progress=row.progress,
        created_at=row.created_at,
        updated_at=row.updated_at,
        error=row.error,
        plan=None if row.result is None else PlanOut.model_validate(row.result),
        committed_at=row.committed_at,
        commit=None if row.commit_result is None else CommitOut.model_validate(row.commit_result),
    )


def _check(body: ScheduleCreate) -> None:
    if body.end <= body.start:
        raise InvalidInput("end", iso_z(body.end), f"a time after start ({iso_z(body.start)})")
    if body.end - body.start > MAX_WINDOW:
        raise InvalidInput("end", iso_z(body.end), f"at most {MAX_WINDOW.days} days after start")
    for i, wanted in enumerate(body.requests):
        given = [
            name
            for name in ("contacts_per_day", "seconds_per_day", "bytes_per_day")
            if getattr(wanted, name) is not None
        ]
        if len(given) != 1:
            raise InvalidInput(
                f"requests.{i}",
                ", ".join(given) or "none",
                "exactly one of contacts_per_day, seconds_per_day, bytes_per_day",
            )
        if wanted.max_duration_s is not None and wanted.max_duration_s < wanted.min_duration_s:
            raise InvalidInput(
                f"requests.{i}.max_duration_s",
                wanted.max_duration_s,
                f"at least min_duration_s ({wanted.min_duration_s})",
            )
        if wanted.earliest and wanted.latest and wanted.latest <= wanted.earliest:
            raise InvalidInput(
                f"requests.{i}.latest",
                iso_z(wanted.latest),
                f"a time after earliest ({iso_z(wanted.earliest)})",
            )


def _owners(session: SessionDep, principal: Principal, body: ScheduleCreate) -> dict[str, str]:
    """Spacecraft id -> owner tenant, for every spacecraft the body names (404 if not visible)."""
    wanted = sorted({r.spacecraft_id for r in body.requests})
    query = select(SpacecraftRow.id, SpacecraftRow.tenant_id).where(SpacecraftRow.id.in_(wanted))
    if "admin" not in principal.scopes:
        query = query.where(SpacecraftRow.tenant_id == principal.tenant_id)
    owners = {craft_id: tenant_id for craft_id, tenant_id in session.execute(query)}
    for craft_id in wanted:
        if craft_id not in owners:
            raise NotFound("spacecraft", craft_id)
    stations = set(body.station_ids)
    for r in body.requests:
        stations |= set(r.station_ids) | set(r.excluded_station_ids)
    if stations:
        known = set(
            session.scalars(select(GroundStationRow.id).where(GroundStationRow.id.in_(stations)))
        )
        for station_id in sorted(stations - known):
            raise NotFound("ground_station", station_id)
    return owners


def _runner(request: Request) -> ScheduleRunner:
    runner: ScheduleRunner = request.app.state.schedule_runner
    return runner


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def create_schedule(
    body: ScheduleCreate,
    principal: Booker,
    session: SessionDep,
    now: NowDep,
    request: Request,
) -> ScheduleOut:
    """Start a plan or a repair: 202 with the job (``queued``); poll ``GET /v1/schedules/{id}``.

    404 for a spacecraft, station or mission profile the caller cannot see;
    422 for a reversed window, one longer than 7 days, or a request with
    not exactly one of ``contacts_per_day``/``seconds_per_day``/``bytes_per_day``.
    """
    _check(body)
    with write_transaction(session):
        owners = _owners(session, principal, body)
        if body.mission_profile_id is not None:
            owned_profile(session, principal.tenant_id, body.mission_profile_id)
        row = ScheduleRow(
            tenant_id=principal.tenant_id,
            api_key_id=principal.key_id,
            status="queued",
            stage="queued",
            progress=0.0,
            spec=stored_spec(body, owners),
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        audit(session, now, principal, "schedule.created", "schedule", row.id)
        result = _out(row)
    _runner(request).submit(row.id)
    return result


def _owned(session: SessionDep, tenant_id: str, schedule_id: str) -> ScheduleRow:
    row = session.get(ScheduleRow, schedule_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("schedule", schedule_id)
    return row


@router.get("/{schedule_id}")
def get_schedule(schedule_id: str, principal: Reader, session: SessionDep) -> ScheduleOut:
    """The job: its status, stage and progress; the plan when done; the booking when committed."""
    with session.begin():
        return _out(_owned(session, principal.tenant_id, schedule_id))


@router.get("")
def list_schedules(principal: Reader, session: SessionDep) -> list[ScheduleOut]:
    """The tenant's 50 newest planning jobs, newest first."""
    with session.begin():
        rows = session.scalars(
            select(ScheduleRow)
            .where(ScheduleRow.tenant_id == principal.tenant_id)
            .order_by(ScheduleRow.created_at.desc(), ScheduleRow.id)
            .limit(50)
        )
        return [_out(row) for row in rows]


@router.post("/{schedule_id}/commit")
def commit_schedule(
    schedule_id: str, principal: Booker, session: SessionDep, now: NowDep
) -> ScheduleOut:
    """Book the plan through the booking service; 409 if not ready or committed already.

    Contacts taken meanwhile (or no longer allowed) are refused one by one
    and listed in ``commit.refused`` with the booking error; the rest are booked.
    A repair's moves, drops and adds are listed in ``commit.changes``, each
    done or refused with the booking error.
    """
    with session.begin():
        row = _owned(session, principal.tenant_id, schedule_id)
        state = row.status
    if state != "succeeded":
        raise ApiError(
            409, "schedule_not_ready", f"schedule {schedule_id!r} is {state}, not succeeded"
        )
    result = claim_and_commit(session, schedule_id, now, principal.key_id)
    if result is None:
        raise ApiError(409, "schedule_committed", f"schedule {schedule_id!r} is committed already")
    with write_transaction(session):
        audit(
            session,
            now,
            principal,
            "schedule.committed",
            "schedule",
            schedule_id,
            {"booked": len(result.booked), "refused": len(result.refused)},
        )
    with session.begin():
        return _out(_owned(session, principal.tenant_id, schedule_id))
