"""The contact life cycle service: time-driven status changes, their audit records, the history.

On SQLite and PostgreSQL: each move happens at the instant ``docs/contacts.md``
gives for it and is recorded once, also when several runners race; the API
runs it in the background by its clock; ``GET /v1/contacts/{id}/events``
and ``groundlink contacts events`` show the history.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api_fixtures import ALL_SCOPES, Api
from client_fixtures import InProcess, in_process
from db_fixtures import NOW, Network
from groundlink.adapters.db import create_engine_from_url, session_factory
from groundlink.adapters.db.models import AuditRecord, Contact
from groundlink.api import create_app
from groundlink.cli import resources
from groundlink.cli.app import app as cli
from groundlink.errors import InvalidInput
from groundlink.services import booking
from groundlink.services.lifecycle import StatusAdvancer, StatusChange, advance_contacts

AOS = NOW + timedelta(days=1)
S = 1e-6  # one microsecond, in seconds


def reserve(
    sessions: sessionmaker[Session],
    network: Network,
    aos: datetime,
    pass_s: float = 600,
    *,
    prepass_s: int = 120,
    postpass_s: int = 60,
    spacecraft: int = 0,
) -> str:
    """Book a pass at ``aos`` on the network's first antenna; its id."""
    request = booking.ReservationRequest(
        spacecraft_id=network.spacecraft_ids[spacecraft],
        antenna_id=network.antenna_id,
        aos=aos,
        los=aos + timedelta(seconds=pass_s),
        prepass_s=prepass_s,
        postpass_s=postpass_s,
    )
    with sessions() as session:
        return booking.reserve_contact(session, network.tenant_id, request, NOW).id


def advance(sessions: sessionmaker[Session], now: datetime) -> list[StatusChange]:
    with sessions() as session:
        return advance_contacts(session, now)


def stored(sessions: sessionmaker[Session], contact_id: str) -> tuple[str, int]:
    with sessions.begin() as session:
        contact = session.get_one(Contact, contact_id)
        return contact.status, contact.version


def status_records(sessions: sessionmaker[Session], contact_id: str) -> list[AuditRecord]:
    with sessions.begin() as session:
        return list(
            session.scalars(
                select(AuditRecord)
                .where(
                    AuditRecord.object_id == contact_id,
                    AuditRecord.action == "contact.status_changed",
                )
                .order_by(AuditRecord.id)
            )
        )


def test_each_phase_begins_at_its_instant(
    sessions: sessionmaker[Session], network: Network
) -> None:
    contact_id = reserve(sessions, network, AOS)  # 10 min pass, 120 s pre-pass, 60 s post-pass
    reserved_start = AOS - timedelta(seconds=120)
    los = AOS + timedelta(minutes=10)
    reserved_end = los + timedelta(seconds=60)
    steps = [
        (reserved_start - timedelta(seconds=S), "SCHEDULED", None),
        (reserved_start, "PREPASS", reserved_start),
        (AOS - timedelta(seconds=S), "PREPASS", None),
        (AOS, "PASS", AOS),
        (los - timedelta(seconds=1), "PASS", None),
        (los, "POSTPASS", los),
        (reserved_end - timedelta(seconds=S), "POSTPASS", None),
        (reserved_end, "COMPLETED", reserved_end),
        (reserved_end + timedelta(days=30), "COMPLETED", None),
    ]
    previous = "SCHEDULED"
    version = 1
    for now, status, effective_at in steps:
        changes = [c for c in advance(sessions, now) if c.contact_id == contact_id]
        if effective_at is None:
            assert changes == [], now
        else:
            version += 1
            assert [(c.from_status, c.to_status, c.effective_at) for c in changes] == [
                (previous, status, effective_at)
            ]
            assert changes[0].version == version
        assert stored(sessions, contact_id) == (status, version)
        previous = status

    records = status_records(sessions, contact_id)
    assert [(r.detail["from"], r.detail["to"]) for r in records] == [
        ("SCHEDULED", "PREPASS"),
        ("PREPASS", "PASS"),
        ("PASS", "POSTPASS"),
        ("POSTPASS", "COMPLETED"),
    ]
    assert [r.at for r in records] == [reserved_start, AOS, los, reserved_end]
    assert {(r.api_key_id, r.tenant_id, r.object_type) for r in records} == {
        (None, network.tenant_id, "contact")
    }
    assert [r.detail["version"] for r in records] == [2, 3, 4, 5]
    assert records[1].detail["effective_at"] == AOS.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_late_run_records_every_step_and_a_second_run_nothing(
    sessions: sessionmaker[Session], network: Network
) -> None:
    contact_id = reserve(sessions, network, AOS + timedelta(hours=1))
    late = AOS + timedelta(hours=3)
    changes = [c for c in advance(sessions, late) if c.contact_id == contact_id]
    assert [(c.from_status, c.to_status) for c in changes] == [
        ("SCHEDULED", "PREPASS"),
        ("PREPASS", "PASS"),
        ("PASS", "POSTPASS"),
        ("POSTPASS", "COMPLETED"),
    ]
    assert stored(sessions, contact_id) == ("COMPLETED", 5)
    assert [c for c in advance(sessions, late) if c.contact_id == contact_id] == []
    assert len(status_records(sessions, contact_id)) == 4
    assert {r.at for r in status_records(sessions, contact_id)} == {late}


