"""Reservations booked in batches (group commit) get the answers they would get one by one.

The oracle is the one-at-a-time path on an identical network: a random
mixture of free, overlapping, invalid, foreign and maintenance-blocked
reservations is booked as one batch on one network, and one after another on
another, on SQLite and on PostgreSQL; every answer must match.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from db_fixtures import NOW, Network, make_network
from groundlink.adapters.db.models import AuditRecord, Contact, MaintenanceWindow, Spacecraft
from groundlink.errors import GroundlinkError
from groundlink.services import booking
from groundlink.services.booking import Reservation, ReservationRequest, reserve_contacts
from groundlink.services.errors import ContactConflict

pytest_plugins = ["db_fixtures"]

DAY = NOW + timedelta(days=1)


@dataclass(frozen=True)
class Wish:
    """A reservation independent of the network's ids: which spacecraft, antenna, when."""

    spacecraft: int  # index into the fleet; -1: the other tenant's spacecraft
    antenna: int  # 0 or 1; 2: an antenna that does not exist
    aos_min: float
    los_min: float


def _network(sessions: sessionmaker[Session]) -> Network:
    """A fresh network: spacecraft 2 may be in two passes at once; dish-2 is down 60-90 min."""
    network = make_network(sessions)
    with sessions.begin() as session:
        session.execute(
            update(Spacecraft)
            .where(Spacecraft.id == network.spacecraft_ids[2])
            .values(max_simultaneous_contacts=2)
        )
        session.add(
            MaintenanceWindow(
                antenna_id=network.second_antenna_id,
                start=DAY + timedelta(minutes=60),
                end=DAY + timedelta(minutes=90),
                reason="feed swap",
            )
        )
    return network


def _reservation(network: Network, wish: Wish) -> Reservation:
    spacecraft = (
        network.other_spacecraft_id
        if wish.spacecraft < 0
        else network.spacecraft_ids[wish.spacecraft]
    )
    antenna = (network.antenna_id, network.second_antenna_id, "an-unknown")[wish.antenna]
    request = ReservationRequest(
        spacecraft_id=spacecraft,
        antenna_id=antenna,
        aos=DAY + timedelta(minutes=wish.aos_min),
        los=DAY + timedelta(minutes=wish.los_min),
        prepass_s=60,
        postpass_s=60,
    )
    return Reservation(network.tenant_id, request, NOW, "key-test")


def _wishes(seed: int, count: int) -> list[Wish]:
    rng = random.Random(seed)
    wishes = []
    for _ in range(count):
        aos_min = rng.uniform(0, 180)
        length_min = rng.uniform(4, 15) if rng.random() > 0.1 else -2.0  # some reversed
        wishes.append(
            Wish(
                spacecraft=rng.choice([0, 1, 2, 2, -1]),
                antenna=rng.choice([0, 0, 1, 1, 2]),
                aos_min=aos_min,
                los_min=aos_min + length_min,
            )
        )
    return wishes


def _outcome(answer: Contact | GroundlinkError, position: dict[str, int]) -> tuple[object, ...]:
    """An answer, comparable across networks: contacts by their spans, errors by kind."""
    if isinstance(answer, Contact):
        return ("booked", answer.aos, answer.los, answer.reserved_start, answer.blocked_end)
    if isinstance(answer, ContactConflict):
        named = answer.conflicting_contact_id
        return ("conflict", answer.kind, None if named is None else position[named])
    return (type(answer).__name__, str(answer).split()[0])  # the field or object named


@pytest.mark.parametrize(("seed", "read_span_min"), [(1, None), (2, None), (3, 20), (4, 20)])
def test_a_batch_answers_as_the_same_reservations_one_after_another(
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    read_span_min: float | None,
) -> None:
    """Both networks first get the same 30 contacts one by one; then 60 more reservations
    go in one batch on one network and one by one on the other. With ``read_span_min``,
    the batch reads the contacts booked before it in many overlapping groups."""
    if read_span_min is not None:
        monkeypatch.setattr(booking, "READ_SPAN", timedelta(minutes=read_span_min))
    wishes = _wishes(seed, 90)
    before, wanted = wishes[:30], wishes[30:]
    batched_network, single_network = _network(sessions), _network(sessions)

    def one_by_one(network: Network, some: list[Wish]) -> list[Contact | GroundlinkError]:
        answers: list[Contact | GroundlinkError] = []
        for wish in some:
            with sessions() as session:
                answers += reserve_contacts(session, [_reservation(network, wish)])
        return answers

    booked_before = [one_by_one(network, before) for network in (batched_network, single_network)]
    with sessions() as session:
        batched = reserve_contacts(session, [_reservation(batched_network, w) for w in wanted])
    single = one_by_one(single_network, wanted)

    def outcomes(
        earlier: list[Contact | GroundlinkError], answers: list[Contact | GroundlinkError]
    ) -> list[tuple[object, ...]]:
        everything = [*earlier, *answers]
        position = {a.id: i for i, a in enumerate(everything) if isinstance(a, Contact)}
        return [_outcome(answer, position) for answer in answers]

    assert outcomes(booked_before[0], batched) == outcomes(booked_before[1], single)
    kinds = {outcome[0] for outcome in outcomes(booked_before[0], batched)}
    # The mixture exercises every path: booked, conflicts, and refusals of other kinds.
    assert {"booked", "conflict", "NotFound", "AntennaUnavailable", "InvalidInput"} <= kinds

    # What the batch booked is stored, each with its audit line.
    booked_ids = {a.id for a in [*booked_before[0], *batched] if isinstance(a, Contact)}
    with sessions() as session:
        stored = set(
            session.scalars(
                select(Contact.id).where(Contact.tenant_id == batched_network.tenant_id)
            )
        )
        audited = set(
            session.scalars(
                select(AuditRecord.object_id).where(
                    AuditRecord.tenant_id == batched_network.tenant_id,
                    AuditRecord.action == "contact.reserved",
                )
            )
        )
    assert stored == booked_ids == audited


def test_an_empty_batch_books_nothing(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert reserve_contacts(session, []) == []


def test_a_batch_the_constraint_refuses_is_booked_one_at_a_time(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a conflict the check missed (another server process) fails the batch's
    insert; each reservation is then booked alone and the one in the way is named."""
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("on SQLite the check itself is the guard (under BEGIN IMMEDIATE)")
    network = _network(sessions)
    monkeypatch.setattr(booking, "antenna_conflict", lambda *args, **kwargs: None)
    wishes = [Wish(0, 0, 0, 10), Wish(1, 0, 5, 15), Wish(1, 1, 20, 30)]
    with sessions() as session:
        first, second, third = reserve_contacts(session, [_reservation(network, w) for w in wishes])
    assert isinstance(first, Contact) and isinstance(third, Contact)
    assert isinstance(second, ContactConflict)
    assert second.kind == "antenna" and second.conflicting_contact_id == first.id
