"""Booking: reserve, change, cancel and list contacts, with no double booking ever.

Read this module top to bottom: the public functions first, then the checks
they share, then the database plumbing.

How double booking is prevented, on each database:

* **The rule** is :mod:`groundlink.contacts.conflicts`, the one place that
  decides whether two contacts conflict: on an antenna, a contact's reserved
  span ``[aos - prepass, los + postpass)`` may not come within the antenna's
  turnaround of another's (touching is fine); a spacecraft may be in at most
  ``max_simultaneous_contacts`` passes at once. Slew time is not counted:
  contacts do not store their pointing yet, so ``turnaround_s`` must cover
  the antenna's worst slew.
* **SQLite**: every change runs in a ``BEGIN IMMEDIATE`` transaction
  (:func:`~groundlink.adapters.db.engine.write_transaction`), which holds the
  database's only write lock from the first read to the commit, so the check
  and the insert cannot be separated by another writer.
* **PostgreSQL**: the exclusion constraint ``contacts_no_double_booking``
  forbids two active contacts on one antenna whose ``[reserved_start,
  blocked_end)`` ranges overlap, where ``blocked_end = reserved_end +
  turnaround``: exactly the antenna rule. A race that slips past the check
  fails at insert, and is reported as the same :class:`ContactConflict`.
  Before checking, a write locks its spacecraft rows and then its antenna
  rows, each in id order (``SELECT ... ORDER BY id FOR NO KEY UPDATE``, so
  that two writes never wait on each other in a cycle): the
  spacecraft limit has no constraint, and without the antenna lock many
  simultaneous overlapping inserts wait on each other inside the exclusion
  check and fall into a storm of deadlocks (seen with 60 threads). Writes to
  one antenna therefore queue; writes to different antennas do not. Deadlocks
  and serialization failures are retried a few times.

Every status change goes through :func:`groundlink.contacts.states.transition`
and writes a row to the audit log in the same transaction.

A reservation is the API's busiest write. :func:`reserve_contacts` books
any number of them in one transaction of seven statements (two locks, two
checks, two inserts, one commit), each checked in order against those before
it, and reads and writes rows with SQLAlchemy Core: on a two-core machine the
ORM's object loading and unit of work cost more CPU than PostgreSQL spends on
the whole transaction (``bench/booking.py``). The API gathers concurrent
reservations into such batches (:mod:`groundlink.services.batching`).
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, Select, and_, bindparam, insert, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from groundlink.adapters.db.engine import write_transaction
from groundlink.adapters.db.models import (
    ACTIVE_STATUSES,
    AntennaRow,
    AuditRecord,
    Contact,
    MaintenanceWindow,
    MissionProfile,
    Spacecraft,
    new_id,
)
from groundlink.contacts.conflicts import (
    ContactWindow,
    antenna_conflict,
    iso_z,
    spacecraft_conflicts,
)
from groundlink.contacts.states import (
    TIME_DRIVEN,
    ContactStatus,
    status_at,
    transition,
)
from groundlink.errors import GroundlinkError, InvalidInput
from groundlink.services.errors import (
    AntennaUnavailable,
    ContactConflict,
    LockedForChanges,
    NotFound,
    StaleVersion,
)

#: Changes stop this many seconds before a contact's reserved start (AWS: 15 minutes).
DEFAULT_LOCK_S = 900
#: Longest pass (AOS to LOS) that can be booked, in seconds.
MAX_PASS_S = 86_400
#: Longest pre-pass or post-pass, in seconds (AWS's limit).
MAX_PREPOST_S = 21_600
#: Most contacts one page of :func:`list_contacts` returns.
MAX_PAGE_SIZE = 100
#: Longest window ``[window_start, window_end)`` one :func:`list_contacts` call may ask for.
MAX_LIST_WINDOW = timedelta(days=31)
#: How many times a transaction that lost a deadlock or a lock wait is run again.
MAX_ATTEMPTS = 5
#: Longest span whose booked contacts one batch of reservations reads in one query.
READ_SPAN = timedelta(days=1)

_ACTIVE = [status.value for status in ACTIVE_STATUSES]
#: A row of a Core query: its columns are named by the query.
_Row = Row[*tuple[Any, ...]]
_T = TypeVar("_T")


# --- what callers pass in and get back -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    """A contact to reserve: a pass of ``spacecraft_id`` on ``antenna_id``.

    ``aos``/``los`` (and ``tca`` if known) are timezone-aware; ``max_elevation_deg``
    in degrees. ``prepass_s``/``postpass_s`` (whole seconds, 0-21600) default
    to the mission profile's, or 0 without a profile.
    """

    spacecraft_id: str
    antenna_id: str
    aos: datetime
    los: datetime
    tca: datetime | None = None
    max_elevation_deg: float | None = None
    mission_profile_id: str | None = None
    prepass_s: int | None = None
    postpass_s: int | None = None


@dataclass(frozen=True, slots=True)
class Reservation:
    """One reservation of a batch (:func:`reserve_contacts`): whose, what, when, by which key.

    ``clock_now`` is the time the reservation was asked for (timezone-aware).
    """

    tenant_id: str
    request: ReservationRequest
    clock_now: datetime
    api_key_id: str | None = None


@dataclass(frozen=True, slots=True)
class ContactChanges:
    """New times for a booked contact; ``None`` keeps the current value."""

    aos: datetime | None = None
    los: datetime | None = None
    tca: datetime | None = None
    max_elevation_deg: float | None = None


@dataclass(frozen=True, slots=True)
class ContactFilters:
    """What :func:`list_contacts` keeps; ``None`` keeps everything.

    ``window_start``/``window_end`` keep contacts whose pass ``[aos, los)``
    overlaps ``[window_start, window_end)``; with both given, the window must
    not be reversed nor longer than :data:`MAX_LIST_WINDOW` (31 days).
    """

    statuses: frozenset[ContactStatus] | None = None
    spacecraft_id: str | None = None
    antenna_id: str | None = None
    station_id: str | None = None
    mission_profile_id: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class ContactPage:
    """One page of contacts, ordered by AOS then id; ``next_cursor`` is ``None`` on the last."""

    items: list[Contact]
    next_cursor: str | None


# --- reserve -------------------------------------------------------------------------------------


def reserve_contact(
    session: Session,
    tenant_id: str,
    request: ReservationRequest,
    clock_now: datetime,
    *,
    api_key_id: str | None = None,
    lock_s: float = DEFAULT_LOCK_S,
) -> Contact:
    """Book a contact for ``tenant_id`` and return it, SCHEDULED, or raise.

    ``clock_now`` is the current time (timezone-aware); the contact's
    reserved start must be at least ``lock_s`` seconds after it.
    ``session`` must not be in a transaction: this function runs its own.

    Raises:
        InvalidInput: a bad time, duration or elevation (naming the field).
        NotFound: the spacecraft, antenna or mission profile does not exist
            for this tenant.
        AntennaUnavailable: the antenna is in maintenance then.
        ContactConflict: the antenna or the spacecraft is taken.
    """
    reservation = Reservation(tenant_id, request, clock_now, api_key_id)
    (answer,) = reserve_contacts(session, [reservation], lock_s=lock_s)
    if isinstance(answer, GroundlinkError):
        raise answer
    return answer


def reserve_contacts(
    session: Session, reservations: Sequence[Reservation], *, lock_s: float = DEFAULT_LOCK_S
) -> list[Contact | GroundlinkError]:
    """Book ``reservations`` in order, in one transaction; return each one's answer.

    The ``i``-th answer is the ``i``-th reservation's contact, SCHEDULED, or
    the error that refused it (those :func:`reserve_contact` raises). Each
    reservation is checked against the contacts booked before and those the
    reservations ahead of it in ``reservations`` booked: the answers are the
    ones the same reservations made one after another would get, for one
    commit and the same few statements however many there are (two more
    per further day they spread over: :data:`READ_SPAN`;
    :mod:`groundlink.services.batching` gathers concurrent reservations into
    such batches). ``session`` must not be in a transaction.
    """
    for reservation in reservations:
        _require_aware("clock_now", reservation.clock_now)
    if not reservations:
        return []
    pending = _Pending()
    single = len(reservations) == 1

    def attempt() -> list[Contact | GroundlinkError]:
        return _book(session, reservations, lock_s, pending if single else None)

    try:
        return _run_write(session, reservations[0].tenant_id, attempt, pending)
    except ContactConflict as conflict:  # only alone: the exclusion constraint refused it
        return [conflict]
    except IntegrityError as error:
        if single or _sqlstate(error) != _EXCLUSION_VIOLATION:
            raise
        # Another server process booked a span in the way between this batch's check and
        # its insert, and the exclusion constraint refused the whole batch: book one at a
        # time, so that each answer names its own conflict.
        return [reserve_contacts(session, [one], lock_s=lock_s)[0] for one in reservations]


def _book(
    session: Session,
    reservations: Sequence[Reservation],
    lock_s: float,
    pending: _Pending | None,
) -> list[Contact | GroundlinkError]:
    """:func:`reserve_contacts`' transaction: lock, check each in order, insert those that pass."""
    connection = session.connection()
    locks = _Locks.take(
        connection, [(r.request.spacecraft_id, r.request.antenna_id) for r in reservations]
    )
    profiles = _profiles(session, reservations)
    answers: list[Contact | GroundlinkError | None] = [None] * len(reservations)
    checked: list[tuple[int, _Locked, MissionProfile | None, _Spans]] = []
    for index, reservation in enumerate(reservations):
        request = reservation.request
        try:
            locked = locks.of(reservation.tenant_id, request.spacecraft_id, request.antenna_id)
            profile = None
            if request.mission_profile_id is not None:
                profile = profiles.get(request.mission_profile_id)
                if profile is None or profile.tenant_id != reservation.tenant_id:
                    raise NotFound("mission profile", request.mission_profile_id)
            spans = _spans(
                aos=request.aos,
                los=request.los,
                tca=request.tca,
                max_elevation_deg=request.max_elevation_deg,
                prepass_s=_prepost("prepass_s", request.prepass_s, profile),
                postpass_s=_prepost("postpass_s", request.postpass_s, profile),
                turnaround_s=locked.turnaround_s,
            )
            _check_profile(spans, profile)
            _check_not_locked(spans, reservation.clock_now, lock_s)
        except GroundlinkError as refusal:
            answers[index] = refusal
        else:
            checked.append((index, locked, profile, spans))

    busy = _Busy.around(connection, [(locked, spans) for _, locked, _, spans in checked])
    booked: list[tuple[Contact, Reservation]] = []
    for index, locked, profile, spans in checked:
        reservation = reservations[index]
        try:
            busy.check(reservation.tenant_id, locked, spans, exclude_id=None)
        except GroundlinkError as refusal:
            answers[index] = refusal
            continue
        if pending is not None:
            pending.about(locked.antenna_id, spans, contact_id=None)
        contact = _new_contact(reservation, locked, profile, spans)
        busy.add(contact)
        booked.append((contact, reservation))
        answers[index] = contact
    if booked:
        # Two Core INSERTs for the whole batch rather than the ORM's unit of work, which
        # would cost more Python time than everything else a booking does.
        connection.execute(_INSERT_CONTACT, [_column_values(contact) for contact, _ in booked])
        connection.execute(
            _INSERT_AUDIT,
            [
                _audit_values(
                    reservation.clock_now,
                    reservation.tenant_id,
                    reservation.api_key_id,
                    "contact.reserved",
                    contact.id,
                    {"from": None, "to": contact.status, **_describe(contact)},
                )
                for contact, reservation in booked
            ],
        )
    done = [answer for answer in answers if answer is not None]
    assert len(done) == len(answers), "every reservation gets an answer"
    return done


