"""``GET /v1/usage``: contact minutes per month by status group and spacecraft.

The expected minutes are worked out by hand from each contact's times
(reserved span = AOS - pre-pass to LOS + post-pass), independently of the
code, including a contact split at midnight UTC between January and February.
Also the client's ``usage`` and ``groundlink usage``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api_fixtures import ALL_SCOPES, Api
from client_fixtures import InProcess, in_process
from db_fixtures import NOW
from groundlink.adapters.db import session_factory
from groundlink.api import create_app
from groundlink.cli import resources
from groundlink.cli.app import app as cli
from groundlink.services.lifecycle import advance_contacts


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def api(database_url: str, clock: Clock) -> Iterator[Api]:
    app = create_app(database_url, clock=clock, status_interval_s=None)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, session_factory(app.state.engine))
        api.admin = api.tenant(ALL_SCOPES)
        yield api


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Fleet:
    """A tenant with two spacecraft; contacts booked at NOW (2030-01-01) on a fresh station."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.headers = api.tenant()
        self.names = ["alpha", "bravo"]
        self.spacecraft = [api.spacecraft(self.headers, name=n)["id"] for n in self.names]
        self.antennas = [a["id"] for a in api.station(turnaround_s=0)["antennas"]]

    def book(self, spacecraft: int, antenna: int, aos: str, los: str) -> str:
        body = {
            "spacecraft_id": self.spacecraft[spacecraft],
            "antenna_id": self.antennas[antenna],
            "aos": aos + "Z",
            "los": los + "Z",
            "prepass_s": 120,
            "postpass_s": 60,
        }
        response = self.api.client.post("/v1/contacts", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        contact_id: str = response.json()["id"]
        return contact_id

    def usage(self, **params: Any) -> dict[str, Any]:
        response = self.api.client.get("/v1/usage", params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found


def totals(**values: float) -> dict[str, float]:
    zero = {
        "completed_minutes": 0.0,
        "scheduled_minutes": 0.0,
        "in_progress_minutes": 0.0,
        "completed_count": 0,
        "scheduled_count": 0,
        "in_progress_count": 0,
        "cancelled_count": 0,
        "failed_count": 0,
    }
    return {**zero, **values}


def test_minutes_by_group_and_spacecraft_split_at_the_month_boundary(
    api: Api, clock: Clock
) -> None:
    fleet = Fleet(api)
    # Each reserved span is AOS - 2 min to LOS + 1 min.
    # a: 09:58:00-10:11:00 on Jan 31: 13 min, January; completed.
    fleet.book(0, 0, "2030-01-31T10:00:00", "2030-01-31T10:10:00")
    # b: Jan 31 23:53:00 - Feb 1 00:08:00: 7 min in January, 8 in February; completed.
    fleet.book(0, 0, "2030-01-31T23:55:00", "2030-02-01T00:07:00")
    # c: Feb 1 04:58:00-05:05:30, 7.5 min; cancelled: counted, no minutes.
    cancelled = fleet.book(1, 1, "2030-02-01T05:00:00", "2030-02-01T05:04:30")
    # d: Feb 5 23:58:00 - Feb 6 00:11:00 (pass 00:00-00:10): 13 min; in progress at the clock.
    fleet.book(1, 1, "2030-02-06T00:00:00", "2030-02-06T00:10:00")
    # e: Feb 10 00:58:00-01:21:00 (pass 01:00-01:20): 23 min; still scheduled.
    fleet.book(1, 0, "2030-02-10T01:00:00", "2030-02-10T01:20:00")
    # f: Jan 31 11:58:30 - 12:06:45.5, 8 min 15.5 s, fractions of a second kept; completed.
    fleet.book(1, 1, "2030-01-31T12:00:30", "2030-01-31T12:05:45.500")
    api.client.delete(f"/v1/contacts/{cancelled}", headers=fleet.headers)

    clock.now = utc("2030-02-06T00:05:00")  # d in its pass, a, b and f over
    with api.sessions() as session:
        advance_contacts(session, clock.now)

    january = fleet.usage(month="2030-01")
    assert (january["month"], january["start"], january["end"]) == (
        "2030-01",
        "2030-01-01T00:00:00Z",
        "2030-02-01T00:00:00Z",
    )
    f_minutes = (90 + 6 * 60 + 45.5) / 60  # 11:58:30 to 12:00, then to 12:06:45.5
    assert january["totals"] == pytest.approx(
        totals(completed_minutes=13 + 7 + f_minutes, completed_count=3)
    )
    assert [s["spacecraft_name"] for s in january["spacecraft"]] == ["alpha", "bravo"]
    alpha, bravo = january["spacecraft"]
    assert alpha["spacecraft_id"] == fleet.spacecraft[0]
    assert alpha["totals"] == pytest.approx(totals(completed_minutes=20, completed_count=2))
    assert bravo["totals"] == pytest.approx(totals(completed_minutes=f_minutes, completed_count=1))

    february = fleet.usage()  # the clock's month
    assert february["month"] == "2030-02"
    assert february["totals"] == pytest.approx(
        totals(
            completed_minutes=8,  # b's share; b is counted in January, where it starts
            in_progress_minutes=13,
            scheduled_minutes=23,
            in_progress_count=1,
            scheduled_count=1,
            cancelled_count=1,
        )
    )
    alpha, bravo = february["spacecraft"]
    assert alpha["totals"] == pytest.approx(totals(completed_minutes=8))
    assert bravo["totals"] == pytest.approx(
        totals(
            in_progress_minutes=13,
            scheduled_minutes=23,
            in_progress_count=1,
            scheduled_count=1,
            cancelled_count=1,
        )
    )
    assert fleet.usage(month="2029-12") == {
        "month": "2029-12",
        "start": "2029-12-01T00:00:00Z",
        "end": "2030-01-01T00:00:00Z",
        "totals": totals(),
        "spacecraft": [],
    }
    clock.now = NOW


def test_another_tenants_contacts_are_not_counted(api: Api) -> None:
    busy = Fleet(api)
    busy.book(0, 0, "2030-01-20T10:00:00", "2030-01-20T10:10:00")
    quiet = Fleet(api)
    assert quiet.usage(month="2030-01")["totals"] == totals()
    assert quiet.usage(month="2030-01")["spacecraft"] == []
    assert busy.usage(month="2030-01")["totals"]["scheduled_minutes"] == pytest.approx(13)


@pytest.mark.parametrize("month", ["2030-13", "2030-00", "2030-1", "30-01", "2030/01", "1900-01"])
def test_a_bad_month_is_422_naming_it(api: Api, month: str) -> None:
    response = api.client.get("/v1/usage", params={"month": month}, headers=api.admin)
    assert response.status_code == 422, response.text
    item = response.json()["detail"][0]
    assert item["loc"] == ["query", "month"]
    assert f"got {month!r}" in item["msg"] and "YYYY-MM" in item["msg"]


def test_usage_needs_the_read_scope(api: Api) -> None:
    response = api.client.get("/v1/usage", headers=api.tenant(("book",)))
    assert response.status_code == 403


# --- client and CLI -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def in_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process(tmp_path_factory.mktemp("usage")) as found:
        yield found


def test_cli_usage(in_app: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "make_client", lambda _url, key: in_app.client(key))
    monkeypatch.setenv("GROUNDLINK_API_KEY", in_app.key)
    monkeypatch.setenv("COLUMNS", "250")
    station = in_app.station()
    start = NOW + timedelta(days=3)
    with in_app.client() as api:
        sat = api.create_spacecraft("counter")
        # No mission profile and no pre/post-pass given: the reserved span is the pass, 12 min.
        api.reserve_contact(sat.id, station["antenna"], start, start + timedelta(minutes=12))
        assert api.usage().month == "2030-01"
        assert api.usage("2030-01").totals.scheduled_minutes == pytest.approx(12)

    runner = CliRunner()
    result = runner.invoke(cli, ["usage", "--month", "2030-01", "--output", "json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["totals"]["scheduled_minutes"] == pytest.approx(12)
    assert [s["spacecraft_name"] for s in found["spacecraft"]] == ["counter"]

    table = runner.invoke(cli, ["usage"])
    assert table.exit_code == 0, table.output
    assert "usage in 2030-01 (UTC)" in table.stdout
    total_line = next(
        line for line in table.stdout.splitlines() if line.strip().startswith("total")
    )
    assert total_line.split()[1:4] == ["0.0", "12.0", "0.0"]
    assert "contacts: 0 completed, 1 scheduled, 0 in progress" in table.stdout

    bad = runner.invoke(cli, ["usage", "--month", "2030-13"])
    assert bad.exit_code == 2
    line = bad.stderr.strip()
    assert line.startswith("error: 422") and "month" in line and "\n" not in line
