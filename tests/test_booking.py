"""Booking on SQLite and PostgreSQL: semantics, tenancy, audit, no double booking under a race."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from db_fixtures import NOW, Network, make_network
from groundlink.adapters.db import create_engine_from_url, session_factory
from groundlink.adapters.db.models import (
    ACTIVE_STATUSES,
    AuditRecord,
    Contact,
    MaintenanceWindow,
    MissionProfile,
    Spacecraft,
)
from groundlink.contacts import ContactStateError, ContactStatus, antenna_conflicts
from groundlink.errors import InvalidInput
from groundlink.services import booking
from groundlink.services.booking import (
    ContactChanges,
    ContactFilters,
    ReservationRequest,
    cancel_contact,
    get_contact,
    list_contacts,
    reserve_contact,
    update_contact,
)
from groundlink.services.errors import (
    AntennaUnavailable,
    ContactConflict,
    LockedForChanges,
    NotFound,
    StaleVersion,
)

DAY = NOW + timedelta(days=1)


def at(minutes: float) -> datetime:
    """``minutes`` after the start of the test day."""
    return DAY + timedelta(minutes=minutes)


def request(
    net: Network,
    aos_min: float,
    los_min: float,
    *,
    spacecraft: int = 0,
    antenna: str | None = None,
    prepass_s: int = 120,
    postpass_s: int = 60,
) -> ReservationRequest:
    return ReservationRequest(
        spacecraft_id=net.spacecraft_ids[spacecraft],
        antenna_id=antenna or net.antenna_id,
        aos=at(aos_min),
        los=at(los_min),
        tca=at((aos_min + los_min) / 2),
        max_elevation_deg=45.0,
        prepass_s=prepass_s,
        postpass_s=postpass_s,
    )


def reserve(sessions: sessionmaker[Session], net: Network, req: ReservationRequest) -> Contact:
    with sessions() as session:
        return reserve_contact(session, net.tenant_id, req, NOW, api_key_id="key-test")


def audit_rows(sessions: sessionmaker[Session], contact_id: str) -> list[AuditRecord]:
    with sessions() as session:
        query = select(AuditRecord).where(AuditRecord.object_id == contact_id)
        return list(session.scalars(query.order_by(AuditRecord.id)))


# --- reserve --------------------------------------------------------------------------------------


def test_reserve_stores_a_scheduled_contact_with_its_spans(
    sessions: sessionmaker[Session], network: Network
) -> None:
    contact = reserve(sessions, network, request(network, 0, 10))
    with sessions() as session:
        stored = session.get(Contact, contact.id)
        assert stored is not None
    assert stored.id.startswith("ct-")
    assert stored.status == ContactStatus.SCHEDULED
    assert stored.version == 1
    assert stored.aos == at(0) and stored.los == at(10)
    assert stored.reserved_start == at(0) - timedelta(seconds=120)
    assert stored.reserved_end == at(10) + timedelta(seconds=60)
    assert stored.blocked_end == stored.reserved_end + timedelta(seconds=network.turnaround_s)
    assert stored.profile_snapshot == {"prepass_s": 120.0, "postpass_s": 60.0}
    assert stored.aos.utcoffset() == timedelta(0)


def test_overlap_on_the_antenna_is_a_conflict_naming_the_contact(
    sessions: sessionmaker[Session], network: Network
) -> None:
    first = reserve(sessions, network, request(network, 0, 10))
    with pytest.raises(ContactConflict) as caught:
        reserve(sessions, network, request(network, 5, 15, spacecraft=1))
    conflict = caught.value
    assert conflict.kind == "antenna"
    assert conflict.conflicting_contact_id == first.id
    assert (conflict.conflicting_start, conflict.conflicting_end) == (
        first.reserved_start,
        first.blocked_end,
    )
    assert conflict.requested_start == at(5) - timedelta(seconds=120)
    assert first.id in str(conflict)


def test_touching_after_turnaround_is_allowed_one_microsecond_less_is_not(
    sessions: sessionmaker[Session], network: Network
) -> None:
    first = reserve(sessions, network, request(network, 0, 10))
    # The next reserved start may be exactly the first's blocked end (reserved end + turnaround).
    touching_aos = first.blocked_end + timedelta(seconds=120)  # its pre-pass is 120 s

    def after(aos: datetime) -> ReservationRequest:
        return ReservationRequest(
            network.spacecraft_ids[1],
            network.antenna_id,
            aos,
            aos + timedelta(minutes=10),
            prepass_s=120,
        )

    with pytest.raises(ContactConflict):
        reserve(sessions, network, after(touching_aos - timedelta(microseconds=1)))
    second = reserve(sessions, network, after(touching_aos))
    assert second.reserved_start == first.blocked_end


def test_another_antenna_is_free_but_the_spacecraft_is_not(
    sessions: sessionmaker[Session], network: Network
) -> None:
    first = reserve(sessions, network, request(network, 0, 10))
    elsewhere = request(network, 5, 15, antenna=network.second_antenna_id)
    with pytest.raises(ContactConflict) as caught:
        reserve(sessions, network, elsewhere)
    assert caught.value.kind == "spacecraft"
    assert caught.value.conflicting_contact_id == first.id
    # Another spacecraft may use the second antenna at the same time.
    other = request(network, 5, 15, spacecraft=1, antenna=network.second_antenna_id)
    assert reserve(sessions, network, other).status == ContactStatus.SCHEDULED
    # And a spacecraft allowed two simultaneous contacts may too.
    with sessions.begin() as session:
        session.execute(
            update(Spacecraft)
            .where(Spacecraft.id == network.spacecraft_ids[0])
            .values(max_simultaneous_contacts=2)
        )
    third = request(network, 30, 40, antenna=network.second_antenna_id)
    assert reserve(sessions, network, third).antenna_id == network.second_antenna_id


def test_another_tenants_contact_in_the_way_is_not_named(
    sessions: sessionmaker[Session], network: Network
) -> None:
    foreign = ReservationRequest(
        spacecraft_id=network.other_spacecraft_id,
        antenna_id=network.antenna_id,
        aos=at(0),
        los=at(10),
    )
    with sessions() as session:
        theirs = reserve_contact(session, network.other_tenant_id, foreign, NOW)
    with pytest.raises(ContactConflict) as caught:
        reserve(sessions, network, request(network, 5, 15))
    assert caught.value.conflicting_contact_id is None
    assert theirs.id not in str(caught.value)
    assert "another tenant's contact" in str(caught.value)


def test_unknown_or_foreign_ids_are_not_found(
    sessions: sessionmaker[Session], network: Network
) -> None:
    foreign = ReservationRequest(network.other_spacecraft_id, network.antenna_id, at(0), at(10))
    with pytest.raises(NotFound, match="spacecraft"):
        reserve(sessions, network, foreign)
    with pytest.raises(NotFound, match="antenna"):
        reserve(sessions, network, request(network, 0, 10, antenna="ant-nope"))
    with sessions() as session:
        theirs = reserve_contact(session, network.other_tenant_id, foreign, NOW)
    with sessions() as session:
        for act in (
            lambda: get_contact(session, network.tenant_id, theirs.id),
            lambda: cancel_contact(session, network.tenant_id, theirs.id, NOW),
            lambda: update_contact(session, network.tenant_id, theirs.id, ContactChanges(), 1, NOW),
        ):
            with pytest.raises(NotFound) as caught:
                act()
            assert str(caught.value) == f"contact {theirs.id!r} not found"
        assert get_contact(session, network.other_tenant_id, theirs.id).id == theirs.id


def test_maintenance_blocks_reservations(sessions: sessionmaker[Session], network: Network) -> None:
    with sessions.begin() as session:
        session.add(
            MaintenanceWindow(
                antenna_id=network.antenna_id, start=at(60), end=at(120), reason="feed swap"
            )
        )
    with pytest.raises(AntennaUnavailable, match="feed swap"):
        reserve(sessions, network, request(network, 110, 125))
    # The post-pass ends exactly when maintenance starts: allowed.
    assert reserve(sessions, network, request(network, 40, 59)).los == at(59)


def test_bad_times_are_invalid_input_naming_the_field(
    sessions: sessionmaker[Session], network: Network
) -> None:
    with pytest.raises(InvalidInput, match=r"^los: "):
        reserve(sessions, network, request(network, 10, 5))
    with pytest.raises(InvalidInput, match=r"^prepass_s: "):
        reserve(sessions, network, request(network, 0, 10, prepass_s=21_601))
    # Inside the 15-minute lock time of now: refused.
    soon = ReservationRequest(
        network.spacecraft_ids[0],
        network.antenna_id,
        NOW + timedelta(minutes=10),
        NOW + timedelta(minutes=20),
    )
    with pytest.raises(InvalidInput, match=r"^aos: .*lock time"):
        reserve(sessions, network, soon)


def test_the_mission_profile_is_snapshotted_and_enforced(
    sessions: sessionmaker[Session], network: Network
) -> None:
    with sessions.begin() as session:
        profile = MissionProfile(
            tenant_id=network.tenant_id,
            name="x-band",
            min_elevation_deg=10.0,
            min_viable_contact_duration_s=300.0,
            prepass_s=180,
            postpass_s=30,
            tracking_config={"autotrack": "PREFERRED"},
            links=[{"center_frequency_hz": 8_200_000_000}],
            dataflow_endpoint={"kind": "s3"},
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(profile)
    base = ReservationRequest(
        network.spacecraft_ids[0], network.antenna_id, at(0), at(10), mission_profile_id=profile.id
    )
    contact = reserve(sessions, network, base)
    assert contact.reserved_start == at(0) - timedelta(seconds=180)
    assert contact.profile_snapshot["links"] == [{"center_frequency_hz": 8_200_000_000}]
    short = ReservationRequest(
        network.spacecraft_ids[1], network.antenna_id, at(60), at(64), mission_profile_id=profile.id
    )
    with pytest.raises(InvalidInput, match="at least 300 s"):
        reserve(sessions, network, short)
    with sessions() as session, pytest.raises(NotFound, match="mission profile"):
        reserve_contact(
            session,
            network.other_tenant_id,
            ReservationRequest(
                network.other_spacecraft_id,
                network.antenna_id,
                at(100),
                at(110),
                mission_profile_id=profile.id,
            ),
            NOW,
        )


# --- update and cancel ----------------------------------------------------------------------------


def test_update_moves_the_contact_and_checks_version_lock_and_conflicts(
    sessions: sessionmaker[Session], network: Network
) -> None:
    contact = reserve(sessions, network, request(network, 0, 10))
    blocker = reserve(sessions, network, request(network, 60, 70, spacecraft=1))
    with sessions() as session:
        moved = update_contact(
            session, network.tenant_id, contact.id, ContactChanges(aos=at(2), los=at(12)), 1, NOW
        )
    assert moved.version == 2
    assert moved.reserved_start == at(2) - timedelta(seconds=120)
    assert moved.blocked_end == at(12) + timedelta(seconds=60 + network.turnaround_s)
    with sessions() as session:
        with pytest.raises(StaleVersion):
            update_contact(session, network.tenant_id, contact.id, ContactChanges(), 1, NOW)
        with pytest.raises(ContactConflict) as caught:
            update_contact(
                session, network.tenant_id, contact.id, ContactChanges(los=at(65)), 2, NOW
            )
        assert caught.value.conflicting_contact_id == blocker.id
        late = moved.reserved_start - timedelta(minutes=15)
        with pytest.raises(LockedForChanges):
            update_contact(session, network.tenant_id, contact.id, ContactChanges(), 2, late)
    assert get_contact(sessions(), network.tenant_id, contact.id).aos == at(2)


def test_cancel_frees_the_slot_and_cannot_repeat(
    sessions: sessionmaker[Session], network: Network
) -> None:
    contact = reserve(sessions, network, request(network, 0, 10))
    with sessions() as session:
        cancelled = cancel_contact(session, network.tenant_id, contact.id, NOW)
    assert cancelled.status == ContactStatus.CANCELLED and cancelled.version == 2
    with sessions() as session, pytest.raises(ContactStateError, match="CANCELLED is terminal"):
        cancel_contact(session, network.tenant_id, contact.id, NOW)
    with sessions() as session, pytest.raises(LockedForChanges, match="CANCELLED"):
        update_contact(session, network.tenant_id, contact.id, ContactChanges(), 2, NOW)
    again = reserve(sessions, network, request(network, 0, 10, spacecraft=1))
    assert again.status == ContactStatus.SCHEDULED


def test_a_contact_under_way_cannot_be_cancelled(
    sessions: sessionmaker[Session], network: Network
) -> None:
    contact = reserve(sessions, network, request(network, 0, 10))
    with sessions() as session, pytest.raises(ContactStateError, match="from PASS to CANCELLED"):
        cancel_contact(session, network.tenant_id, contact.id, at(5))


def test_every_change_is_in_the_audit_log(
    sessions: sessionmaker[Session], network: Network
) -> None:
    contact = reserve(sessions, network, request(network, 0, 10))
    with sessions() as session:
        update_contact(session, network.tenant_id, contact.id, ContactChanges(los=at(11)), 1, NOW)
    with sessions() as session:
        cancel_contact(session, network.tenant_id, contact.id, NOW, api_key_id="key-2")
    rows = audit_rows(sessions, contact.id)
    assert [r.action for r in rows] == ["contact.reserved", "contact.updated", "contact.cancelled"]
    assert [r.api_key_id for r in rows] == ["key-test", None, "key-2"]
    assert {r.tenant_id for r in rows} == {network.tenant_id}
    assert rows[0].detail["to"] == "SCHEDULED"
    assert rows[1].detail["after"]["los"] == "2030-01-02T00:11:00Z"
    assert rows[2].detail == {"from": "SCHEDULED", "to": "CANCELLED"}
    # A refused change writes nothing.
    with sessions() as session, pytest.raises(ContactStateError):
        cancel_contact(session, network.tenant_id, contact.id, NOW)
    assert len(audit_rows(sessions, contact.id)) == 3


# --- list -----------------------------------------------------------------------------------------


def test_list_pages_with_a_cursor_and_filters(
    sessions: sessionmaker[Session], network: Network
) -> None:
    booked = [
        reserve(sessions, network, request(network, 20 * i, 20 * i + 10, spacecraft=i % 3))
        for i in range(7)
    ]
    with sessions() as session:
        cancel_contact(session, network.tenant_id, booked[3].id, NOW)
    with sessions() as session:
        theirs = ReservationRequest(
            network.other_spacecraft_id, network.second_antenna_id, at(0), at(10)
        )
        reserve_contact(session, network.other_tenant_id, theirs, NOW)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = list_contacts(sessions(), network.tenant_id, cursor=cursor, limit=3)
        seen += [c.id for c in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [c.id for c in booked] and pages == 3

    scheduled = ContactFilters(statuses=frozenset({ContactStatus.SCHEDULED}))
    page = list_contacts(sessions(), network.tenant_id, scheduled)
    assert [c.id for c in page.items] == [c.id for i, c in enumerate(booked) if i != 3]
    by_spacecraft = ContactFilters(spacecraft_id=network.spacecraft_ids[1])
    assert [c.id for c in list_contacts(sessions(), network.tenant_id, by_spacecraft).items] == [
        booked[1].id,
        booked[4].id,
    ]
    window = ContactFilters(window_start=at(25), window_end=at(45), station_id=network.station_id)
    assert [c.id for c in list_contacts(sessions(), network.tenant_id, window).items] == [
        booked[1].id,
        booked[2].id,
    ]
    with pytest.raises(InvalidInput, match=r"^limit"):
        list_contacts(sessions(), network.tenant_id, limit=101)
    with pytest.raises(InvalidInput, match=r"^cursor"):
        list_contacts(sessions(), network.tenant_id, cursor="not-a-cursor")


# --- the database is the last guard ---------------------------------------------------------------


def test_postgresql_constraint_catches_what_the_check_misses(
    sessions: sessionmaker[Session], network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("on SQLite the check itself is the guard (under BEGIN IMMEDIATE)")
    first = reserve(sessions, network, request(network, 0, 10))
    monkeypatch.setattr(booking, "antenna_conflict", lambda *args, **kwargs: None)
    with pytest.raises(ContactConflict) as caught:
        reserve(sessions, network, request(network, 5, 15, spacecraft=1))
    assert caught.value.conflicting_contact_id == first.id
    assert caught.value.kind == "antenna"


def test_race_for_one_antenna_has_exactly_one_winner(database_url: str) -> None:
    threads = 60
    engine: Engine = create_engine_from_url(database_url, pool_size=threads, max_overflow=0)
    sessions = session_factory(engine)
    net = make_network(sessions, spacecraft=threads)
    barrier = threading.Barrier(threads)
    won: list[str] = []
    lost: list[ContactConflict] = []
    failed: list[BaseException] = []

    def contend(i: int) -> None:
        # Every request overlaps every other: each pass starts within 59 s of the others.
        req = request(net, i / 60, 10 + i / 60, spacecraft=i)
        with sessions() as session:
            session.connection()  # open this thread's own connection before the start line
            session.rollback()
            barrier.wait()
            try:
                won.append(reserve_contact(session, net.tenant_id, req, NOW).id)
            except ContactConflict as conflict:
                lost.append(conflict)
            except BaseException as error:
                failed.append(error)

    workers = [threading.Thread(target=contend, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    with sessions() as session:
        active = list(
            session.scalars(
                select(Contact).where(
                    Contact.antenna_id == net.antenna_id,
                    Contact.status.in_([s.value for s in ACTIVE_STATUSES]),
                )
            )
        )
    engine.dispose()
    assert failed == []
    assert len(won) == 1 and len(lost) == threads - 1
    assert {c.conflicting_contact_id for c in lost} == {won[0]}
    assert [c.id for c in active] == won
    windows = [booking._window(c) for c in active]
    assert antenna_conflicts(windows, turnaround_s=net.turnaround_s) == []
    assert all(
        not (a.reserved_start < b.blocked_end and b.reserved_start < a.blocked_end)
        for a, b in itertools.combinations(active, 2)
    )
