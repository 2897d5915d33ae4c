"""Re-prediction: when another ephemeris takes over, check the booked contacts against it.

A contact is booked on the passes predicted from the elements of its day. A
fresh ephemeris (after a manoeuvre, or a better orbit determination) moves
the passes, sometimes by seconds, sometimes by minutes, sometimes out of the
booking altogether. When an upload becomes the spacecraft's ephemeris in use
(:func:`groundlink.services.catalog.ephemerides_in_use`), every one of its
contacts that is SCHEDULED and whose reserved span has not begun is checked
against passes predicted with the new elements on the contact's antenna,
above that antenna's minimum elevation and horizon mask and the minimum
elevation of the mission profile the contact was booked with:

* ``fits``: one predicted pass covers the booked ``[aos, los]``, its AOS no
  more than :data:`FIT_TOLERANCE_S` after the booked AOS and its LOS no
  more than that before the booked LOS;
* ``shifted``: a predicted pass still overlaps the booking, but does not
  cover it; its AOS, TCA and LOS are recorded, so the operator can move the
  contact there (``PATCH /v1/contacts/{id}``);
* ``lost``: no predicted pass overlaps the booking any more (or SGP4 cannot
  propagate the new elements over it, or no ephemeris is left in use).

Where several passes overlap a booking, the one overlapping it longest is
taken. The predicted times are those of the pass engine
(:func:`groundlink.passes.engine.find_passes`), rounded to the millisecond.
The tolerance covers the engine's own variation between two searches over
different windows (milliseconds); a contact booked from an available
contact is reproduced well within it by unchanged elements.

**Flag only.** The result is stored on the contact (``Contact.prediction``)
and audited (``contact.prediction_changed``); the contact's status, times,
``version`` and ``updated_at`` do not change. Moving or cancelling a
booking has consequences this module cannot weigh (a shifted pass may now
collide with another contact, a lost one may have a replacement on another
antenna, the operator may trust the old orbit more than the new one): the
operator decides, and the network scheduler will re-plan.

**Search windows.** Each booking is searched from :data:`SEARCH_MARGIN`
before its AOS to as long after its LOS, so a LEO pass that overlaps it is
found whole; a longer pass (MEO, GEO) is cut at the margin, and its recorded
times are then a part of the pass that the antenna can still track.
Bookings close in time share one search (at most :data:`MAX_SEARCH_SPAN`
long) over the antennas they use, so checking weeks of contacts costs a few
engine calls, not one per contact.

**Expiry.** The ephemeris in use also changes when it expires: the next
one by the same rule takes over, or none is left. :func:`recheck_after_expiry` (run by the
contact life cycle's :class:`~groundlink.services.lifecycle.StatusAdvancer`)
finds the spacecraft one of whose ephemerides expired since its last run,
and checks those of their contacts whose ephemeris is no longer the one in
use: the one their ``prediction`` names or, never checked, the one in use
when they were booked or last changed. With none left, each is ``lost``
with no ``ephemeris_id``: no pass can be predicted for it. A contact
already checked against the ephemeris in use is left alone, so a run that
repeats (another process, a restart) records nothing.

**Transactions.** :func:`check_after_upload` runs in the upload's own
transaction, right after the new ephemeris row is flushed: the ephemeris
and the flags it causes are committed together, an ``Idempotency-Key``
replay returns the same list, and two uploads for one spacecraft (serialized
by the lock on its row) cannot leave flags from the older one. On
PostgreSQL the contacts are locked with ``SKIP LOCKED``: a contact that
another transaction is changing at that instant (being moved or cancelled)
is left unchecked rather than waited for, so an upload never deadlocks with
a booking change (which locks the contact, then the spacecraft).
:func:`recheck_after_expiry` takes the same locks, in its own write
transaction per spacecraft.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from groundlink.adapters.db.engine import write_transaction
from groundlink.adapters.db.models import (
    AntennaRow,
    AuditRecord,
    Contact,
    Ephemeris,
    GroundStationRow,
    Spacecraft,
)
from groundlink.contacts.conflicts import iso_z
from groundlink.contacts.states import ContactStatus
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.omm import elements_from_omm
from groundlink.passes.engine import find_passes
from groundlink.services import catalog
from groundlink.stations.model import GroundStation

FloatArray = npt.NDArray[np.float64]

#: How a booked contact fits the passes of the new ephemeris.
Fit = Literal["fits", "shifted", "lost"]

#: Seconds a predicted AOS may come after the booked AOS (or LOS before LOS) and still fit.
FIT_TOLERANCE_S = 1.0
#: Searched before each booked AOS and after each LOS: longer than any LEO pass.
SEARCH_MARGIN = timedelta(hours=1)
#: Longest window one pass search covers (the engine accepts 31 days; a week keeps it small).
MAX_SEARCH_SPAN = timedelta(days=7)
#: The audit action written for each contact checked.
AUDIT_ACTION = "contact.prediction_changed"


# --- the check, on plain domain objects ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookedPass:
    """A booked contact as the check needs it.

    ``aos``/``los``: the booked pass, timezone-aware UTC; ``antenna_id``: the
    antenna it is booked on (an antenna of the stations given to
    :func:`check_booked_passes`); ``min_elevation_deg``: the booking's
    mission-profile minimum in degrees (the antenna's own minimum and mask
    apply on top).
    """

    contact_id: str
    antenna_id: str
    aos: datetime
    los: datetime
    min_elevation_deg: float = 0.0


@dataclass(frozen=True, slots=True)
class PassFit:
    """How one booked contact fits the new passes; predicted times (UTC) are ``None`` when lost."""

    contact_id: str
    fit: Fit
    predicted_aos: datetime | None = None
    predicted_tca: datetime | None = None
    predicted_los: datetime | None = None


def classify_fit(
    aos_s: float,
    los_s: float,
    pass_aos_s: FloatArray,
    pass_los_s: FloatArray,
    tolerance_s: float = FIT_TOLERANCE_S,
) -> tuple[Fit, int | None]:
    """How the booking ``[aos_s, los_s)`` fits the passes ``[pass_aos_s, pass_los_s)``.

    All times are POSIX seconds; the pass arrays are (N,), of one antenna.
    Returns the fit and the index of the pass it refers to (the one
    overlapping the booking longest), or ``("lost", None)``.
    """
    overlap_s = np.minimum(pass_los_s, los_s) - np.maximum(pass_aos_s, aos_s)
    if overlap_s.size == 0 or float(overlap_s.max()) <= 0.0:
        return "lost", None
    best = int(np.argmax(overlap_s))
    covers = pass_aos_s[best] <= aos_s + tolerance_s and pass_los_s[best] >= los_s - tolerance_s
    return ("fits" if covers else "shifted"), best


def check_booked_passes(
    booked: Sequence[BookedPass],
    elements: OrbitalElements,
    stations: Sequence[GroundStation],
    *,
    tolerance_s: float = FIT_TOLERANCE_S,
) -> list[PassFit]:
    """How each booking fits the passes that ``elements`` predict on its antenna.

    ``stations`` must hold every booking's antenna (ids are unique across
    stations). Returns one :class:`PassFit` per booking, in ``booked`` order.
    No database and no clock: the caller loads and stores.

    Raises:
        KeyError: a booking's antenna is not among ``stations``.
    """
    where = {antenna.id: station for station in stations for antenna in station.antennas}
    results: dict[str, PassFit] = {}
    for floor_deg, batch in _search_batches(booked):
        start = min(b.aos for b in batch) - SEARCH_MARGIN
        end = max(b.los for b in batch) + SEARCH_MARGIN
        used = {b.antenna_id for b in batch}
        searched = _stations_with(used, where)
        table = find_passes(
            [elements], searched, start, end, min_elevation_deg=floor_deg, workers=1
        )
        antenna_ids = np.array([antenna.id for _, antenna in table.antennas])
        pass_antenna = antenna_ids[table.antenna_index]  # each pass's antenna id
        for b in batch:
            on_antenna = np.flatnonzero(pass_antenna == b.antenna_id)
            fit, index = classify_fit(
                b.aos.timestamp(),
                b.los.timestamp(),
                table.aos_unix_s[on_antenna],
                table.los_unix_s[on_antenna],
                tolerance_s,
            )
            if index is None:
                results[b.contact_id] = PassFit(b.contact_id, fit)
                continue
            row = int(on_antenna[index])
            results[b.contact_id] = PassFit(
                b.contact_id,
                fit,
                _utc_ms(table.aos_unix_s[row]),
                _utc_ms(table.tca_unix_s[row]),
                _utc_ms(table.los_unix_s[row]),
            )
    return [results[b.contact_id] for b in booked]


def _search_batches(booked: Sequence[BookedPass]) -> Iterator[tuple[float, list[BookedPass]]]:
    """Bookings grouped for one pass search each: same minimum elevation, spanning at most
    :data:`MAX_SEARCH_SPAN` with the margins."""
    by_floor: dict[float, list[BookedPass]] = defaultdict(list)
    for b in booked:
        by_floor[b.min_elevation_deg].append(b)
    for floor_deg, group in sorted(by_floor.items()):
        batch: list[BookedPass] = []
        last_los = datetime.min.replace(tzinfo=UTC)
        for b in sorted(group, key=lambda b: b.aos):
            last_los = max(last_los, b.los)
            if batch and last_los - batch[0].aos + 2 * SEARCH_MARGIN > MAX_SEARCH_SPAN:
                yield floor_deg, batch
                batch, last_los = [], b.los
            batch.append(b)
        if batch:
            yield floor_deg, batch


def _stations_with(antenna_ids: set[str], where: dict[str, GroundStation]) -> list[GroundStation]:
    """The stations of ``antenna_ids``, each holding only those of its antennas."""
    stations: dict[str, GroundStation] = {}
    for antenna_id in sorted(antenna_ids):
        station = where[antenna_id]
        kept = tuple(a for a in station.antennas if a.id in antenna_ids)
        stations[station.id] = replace(station, antennas=kept)
    return list(stations.values())


def _utc_ms(unix_s: float) -> datetime:
    return datetime.fromtimestamp(round(float(unix_s), 3), tz=UTC)


# --- on the database -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadCheck:
    """What an upload changed: ``in_use`` if it became the ephemeris in use, and the
    contacts checked against it (their ``prediction`` set), by AOS."""

    in_use: bool
    contacts: list[Contact]


def check_after_upload(
    session: Session,
    ephemeris: Ephemeris,
    now: datetime,
    *,
    api_key_id: str | None = None,
) -> UploadCheck:
    """Re-predict the spacecraft's contacts if ``ephemeris`` (just added) is now the one in use.

    Runs in the caller's transaction, which holds the spacecraft's row
    locked and has flushed ``ephemeris``. Nothing is checked when another
    ephemeris stays in use (a lower priority, disabled, or expired upload).
    """
    in_use = catalog.ephemerides_in_use(session, [ephemeris.spacecraft_id], now)
    chosen = in_use.get(ephemeris.spacecraft_id)
    if chosen is None or chosen.id != ephemeris.id:
        return UploadCheck(False, [])
    return UploadCheck(True, repredict_contacts(session, ephemeris, now, api_key_id=api_key_id))


def repredict_contacts(
    session: Session,
    ephemeris: Ephemeris,
    now: datetime,
    *,
    api_key_id: str | None = None,
) -> list[Contact]:
    """Check the spacecraft's SCHEDULED contacts not yet begun against ``ephemeris``.

    Sets each contact's ``prediction`` (see ``Contact``) and writes one
    ``contact.prediction_changed`` audit row per contact, in the caller's
    transaction. Returns the contacts checked, by AOS.
    """
    contacts = _pending_contacts(session, ephemeris.spacecraft_id, now)
    return _check_and_store(session, contacts, ephemeris, now, api_key_id)


def recheck_after_expiry(session: Session, after: datetime | None, now: datetime) -> list[Contact]:
    """Check the contacts whose ephemeris in use changed by an expiry in ``(after, now]``.

    For every spacecraft one of whose ephemerides expired after ``after``
    (``None``: at any time) and by ``now``, and that has SCHEDULED contacts
    not yet begun, those contacts whose ephemeris is not the one in use at
    ``now`` (see the module's *Expiry*) are checked against the one in use,
    or flagged ``lost`` with no ``ephemeris_id`` when none is left; audited
    with no API key (the platform did it). ``session`` must not be in a
    transaction: a cheap read finds the spacecraft, then each is one write
    transaction, its row locked first as an upload does. Returns the
    contacts checked, by spacecraft, then AOS.
    """
    expired = Ephemeris.expires_at <= now
    if after is not None:
        expired &= Ephemeris.expires_at > after
    booked = exists().where(
        Contact.spacecraft_id == Ephemeris.spacecraft_id,
        Contact.status == ContactStatus.SCHEDULED.value,
        Contact.reserved_start > now,
    )
    with session.begin():
        spacecraft_ids = sorted(
            set(session.scalars(select(Ephemeris.spacecraft_id).where(expired, booked)))
        )
    checked: list[Contact] = []
    for spacecraft_id in spacecraft_ids:
        with write_transaction(session):
            locked = session.scalars(
                select(Spacecraft.id).where(Spacecraft.id == spacecraft_id).with_for_update()
            ).one_or_none()
            if locked is None:  # deleted meanwhile, with its contacts
                continue
            in_use = catalog.ephemerides_in_use(session, [spacecraft_id], now).get(spacecraft_id)
            in_use_id = None if in_use is None else in_use.id
            pending = _pending_contacts(session, spacecraft_id, now)
            basis = _checked_against(session, spacecraft_id, pending)
            stale = [
                contact for contact, was in zip(pending, basis, strict=True) if was != in_use_id
            ]
            checked += _check_and_store(session, stale, in_use, now, None)
    return checked


def _checked_against(
    session: Session, spacecraft_id: str, contacts: Sequence[Contact]
) -> list[str | None]:
    """Per contact, the id of the ephemeris it was last checked against, or booked on (or None).

    A contact never checked was booked on the one in use when it was booked
    or last changed (``updated_at``): an upload that took over since then
    would have checked it.
    """
    then = {
        moment: catalog.ephemerides_in_use(session, [spacecraft_id], moment).get(spacecraft_id)
        for moment in {contact.updated_at for contact in contacts if contact.prediction is None}
    }
    basis: list[str | None] = []
    for contact in contacts:
        if contact.prediction is not None:
            basis.append(contact.prediction.get("ephemeris_id"))
        else:
            booked_on = then[contact.updated_at]
            basis.append(None if booked_on is None else booked_on.id)
    return basis


def _pending_contacts(session: Session, spacecraft_id: str, now: datetime) -> list[Contact]:
    """The spacecraft's SCHEDULED contacts whose reserved span has not begun, locked, by AOS."""
    return list(
        session.scalars(
            select(Contact)
            .where(
                Contact.spacecraft_id == spacecraft_id,
                Contact.status == ContactStatus.SCHEDULED.value,
                Contact.reserved_start > now,
            )
            .order_by(Contact.aos, Contact.id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)  # the rows as locked, not as cached
        )
    )


def _check_and_store(
    session: Session,
    contacts: list[Contact],
    ephemeris: Ephemeris | None,
    now: datetime,
    api_key_id: str | None,
) -> list[Contact]:
    """Check ``contacts`` against ``ephemeris`` (None: none in use, all ``lost``); store, audit."""
    if not contacts:
        return []
    if ephemeris is None:
        fits = [PassFit(contact.id, "lost") for contact in contacts]
    else:
        stations = _stations_of(session, {contact.antenna_id for contact in contacts})
        booked = [
            BookedPass(
                contact.id,
                contact.antenna_id,
                contact.aos,
                contact.los,
                float(contact.profile_snapshot.get("min_elevation_deg") or 0.0),
            )
            for contact in contacts
        ]
        fits = check_booked_passes(booked, elements_from_omm(ephemeris.omm), stations)
    for contact, fit in zip(contacts, fits, strict=True):
        previous = contact.prediction
        prediction = _stored(fit, None if ephemeris is None else ephemeris.id, now)
        contact.prediction = prediction
        session.add(
            AuditRecord(
                at=now,
                tenant_id=contact.tenant_id,
                api_key_id=api_key_id,
                action=AUDIT_ACTION,
                object_type="contact",
                object_id=contact.id,
                detail={
                    **prediction,
                    "previous_fit": None if previous is None else previous.get("fit"),
                },
            )
        )
    session.flush()
    return contacts


def _stations_of(session: Session, antenna_ids: set[str]) -> list[GroundStation]:
    """The stations of ``antenna_ids``, each with those of its antennas."""
    antennas = list(
        session.scalars(
            select(AntennaRow).where(AntennaRow.id.in_(sorted(antenna_ids))).order_by(AntennaRow.id)
        )
    )
    by_station: dict[str, list[AntennaRow]] = defaultdict(list)
    for antenna in antennas:
        by_station[antenna.station_id].append(antenna)
    rows = session.scalars(
        select(GroundStationRow).where(GroundStationRow.id.in_(sorted(by_station)))
    )
    return [catalog.station_from_rows(row, by_station[row.id]) for row in rows]


def _stored(fit: PassFit, ephemeris_id: str | None, now: datetime) -> dict[str, Any]:
    """The JSON kept in ``Contact.prediction``: times ISO-8601 UTC with ``Z``."""

    def text(moment: datetime | None) -> str | None:
        return None if moment is None else iso_z(moment)

    return {
        "ephemeris_id": ephemeris_id,
        "checked_at": iso_z(now),
        "fit": fit.fit,
        "predicted_aos": text(fit.predicted_aos),
        "predicted_tca": text(fit.predicted_tca),
        "predicted_los": text(fit.predicted_los),
    }


__all__ = [
    "AUDIT_ACTION",
    "FIT_TOLERANCE_S",
    "MAX_SEARCH_SPAN",
    "SEARCH_MARGIN",
    "BookedPass",
    "Fit",
    "PassFit",
    "UploadCheck",
    "check_after_upload",
    "check_booked_passes",
    "classify_fit",
    "recheck_after_expiry",
    "repredict_contacts",
]