def _new_contact(
    reservation: Reservation, locked: _Locked, profile: MissionProfile | None, spans: _Spans
) -> Contact:
    """The contact ``reservation`` books (transient: not added to any session)."""
    scheduling = transition(ContactStatus.AVAILABLE, ContactStatus.SCHEDULING)
    status = transition(scheduling, ContactStatus.SCHEDULED)
    return Contact(
        id=new_id("ct"),
        tenant_id=reservation.tenant_id,
        spacecraft_id=locked.spacecraft_id,
        antenna_id=locked.antenna_id,
        mission_profile_id=None if profile is None else profile.id,
        profile_snapshot=_snapshot(profile, spans),
        status=status.value,
        created_at=reservation.clock_now,
        updated_at=reservation.clock_now,
        version=1,
        prediction=None,
        **spans.columns(),
    )


# --- change --------------------------------------------------------------------------------------


def update_contact(
    session: Session,
    tenant_id: str,
    contact_id: str,
    changes: ContactChanges,
    expected_version: int,
    clock_now: datetime,
    *,
    api_key_id: str | None = None,
    lock_s: float = DEFAULT_LOCK_S,
) -> Contact:
    """Move a SCHEDULED contact's pass to new times, until its lock time.

    ``expected_version`` is the version the caller read: if the contact
    changed since, nothing is written. The new times are checked exactly
    like a new reservation (the contact does not conflict with itself).

    Raises:
        NotFound: no such contact for this tenant.
        StaleVersion: the contact is no longer at ``expected_version``.
        LockedForChanges: past the lock time, or no longer SCHEDULED.
        InvalidInput, AntennaUnavailable, ContactConflict: as for :func:`reserve_contact`.
    """
    _require_aware("clock_now", clock_now)

    pending = _Pending()

    def attempt() -> Contact:
        contact = _owned_contact(session, tenant_id, contact_id, for_update=True)
        if contact.version != expected_version:
            raise StaleVersion(contact.id, expected_version, contact.version)
        locked_at = contact.reserved_start - timedelta(seconds=lock_s)
        if contact.status != ContactStatus.SCHEDULED or clock_now >= locked_at:
            raise LockedForChanges(
                contact.id,
                locked_at,
                status=None if contact.status == "SCHEDULED" else contact.status,
            )
        connection = session.connection()
        locked = _Locks.take(connection, [(contact.spacecraft_id, contact.antenna_id)]).of(
            tenant_id, contact.spacecraft_id, contact.antenna_id
        )
        spans = _spans(
            aos=changes.aos or contact.aos,
            los=changes.los or contact.los,
            tca=changes.tca or contact.tca,
            max_elevation_deg=(
                contact.max_elevation_deg
                if changes.max_elevation_deg is None
                else changes.max_elevation_deg
            ),
            prepass_s=(contact.aos - contact.reserved_start).total_seconds(),
            postpass_s=(contact.reserved_end - contact.los).total_seconds(),
            turnaround_s=locked.turnaround_s,
        )
        _check_not_locked(spans, clock_now, lock_s)
        _Busy.around(connection, [(locked, spans)]).check(
            tenant_id, locked, spans, exclude_id=contact.id
        )
        pending.about(locked.antenna_id, spans, contact_id=contact.id)
        before = _describe(contact)
        for name, value in spans.columns().items():
            setattr(contact, name, value)
        contact.prediction = None  # it spoke of the old times: unchecked until the next upload
        contact.version += 1
        contact.updated_at = clock_now
        session.flush()
        _audit(
            session,
            clock_now,
            tenant_id,
            api_key_id,
            "contact.updated",
            contact.id,
            {"before": before, "after": _describe(contact), "version": contact.version},
        )
        return contact

    return _run_write(session, tenant_id, attempt, pending)


