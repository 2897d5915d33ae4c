"""Network-scheduling jobs: plan (or repair) in the background, report progress, book a plan.

``POST /v1/schedules`` stores a job (``queued``) and hands its id to a
:class:`ScheduleRunner`, whose worker thread

1. asks the network what it can offer the requests' spacecraft over the
   window (:func:`groundlink.api.routes.available.network_offer`: the same
   available contacts a listing shows, so maintenance and contacts booked
   already are respected),
2. turns that into a scheduling instance
   (:func:`groundlink.scheduling.from_available.instance_from_available`),
3. solves it (:func:`groundlink.scheduling.solve.solve`), writing the stage
   and progress (0-1) to the job's row as it goes, and
4. stores the plan; with ``commit`` it books it at once (:func:`commit_plan`).

A **repair** job (``"mode": "repair"``) takes the fleet's contacts booked in
the window as the previous plan instead (:mod:`groundlink.api.schedule_repair`):
the offer is computed as if they were free, step 3 is
:func:`groundlink.scheduling.repair.repair` (kept, moved, dropped, added),
and committing applies those changes (:func:`~.schedule_repair.commit_repair`).

Inside the scheduler a request's id is ``request {index} of {spacecraft id}``,
so that the sentences explaining an unserved request name the platform's ids.

Booking a plan goes through :func:`groundlink.services.booking.reserve_contact`
one contact at a time: the same rule and the same database guarantee as any
reservation. A contact that was taken meanwhile is refused and reported; the
others are still booked. A job interrupted by a server stop is marked
``failed`` the next time the server starts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

import numpy as np
import numpy.typing as npt
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from groundlink.adapters.db import write_transaction
from groundlink.adapters.db.models import Contact, ScheduleRow
from groundlink.adapters.db.models import MissionProfile as ProfileRow
from groundlink.api.routes.available import network_offer
from groundlink.api.schedule_repair import (
    Booked,
    booked_in_window,
    commit_repair,
    reservation_for,
    split_booked,
    untouched_out,
)
from groundlink.api.schemas import (
    CommitOut,
    MovedContactOut,
    PlannedContactOut,
    PlanOut,
    RefusedContactOut,
    RepairOut,
    ScheduleCreate,
    TenantShareOut,
    UnservedRequestOut,
)
from groundlink.errors import GroundlinkError
from groundlink.scheduling.bound import lp_bound
from groundlink.scheduling.explain import explain_unserved
from groundlink.scheduling.fairness import tenant_shares
from groundlink.scheduling.from_available import (
    PlanRequest,
    instance_from_available,
    with_booked,
)
from groundlink.scheduling.model import DemandKind, Instance, Schedule, ScheduledContact
from groundlink.scheduling.repair import repair
from groundlink.scheduling.solve import ProgressCallback, solve
from groundlink.scheduling.validate import schedule_value
from groundlink.services import booking
from groundlink.services.availability import AvailableContacts

log = logging.getLogger(__name__)

#: Seconds beyond the lock time and the solve before a planned contact may begin.
_BOOKING_MARGIN_S = 60.0
#: Least seconds between two progress writes of one job.
_PROGRESS_EVERY_S = 0.5
#: Contacts of a plan booked per transaction when it is committed.
COMMIT_BATCH = 256


def stored_spec(spec: ScheduleCreate, owners: dict[str, str]) -> dict[str, object]:
    """What a job's row keeps: the request as received and each spacecraft's owner tenant."""
    return {"request": spec.model_dump(mode="json"), "owners": owners}


def read_spec(row: ScheduleRow) -> tuple[ScheduleCreate, dict[str, str]]:
    """The request and the owners a job's row keeps (see :func:`stored_spec`)."""
    return ScheduleCreate.model_validate(row.spec["request"]), dict(row.spec["owners"])


