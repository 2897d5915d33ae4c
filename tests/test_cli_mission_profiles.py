"""``groundlink mission-profiles``, ``spacecraft update`` and the re-prediction an upload prints.

Against the real app in-process (see ``test_cli_resources``): each command
goes through option parsing, the typed client, the API and the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cli_fixtures import one_error_line, run, run_json
from client_fixtures import InProcess, in_process
from db_fixtures import NOW
from groundlink.cli.mission_profiles import parse_link
from groundlink.contacts.conflicts import iso_z
from groundlink.errors import InvalidInput
from groundlink.orbits.ingest import demo_fleet
from skyfield_passes import skyfield_passes

pytestmark = pytest.mark.usefixtures("in_process_client")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process(tmp_path_factory.mktemp("cli-profiles")) as found:
        yield found


def test_mission_profiles_add_list_show_delete() -> None:
    created = run_json(
        "mission-profiles", "add", "x-band-high",
        "--min-elevation-deg", 10, "--min-viable-contact-duration-s", 120,
        "--prepass-s", 300, "--postpass-s", 90, "--autotrack", "REQUIRED",
        "--link", "downlink:X", "--link", "uplink",
        "--dataflow-endpoint", "archive", "--dataflow-endpoint-url", "s3://bucket/eo",
    )  # fmt: skip
    assert created["id"].startswith("mp-")
    assert (created["min_elevation_deg"], created["min_viable_contact_duration_s"]) == (10, 120)
    assert (created["prepass_s"], created["postpass_s"]) == (300, 90)
    assert created["tracking_config"] == {"autotrack": "REQUIRED"}
    assert created["links"] == [
        {"direction": "downlink", "band_name": "X"},
        {"direction": "uplink", "band_name": None},
    ]
    assert created["dataflow_endpoint"] == {"name": "archive", "url": "s3://bucket/eo"}

    plain = run_json("mission-profiles", "add", "defaults")
    assert (plain["min_elevation_deg"], plain["prepass_s"], plain["postpass_s"]) == (0, 120, 60)
    assert plain["links"] == [] and plain["dataflow_endpoint"] is None

    listed = run_json("mission-profiles", "list")
    assert {created["id"], plain["id"]} <= {p["id"] for p in listed}  # one clock tick: id order
    table = run("mission-profiles", "list")
    assert table.exit_code == 0, table.output
    assert created["id"] in table.stdout and "downlink X, uplink" in table.stdout
    assert "archive (s3://bucket/eo)" in table.stdout and "mission profiles" in table.stdout
    assert run_json("mission-profiles", "show", created["id"]) == created

    deleted = run("mission-profiles", "delete", plain["id"])
    assert deleted.exit_code == 0 and f"deleted mission profile {plain['id']}" in deleted.stdout
    assert "404" in one_error_line(run("mission-profiles", "show", plain["id"]))


def test_mission_profiles_bad_input_is_one_line() -> None:
    assert "--link" in one_error_line(run("mission-profiles", "add", "p", "--link", "sideways:X"))
    assert "--dataflow-endpoint-url" in one_error_line(
        run("mission-profiles", "add", "p", "--dataflow-endpoint-url", "https://x")
    )
    line = one_error_line(run("mission-profiles", "add", "p", "--prepass-s", 30_000))
    assert "422" in line and "prepass_s" in line
    run_json("mission-profiles", "add", "twice")
    assert "409" in one_error_line(run("mission-profiles", "add", "twice"))
    assert "404" in one_error_line(run("mission-profiles", "delete", "mp-missing"))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("downlink:X", {"direction": "downlink", "band_name": "X"}),
        ("uplink", {"direction": "uplink"}),
        ("downlink:S-band", {"direction": "downlink", "band_name": "S-band"}),
    ],
)
def test_parse_link(text: str, expected: dict[str, str]) -> None:
    assert parse_link(text) == expected


@pytest.mark.parametrize("text", ["down:X", "downlink:", "", ":X", "DOWNLINK:X"])
def test_parse_link_refuses(text: str) -> None:
    with pytest.raises(InvalidInput, match="--link"):
        parse_link(text)


def test_spacecraft_update() -> None:
    sat = run_json("spacecraft", "add", "before", "--norad-id", 40697)
    updated = run_json(
        "spacecraft", "update", sat["id"], "--name", "after", "--max-simultaneous-contacts", 2
    )
    assert (updated["name"], updated["norad_id"], updated["max_simultaneous_contacts"]) == (
        "after",
        40697,
        2,
    )
    assert run_json("spacecraft", "show", sat["id"]) == updated
    table = run("spacecraft", "update", sat["id"], "--norad-id", 40698)
    assert table.exit_code == 0 and f"updated spacecraft {sat['id']}" in table.stdout
    assert "nothing to change" in one_error_line(run("spacecraft", "update", sat["id"]))
    assert "404" in one_error_line(run("spacecraft", "update", "sc-missing", "--name", "x"))
    line = one_error_line(run("spacecraft", "update", sat["id"], "--max-simultaneous-contacts", 0))
    assert "422" in line


def test_an_upload_prints_how_the_booked_contacts_fit(
    api: InProcess, tmp_path: Path, timescale: Any
) -> None:
    station = api.station()  # Svalbard, antennas with no minimum elevation
    day = NOW + timedelta(days=1)
    elements = replace(demo_fleet()[0], epoch=day - timedelta(hours=6))
    late = replace(elements, mean_anomaly=elements.mean_anomaly - 4.0)  # about 64 s later
    files = {}
    for name, value in (("old", elements), ("late", late)):
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(value.to_omm()), encoding="utf-8")

    sat = run_json("spacecraft", "add", "eo")
    first = run("spacecraft", "ephemeris", "add", sat["id"], files["old"])
    assert first.exit_code == 0 and "no booked contacts to re-predict" in first.stdout
    svalbard = (78.23, 15.39, 500.0)
    booked = skyfield_passes(timescale, elements, svalbard, day, day + timedelta(hours=3), 0.0)[0]
    contact = run_json(
        "contacts", "book", "--spacecraft-id", sat["id"], "--antenna-id", station["antenna"],
        "--aos", iso_z(booked.aos), "--los", iso_z(booked.los),
    )  # fmt: skip

    shown = run("spacecraft", "ephemeris", "add", sat["id"], files["late"])
    assert shown.exit_code == 0, shown.output
    assert contact["id"] in shown.stdout and "shifted" in shown.stdout
    assert "re-predicted 1 contact: 0 fit, 1 shifted, 0 lost" in shown.stdout
    [row] = run_json("contacts", "list", "--spacecraft-id", sat["id"])
    assert row["prediction"]["fit"] == "shifted"
    listed = run("contacts", "list", "--spacecraft-id", sat["id"])
    assert "shifted" in listed.stdout

    ignored = run("spacecraft", "ephemeris", "add", sat["id"], files["old"], "--priority", 0)
    assert ignored.exit_code == 0 and "not the ephemeris in use" in ignored.stdout
    uploaded = run_json("spacecraft", "ephemeris", "add", sat["id"], files["old"], "--priority", 2)
    [fit] = uploaded["affected_contacts"]
    assert (fit["id"], fit["fit"]) == (contact["id"], "fits")