def test_a_zero_pre_pass_still_records_prepass(
    sessions: sessionmaker[Session], network: Network
) -> None:
    contact_id = reserve(sessions, network, AOS + timedelta(hours=5), prepass_s=0)
    changes = advance(sessions, AOS + timedelta(hours=5))
    assert [(c.from_status, c.to_status) for c in changes if c.contact_id == contact_id] == [
        ("SCHEDULED", "PREPASS"),
        ("PREPASS", "PASS"),
    ]


def test_cancelled_failed_and_cancelling_contacts_never_move(
    sessions: sessionmaker[Session], network: Network
) -> None:
    base = AOS + timedelta(hours=7)
    cancelled, failed, cancelling = (
        reserve(sessions, network, base + timedelta(hours=i)) for i in range(3)
    )
    with sessions() as session:
        booking.cancel_contact(session, network.tenant_id, cancelled, NOW)
    with sessions.begin() as session:
        for contact_id, status in ((failed, "FAILED"), (cancelling, "CANCELLING")):
            session.execute(update(Contact).where(Contact.id == contact_id).values(status=status))
    changes = advance(sessions, base + timedelta(days=1))
    assert {c.contact_id for c in changes}.isdisjoint({cancelled, failed, cancelling})
    assert stored(sessions, cancelled) == ("CANCELLED", 2)
    assert stored(sessions, failed) == ("FAILED", 1)
    assert stored(sessions, cancelling) == ("CANCELLING", 1)
    for contact_id in (cancelled, failed, cancelling):
        assert status_records(sessions, contact_id) == []


def test_a_naive_clock_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, pytest.raises(InvalidInput, match="clock_now"):
        advance_contacts(session, NOW.replace(tzinfo=None))