def plan_requests(
    spec: ScheduleCreate,
    owners: dict[str, str],
    prepass_s: int,
    postpass_s: int,
    bookable_from: datetime,
) -> list[PlanRequest]:
    """The spec's requests as :class:`PlanRequest` (ids ``request 0 of sc-…``, ...; owner: tenant).

    ``owners`` maps each spacecraft id to the tenant that owns it; every
    contact holds its antenna ``prepass_s``/``postpass_s`` around the pass.
    No contact starts before ``bookable_from`` (the booking service refuses
    contacts inside their lock time, so a plan must not offer them).
    """
    requests = []
    for index, wanted in enumerate(spec.requests):
        amounts = {
            DemandKind.CONTACTS: wanted.contacts_per_day,
            DemandKind.SECONDS: wanted.seconds_per_day,
            DemandKind.BYTES: wanted.bytes_per_day,
        }
        kind, amount = next((k, a) for k, a in amounts.items() if a is not None)
        requests.append(
            PlanRequest(
                id=f"request {index} of {wanted.spacecraft_id}",
                tenant=owners[wanted.spacecraft_id],
                spacecraft_id=wanted.spacecraft_id,
                amount_per_day=amount,
                demand_kind=kind,
                min_duration_s=wanted.min_duration_s,
                max_duration_s=(
                    float("inf") if wanted.max_duration_s is None else wanted.max_duration_s
                ),
                priority=wanted.priority,
                earliest=max(wanted.earliest or bookable_from, bookable_from),
                latest=wanted.latest,
                stations=tuple(wanted.station_ids),
                excluded_stations=tuple(wanted.excluded_station_ids),
                prepass_s=prepass_s,
                postpass_s=postpass_s,
            )
        )
    return requests


@dataclass(frozen=True)
class PlanContext:
    """What turns the scheduler's contacts back into the platform's: the offer and the requests.

    ``source_rows`` maps an opportunity id to its row of ``contacts``;
    ``epoch`` is the instance's (the window's start).
    """

    contacts: AvailableContacts
    source_rows: npt.NDArray[np.int64]
    requests: list[PlanRequest]
    prepass_s: int
    postpass_s: int
    epoch: datetime

    def planned(self, chosen: ScheduledContact, contact_id: str | None = None) -> PlannedContactOut:
        """One scheduled contact as the API shows it (times in UTC, the pass's TCA if inside)."""
        row = self.contacts.row(int(self.source_rows[chosen.opportunity]))
        aos = self.epoch + timedelta(seconds=chosen.start_s)
        los = self.epoch + timedelta(seconds=chosen.end_s)
        whole = (los - aos).total_seconds()
        inside = aos <= row.tca <= los
        return PlannedContactOut(
            request_index=self._index_of(chosen.request),
            contact_id=contact_id,
            spacecraft_id=row.spacecraft_id,
            station_id=row.station_id,
            antenna_id=row.antenna_id,
            aos=aos,
            tca=row.tca if inside else None,
            los=los,
            max_elevation_deg=row.max_elevation_deg if inside else None,
            prepass_s=self.prepass_s,
            postpass_s=self.postpass_s,
            expected_volume_bytes=row.volume_bytes
            * whole
            / max((row.los - row.aos).total_seconds(), 1e-9),
        )

    def plan(
        self, schedule: Schedule, contact_ids: Mapping[ScheduledContact, str] | None = None
    ) -> PlanOut:
        """A schedule as the API shows it; ``contact_ids`` names the booked contact of some."""
        ids = contact_ids or {}
        chosen = sorted(
            (c for c in schedule.contacts if not c.fixed), key=lambda c: (c.start_s, c.resources)
        )
        by_id = {request.id: request for request in self.requests}
        return PlanOut(
            value=schedule.value,
            bound=schedule.bound,
            bound_method=schedule.bound_method,
            gap=schedule.gap,
            solve_s=schedule.solve_s,
            solver=schedule.solver,
            status=schedule.status,
            contacts=[self.planned(c, ids.get(c)) for c in chosen],
            shares=[
                TenantShareOut(
                    tenant_id=share.tenant,
                    value=share.value,
                    requested_value=share.requested_value,
                    share=share.share,
                    fair_share=share.fair_share,
                    ratio=share.ratio,
                )
                for share in schedule.shares
            ],
            unserved=[
                UnservedRequestOut(
                    request_index=self._index_of(unserved.request),
                    spacecraft_id=by_id[unserved.request].spacecraft_id,
                    served=unserved.served,
                    demand=unserved.demand,
                    unit=by_id[unserved.request].demand_kind.value,
                    reason=unserved.reason,
                    detail=unserved.detail,
                )
                for unserved in schedule.unserved
            ],
        )

    def _index_of(self, request_id: str) -> int:
        return self._request_index[request_id]

    @cached_property
    def _request_index(self) -> dict[str, int]:
        return {request.id: i for i, request in enumerate(self.requests)}


