"""``groundlink schedule plan|repair|show|explain|commit`` against the real app in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from client_fixtures import InProcess, in_process
from groundlink.cli import resources
from groundlink.cli.app import app as cli
from groundlink.cli.planning import named
from groundlink.client import GroundlinkClient
from groundlink.contacts.conflicts import iso_z
from test_api_available import START, XBAND, XBAND_LINK, _omm

runner = CliRunner()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process(tmp_path_factory.mktemp("planning")) as found:
        yield found


@pytest.fixture(autouse=True)
def in_process_client(api: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    def make_client(_api_url: str, api_key: str | None) -> GroundlinkClient:
        return api.client(api_key)

    monkeypatch.setattr(resources, "make_client", make_client)
    monkeypatch.setenv("GROUNDLINK_API_KEY", api.key)
    monkeypatch.setenv("COLUMNS", "250")


def run(*args: object) -> Result:
    return runner.invoke(cli, [str(arg) for arg in args])


@pytest.fixture(scope="module")
def fleet(api: InProcess) -> list[str]:
    """Two spacecraft of the first tenant, with X-band downlinks, and a station that hears them."""
    with api.client(api.admin_key) as admin:
        admin.create_ground_station(
            {
                "name": "planning-station",
                "latitude_deg": 78.23,
                "longitude_deg": 15.39,
                "altitude_m": 500,
                "antennas": [
                    {"name": "dish-1", "g_over_t_db_k": 31.0, "bands": [XBAND], "turnaround_s": 60}
                ],
            }
        )
    ids = []
    with api.client() as client:
        for index in range(2):
            craft = client.create_spacecraft(f"planned-{index}", rf_links=[XBAND_LINK])
            client.add_ephemeris(craft.id, _omm(index), format="json")
            ids.append(craft.id)
    return ids


def test_plan_explain_and_commit(fleet: list[str], tmp_path: Path) -> None:
    needs = tmp_path / "needs.yaml"
    needs.write_text(
        "requests:\n"
        f"  - {{spacecraft_id: {fleet[0]}, contacts_per_day: 2, min_duration_s: 120}}\n"
        f"  - {{spacecraft_id: {fleet[1]}, contacts_per_day: 30, priority: 5}}\n"
    )
    result = run(
        "schedule", "plan", "--requests", needs, "--start", iso_z(START), "--hours", 24,
        "--time-limit", 2, "--output", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    job: dict[str, Any] = json.loads(result.stdout)
    assert job["status"] == "succeeded"
    plan = job["plan"]
    first = [c for c in plan["contacts"] if c["spacecraft_id"] == fleet[0]]
    assert len(first) == 2
    (unserved,) = plan["unserved"]  # 30 contacts a day cannot be had from one antenna
    assert unserved["spacecraft_id"] == fleet[1]

    explained = run("schedule", "explain", job["id"])
    assert explained.exit_code == 0, explained.output
    assert "planned-1" in explained.stdout and unserved["reason"] in explained.stdout
    assert "1 request not fully served" in explained.stdout

    shown = run("schedule", "show", job["id"])
    assert shown.exit_code == 0, shown.output
    assert f"gap {plan['gap']:.1%}" in shown.stdout

    committed = run("schedule", "commit", job["id"], "--output", "json")
    assert committed.exit_code == 0, committed.output
    commit = json.loads(committed.stdout)["commit"]
    assert len(commit["booked"]) + len(commit["refused"]) == len(plan["contacts"])
    assert commit["refused"] == []

    again = run("schedule", "commit", job["id"])
    assert again.exit_code == 2
    assert "committed already" in again.stderr


def test_a_bad_requests_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    needs = tmp_path / "needs.yaml"
    needs.write_text("just: text\n")
    result = run("schedule", "plan", "--requests", needs)
    assert result.exit_code == 2
    assert str(needs) in result.stderr and "requests" in result.stderr
    assert "Traceback" not in result.output


def test_repair_after_maintenance_then_commit(
    api: InProcess, fleet: list[str], tmp_path: Path
) -> None:
    needs = tmp_path / "needs.yaml"
    needs.write_text(f"- {{spacecraft_id: {fleet[0]}, contacts_per_day: 3, min_duration_s: 120}}\n")
    begin = START + timedelta(days=2)  # clear of the other test's contacts
    window = ("--requests", needs, "--start", iso_z(begin), "--hours", 24, "--time-limit", 2)
    planned = run("schedule", "plan", *window, "--commit", "--output", "json")
    assert planned.exit_code == 0, planned.output
    booked = json.loads(planned.stdout)["commit"]["booked"]
    assert len(booked) == 3
    with api.client() as client:
        hit = client.get_contact(booked[1])
    with api.client(api.admin_key) as admin:
        (station,) = [s for s in admin.list_ground_stations() if s.name == "planning-station"]
        down = admin.add_maintenance(
            station.id,
            hit.reserved_start - timedelta(minutes=10),
            hit.reserved_end + timedelta(minutes=10),
            antenna_id=hit.antenna_id,
        )
    assert [c.id for c in down.affected_contacts] == [hit.id]

    repaired = run("schedule", "repair", *window, "--output", "json")
    assert repaired.exit_code == 0, repaired.output
    job = json.loads(repaired.stdout)
    repair = job["plan"]["repair"]
    assert sorted(c["contact_id"] for c in repair["kept"]) == sorted(set(booked) - {hit.id})
    assert repair["changed"] >= 1

    shown = run("schedule", "show", job["id"])
    assert shown.exit_code == 0, shown.output
    assert hit.id in shown.stdout and "planned-0" in shown.stdout
    assert f"{len(repair['kept'])} kept, {len(repair['moved'])} moved" in shown.stdout

    committed = run("schedule", "commit", job["id"])
    assert committed.exit_code == 0, committed.output
    assert f"{repair['changed']} change" in committed.stdout and "0 refused" in committed.stdout
    with api.client() as client:
        active = [
            c
            for c in client.list_contacts(status="SCHEDULED")
            if c.spacecraft_id == fleet[0] and c.aos >= begin
        ]
    # Kept by its id only if moved in place (update_contact), to new times.
    assert all((c.aos, c.los) != (hit.aos, hit.los) for c in active if c.id == hit.id)
    assert sorted((c.antenna_id, c.aos) for c in active) == sorted(
        (c["antenna_id"], datetime.fromisoformat(c["aos"])) for c in job["plan"]["contacts"]
    )


def test_explanations_show_names_instead_of_ids() -> None:
    names = {"sc-0123456789ab": "planned-0", "ant-abcdef012345": "svalbard/dish-1"}
    text = "e.g. request 2 of sc-0123456789ab (priority 1) on ant-abcdef012345 at 2030-01-02T00:00Z"
    assert named(text, names) == (
        "e.g. request 2 of planned-0 (priority 1) on svalbard/dish-1 at 2030-01-02T00:00Z"
    )
    assert named("on ant-ffffffffffff", names) == "on ant-ffffffffffff"