def test_concurrent_runners_record_each_transition_once(
    database_url: str, sessions: sessionmaker[Session], network: Network
) -> None:
    """Four runners, each with its own engine (as separate processes would), in small batches."""
    base = AOS + timedelta(days=3)
    ids = [reserve(sessions, network, base + timedelta(minutes=30 * i)) for i in range(24)]
    later = base + timedelta(days=1)
    workers = 4
    barrier = threading.Barrier(workers)
    results: list[list[StatusChange]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        engine = create_engine_from_url(database_url)
        try:
            with session_factory(engine)() as session:
                barrier.wait()
                results[index] = advance_contacts(session, later, batch_size=5)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    reported = [
        (c.contact_id, c.from_status, c.to_status)
        for changes in results
        for c in changes
        if c.contact_id in ids
    ]
    assert len(reported) == len(set(reported)) == 4 * len(ids)
    for contact_id in ids:
        assert stored(sessions, contact_id) == ("COMPLETED", 5)
        records = status_records(sessions, contact_id)
        assert [(r.detail["from"], r.detail["to"]) for r in records] == [
            ("SCHEDULED", "PREPASS"),
            ("PREPASS", "PASS"),
            ("PASS", "POSTPASS"),
            ("POSTPASS", "COMPLETED"),
        ]


# --- in the API: the background thread and the history ------------------------------------------


class Clock:
    """The app's clock, which a test moves (read from the advancer's thread too)."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def api(database_url: str, clock: Clock) -> Iterator[Api]:
    app = create_app(database_url, clock=clock, status_interval_s=0.05)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, session_factory(app.state.engine))
        api.admin = api.tenant(ALL_SCOPES)
        yield api


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_for_status(api: Api, headers: dict[str, str], contact_id: str, status: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = api.client.get(f"/v1/contacts/{contact_id}", headers=headers).json()
        if found["status"] == status:
            return
        time.sleep(0.02)
    raise AssertionError(f"{contact_id} did not reach {status}: it is {found['status']}")


def test_the_api_advances_contacts_by_its_clock_and_shows_their_history(
    api: Api, clock: Clock
) -> None:
    headers = api.tenant()
    sat = api.spacecraft(headers)["id"]
    antenna = api.station()["antennas"][0]["id"]
    start = NOW + timedelta(days=10)
    body = {
        "spacecraft_id": sat,
        "antenna_id": antenna,
        "aos": iso(start),
        "los": iso(start + timedelta(minutes=8)),
        "prepass_s": 60,
        "postpass_s": 30,
    }
    contact = api.client.post("/v1/contacts", json=body, headers=headers).json()
    moved = api.client.patch(
        f"/v1/contacts/{contact['id']}",
        json={"version": 1, "los": iso(start + timedelta(minutes=9))},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    key_id = api.client.get("/v1/keys", headers=headers).json()[0]["id"]

    clock.now = start + timedelta(minutes=2)  # in the pass
    wait_for_status(api, headers, contact["id"], "PASS")
    clock.now = start + timedelta(hours=1)
    wait_for_status(api, headers, contact["id"], "COMPLETED")

    response = api.client.get(f"/v1/contacts/{contact['id']}/events", headers=headers)
    assert response.status_code == 200
    history = response.json()
    assert history["contact_id"] == contact["id"]
    lines = [(e["action"], e["from"], e["to"], e["api_key_id"], e["at"]) for e in history["items"]]
    system_moves = [line[1:3] for line in lines[2:]]
    assert lines[:2] == [
        ("contact.reserved", None, "SCHEDULED", key_id, iso(NOW)),
        ("contact.updated", None, None, key_id, iso(NOW)),
    ]
    assert system_moves == [
        ("SCHEDULED", "PREPASS"),
        ("PREPASS", "PASS"),
        ("PASS", "POSTPASS"),
        ("POSTPASS", "COMPLETED"),
    ]
    assert {line[3] for line in lines[2:]} == {None}
    assert [line[4] for line in lines[2:4]] == [iso(start + timedelta(minutes=2))] * 2
    assert history["items"][1]["detail"]["after"]["los"] == iso(start + timedelta(minutes=9))
    assert history["items"][5]["detail"]["effective_at"] == iso(
        start + timedelta(minutes=9, seconds=30)
    )
    final = api.client.get(f"/v1/contacts/{contact['id']}", headers=headers).json()
    assert final["version"] == 2 + 4


def test_events_of_a_cancelled_contact_and_tenant_isolation(api: Api, clock: Clock) -> None:
    clock.now = NOW
    headers = api.tenant()
    sat = api.spacecraft(headers)["id"]
    antenna = api.station()["antennas"][0]["id"]
    start = NOW + timedelta(days=20)
    body = {"spacecraft_id": sat, "antenna_id": antenna, "aos": iso(start)}
    body["los"] = iso(start + timedelta(minutes=5))
    contact = api.client.post("/v1/contacts", json=body, headers=headers).json()
    api.client.delete(f"/v1/contacts/{contact['id']}", headers=headers)
    clock.now = start + timedelta(hours=1)
    time.sleep(0.2)  # a few runs of the advancer: a cancelled contact stays as it is
    events = api.client.get(f"/v1/contacts/{contact['id']}/events", headers=headers).json()
    assert [(e["action"], e["from"], e["to"]) for e in events["items"]] == [
        ("contact.reserved", None, "SCHEDULED"),
        ("contact.cancelled", "SCHEDULED", "CANCELLED"),
    ]
    other = api.tenant()
    response = api.client.get(f"/v1/contacts/{contact['id']}/events", headers=other)
    assert response.status_code == 404
    assert response.json()["error"]["object_id"] == contact["id"]
    missing = api.client.get("/v1/contacts/ct-nothing/events", headers=headers)
    assert missing.status_code == 404
    clock.now = NOW


def test_the_advancer_runs_only_while_the_app_does(database_url: str) -> None:
    app = create_app(database_url, clock=lambda: NOW)
    with TestClient(app):
        advancer = app.state.status_advancer
        assert isinstance(advancer, StatusAdvancer)
        assert advancer.interval_s == 1.0 and advancer.running
    assert not advancer.running

    off = create_app(database_url, clock=lambda: NOW, status_interval_s=0)
    with TestClient(off):
        assert off.state.status_advancer is None
    with pytest.raises(InvalidInput, match="status_interval_s"):
        create_app(database_url, status_interval_s=-1)


# --- CLI ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def in_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process(tmp_path_factory.mktemp("events")) as found:
        yield found


def test_cli_contacts_events(in_app: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "make_client", lambda _url, key: in_app.client(key))
    monkeypatch.setenv("GROUNDLINK_API_KEY", in_app.key)
    monkeypatch.setenv("COLUMNS", "250")
    station = in_app.station()
    start = NOW + timedelta(days=2)
    with in_app.client() as api:
        sat = api.create_spacecraft("historian")
        contact = api.reserve_contact(
            sat.id, station["antenna"], start, start + timedelta(minutes=5)
        )
        api.update_contact(contact.id, version=1, aos=start + timedelta(minutes=1))
        api.cancel_contact(contact.id)
        history = api.contact_events(contact.id)
    assert [e.action for e in history.items] == [
        "contact.reserved",
        "contact.updated",
        "contact.cancelled",
    ]

    runner = CliRunner()
    result = runner.invoke(cli, ["contacts", "events", contact.id, "--output", "json"])
    assert result.exit_code == 0, result.output
    items: list[dict[str, Any]] = json.loads(result.stdout)
    assert [(e["action"], e["from"], e["to"]) for e in items] == [
        ("contact.reserved", None, "SCHEDULED"),
        ("contact.updated", None, None),
        ("contact.cancelled", "SCHEDULED", "CANCELLED"),
    ]
    table = runner.invoke(cli, ["contacts", "events", contact.id])
    assert table.exit_code == 0, table.output
    assert f"3 events of contact {contact.id}" in table.stdout
    assert f"aos → {iso(start + timedelta(minutes=1))}" in table.stdout
    assert "(system)" not in table.stdout  # every change here was made with the key

    missing = runner.invoke(cli, ["contacts", "events", "ct-nothing"])
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: 404 not_found")