def repair_plan(
    context: PlanContext,
    instance: Instance,
    previous: list[Booked],
    untouched: list[tuple[Booked, str]],
    time_limit_s: float,
    fairness: bool,
) -> PlanOut:
    """Repair the ``previous`` contacts for ``instance``; the repaired plan and what changed.

    ``instance`` is the one of ``context``, made as if no contact of
    ``previous`` or ``untouched`` were booked; the untouched ones become
    fixed blocks. The plan's value, bound and gap are those of the repaired
    contacts; ``repair`` says kept, moved, dropped and added (module
    :mod:`groundlink.scheduling.repair`); ``time_limit_s`` caps the fill and the bound.
    The repair itself has no fairness rule; ``fairness`` (the job's) says whether the
    reasons given for unserved requests may name it, as for the plan being repaired.
    """
    began = time.perf_counter()
    instance, prior = with_booked(
        instance,
        context.source_rows,
        context.contacts,
        [b.core for b in previous],
        [b.core for b, _reason in untouched],
    )
    result = repair(instance, prior, time_limit_s=time_limit_s)
    bound = lp_bound(instance, time_limit_s=time_limit_s)
    booked_of = {_key(contact): b.out for contact, b in zip(prior, previous, strict=True)}
    contact_ids = {c: booked_of[_key(c)].contact_id for c in result.kept}
    contact_ids |= {after: booked_of[_key(before)].contact_id for before, after in result.moved}
    schedule = Schedule(
        contacts=result.contacts,
        value=schedule_value(instance, result.contacts),
        bound=bound.value,
        bound_method=bound.method,
        solver="repair",
        solve_s=time.perf_counter() - began,
        status="heuristic",
        shares=tenant_shares(instance, result.contacts),
        unserved=explain_unserved(instance, result.contacts, fairness=fairness),
    )
    plan = context.plan(schedule, contact_ids)
    plan.repair = RepairOut(
        kept=[booked_of[_key(c)] for c in result.kept],
        moved=[
            MovedContactOut(
                before=booked_of[_key(before)],
                after=context.planned(after, booked_of[_key(before)].contact_id),
            )
            for before, after in result.moved
        ],
        dropped=[booked_of[_key(c)] for c in result.dropped],
        added=[context.planned(c) for c in result.added],
        untouched=untouched_out(untouched),
        changed=result.changed,
        changed_fraction=result.changed_fraction,
    )
    return plan


def _key(contact: ScheduledContact) -> tuple[str, tuple[str, ...], float, float]:
    """A contact without its opportunity id (a repair may renumber it)."""
    return contact.request, contact.resources, contact.start_s, contact.end_s