def cancel_contact(
    session: Session,
    tenant_id: str,
    contact_id: str,
    clock_now: datetime,
    *,
    api_key_id: str | None = None,
) -> Contact:
    """Cancel a contact that has not begun, and return it, CANCELLED.

    The stored status is first brought up to what the clock says
    (:func:`~groundlink.contacts.states.status_at`), so a contact whose
    pre-pass has begun cannot be cancelled outright.

    Raises:
        NotFound: no such contact for this tenant.
        ContactStateError: the life cycle does not allow CANCELLED from the
            contact's status (already cancelled, under way, finished).
    """
    _require_aware("clock_now", clock_now)

    def attempt() -> Contact:
        contact = _owned_contact(session, tenant_id, contact_id, for_update=True)
        stored = ContactStatus(contact.status)
        current = stored
        if stored in TIME_DRIVEN:
            by_clock = status_at(_window(contact), clock_now)
            current = max(stored, by_clock, key=TIME_DRIVEN.index)
        target = transition(current, ContactStatus.CANCELLED)
        contact.status = target.value
        contact.version += 1
        contact.updated_at = clock_now
        session.flush()
        _audit(
            session,
            clock_now,
            tenant_id,
            api_key_id,
            "contact.cancelled",
            contact.id,
            {"from": stored.value, "to": target.value},
        )
        return contact

    return _run_write(session, tenant_id, attempt, _Pending())


