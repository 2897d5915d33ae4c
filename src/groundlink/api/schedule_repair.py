"""Repair jobs: the contacts booked already as a previous plan, and applying a repair's changes.

``POST /v1/schedules`` with ``"mode": "repair"`` re-plans the contacts a
fleet has booked in the window after an admin added a maintenance window (or
an ephemeris update moved passes), changing as few as possible. The job
(:class:`groundlink.api.schedule_jobs.ScheduleRunner`) uses this module to

1. load the fleet's SCHEDULED contacts whose pass lies in the window
   (:func:`booked_in_window`); the network's offer is then computed as if
   they were not booked, so that the repair can put them back;
2. split them (:func:`split_booked`) into the **previous plan**, the
   contacts it may change, and the **untouched** ones it leaves as they are
   (they hold their antennas as fixed blocks), each with why: a contact that
   begins before the plan may book (inside its lock time, or too near it),
   one booked with another pre-pass/post-pass than the plan's, one on an
   antenna the plan does not use, one of a spacecraft the network could not
   predict;

and, once :func:`groundlink.scheduling.repair.repair` has said what to keep,
move, drop and add, to apply it (:func:`commit_repair`) through the booking
service, one change at a time, so every change passes the same rule and the
same database guarantee as any booking:

* a **drop** is :func:`~groundlink.services.booking.cancel_contact`;
* a **move** is :func:`~groundlink.services.booking.update_contact` (the
  contact keeps its id; the booking service checks conflicts and the lock
  time) when it stays on its antenna and the pass's TCA lies in its new
  times; otherwise (another antenna, or a TCA outside) a new reservation,
  then the old contact is cancelled; if the new one is refused only because
  of the old one, the old one is cancelled first;
* an **add** is :func:`~groundlink.services.booking.reserve_contact`.

Drops go first, then moves, then adds; a refused change is tried again after
the others as long as any of them succeeds (a move into time that another
move frees). Each change is reported done, or refused with the booking error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundlink.adapters.db.models import Contact
from groundlink.api.schemas import (
    BookedContactOut,
    ChangeOut,
    CommitOut,
    PlannedContactOut,
    RepairOut,
    UntouchedContactOut,
)
from groundlink.contacts.conflicts import iso_z
from groundlink.contacts.states import ContactStatus
from groundlink.errors import GroundlinkError
from groundlink.scheduling.from_available import BookedContact
from groundlink.services import booking
from groundlink.services.errors import ContactConflict


def reservation_for(
    planned: PlannedContactOut, mission_profile_id: str | None
) -> booking.ReservationRequest:
    """The booking service's request for a planned contact, under ``mission_profile_id``."""
    return booking.ReservationRequest(
        spacecraft_id=planned.spacecraft_id,
        antenna_id=planned.antenna_id,
        aos=planned.aos,
        los=planned.los,
        tca=planned.tca,
        max_elevation_deg=planned.max_elevation_deg,
        mission_profile_id=mission_profile_id,
        prepass_s=planned.prepass_s,
        postpass_s=planned.postpass_s,
    )


@dataclass(frozen=True)
class Booked:
    """A booked contact as the API shows it and as the scheduler sees it, with its pre/post-pass."""

    out: BookedContactOut
    core: BookedContact
    prepass_s: float
    postpass_s: float


def booked_in_window(
    session: Session, owners: dict[str, str], start: datetime, end: datetime
) -> list[Booked]:
    """The SCHEDULED contacts of ``owners``' spacecraft (id -> owner) with their pass in the window.

    By AOS. ``session`` must not be in a transaction.
    """
    query = (
        select(Contact)
        .where(
            Contact.spacecraft_id.in_(list(owners)),
            Contact.status == ContactStatus.SCHEDULED.value,
            Contact.aos >= start,
            Contact.los <= end,
        )
        .order_by(Contact.aos, Contact.id)
    )
    with session.begin():
        return [
            Booked(
                out=BookedContactOut(
                    contact_id=row.id,
                    version=row.version,
                    tenant_id=row.tenant_id,
                    spacecraft_id=row.spacecraft_id,
                    antenna_id=row.antenna_id,
                    mission_profile_id=row.mission_profile_id,
                    aos=row.aos,
                    los=row.los,
                ),
                core=BookedContact(
                    id=row.id,
                    spacecraft_id=row.spacecraft_id,
                    antenna_id=row.antenna_id,
                    aos=row.aos,
                    los=row.los,
                    reserved_start=row.reserved_start,
                    reserved_end=row.reserved_end,
                ),
                prepass_s=(row.aos - row.reserved_start).total_seconds(),
                postpass_s=(row.reserved_end - row.los).total_seconds(),
            )
            for row in session.scalars(query)
            if row.tenant_id == owners[row.spacecraft_id]
        ]


def split_booked(
    booked: list[Booked],
    *,
    bookable_from: datetime,
    prepass_s: float,
    postpass_s: float,
    antenna_ids: set[str],
    skipped: dict[str, str],
) -> tuple[list[Booked], list[tuple[Booked, str]]]:
    """``booked`` split into the previous plan and the untouched contacts with why.

    A contact is re-planned when its AOS is at or after ``bookable_from``
    (what a plan may still book), its pre/post-pass are the plan's
    ``prepass_s``/``postpass_s``, its antenna is in ``antenna_ids`` and its
    spacecraft is not in ``skipped`` (spacecraft id -> why it was left out).
    """
    previous: list[Booked] = []
    untouched: list[tuple[Booked, str]] = []
    for contact in booked:
        reason = _why_untouched(contact, bookable_from, prepass_s, postpass_s, antenna_ids, skipped)
        if reason is None:
            previous.append(contact)
        else:
            untouched.append((contact, reason))
    return previous, untouched