def commit_plan(
    session: Session,
    plan: PlanOut,
    owners: dict[str, str],
    profile_id: str | None,
    now: datetime,
    api_key_id: str | None,
) -> CommitOut:
    """Book every contact of ``plan`` through the booking service; refusals are reported.

    ``owners`` maps spacecraft id to tenant: a network plan books each
    contact for the tenant that owns the spacecraft. ``profile_id``: the
    mission profile the plan was made with.
    """
    reservations = [
        booking.Reservation(
            owners[planned.spacecraft_id],
            reservation_for(planned, profile_id),
            now,
            api_key_id,
        )
        for planned in plan.contacts
    ]
    # In batches (one transaction and one commit each), with the answers booking them one
    # after another would get.
    answers: list[Contact | GroundlinkError] = []
    for start in range(0, len(reservations), COMMIT_BATCH):
        answers += booking.reserve_contacts(session, reservations[start : start + COMMIT_BATCH])
    booked: list[str] = []
    refused: list[RefusedContactOut] = []
    for index, answer in enumerate(answers):
        if isinstance(answer, GroundlinkError):
            code = type(answer).__name__
            refused.append(RefusedContactOut(index=index, code=code, message=str(answer)))
        else:
            booked.append(answer.id)
    return CommitOut(booked=booked, refused=refused)


def commit(
    session: Session,
    row: ScheduleRow,
    owners: dict[str, str],
    now: datetime,
    api_key_id: str | None,
) -> CommitOut:
    """Book ``row``'s plan (:func:`commit_plan`), or apply its repair (:func:`commit_repair`)."""
    assert row.result is not None
    plan = PlanOut.model_validate(row.result)
    spec, _owners = read_spec(row)
    if plan.repair is None:
        return commit_plan(session, plan, owners, spec.mission_profile_id, now, api_key_id)
    return commit_repair(session, plan.repair, owners, spec.mission_profile_id, now, api_key_id)


