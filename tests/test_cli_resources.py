"""``groundlink spacecraft|contacts|keys|ground-stations`` against the real app in-process.

The CLI's client factory (:func:`groundlink.cli.resources.make_client`) is
replaced by one that reaches the in-process app (``cli_fixtures``), so each
command goes through option parsing, the client, the API and the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cli_fixtures import one_error_line, run, run_json
from client_fixtures import ISS, InProcess, in_process
from db_fixtures import NOW

DAY = NOW + timedelta(days=1)


pytestmark = pytest.mark.usefixtures("in_process_client")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process(tmp_path_factory.mktemp("cli")) as found:
        yield found


def test_spacecraft_add_list_show_ephemeris_delete(tmp_path: Path) -> None:
    sat = run_json("spacecraft", "add", "ISS", "--norad-id", 25544)
    assert (sat["name"], sat["norad_id"]) == ("ISS", 25544)

    table = run("spacecraft", "list")
    assert table.exit_code == 0, table.output
    assert sat["id"] in table.stdout and "spacecraft" in table.stdout
    assert sat["id"] in [s["id"] for s in run_json("spacecraft", "list")]
    assert run_json("spacecraft", "show", sat["id"]) == sat
    assert "ISS" in run("spacecraft", "show", sat["id"]).stdout

    tle = tmp_path / "iss.tle"
    tle.write_text("\n".join(ISS) + "\n", encoding="utf-8")
    ephemeris = run_json("spacecraft", "ephemeris", "add", sat["id"], tle, "--priority", 2)
    assert (ephemeris["version"], ephemeris["priority"]) == (1, 2)
    shown = run("spacecraft", "ephemeris", "add", sat["id"], tle)
    assert shown.exit_code == 0 and "uploaded version 2" in shown.stdout

    deleted = run("spacecraft", "delete", sat["id"])
    assert deleted.exit_code == 0 and f"deleted spacecraft {sat['id']}" in deleted.stdout
    line = one_error_line(run("spacecraft", "show", sat["id"]))
    assert "404" in line and sat["id"] in line


def test_contacts_book_list_show_cancel_and_a_conflict(api: InProcess) -> None:
    station = api.station()
    sat = run_json("spacecraft", "add", "booker")
    book = (
        "contacts", "book", "--spacecraft-id", sat["id"], "--antenna-id", station["antenna"],
    )  # fmt: skip
    first = run_json(*book, "--aos", "2030-01-02T10:00:00Z", "--los", "2030-01-02T10:10:00Z")
    assert first["status"] == "SCHEDULED"
    second = run(*book, "--aos", "2030-01-02T13:00:00+02:00", "--los", "2030-01-02T11:20:00")
    assert second.exit_code == 0, second.output
    assert "booked contact" in second.stdout

    line = one_error_line(
        run(*book, "--aos", "2030-01-02T10:05:00Z", "--los", "2030-01-02T10:15:00Z")
    )
    assert "409" in line and "contact_conflict" in line

    listed = run_json("contacts", "list", "--spacecraft-id", sat["id"], "--max-results", 1)
    assert len(listed) == 2 and listed[0]["id"] == first["id"]
    table = run("contacts", "list", "--spacecraft-id", sat["id"])
    assert table.exit_code == 0 and "2 contacts" in table.stdout
    assert run_json("contacts", "show", first["id"])["id"] == first["id"]

    cancelled = run_json("contacts", "cancel", first["id"])
    assert cancelled["status"] == "CANCELLED"
    scheduled = run_json("contacts", "list", "--spacecraft-id", sat["id"], "--status", "SCHEDULED")
    assert [c["id"] for c in scheduled] != [first["id"]] and len(scheduled) == 1

    assert "404" in one_error_line(run("contacts", "show", "no-such-contact"))


def test_contacts_available(api: InProcess) -> None:
    api.station()
    sat = run_json("spacecraft", "add", "seeker")
    window = ("--start", "2030-01-02T00:00:00Z", "--end", "2030-01-03T00:00:00Z")
    found = run_json("contacts", "available", *window, "--spacecraft-id", sat["id"])
    assert isinstance(found, list)
    table = run("contacts", "available", *window, "--sort-by", "aos", "--descending")
    assert table.exit_code == 0, table.output
    assert "available contact" in table.stdout
    line = one_error_line(
        run("contacts", "available", "--start", "2030-01-02T00:00:00Z", "--end", "2030-02-01Z")
    )
    assert "end" in line


def test_keys_create_list_revoke(api: InProcess) -> None:
    created = run_json("keys", "create", "ci", "--scope", "read")
    assert created["key"] and created["scopes"] == ["read"]
    shown = run("keys", "create", "ops")
    assert shown.exit_code == 0 and "shown once" in shown.stdout
    assert created["id"] in [k["id"] for k in run_json("keys", "list")]
    revoked = run_json("keys", "revoke", created["id"])
    assert revoked["revoked_at"] is not None
    line = one_error_line(run("keys", "list", "--api-key", created["key"]))
    assert "401" in line


def test_ground_stations_list(api: InProcess) -> None:
    station = api.station()
    assert station["id"] in [s["id"] for s in run_json("ground-stations", "list")]
    table = run("ground-stations", "list")
    assert table.exit_code == 0 and station["id"] in table.stdout and "dish-1" in table.stdout


def test_errors_are_one_line_with_exit_code_2(api: InProcess) -> None:
    assert "404" in one_error_line(run("spacecraft", "delete", "sc-missing"))
    assert "--aos" in one_error_line(
        run("contacts", "book", "--spacecraft-id", "a", "--antenna-id", "b", "--aos", "soon",
            "--los", "2030-01-02T10:00:00Z")
    )  # fmt: skip
    assert "422" in one_error_line(run("spacecraft", "add", "x", "--max-simultaneous-contacts", 0))


def test_a_missing_key_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROUNDLINK_API_KEY")
    assert "GROUNDLINK_API_KEY" in one_error_line(run("spacecraft", "list"))
