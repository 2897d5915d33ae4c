"""``groundlink ground-stations add|show|maintenance`` against the real app in-process.

As in ``test_cli_resources``, the CLI's client factory is replaced by one
that reaches the in-process app, so each command goes through option
parsing, the station-file reader, the client, the API and the database.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_fixtures import one_error_line, run, run_json
from client_fixtures import InProcess, in_process

STATIONS_YAML = """\
stations:
  - name: {svalbard}
    latitude_deg: 78.2297
    longitude_deg: 15.4078
    altitude_m: 497.5
    antennas:
      - id: sg1
        min_elevation_deg: 5
        bands:
          - {{name: S, min_hz: 2025000000, max_hz: 2110000000, direction: both}}
          - {{name: X, min_hz: 8025000000, max_hz: 8400000000}}
        horizon_mask: [[0, 5], [90, 3], [180, 8.5], [270, 4]]
        max_slew_azimuth_deg_s: 5
      - id: sg2
  - name: {troll}
    lat: -72.012
    lon: 2.535
    alt: 1270
"""


pytestmark = pytest.mark.usefixtures("in_process_client")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with in_process(tmp_path_factory.mktemp("cli-network")) as found:
        yield found


@pytest.fixture
def cli_key(api: InProcess) -> str:
    """The CLI sends the admin key: these commands change the network."""
    return api.admin_key


def names() -> dict[str, str]:
    tag = secrets.token_hex(3)
    return {"svalbard": f"Svalbard SG {tag}", "troll": f"Troll {tag}"}


def station_names() -> list[str]:
    return [s["name"] for s in run_json("ground-stations", "list")]


def test_add_a_yaml_station_file_and_run_it_again(api: InProcess, tmp_path: Path) -> None:
    named = names()
    path = tmp_path / "network.yaml"
    path.write_text(STATIONS_YAML.format(**named), encoding="utf-8")
    args = ("ground-stations", "add", "--file", path, "--g-over-t-db-k", 31.5)
    created = run_json(*args, "--turnaround-s", 45)
    assert [s["name"] for s in created] == [named["svalbard"], named["troll"]]
    svalbard, troll = created
    assert (svalbard["latitude_deg"], svalbard["altitude_m"]) == (78.2297, 497.5)
    sg1, sg2 = svalbard["antennas"]
    assert (sg1["name"], sg2["name"]) == ("sg1", "sg2")
    assert sg1["horizon_mask"] == {
        "azimuth_deg": [0.0, 90.0, 180.0, 270.0],
        "elevation_deg": [5.0, 3.0, 8.5, 4.0],
    }
    # a band for both directions becomes one band each way
    assert [(b["name"], b["direction"]) for b in sg1["bands"]] == [
        ("S", "uplink"),
        ("S", "downlink"),
        ("X", "downlink"),
    ]
    assert (sg1["min_elevation_deg"], sg1["max_slew_azimuth_deg_s"]) == (5.0, 5.0)
    assert {a["g_over_t_db_k"] for a in [sg1, sg2, *troll["antennas"]]} == {31.5}
    assert {a["turnaround_s"] for a in [sg1, sg2, *troll["antennas"]]} == {45.0}
    assert [a["name"] for a in troll["antennas"]] == ["ant1"]

    # the same file again: the same stations, nothing added twice
    before = station_names()
    assert run_json(*args, "--turnaround-s", 45) == created
    assert station_names() == before

    table = run(*args, "--turnaround-s", 45)
    assert table.exit_code == 0, table.output
    assert "added 2 stations, 3 antennas" in table.stdout
    assert svalbard["id"] in table.stdout


def test_add_a_csv_file_with_two_antennas_on_one_station(tmp_path: Path) -> None:
    name = f"Wallops {secrets.token_hex(3)}"
    path = tmp_path / "stations.csv"
    path.write_text(
        "id,antenna_id,name,lat_deg,lon_deg,alt_m,mask_deg\n"
        f"wallops,w1,{name},37.94,-75.46,10,5\n"
        f"wallops,w2,{name},37.94,-75.46,10,10\n",
        encoding="utf-8",
    )
    [station] = run_json("ground-stations", "add", "--file", path)
    assert station["name"] == name
    assert [(a["name"], a["min_elevation_deg"]) for a in station["antennas"]] == [
        ("w1", 5.0),
        ("w2", 10.0),
    ]
    assert {a["g_over_t_db_k"] for a in station["antennas"]} == {None}


def test_a_bad_file_is_one_line_and_adds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    body = [{"name": "fine", "lat": 10, "lon": 10}, {"name": "north", "lat": 91, "lon": 0}]
    path.write_text(json.dumps(body), encoding="utf-8")
    before = station_names()
    line = one_error_line(run("ground-stations", "add", "--file", path))
    assert "stations[1].lat" in line and "91" in line and "bad.json" in line
    assert station_names() == before
    missing = one_error_line(run("ground-stations", "add", "--file", tmp_path / "nope.yaml"))
    assert "nope.yaml" in missing


def test_a_failure_half_way_says_what_was_added(api: InProcess, tmp_path: Path) -> None:
    named = names()
    taken = api.client(api.admin_key).create_ground_station(
        {"name": named["troll"], "latitude_deg": 0, "longitude_deg": 0, "antennas": [{"name": "a"}]}
    )
    path = tmp_path / "network.yaml"
    path.write_text(STATIONS_YAML.format(**named), encoding="utf-8")
    line = one_error_line(run("ground-stations", "add", "--file", path))
    assert f"station 2 of 2 ({named['troll']})" in line
    assert "409 name_taken" in line and "1 station added before it" in line
    assert named["svalbard"] in station_names()
    assert taken.id in [s["id"] for s in run_json("ground-stations", "list")]


def test_only_admins_add_stations(api: InProcess, tmp_path: Path) -> None:
    path = tmp_path / "network.yaml"
    path.write_text(STATIONS_YAML.format(**names()), encoding="utf-8")
    line = one_error_line(run("ground-stations", "add", "--file", path, "--api-key", api.key))
    assert "403 forbidden" in line and "'admin'" in line


def test_show_a_station(api: InProcess, tmp_path: Path) -> None:
    named = names()
    path = tmp_path / "network.yaml"
    path.write_text(STATIONS_YAML.format(**named), encoding="utf-8")
    svalbard, _troll = run_json("ground-stations", "add", "--file", path, "--g-over-t-db-k", 30)
    shown = run_json("ground-stations", "show", svalbard["id"], "--api-key", api.key)
    assert shown == svalbard
    table = run("ground-stations", "show", svalbard["id"])
    assert table.exit_code == 0, table.output
    assert named["svalbard"] in table.stdout and "78.2297" in table.stdout
    assert "4 points, 3-8.5 deg" in table.stdout and "2 antennas" in table.stdout
    assert "X downlink 8025-8400 MHz" in table.stdout
    assert "404" in one_error_line(run("ground-stations", "show", "gs-missing"))


def test_maintenance_add_list_remove_with_an_affected_contact(api: InProcess) -> None:
    station = api.station()
    with api.client() as operator:
        sat = operator.create_spacecraft(f"sat-{secrets.token_hex(3)}")
        contact = operator.reserve_contact(
            sat.id, station["antenna"], "2030-01-02T10:00:00Z", "2030-01-02T10:10:00Z"
        )
    window = ("--start", "2030-01-02T09:00:00Z", "--end", "2030-01-02T12:00:00Z")
    added = run(
        "ground-stations", "maintenance", "add", station["id"], *window,
        "--antenna-id", station["antenna"], "--reason", "feed repair",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "added 1 maintenance window" in added.stdout
    assert contact.id in added.stdout
    assert "1 booked contact overlaps the window; it was NOT cancelled" in added.stdout
    with api.client() as operator:
        assert operator.get_contact(contact.id).status.value == "SCHEDULED"

    created = run_json("ground-stations", "maintenance", "add", station["id"], *window)
    assert {w["antenna_id"] for w in created["windows"]} == {
        station["antenna"],
        station["antenna2"],
    }
    assert [c["id"] for c in created["affected_contacts"]] == [contact.id]

    listed = run_json("ground-stations", "maintenance", "list", station["id"], "--api-key", api.key)
    assert sorted(w["reason"] for w in listed) == ["", "", "feed repair"]
    later = run_json(
        "ground-stations", "maintenance", "list", station["id"], "--start", "2030-01-02T12:00:00Z"
    )
    assert later == []
    table = run("ground-stations", "maintenance", "list", station["id"])
    assert table.exit_code == 0 and "3 maintenance windows" in table.stdout

    [first] = [w["id"] for w in listed if w["reason"] == "feed repair"]
    removed = run("ground-stations", "maintenance", "remove", station["id"], first)
    assert removed.exit_code == 0 and f"removed maintenance window {first}" in removed.stdout
    assert first not in [
        w["id"] for w in run_json("ground-stations", "maintenance", "list", station["id"])
    ]
    assert "404" in one_error_line(
        run("ground-stations", "maintenance", "remove", station["id"], first)
    )


def test_maintenance_errors_are_one_line(api: InProcess) -> None:
    station = api.station()
    reversed_ = one_error_line(
        run("ground-stations", "maintenance", "add", station["id"],
            "--start", "2030-01-02T12:00:00Z", "--end", "2030-01-02T09:00:00Z")
    )  # fmt: skip
    assert "422" in reversed_ and "end" in reversed_
    bad_time = one_error_line(
        run("ground-stations", "maintenance", "add", station["id"],
            "--start", "soon", "--end", "2030-01-02T09:00:00Z")
    )  # fmt: skip
    assert "--start" in bad_time
    operator = one_error_line(
        run("ground-stations", "maintenance", "add", station["id"], "--api-key", api.key,
            "--start", "2030-01-02T09:00:00Z", "--end", "2030-01-02T10:00:00Z")
    )  # fmt: skip
    assert "403" in operator
