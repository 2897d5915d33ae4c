"""The contact life cycle as a service: time moves booked contacts on, and every move is recorded.

Once a contact is SCHEDULED, the clock alone moves it through PREPASS, PASS
and POSTPASS to COMPLETED (:func:`groundlink.contacts.states.status_at`).
:func:`advance_contacts` brings every active contact whose time-driven
phase has moved up to date: one status at a time along
:func:`~groundlink.contacts.states.catch_up`, each step one added
``version`` and one ``contact.status_changed`` audit record
(``{"from", "to", "effective_at"}``, no API key: the platform did it), all in
the contact's write transaction. CANCELLING, CANCELLED, FAILED and every
other status off the time-driven path are never touched.

It is idempotent and safe to run from several processes at once: the due
contacts are selected and locked (``SELECT ... FOR UPDATE`` on PostgreSQL;
on SQLite the ``BEGIN IMMEDIATE`` write lock), and each one's steps are
computed from the status read under that lock, so a second runner that
waited finds nothing left to do and records nothing. A cheap read first
checks whether anything is due, so an idle network takes no write lock.

:class:`StatusAdvancer` runs it every ``interval_s`` on a daemon thread (the
API starts one in its lifespan): the database calls block, so they stay off
the event loop. Each run also re-predicts the booked contacts of spacecraft
whose ephemeris in use changed because one expired
(:func:`groundlink.services.reprediction.recheck_after_expiry`): like the
statuses, that change is made by the clock alone. :func:`contact_events`
reads a contact's history back from the audit log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from groundlink.adapters.db.engine import write_transaction
from groundlink.adapters.db.models import AuditRecord, Contact
from groundlink.contacts.conflicts import ContactWindow, iso_z
from groundlink.contacts.states import ContactStatus, catch_up, status_at
from groundlink.errors import InvalidInput
from groundlink.services.errors import NotFound
from groundlink.services.reprediction import recheck_after_expiry

_log = logging.getLogger(__name__)

#: The audit action of a time-driven status change.
STATUS_CHANGED = "contact.status_changed"
#: Most contacts advanced in one transaction: keeps row locks short on a busy network.
BATCH_SIZE = 200


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One recorded move of a contact: ``from_status`` -> ``to_status``.

    ``effective_at`` is when the clock says the new phase began (UTC): the
    reserved start for PREPASS, AOS for PASS, LOS for POSTPASS, the reserved
    end for COMPLETED. ``version`` is the contact's version after the move.
    """

    contact_id: str
    tenant_id: str
    from_status: ContactStatus
    to_status: ContactStatus
    effective_at: datetime
    version: int


def advance_contacts(
    session: Session, clock_now: datetime, *, batch_size: int = BATCH_SIZE
) -> list[StatusChange]:
    """Bring every active contact's status up to ``clock_now``; return the moves recorded.

    ``clock_now`` is timezone-aware. ``session`` must not be in a
    transaction: each batch of at most ``batch_size`` contacts is one write
    transaction. Running it again at the same time records nothing.

    Raises:
        InvalidInput: ``clock_now`` is naive, or ``batch_size`` is below 1.
    """
    if not (isinstance(clock_now, datetime) and clock_now.utcoffset() is not None):
        raise InvalidInput("clock_now", clock_now, "a timezone-aware datetime (UTC)")
    if batch_size < 1:
        raise InvalidInput("batch_size", batch_size, "a whole number of at least 1")
    with session.begin():
        anything_due = session.scalars(select(Contact.id).where(_due(clock_now)).limit(1)).first()
    if anything_due is None:
        return []
    changes: list[StatusChange] = []
    while True:
        with write_transaction(session):
            due = session.scalars(
                select(Contact)
                .where(_due(clock_now))
                .order_by(Contact.id)  # one lock order for every runner: no deadlock
                .limit(batch_size)
                .with_for_update()
                .execution_options(populate_existing=True)  # the row as locked, not as cached
            ).all()
            batch = [change for contact in due for change in _advance(session, contact, clock_now)]
        changes += batch
        if len(due) < batch_size or not batch:
            return changes


def _due(now: datetime) -> ColumnElement[bool]:
    """Contacts whose stored time-driven status is behind what the clock says at ``now``.

    The same boundaries as :func:`~groundlink.contacts.states.status_at`,
    written on the stored columns so the database can select them.
    """
    s = ContactStatus
    return or_(
        and_(Contact.status == s.SCHEDULED.value, Contact.reserved_start <= now),
        and_(Contact.status == s.PREPASS.value, Contact.aos <= now),
        and_(Contact.status == s.PASS.value, Contact.los <= now),
        and_(Contact.status == s.POSTPASS.value, Contact.reserved_end <= now),
    )