# --- read ----------------------------------------------------------------------------------------


def get_contact(session: Session, tenant_id: str, contact_id: str) -> Contact:
    """The tenant's contact ``contact_id``.

    Raises:
        NotFound: no such contact, or it belongs to another tenant.
    """
    with session.begin():
        return _owned_contact(session, tenant_id, contact_id, for_update=False)


def list_contacts(
    session: Session,
    tenant_id: str,
    filters: ContactFilters = ContactFilters(),  # frozen, so a safe default
    cursor: str | None = None,
    limit: int = 50,
) -> ContactPage:
    """One page of the tenant's contacts that pass ``filters``, ordered by AOS then id.

    ``cursor`` is the ``next_cursor`` of the previous page (opaque text);
    ``limit`` is 1 to :data:`MAX_PAGE_SIZE`.

    Raises:
        InvalidInput: a bad limit, cursor or window.
    """
    if not (isinstance(limit, int) and 1 <= limit <= MAX_PAGE_SIZE):
        raise InvalidInput("limit", limit, f"a whole number from 1 to {MAX_PAGE_SIZE}")
    query = _filtered(select(Contact).where(Contact.tenant_id == tenant_id), filters)
    if cursor is not None:
        after_aos, after_id = _decode_cursor(cursor)
        query = query.where(
            or_(Contact.aos > after_aos, and_(Contact.aos == after_aos, Contact.id > after_id))
        )
    query = query.order_by(Contact.aos, Contact.id).limit(limit + 1)
    with session.begin():
        rows = list(session.scalars(query))
    if len(rows) <= limit:
        return ContactPage(rows, None)
    rows = rows[:limit]
    return ContactPage(rows, _encode_cursor(rows[-1]))


def _filtered(query: Select[Any], filters: ContactFilters) -> Select[Any]:
    if filters.statuses is not None:
        query = query.where(Contact.status.in_([s.value for s in filters.statuses]))
    if filters.spacecraft_id is not None:
        query = query.where(Contact.spacecraft_id == filters.spacecraft_id)
    if filters.antenna_id is not None:
        query = query.where(Contact.antenna_id == filters.antenna_id)
    if filters.mission_profile_id is not None:
        query = query.where(Contact.mission_profile_id == filters.mission_profile_id)
    if filters.station_id is not None:
        on_station = select(AntennaRow.id).where(AntennaRow.station_id == filters.station_id)
        query = query.where(Contact.antenna_id.in_(on_station))
    start, end = filters.window_start, filters.window_end
    if start is not None:
        _require_aware("window_start", start)
        query = query.where(Contact.los > start)
    if end is not None:
        _require_aware("window_end", end)
        query = query.where(Contact.aos < end)
    if start is not None and end is not None and not end > start:
        raise InvalidInput("window_end", iso_z(end), f"a time after window_start ({iso_z(start)})")
    if start is not None and end is not None and end - start > MAX_LIST_WINDOW:
        raise InvalidInput(
            "window_end",
            iso_z(end),
            f"at most {MAX_LIST_WINDOW.days} days after window_start ({iso_z(start)}): "
            "list a longer span in several windows",
        )
    return query