class ScheduleRunner:
    """Runs planning jobs on a worker thread, one at a time (the solver uses both cores)."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime], workers: int = 1
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="schedule")

    def submit(self, schedule_id: str) -> None:
        """Queue job ``schedule_id`` (its row exists, ``queued``)."""
        self._pool.submit(self._run_logged, schedule_id)

    def shutdown(self) -> None:
        """Stop taking jobs; the job under way finishes."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def fail_interrupted(self) -> int:
        """Mark jobs left ``queued`` or ``running`` by a stopped server as failed; how many."""
        with self._sessions() as session, write_transaction(session):
            result = session.execute(
                update(ScheduleRow)
                .where(ScheduleRow.status.in_(["queued", "running"]))
                .values(status="failed", error="interrupted: the server stopped before it ended")
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def _set(self, schedule_id: str, **values: object) -> None:
        with self._sessions() as session, write_transaction(session):
            session.execute(
                update(ScheduleRow)
                .where(ScheduleRow.id == schedule_id)
                .values(updated_at=self._clock(), **values)
            )

    def _run_logged(self, schedule_id: str) -> None:
        try:
            self._run(schedule_id)
        except Exception as error:  # a job must end as failed, never stay running
            log.exception("schedule %s failed", schedule_id)
            self._set(schedule_id, status="failed", error=f"{type(error).__name__}: {error}")

    def _run(self, schedule_id: str) -> None:
        with self._sessions() as session:
            row = session.get(ScheduleRow, schedule_id)
            assert row is not None
            spec, owners = read_spec(row)
            api_key_id = row.api_key_id
            profile_row = (
                None
                if spec.mission_profile_id is None
                else session.get(ProfileRow, spec.mission_profile_id)
            )
        self._set(schedule_id, status="running", stage="predicting passes", progress=0.0)
        now = self._clock()
        fleet: dict[str, list[str]] = {}
        for craft_id, tenant_id in owners.items():
            fleet.setdefault(tenant_id, []).append(craft_id)
        booked: list[Booked] = []
        with self._sessions() as session:
            if spec.mode == "repair":
                booked = booked_in_window(session, owners, spec.start, spec.end)
            offer = network_offer(
                session,
                fleet,
                spec.station_ids,
                profile_row,
                spec.start,
                spec.end,
                now,
                ignoring=[b.out.contact_id for b in booked],
            )
        prepass_s, postpass_s = round(offer.profile.prepass_s), round(offer.profile.postpass_s)
        # Booking comes after the solve (and maybe later still, by hand): leave that time too.
        lock_s = booking.DEFAULT_LOCK_S + prepass_s + spec.time_limit_s + _BOOKING_MARGIN_S
        bookable_from = now + timedelta(seconds=lock_s)
        requests = plan_requests(spec, owners, prepass_s, postpass_s, bookable_from)
        contacts = offer.contacts if offer.contacts is not None else AvailableContacts.empty()
        instance, source_rows = instance_from_available(
            contacts,
            requests,
            spec.start,
            spec.end,
            offer.turnaround_s,
            name=schedule_id,
        )
        context = PlanContext(contacts, source_rows, requests, prepass_s, postpass_s, spec.start)
        if spec.mode == "repair":
            self._set(schedule_id, stage="repairing")
            previous, untouched = split_booked(
                booked,
                bookable_from=bookable_from,
                prepass_s=prepass_s,
                postpass_s=postpass_s,
                antenna_ids={resource.id for resource in instance.resources},
                skipped={s.spacecraft_id: s.reason for s in offer.skipped},
            )
            plan = repair_plan(
                context, instance, previous, untouched, spec.time_limit_s, spec.fairness
            )
        else:
            schedule = solve(
                instance,
                time_limit_s=spec.time_limit_s,
                method=spec.method,
                fairness=spec.fairness,
                progress=self._progress(schedule_id),
            )
            plan = context.plan(schedule)
        plan.skipped = offer.skipped
        finished: dict[str, object] = {"result": plan.model_dump(mode="json")}
        if spec.commit:
            self._set(schedule_id, stage="booking", **finished)
            with self._sessions() as session:
                done = commit(
                    session, _detached(session, schedule_id), owners, self._clock(), api_key_id
                )
            finished |= {
                "committed_at": self._clock(),
                "commit_result": done.model_dump(mode="json"),
            }
        self._set(schedule_id, status="succeeded", stage="done", progress=1.0, **finished)

    def _progress(self, schedule_id: str) -> ProgressCallback:
        """Writes a job's stage and progress (0-1), at most every :data:`_PROGRESS_EVERY_S`."""
        last_write = [0.0]

        def progress(stage: str, fraction: float) -> None:
            moment = time.monotonic()
            if moment - last_write[0] >= _PROGRESS_EVERY_S or fraction >= 1.0:
                last_write[0] = moment
                self._set(schedule_id, stage=stage, progress=round(min(max(fraction, 0), 1), 3))

        return progress


def claim_and_commit(
    session: Session, schedule_id: str, now: datetime, api_key_id: str | None
) -> CommitOut | None:
    """Book ``schedule_id``'s plan once: None if it was committed already (by anyone)."""
    with write_transaction(session):
        claimed = session.execute(
            update(ScheduleRow)
            .where(
                ScheduleRow.id == schedule_id,
                ScheduleRow.committed_at.is_(None),
                ScheduleRow.status == "succeeded",
            )
            .values(committed_at=now, updated_at=now)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return None
    row = _detached(session, schedule_id)
    result = commit(session, row, read_spec(row)[1], now, api_key_id)
    with write_transaction(session):
        session.execute(
            update(ScheduleRow)
            .where(ScheduleRow.id == schedule_id)
            .values(commit_result=result.model_dump(mode="json"), updated_at=now)
        )
    return result


def _detached(session: Session, schedule_id: str) -> ScheduleRow:
    """Job ``schedule_id`` read in a transaction of its own and detached, leaving none open.

    The booking service opens its own write transactions on ``session``.
    """
    with session.begin():
        row = session.get(ScheduleRow, schedule_id)
        assert row is not None
        session.expunge(row)
    return row
