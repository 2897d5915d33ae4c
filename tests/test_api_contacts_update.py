"""``PATCH /v1/contacts/{id}``: new times until the lock time, optimistic locking, conflicts.

Also the client's ``update_contact`` and ``groundlink contacts update``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api_fixtures import ALL_SCOPES, Api, bearer
from client_fixtures import InProcess, in_process
from db_fixtures import NOW
from groundlink.adapters.db import session_factory
from groundlink.api import create_app
from groundlink.cli import resources
from groundlink.cli.app import app as cli
from groundlink.client import ApiError

DAY = NOW + timedelta(days=1)


def at(minutes: float) -> str:
    """``minutes`` after the start of the test day, as the API writes times."""
    moment: datetime = DAY + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    """The app's clock: NOW unless a test moves it."""

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


@pytest.fixture(autouse=True)
def clock_at_now(clock: Clock) -> None:
    clock.now = NOW


class Setup:
    """A tenant with two spacecraft and a fresh station with two antennas (60 s turnaround)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.headers = api.tenant()
        self.spacecraft = [api.spacecraft(self.headers)["id"] for _ in range(2)]
        self.antennas = [a["id"] for a in api.station(turnaround_s=60)["antennas"]]

    def reserve(
        self, aos_min: float, los_min: float, *, spacecraft: int = 0, antenna: int = 0
    ) -> dict[str, Any]:
        body = {
            "spacecraft_id": self.spacecraft[spacecraft],
            "antenna_id": self.antennas[antenna],
            "aos": at(aos_min),
            "los": at(los_min),
            "prepass_s": 120,
            "postpass_s": 60,
        }
        response = self.api.client.post("/v1/contacts", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def patch(self, contact_id: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
        return self.api.client.patch(
            f"/v1/contacts/{contact_id}", json=body, headers=headers or self.headers
        )

    def get(self, contact_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.client.get(
            f"/v1/contacts/{contact_id}", headers=self.headers
        ).json()
        return found


@pytest.fixture
def setup(api: Api) -> Setup:
    return Setup(api)


def test_patch_moves_the_pass_and_keeps_pre_and_post_pass(setup: Setup) -> None:
    contact = setup.reserve(10, 20)
    response = setup.patch(
        contact["id"], version=1, aos=at(30), los=at(42), tca=at(36), max_elevation_deg=55.5
    )
    assert response.status_code == 200, response.text
    moved = response.json()
    assert (moved["aos"], moved["tca"], moved["los"]) == (at(30), at(36), at(42))
    # 120 s pre-pass and 60 s post-pass, as booked.
    assert (moved["reserved_start"], moved["reserved_end"]) == (at(28), at(43))
    assert moved["max_elevation_deg"] == 55.5
    assert moved["version"] == 2
    assert moved["status"] == "SCHEDULED"
    assert setup.get(contact["id"]) == moved
    # The old slot is free again: another spacecraft can take it on the same antenna.
    setup.reserve(10, 20, spacecraft=1)

    only_los = setup.patch(contact["id"], version=2, los=at(45)).json()
    assert (only_los["aos"], only_los["los"], only_los["version"]) == (at(30), at(45), 3)


def test_a_stale_version_is_409_naming_both_versions(setup: Setup) -> None:
    contact = setup.reserve(10, 20)
    assert setup.patch(contact["id"], version=1, aos=at(11)).status_code == 200
    response = setup.patch(contact["id"], version=1, aos=at(12))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "stale_version"
    assert (error["expected"], error["actual"]) == (1, 2)
    assert "version 2" in error["message"] and "not 1" in error["message"]
    assert setup.get(contact["id"])["aos"] == at(11)


def test_past_the_lock_time_is_409_naming_it(setup: Setup, clock: Clock) -> None:
    contact = setup.reserve(10, 20)  # reserved from minute 8: locked 15 min before, minute -7
    lock = DAY + timedelta(minutes=-7)
    clock.now = lock - timedelta(seconds=1)
    assert setup.patch(contact["id"], version=1, aos=at(11)).status_code == 200

    clock.now = lock + timedelta(minutes=1)  # 14 min before the reserved start of minute 9
    response = setup.patch(contact["id"], version=2, aos=at(12))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "locked_for_changes"
    assert error["locked_at"] == at(-6)
    assert at(-6) in error["message"]
    assert setup.get(contact["id"])["version"] == 2


def test_moving_a_pass_into_the_lock_window_is_422(setup: Setup) -> None:
    contact = setup.reserve(10, 20)
    soon = (NOW + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (NOW + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = setup.patch(contact["id"], version=1, aos=soon, los=later)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "aos"
    assert setup.get(contact["id"])["version"] == 1


def test_a_cancelled_contact_cannot_change(setup: Setup) -> None:
    contact = setup.reserve(10, 20)
    setup.api.client.delete(f"/v1/contacts/{contact['id']}", headers=setup.headers)
    response = setup.patch(contact["id"], version=2, aos=at(11))
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["contact_status"]) == ("locked_for_changes", "CANCELLED")


def test_new_times_that_are_taken_are_409_like_a_reservation(setup: Setup) -> None:
    first = setup.reserve(10, 20)
    second = setup.reserve(30, 40, spacecraft=1)
    response = setup.patch(second["id"], version=1, aos=at(15), los=at(25))
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["kind"]) == ("contact_conflict", "antenna")
    assert error["conflicting_contact_id"] == first["id"]
    # first holds [8, 21) plus 60 s turnaround; second would hold [13, 26) plus 60 s.
    assert error["conflicting"] == {"start": at(8), "end": at(22)}
    assert error["requested"] == {"start": at(13), "end": at(27)}
    assert setup.get(second["id"])["version"] == 1

    # The same spacecraft in two passes at once, on two antennas.
    other = setup.reserve(50, 60, antenna=1)
    response = setup.patch(other["id"], version=1, aos=at(15), los=at(18))
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["kind"], error["conflicting_contact_id"]) == ("spacecraft", first["id"])

    # Moving a contact within its own span does not conflict with itself.
    assert setup.patch(first["id"], version=1, aos=at(11), los=at(19)).status_code == 200


@pytest.mark.parametrize(
    "field, value",
    [
        ("status", "COMPLETED"),
        ("id", "ct-mine"),
        ("tenant_id", "tn-other"),
        ("spacecraft_id", "sc-other"),
        ("antenna_id", "ant-other"),
        ("reserved_start", "2030-01-02T00:00:00Z"),
        ("created_at", "2030-01-01T00:00:00Z"),
    ],
)
def test_server_owned_fields_are_422_not_assigned(setup: Setup, field: str, value: str) -> None:
    contact = setup.reserve(10, 20)
    response = setup.patch(contact["id"], version=1, aos=at(11), **{field: value})
    assert response.status_code == 422, response.text
    item = response.json()["detail"][0]
    assert item["loc"][-1] == field
    assert "not settable" in item["msg"]
    assert setup.get(contact["id"]) == contact


@pytest.mark.parametrize(
    "body, field",
    [
        ({"aos": at(11)}, "version"),
        ({"version": 0, "aos": at(11)}, "version"),
        ({"version": 1}, "aos"),
        ({"version": 1, "aos": "2030-01-02T00:11:00"}, "aos"),
        ({"version": 1, "los": at(5)}, "los"),
        ({"version": 1, "max_elevation_deg": 91}, "max_elevation_deg"),
    ],
)
def test_bad_changes_are_422_naming_the_field(
    setup: Setup, body: dict[str, Any], field: str
) -> None:
    contact = setup.reserve(10, 20)
    response = setup.patch(contact["id"], **body)
    assert response.status_code == 422, response.text
    item = response.json()["detail"][0]
    assert item["loc"][-1] == field
    assert field in item["msg"]


def test_another_tenant_gets_404_and_a_read_key_403(api: Api, setup: Setup) -> None:
    contact = setup.reserve(10, 20)
    response = setup.patch(contact["id"], headers=api.tenant(), version=1, aos=at(11))
    assert response.status_code == 404
    assert response.json()["error"]["object_type"] == "contact"

    created = api.client.post(
        "/v1/keys", json={"name": "viewer", "scopes": ["read"]}, headers=setup.headers
    )
    reader = bearer(created.json()["key"])
    response = setup.patch(contact["id"], headers=reader, version=1, aos=at(11))
    assert response.status_code == 403
    assert setup.get(contact["id"]) == contact


# --- client and CLI ------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture(scope="module")
def in_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process(tmp_path_factory.mktemp("update")) as found:
        yield found


@pytest.fixture
def cli_client(in_app: InProcess, monkeypatch: pytest.MonkeyPatch) -> InProcess:
    monkeypatch.setattr(resources, "make_client", lambda _url, key: in_app.client(key))
    monkeypatch.setenv("GROUNDLINK_API_KEY", in_app.key)
    monkeypatch.setenv("COLUMNS", "250")
    return in_app


def test_client_and_cli_update(cli_client: InProcess) -> None:
    station = cli_client.station()
    with cli_client.client() as api:
        sat = api.create_spacecraft("mover")
        contact = api.reserve_contact(sat.id, station["antenna"], at(10), at(20))
        moved = api.update_contact(contact.id, version=1, aos=at(12), los=at(22))
        assert moved.aos == DAY + timedelta(minutes=12)
        assert (moved.los, moved.version) == (DAY + timedelta(minutes=22), 2)
        with pytest.raises(ApiError) as stale:
            api.update_contact(contact.id, version=1, aos=at(13))
        assert (stale.value.status, stale.value.code) == (409, "stale_version")

    result = runner.invoke(
        cli, ["contacts", "update", contact.id, "--aos", at(14), "--los", at(24), "-o", "json"]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["aos"], shown["los"], shown["version"]) == (at(14), at(24), 3)

    table = runner.invoke(cli, ["contacts", "update", contact.id, "--los", at(25)])
    assert table.exit_code == 0, table.output
    assert f"updated contact {contact.id} (version 4)" in table.stdout

    stale_cli = runner.invoke(
        cli, ["contacts", "update", contact.id, "--aos", at(15), "--version", "1"]
    )
    assert stale_cli.exit_code == 2
    line = stale_cli.stderr.strip()
    assert line.startswith("error: 409 stale_version") and "\n" not in line

    bad_time = runner.invoke(cli, ["contacts", "update", contact.id, "--aos", "tomorrow"])
    assert bad_time.exit_code == 2
    assert "--aos" in bad_time.stderr