def _encode_cursor(last: Contact) -> str:
    raw = json.dumps([last.aos.isoformat(), last.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        aos_text, contact_id = json.loads(raw)
        aos = datetime.fromisoformat(aos_text)
        if not isinstance(contact_id, str) or aos.utcoffset() is None:
            raise ValueError(cursor)
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidInput("cursor", cursor, "a next_cursor returned by a previous page") from error
    return aos, contact_id


# --- the times of a contact ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Spans:
    """A contact's pass and the spans it holds its antenna, all UTC-aware."""

    aos: datetime
    los: datetime
    tca: datetime | None
    max_elevation_deg: float | None
    reserved_start: datetime
    reserved_end: datetime
    blocked_end: datetime

    @property
    def prepass_s(self) -> float:
        return (self.aos - self.reserved_start).total_seconds()

    @property
    def postpass_s(self) -> float:
        return (self.reserved_end - self.los).total_seconds()

    def columns(self) -> dict[str, Any]:
        """The :class:`Contact` columns these spans fill."""
        return {
            "aos": self.aos,
            "los": self.los,
            "tca": self.tca,
            "max_elevation_deg": self.max_elevation_deg,
            "reserved_start": self.reserved_start,
            "reserved_end": self.reserved_end,
            "blocked_end": self.blocked_end,
        }


def _spans(
    *,
    aos: datetime,
    los: datetime,
    tca: datetime | None,
    max_elevation_deg: float | None,
    prepass_s: float,
    postpass_s: float,
    turnaround_s: float,
) -> _Spans:
    _require_aware("aos", aos)
    _require_aware("los", los)
    if not los > aos:
        raise InvalidInput("los", iso_z(los), f"a time after aos ({iso_z(aos)})")
    if (los - aos).total_seconds() > MAX_PASS_S:
        raise InvalidInput("los", iso_z(los), f"at most {MAX_PASS_S} s after aos ({iso_z(aos)})")
    if tca is not None:
        _require_aware("tca", tca)
        if not aos <= tca <= los:
            raise InvalidInput("tca", iso_z(tca), f"a time from aos ({iso_z(aos)}) to los")
    if max_elevation_deg is not None and not 0 <= max_elevation_deg <= 90:
        raise InvalidInput("max_elevation_deg", max_elevation_deg, "degrees in [0, 90]")
    reserved_end = los + timedelta(seconds=postpass_s)
    return _Spans(
        aos=aos,
        los=los,
        tca=tca,
        max_elevation_deg=max_elevation_deg,
        reserved_start=aos - timedelta(seconds=prepass_s),
        reserved_end=reserved_end,
        blocked_end=reserved_end + timedelta(seconds=turnaround_s),
    )


def _prepost(name: str, value: int | None, profile: MissionProfile | None) -> int:
    if value is None:
        return 0 if profile is None else int(getattr(profile, name))
    if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PREPOST_S):
        raise InvalidInput(name, value, f"whole seconds from 0 to {MAX_PREPOST_S}")
    return value


def _window(contact: Contact | _Row) -> ContactWindow:
    """The contact (or a row of :data:`_WINDOW_COLUMNS`) as the conflict rule sees it."""
    return ContactWindow(
        start=contact.aos,
        end=contact.los,
        prepass_s=(contact.aos - contact.reserved_start).total_seconds(),
        postpass_s=(contact.reserved_end - contact.los).total_seconds(),
        antenna_id=contact.antenna_id,
        spacecraft_id=contact.spacecraft_id,
        contact_id=contact.id,
    )


def _new_window(
    spans: _Spans, antenna_id: str, spacecraft_id: str, contact_id: str
) -> ContactWindow:
    return ContactWindow(
        start=spans.aos,
        end=spans.los,
        prepass_s=spans.prepass_s,
        postpass_s=spans.postpass_s,
        antenna_id=antenna_id,
        spacecraft_id=spacecraft_id,
        contact_id=contact_id or "(requested)",
    )


# --- the checks ----------------------------------------------------------------------------------


def _check_profile(spans: _Spans, profile: MissionProfile | None) -> None:
    if profile is None:
        return
    minimum_s = profile.min_viable_contact_duration_s
    if (spans.los - spans.aos).total_seconds() < minimum_s:
        raise InvalidInput(
            "los",
            iso_z(spans.los),
            f"a pass of at least {minimum_s:g} s (mission profile {profile.id})",
        )
    if spans.max_elevation_deg is not None and spans.max_elevation_deg < profile.min_elevation_deg:
        raise InvalidInput(
            "max_elevation_deg",
            spans.max_elevation_deg,
            f"at least {profile.min_elevation_deg:g} deg (mission profile {profile.id})",
        )


def _check_not_locked(spans: _Spans, now: datetime, lock_s: float) -> None:
    earliest = now + timedelta(seconds=lock_s)
    if spans.reserved_start < earliest:
        raise InvalidInput(
            "aos",
            iso_z(spans.aos),
            f"a contact whose pre-pass starts at or after {iso_z(earliest)} "
            f"(the lock time is {lock_s:g} s before the start)",
        )


class _Busy:
    """What may stand in the way of new contacts: maintenance and active contacts near them.

    Read once for a whole batch (:meth:`around`); the contacts the batch
    books are added as it goes (:meth:`add`), so that each is checked against
    those before it too.
    """

    def __init__(self, maintenance: Sequence[_Row], contacts: Sequence[_Row]) -> None:
        self._maintenance = maintenance
        self._on_antenna: dict[str, list[_Row | Contact]] = defaultdict(list)
        self._of_spacecraft: dict[str, list[_Row | Contact]] = defaultdict(list)
        for contact in contacts:
            self.add(contact)

    @classmethod
    def around(cls, connection: Connection, wanted: Sequence[tuple[_Locked, _Spans]]) -> _Busy:
        """Maintenance and active contacts that may be in the way of ``wanted``.

        Two queries per group of ``wanted`` that fits in :data:`READ_SPAN`
        (one group for reservations asked for together, as a rule), each over
        the group's antennas and spacecraft from its earliest to its latest
        span: reservations far apart in time do not read the contacts between
        them.
        """
        maintenance: dict[tuple[str, datetime, datetime], _Row] = {}
        contacts: dict[str, _Row] = {}  # by id: a contact near two groups counts once
        for group in _groups_in_time(wanted):
            spans = [spans for _, spans in group]
            antenna_ids = sorted({locked.antenna_id for locked, _ in group})
            for row in connection.execute(
                _MAINTENANCE_NEAR,
                {
                    "antenna_ids": antenna_ids,
                    "reserved_start": min(s.reserved_start for s in spans),
                    "reserved_end": max(s.reserved_end for s in spans),
                },
            ):
                maintenance[(row.antenna_id, row.start, row.end)] = row
            for row in connection.execute(
                _ACTIVE_NEAR,
                {
                    "antenna_ids": antenna_ids,
                    "reserved_start": min(s.reserved_start for s in spans),
                    "blocked_end": max(s.blocked_end for s in spans),
                    "spacecraft_ids": sorted({locked.spacecraft_id for locked, _ in group}),
                    "aos": min(s.aos for s in spans),
                    "los": max(s.los for s in spans),
                },
            ):
                contacts[row.id] = row
        ordered = sorted(maintenance.values(), key=lambda row: row.start)
        return cls(ordered, list(contacts.values()))

    def add(self, contact: _Row | Contact) -> None:
        """Count ``contact`` (active) as booked from now on."""
        self._on_antenna[contact.antenna_id].append(contact)
        self._of_spacecraft[contact.spacecraft_id].append(contact)

    def check(
        self, tenant_id: str, locked: _Locked, spans: _Spans, *, exclude_id: str | None
    ) -> None:
        """Raise unless the antenna is up and free and the spacecraft under its limit for ``spans``.

        ``exclude_id``: a contact being moved, which does not conflict with itself.

        Raises:
            AntennaUnavailable: a maintenance window overlaps the reserved span.
            ContactConflict: an active contact is in the way, on the antenna
                or beyond the spacecraft's limit.
        """
        for window in self._maintenance:
            if (
                window.antenna_id == locked.antenna_id
                and window.start < spans.reserved_end
                and window.end > spans.reserved_start
            ):
                raise AntennaUnavailable(locked.antenna_id, window.start, window.end, window.reason)

        new = _new_window(spans, locked.antenna_id, locked.spacecraft_id, exclude_id or "")
        in_the_way = [
            other
            for other in self._on_antenna[locked.antenna_id]
            # The exclusion constraint's test first (cheap), then the rule itself.
            if other.id != exclude_id
            and other.reserved_start < spans.blocked_end
            and other.blocked_end > spans.reserved_start
            and antenna_conflict(_window(other), new, turnaround_s=locked.turnaround_s)
        ]
        if in_the_way:  # name the earliest, whatever order the rows came in
            first = min(in_the_way, key=lambda other: (other.reserved_start, other.id))
            raise _antenna_conflict(tenant_id, spans, first)

        during_pass = [
            _window(other)
            for other in self._of_spacecraft[locked.spacecraft_id]
            if other.id != exclude_id and other.aos < spans.los and other.los > spans.aos
        ]
        limit = locked.max_simultaneous_contacts
        others = [
            conflict.other(new)
            for conflict in spacecraft_conflicts([*during_pass, new], limit)
            if new in (conflict.first, conflict.second)
        ]
        if others:
            first_window = min(others, key=lambda window: (window.start, window.contact_id))
            raise ContactConflict(
                "spacecraft",
                first_window.contact_id,
                (spans.aos, spans.los),
                (first_window.start, first_window.end),
            )


def _groups_in_time(
    wanted: Sequence[tuple[_Locked, _Spans]],
) -> list[list[tuple[_Locked, _Spans]]]:
    """``wanted`` in groups, by reserved start, each within :data:`READ_SPAN`."""
    groups: list[list[tuple[_Locked, _Spans]]] = []
    for item in sorted(wanted, key=lambda item: item[1].reserved_start):
        if groups and item[1].blocked_end - groups[-1][0][1].reserved_start <= READ_SPAN:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


#: What the conflict rule reads of a booked contact (:func:`_window`), and whose it is.
_WINDOW_COLUMNS = (
    Contact.id,
    Contact.tenant_id,
    Contact.spacecraft_id,
    Contact.antenna_id,
    Contact.aos,
    Contact.los,
    Contact.reserved_start,
    Contact.reserved_end,
    Contact.blocked_end,
)
_CONTACT_COLUMNS = tuple(column.key for column in Contact.__table__.columns)


def _active() -> Select[*tuple[Any, ...]]:
    return select(*_WINDOW_COLUMNS).where(Contact.status.in_(_ACTIVE))


# The statements every reservation runs, built once with their values as bound parameters
# (typed by the column each is compared with): building a statement and its cache key is
# Python work, about 0.2 ms each, that would otherwise be repeated on every request.
# Rows are locked every spacecraft first, then every antenna, each in id order (PostgreSQL
# locks rows as the sorted result is read): two writes then never wait on each other in a
# cycle, whatever spacecraft and antennas each holds.
_SPACECRAFT_FOR_UPDATE = (
    select(Spacecraft.id, Spacecraft.tenant_id, Spacecraft.max_simultaneous_contacts)
    .where(Spacecraft.id.in_(bindparam("ids", expanding=True)))
    .order_by(Spacecraft.id)
    .with_for_update(key_share=True)
)
_ANTENNAS_FOR_UPDATE = (
    select(AntennaRow.id, AntennaRow.turnaround_s)
    .where(AntennaRow.id.in_(bindparam("ids", expanding=True)))
    .order_by(AntennaRow.id)
    .with_for_update(key_share=True)
)
_MAINTENANCE_NEAR = (
    select(
        MaintenanceWindow.antenna_id,
        MaintenanceWindow.start,
        MaintenanceWindow.end,
        MaintenanceWindow.reason,
    )
    .where(
        MaintenanceWindow.antenna_id.in_(bindparam("antenna_ids", expanding=True)),
        MaintenanceWindow.start < bindparam("reserved_end"),
        MaintenanceWindow.end > bindparam("reserved_start"),
    )
    .order_by(MaintenanceWindow.start)
)
#: A contact whose blocked span overlaps the new one's (the exclusion constraint's test).
_BLOCKED_OVERLAP = and_(
    Contact.reserved_start < bindparam("blocked_end"),
    Contact.blocked_end > bindparam("reserved_start"),
)
_ACTIVE_ON_ANTENNA = (
    _active()
    .where(
        Contact.antenna_id == bindparam("antenna_id"),
        _BLOCKED_OVERLAP,
        Contact.id != bindparam("exclude_id"),
    )
    .order_by(Contact.reserved_start)
)
#: The active contacts near new ones, for both rules: on their antennas, and of their
#: spacecraft during their passes.
_ACTIVE_NEAR = _active().where(
    or_(
        and_(Contact.antenna_id.in_(bindparam("antenna_ids", expanding=True)), _BLOCKED_OVERLAP),
        and_(
            Contact.spacecraft_id.in_(bindparam("spacecraft_ids", expanding=True)),
            Contact.aos < bindparam("los"),
            Contact.los > bindparam("aos"),
        ),
    )
)
_INSERT_CONTACT = insert(Contact)
_INSERT_AUDIT = insert(AuditRecord)


def _active_on_antenna(
    session: Session, antenna_id: str, spans: _Spans, exclude_id: str | None
) -> Sequence[_Row]:
    """Active contacts on the antenna whose blocked span overlaps ``spans``' (the DB's test).

    Each row holds :data:`_WINDOW_COLUMNS`.
    """
    return (
        session.connection()
        .execute(
            _ACTIVE_ON_ANTENNA,
            {
                "antenna_id": antenna_id,
                "reserved_start": spans.reserved_start,
                "blocked_end": spans.blocked_end,
                "exclude_id": exclude_id or "",
            },
        )
        .all()
    )


def _antenna_conflict(tenant_id: str, spans: _Spans, other: Contact | _Row) -> ContactConflict:
    return ContactConflict(
        "antenna",
        other.id if other.tenant_id == tenant_id else None,
        (spans.reserved_start, spans.blocked_end),
        (other.reserved_start, other.blocked_end),
    )


# --- rows of this tenant -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Locked:
    """The spacecraft and antenna rows a write holds, with what the checks need of them."""

    spacecraft_id: str
    max_simultaneous_contacts: int
    antenna_id: str
    turnaround_s: float


@dataclass(frozen=True, slots=True)
class _Locks:
    """The spacecraft and antenna rows a write holds until it commits (PostgreSQL)."""

    spacecraft: dict[str, _Row]
    antennas: dict[str, _Row]

    @classmethod
    def take(cls, connection: Connection, pairs: Sequence[tuple[str, str]]) -> _Locks:
        """Lock the rows of ``pairs`` (spacecraft id, antenna id): two statements, any number.

        Writes to one antenna therefore queue, as do writes for one spacecraft.
        """
        craft_ids = sorted({spacecraft_id for spacecraft_id, _ in pairs})
        antenna_ids = sorted({antenna_id for _, antenna_id in pairs})
        spacecraft = connection.execute(_SPACECRAFT_FOR_UPDATE, {"ids": craft_ids}).all()
        antennas = connection.execute(_ANTENNAS_FOR_UPDATE, {"ids": antenna_ids}).all()
        return cls({row.id: row for row in spacecraft}, {row.id: row for row in antennas})

    def of(self, tenant_id: str, spacecraft_id: str, antenna_id: str) -> _Locked:
        """What the checks need of the tenant's spacecraft and the antenna.

        Raises:
            NotFound: no such spacecraft for this tenant, or no such antenna.
        """
        craft = self.spacecraft.get(spacecraft_id)
        if craft is None or craft.tenant_id != tenant_id:
            raise NotFound("spacecraft", spacecraft_id)
        antenna = self.antennas.get(antenna_id)
        if antenna is None:
            raise NotFound("antenna", antenna_id)
        return _Locked(craft.id, craft.max_simultaneous_contacts, antenna.id, antenna.turnaround_s)


def _profiles(session: Session, reservations: Sequence[Reservation]) -> dict[str, MissionProfile]:
    """The mission profiles ``reservations`` name, by id, whoever owns them."""
    ids = {r.request.mission_profile_id for r in reservations} - {None}
    if not ids:
        return {}
    return {
        p.id: p for p in session.scalars(select(MissionProfile).where(MissionProfile.id.in_(ids)))
    }


def _owned_contact(
    session: Session, tenant_id: str, contact_id: str, *, for_update: bool
) -> Contact:
    query = select(Contact).where(Contact.id == contact_id, Contact.tenant_id == tenant_id)
    if for_update:
        query = query.with_for_update()
    found = session.scalars(query).first()
    if found is None:
        raise NotFound("contact", contact_id)
    return found


def _snapshot(profile: MissionProfile | None, spans: _Spans) -> dict[str, Any]:
    """What the contact keeps of its mission profile, frozen at reservation."""
    snapshot: dict[str, Any] = {"prepass_s": spans.prepass_s, "postpass_s": spans.postpass_s}
    if profile is not None:
        snapshot.update(
            id=profile.id,
            name=profile.name,
            min_elevation_deg=profile.min_elevation_deg,
            min_viable_contact_duration_s=profile.min_viable_contact_duration_s,
            tracking_config=profile.tracking_config,
            links=profile.links,
            dataflow_endpoint=profile.dataflow_endpoint,
        )
    return snapshot


def _describe(contact: Contact) -> dict[str, Any]:
    return {
        "spacecraft_id": contact.spacecraft_id,
        "antenna_id": contact.antenna_id,
        "aos": iso_z(contact.aos),
        "los": iso_z(contact.los),
        "reserved_start": iso_z(contact.reserved_start),
        "reserved_end": iso_z(contact.reserved_end),
    }


def _audit(
    session: Session,
    at: datetime,
    tenant_id: str,
    api_key_id: str | None,
    action: str,
    contact_id: str,
    detail: dict[str, Any],
) -> None:
    """Append a line about a contact to the audit log, in the session's transaction."""
    session.connection().execute(
        _INSERT_AUDIT, _audit_values(at, tenant_id, api_key_id, action, contact_id, detail)
    )


def _audit_values(
    at: datetime,
    tenant_id: str,
    api_key_id: str | None,
    action: str,
    contact_id: str,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """The audit-log row of a line about a contact."""
    return {
        "at": at,
        "tenant_id": tenant_id,
        "api_key_id": api_key_id,
        "action": action,
        "object_type": "contact",
        "object_id": contact_id,
        "detail": detail,
    }


def _column_values(contact: Contact) -> dict[str, Any]:
    """Every column of ``contact``'s row, by name."""
    return {name: getattr(contact, name) for name in _CONTACT_COLUMNS}


def _require_aware(name: str, value: object) -> None:
    if not (isinstance(value, datetime) and value.utcoffset() is not None):
        raise InvalidInput(name, value, "a timezone-aware datetime (UTC)")


# --- transactions --------------------------------------------------------------------------------

#: PostgreSQL SQLSTATEs worth running the transaction again for: deadlock, serialization failure.
_RETRY_SQLSTATES = frozenset({"40P01", "40001"})
#: PostgreSQL SQLSTATE of an exclusion-constraint violation.
_EXCLUSION_VIOLATION = "23P01"


@dataclass
class _Pending:
    """What a write is about to put on an antenna, to explain an exclusion violation."""

    antenna_id: str | None = None
    spans: _Spans | None = None
    contact_id: str | None = None

    def about(self, antenna_id: str, spans: _Spans, *, contact_id: str | None) -> None:
        self.antenna_id, self.spans, self.contact_id = antenna_id, spans, contact_id


def _run_write(
    session: Session, tenant_id: str, attempt: Callable[[], _T], pending: _Pending
) -> _T:
    """Run ``attempt`` in a write transaction, again on a deadlock, and translate double bookings.

    ``pending`` is filled by ``attempt`` with the antenna span it is about to
    write, so that an exclusion violation (PostgreSQL) can name the contact in
    the way.
    """
    for attempt_no in range(1, MAX_ATTEMPTS + 1):
        last = attempt_no == MAX_ATTEMPTS
        try:
            with write_transaction(session):
                return attempt()
        except IntegrityError as error:
            if _sqlstate(error) != _EXCLUSION_VIOLATION or pending.spans is None:
                raise
            conflict = _conflict_after_violation(session, tenant_id, pending)
            if conflict is not None:
                raise conflict from error
            if last:  # the contact in the way was gone each time we looked: still a conflict
                spans = (pending.spans.reserved_start, pending.spans.blocked_end)
                raise ContactConflict("antenna", None, spans, spans) from error
        except DBAPIError as error:
            if last or not _retryable(error):
                raise
            time.sleep(random.uniform(0, 0.01 * attempt_no))  # let the other side finish
    raise AssertionError("unreachable: the last attempt returns or raises")


def _sqlstate(error: DBAPIError) -> str | None:
    state = getattr(error.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def _retryable(error: DBAPIError) -> bool:
    return _sqlstate(error) in _RETRY_SQLSTATES or "database is locked" in str(error.orig)


def _conflict_after_violation(
    session: Session, tenant_id: str, pending: _Pending
) -> ContactConflict | None:
    """The :class:`ContactConflict` for an exclusion violation, or ``None`` if the cause is gone.

    PostgreSQL waits for the contact in the way to commit before it reports
    the violation, so a fresh transaction sees it.
    """
    assert pending.antenna_id is not None and pending.spans is not None
    with session.begin():
        others = _active_on_antenna(session, pending.antenna_id, pending.spans, pending.contact_id)
        return _antenna_conflict(tenant_id, pending.spans, others[0]) if others else None


__all__ = [
    "DEFAULT_LOCK_S",
    "MAX_LIST_WINDOW",
    "MAX_PAGE_SIZE",
    "ContactChanges",
    "ContactFilters",
    "ContactPage",
    "ReservationRequest",
    "cancel_contact",
    "get_contact",
    "list_contacts",
    "reserve_contact",
    "update_contact",
]