def _advance(session: Session, contact: Contact, now: datetime) -> list[StatusChange]:
    """Record each step from the contact's stored status to the clock's (locked row)."""
    stored = ContactStatus(contact.status)
    window = ContactWindow(
        start=contact.aos,
        end=contact.los,
        prepass_s=(contact.aos - contact.reserved_start).total_seconds(),
        postpass_s=(contact.reserved_end - contact.los).total_seconds(),
        antenna_id=contact.antenna_id,
        spacecraft_id=contact.spacecraft_id,
        contact_id=contact.id,
    )
    begins = {
        ContactStatus.PREPASS: contact.reserved_start,
        ContactStatus.PASS: contact.aos,
        ContactStatus.POSTPASS: contact.los,
        ContactStatus.COMPLETED: contact.reserved_end,
    }
    changes = []
    previous = stored
    for step in catch_up(stored, status_at(window, now)):
        contact.version += 1
        changes.append(
            StatusChange(
                contact.id, contact.tenant_id, previous, step, begins[step], contact.version
            )
        )
        session.add(
            AuditRecord(
                at=now,
                tenant_id=contact.tenant_id,
                api_key_id=None,
                action=STATUS_CHANGED,
                object_type="contact",
                object_id=contact.id,
                detail={
                    "from": previous.value,
                    "to": step.value,
                    "effective_at": iso_z(begins[step]),
                    "version": contact.version,
                },
            )
        )
        previous = step
    if changes:
        contact.status = previous.value
        contact.updated_at = now
    return changes


# --- the history ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactEvent:
    """One line of a contact's history, from the audit log.

    ``action`` is ``contact.reserved``, ``contact.updated``,
    ``contact.status_changed`` or ``contact.cancelled``; ``from_status`` and
    ``to_status`` are set where the status changed (``from_status`` is
    ``None`` for the reservation); ``api_key_id`` is ``None`` for what the
    platform did on its own; ``detail`` is the audit record's JSON.
    """

    at: datetime
    action: str
    from_status: ContactStatus | None
    to_status: ContactStatus | None
    api_key_id: str | None
    detail: dict[str, Any]


def contact_events(session: Session, tenant_id: str, contact_id: str) -> list[ContactEvent]:
    """The history of the tenant's contact ``contact_id``, oldest first.

    Raises:
        NotFound: no such contact, or it belongs to another tenant.
    """
    with session.begin():
        owned = session.scalars(
            select(Contact.id).where(Contact.id == contact_id, Contact.tenant_id == tenant_id)
        ).first()
        if owned is None:
            raise NotFound("contact", contact_id)
        records: Sequence[AuditRecord] = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.object_type == "contact", AuditRecord.object_id == contact_id)
            .order_by(AuditRecord.at, AuditRecord.id)
        ).all()
    return [_event(record) for record in records]


def _event(record: AuditRecord) -> ContactEvent:
    def status(key: str) -> ContactStatus | None:
        value = record.detail.get(key)
        return ContactStatus(value) if isinstance(value, str) else None

    return ContactEvent(
        at=record.at,
        action=record.action,
        from_status=status("from"),
        to_status=status("to"),
        api_key_id=record.api_key_id,
        detail=dict(record.detail),
    )


# --- running it ----------------------------------------------------------------------------------


class StatusAdvancer:
    """Runs :func:`advance_contacts`, then the re-check after ephemeris expiries, every
    ``interval_s`` seconds on a daemon thread.

    ``clock`` returns the current time (timezone-aware); it is read once per
    run. A run that fails is logged and the next one tried on time: the
    thread only ends with :meth:`stop`.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        interval_s: float,
    ) -> None:
        if not interval_s > 0:
            raise InvalidInput("interval_s", interval_s, "seconds > 0")
        self.sessions = sessions
        self.clock = clock
        self.interval_s = interval_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._rechecked_until: datetime | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> list[StatusChange]:
        """One run now, on a fresh session; the moves it recorded.

        After the moves, the contacts whose ephemeris in use changed by an
        expiry since the previous run (since any time, on the first run)
        are re-predicted: :func:`~groundlink.services.reprediction.recheck_after_expiry`.
        """
        now = self.clock()
        with self.sessions() as session:
            changes = advance_contacts(session, now)
            recheck_after_expiry(session, self._rechecked_until, now)
        self._rechecked_until = now
        return changes

    def start(self) -> None:
        """Start the thread (its first run is immediate)."""
        if self._thread is not None:
            raise RuntimeError("this StatusAdvancer has already been started")
        self._thread = threading.Thread(
            target=self._loop, name="groundlink-status-advancer", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the thread to end and wait (up to ``timeout_s``) for a run under way to finish."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
            except Exception:  # keep the life cycle running through a database hiccup
                _log.exception("advancing contact statuses failed; trying again")
            self._stopping.wait(self.interval_s)


__all__ = [
    "BATCH_SIZE",
    "STATUS_CHANGED",
    "ContactEvent",
    "StatusAdvancer",
    "StatusChange",
    "advance_contacts",
    "contact_events",
]