def _why_untouched(
    contact: Booked,
    bookable_from: datetime,
    prepass_s: float,
    postpass_s: float,
    antenna_ids: set[str],
    skipped: dict[str, str],
) -> str | None:
    out = contact.out
    if out.aos < bookable_from:
        return (
            f"it begins before {iso_z(bookable_from)}: inside its lock time, or too near it "
            "to be moved"
        )
    if out.spacecraft_id in skipped:
        return f"its spacecraft cannot be predicted: {skipped[out.spacecraft_id]}"
    if out.antenna_id not in antenna_ids:
        return "its antenna is not one the plan uses (station_ids, or no G/T)"
    if (contact.prepass_s, contact.postpass_s) != (prepass_s, postpass_s):
        return (
            f"its pre-pass/post-pass ({contact.prepass_s:g}/{contact.postpass_s:g} s) are not "
            f"the plan's ({prepass_s:g}/{postpass_s:g} s, from the mission profile)"
        )
    return None


def untouched_out(untouched: list[tuple[Booked, str]]) -> list[UntouchedContactOut]:
    """The untouched contacts as the API shows them."""
    return [UntouchedContactOut(contact=c.out, reason=reason) for c, reason in untouched]


# --- applying a repair ---------------------------------------------------------------------------


@dataclass
class _Change:
    """One change to apply; remembers what it did, so that trying it again goes on from there."""

    action: Literal["move", "drop", "add"]
    before: BookedContactOut | None
    after: PlannedContactOut | None
    new_contact_id: str | None = None
    old_cancelled: bool = False
    done: bool = False

    def apply(
        self,
        session: Session,
        owners: dict[str, str],
        profile_id: str | None,
        now: datetime,
        api_key_id: str | None,
    ) -> None:
        """Make the change through the booking service; raises its error when refused."""
        before, after = self.before, self.after
        if before is not None and (after is None or self.in_place):
            tenant_id = before.tenant_id
            if after is None:
                booking.cancel_contact(
                    session, tenant_id, before.contact_id, now, api_key_id=api_key_id
                )
            else:
                changes = booking.ContactChanges(
                    aos=after.aos,
                    los=after.los,
                    tca=after.tca,
                    max_elevation_deg=after.max_elevation_deg,
                )
                booking.update_contact(
                    session,
                    tenant_id,
                    before.contact_id,
                    changes,
                    before.version,
                    now,
                    api_key_id=api_key_id,
                )
            self.done = True
            return
        assert after is not None
        reservation = reservation_for(
            after, profile_id if before is None else before.mission_profile_id
        )
        owner = owners[after.spacecraft_id]
        if self.new_contact_id is None:
            try:
                contact = booking.reserve_contact(
                    session, owner, reservation, now, api_key_id=api_key_id
                )
            except ContactConflict as error:
                if before is None or error.conflicting_contact_id != before.contact_id:
                    raise
                self._cancel_old(session, now, api_key_id)
                contact = booking.reserve_contact(
                    session, owner, reservation, now, api_key_id=api_key_id
                )
            self.new_contact_id = contact.id
        self._cancel_old(session, now, api_key_id)
        self.done = True

    @property
    def in_place(self) -> bool:
        """A move ``update_contact`` can make: same antenna, the pass's TCA in the new times."""
        before, after = self.before, self.after
        return (
            before is not None
            and after is not None
            and after.antenna_id == before.antenna_id
            and after.tca is not None
        )

    def _cancel_old(self, session: Session, now: datetime, api_key_id: str | None) -> None:
        if self.before is not None and not self.old_cancelled:
            booking.cancel_contact(
                session, self.before.tenant_id, self.before.contact_id, now, api_key_id=api_key_id
            )
            self.old_cancelled = True

    def out(self, error: GroundlinkError | None) -> ChangeOut:
        message = None if error is None else str(error)
        if error is not None and self.old_cancelled and self.before is not None:
            message = f"{message} (contact {self.before.contact_id} was cancelled to make room)"
        return ChangeOut(
            action=self.action,
            contact_id=None if self.before is None else self.before.contact_id,
            new_contact_id=self.new_contact_id,
            done=self.done,
            code=None if error is None else type(error).__name__,
            message=message,
        )


def commit_repair(
    session: Session,
    repair: RepairOut,
    owners: dict[str, str],
    profile_id: str | None,
    now: datetime,
    api_key_id: str | None,
) -> CommitOut:
    """Apply ``repair``'s drops, moves and adds (module docstring); each is done or refused.

    ``owners`` maps spacecraft id to the tenant an added contact is booked
    for; ``profile_id`` is the mission profile of added contacts. ``booked``
    lists the contacts reserved (added, or moved by a new reservation).
    """
    changes = (
        [_Change("drop", before, None) for before in repair.dropped]
        + [_Change("move", moved.before, moved.after) for moved in repair.moved]
        + [_Change("add", None, after) for after in repair.added]
    )
    errors: dict[int, GroundlinkError] = {}
    pending = list(range(len(changes)))
    while pending:
        refused = []
        for i in pending:
            try:
                changes[i].apply(session, owners, profile_id, now, api_key_id)
            except GroundlinkError as error:
                errors[i] = error
                refused.append(i)
            else:
                errors.pop(i, None)
        if len(refused) == len(pending):
            break
        pending = refused
    return CommitOut(
        booked=[c.new_contact_id for c in changes if c.new_contact_id is not None],
        refused=[],
        changes=[change.out(errors.get(i)) for i, change in enumerate(changes)],
    )
