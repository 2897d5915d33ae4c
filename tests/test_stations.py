"""Tests of the station model and of reading stations from CSV, JSON and YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from groundlink.errors import InvalidInput
from groundlink.stations.io import (
    demo_stations,
    parse_stations,
    read_stations_file,
    station_to_dict,
)
from groundlink.stations.model import Antenna, FrequencyBand, GroundStation, HorizonMask

REFERENCE_CSV = Path("/work/shared/data/stations.csv")
PACKAGED_CSV = Path(__file__).parents[1] / "src" / "groundlink" / "data" / "stations.csv"

TWO_ANTENNA_STATION = GroundStation(
    id="svalbard-sg",
    name="Svalbard SG",
    latitude_deg=78.2297,
    longitude_deg=15.4078,
    altitude_m=497.5,
    antennas=(
        Antenna(
            id="sg1",
            min_elevation_deg=5.0,
            bands=(
                FrequencyBand("S", 2_025_000_000, 2_110_000_000, "uplink"),
                FrequencyBand("X", 8_025_000_000, 8_400_000_000, "downlink"),
            ),
            horizon_mask=HorizonMask((0.0, 90.0, 180.0, 270.0), (5.0, 3.0, 8.5, 4.0)),
            max_slew_azimuth_deg_s=5.0,
            max_slew_elevation_deg_s=2.5,
        ),
        Antenna(id="sg2", min_elevation_deg=10.0),
    ),
)


def _error(text: str, **kwargs: Any) -> InvalidInput:
    """The InvalidInput that parse_stations raises for ``text``."""
    with pytest.raises(InvalidInput) as caught:
        parse_stations(text, **kwargs)
    return caught.value


# --- the demo network (CSV) -----------------------------------------------------------------------


def test_demo_network_has_the_30_reference_stations():
    stations = demo_stations()

    assert len(stations) == 30
    assert len({s.id for s in stations}) == 30
    svalbard = stations[0]
    assert (svalbard.id, svalbard.name) == ("svalbard", "Svalbard")
    assert (svalbard.latitude_deg, svalbard.longitude_deg, svalbard.altitude_m) == (
        78.23,
        15.39,
        500.0,
    )
    assert svalbard.antennas == (Antenna("ant1", min_elevation_deg=5.0),)
    assert {s.antennas[0].min_elevation_deg for s in stations} == {5.0, 10.0}
    assert all(len(s.antennas) == 1 for s in stations)
    assert "santamaria-azores" in {s.id for s in stations}


@pytest.mark.skipif(not REFERENCE_CSV.exists(), reason="the shared reference data is not here")
def test_packaged_demo_network_is_the_reference_file():
    assert PACKAGED_CSV.read_bytes() == REFERENCE_CSV.read_bytes()
    assert read_stations_file(REFERENCE_CSV) == demo_stations()


def test_csv_is_detected_without_a_format():
    text = "name,lat_deg,lon_deg,alt_m,mask_deg\nKiruna,67.857,21.06,400.0,5.0\n"
    assert parse_stations(text) == parse_stations(text, fmt="csv")
    assert parse_stations(text)[0].id == "kiruna"


def test_csv_rows_with_one_station_id_make_one_station_with_several_antennas():
    text = (
        "id,name,lat_deg,lon_deg,alt_m,mask_deg,antenna_id\n"
        "ksat-sg,Svalbard,78.23,15.39,500,5,sg1\n"
        "trl,Troll,-72.012,2.535,1270,5,\n"
        "ksat-sg,Svalbard,78.23,15.39,500,7.5,sg2\n"
    )
    svalbard, troll = parse_stations(text)

    assert [(a.id, a.min_elevation_deg) for a in svalbard.antennas] == [("sg1", 5.0), ("sg2", 7.5)]
    assert troll.id == "trl"
    assert troll.antennas == (Antenna("ant1", 5.0),)


def test_csv_without_mask_column_uses_the_default_minimum_elevation():
    text = "name,lat_deg,lon_deg\nWallops,37.94,-75.46\n"
    (station,) = parse_stations(text, default_min_elevation_deg=7.0)
    assert station.altitude_m == 0.0
    assert station.antennas == (Antenna("ant1", 7.0),)


HEADER = "name,lat_deg,lon_deg,alt_m,mask_deg\n"


@pytest.mark.parametrize(
    ("rows", "field", "line"),
    [
        ("Svalbard,91,15.39,500,5\n", "lat_deg", 2),
        ("Svalbard,78.23,15.39,500,5\nTroll,-72,200,1270,5\n", "lon_deg", 3),
        ("Svalbard,78.23,15.39,500,5\n\nTroll,-72,2.5,20000,5\n", "alt_m", 4),  # blank line counts
        ("Svalbard,78.23,15.39,500,95\n", "mask_deg", 2),
        ("Svalbard,north,15.39,500,5\n", "lat_deg", 2),
        ("Svalbard,,15.39,500,5\n", "lat_deg", 2),
        (",78.23,15.39,500,5\n", "name", 2),
        ("Svalbard,78.23,15.39,500\n", "row", 2),
        ("Svalbard,78.23,15.39,500,5\nSvalbard,78.0,15.0,500,5\n", "name", 3),  # same id twice
    ],
)
def test_csv_errors_name_the_column_and_the_line(rows: str, field: str, line: int):
    error = _error(HEADER + rows, source="net.csv")
    assert (error.field, error.line, error.source) == (field, line, "net.csv")
    assert error.message.startswith(f"net.csv:{line}: {field}: got ")


def test_csv_error_message_says_what_was_expected():
    error = _error(HEADER + "Svalbard,91,15.39,500,5\n", source="net.csv")
    assert error.message == "net.csv:2: lat_deg: got '91.0', expected degrees in [-90, 90]"


@pytest.mark.parametrize(
    ("header", "field_or_value"),
    [
        ("name,lat_deg,lon_deg,alt_m,mask_deg,colour", "colour"),
        ("name,lat_deg,alt_m,mask_deg", "lon_deg"),
        ("name,lat_deg,latitude_deg,lon_deg", "latitude_deg"),
    ],
)
def test_csv_header_errors_are_on_line_1(header: str, field_or_value: str):
    error = _error(header + "\nSvalbard,78.23,15.39,500,5,red\n", fmt="csv")
    assert error.line == 1
    assert field_or_value in error.message


def test_csv_merged_rows_must_agree_on_the_station_and_differ_in_antenna():
    header = "id,name,lat_deg,lon_deg,antenna_id\n"
    moved = _error(header + "sg,Svalbard,78.23,15.39,a\nsg,Svalbard,78.3,15.39,b\n")
    assert (moved.field, moved.line) == ("lat_deg", 3)
    assert "78.23" in moved.expected
    same_antenna = _error(header + "sg,Svalbard,78.23,15.39,a\nsg,Svalbard,78.23,15.39,a\n")
    assert (same_antenna.field, same_antenna.line) == ("antenna_id", 3)


# --- JSON and YAML --------------------------------------------------------------------------------


def test_json_round_trip_of_a_station_with_two_antennas_bands_and_a_mask():
    text = json.dumps({"stations": [station_to_dict(TWO_ANTENNA_STATION)]}, indent=2)
    assert parse_stations(text) == [TWO_ANTENNA_STATION]
    assert parse_stations(text, fmt="json") == [TWO_ANTENNA_STATION]


def test_yaml_round_trip_of_a_station_with_two_antennas_bands_and_a_mask():
    text = yaml.safe_dump([station_to_dict(TWO_ANTENNA_STATION)], sort_keys=False)
    assert parse_stations(text) == [TWO_ANTENNA_STATION]


def test_handwritten_yaml_with_defaults_aliases_and_both_mask_forms():
    text = """
stations:
  - name: Svalbard SG
    lat: 78.2297
    lon: 15.4078
    alt: 497.5
    antennas:
      - id: sg1
        min_elevation_deg: 5
        bands:
          - {name: S, min_hz: 2025000000, max_hz: 2110000000, direction: uplink}
          - {name: X, min_hz: 8.025e+9, max_hz: 8.4e9}   # 8.4e9 is a string to PyYAML
        horizon_mask: {azimuth_deg: [0, 90, 180, 270], elevation_deg: [5, 3, 8.5, 4]}
        max_slew_azimuth_deg_s: 5
        max_slew_elevation_deg_s: 2.5
      - id: sg2
        min_elevation_deg: 10
  - name: São Tomé
    latitude_deg: 0.3
    longitude_deg: 6.7
"""
    svalbard, sao_tome = parse_stations(text, default_min_elevation_deg=3.0)

    assert svalbard == TWO_ANTENNA_STATION
    assert sao_tome.id == "sao-tome"
    assert sao_tome.altitude_m == 0.0
    assert sao_tome.antennas == (Antenna("ant1", min_elevation_deg=3.0),)


def test_bare_list_and_mapping_documents_are_the_same():
    station = {"name": "Kiruna", "latitude_deg": 67.857, "longitude_deg": 21.06}
    assert parse_stations(json.dumps([station])) == parse_stations(
        json.dumps({"stations": [station]})
    )
    assert parse_stations("[]") == []


def test_antennas_without_ids_are_numbered():
    text = json.dumps(
        [{"name": "X", "lat": 0, "lon": 0, "antennas": [{}, {"min_elevation_deg": 12}]}]
    )
    (station,) = parse_stations(text)
    assert [(a.id, a.min_elevation_deg) for a in station.antennas] == [
        ("ant1", 0.0),
        ("ant2", 12.0),
    ]


def _one(**changes: object) -> str:
    """JSON for two stations, the second with one antenna, after ``changes``.

    ``antenna_x=v`` sets the antenna's key x, ``x=v`` the station's; ``v`` of
    ``...`` deletes the key.
    """
    antenna: dict[str, object] = {
        "id": "sg1",
        "bands": [{"name": "X", "min_hz": 8_025_000_000, "max_hz": 8_400_000_000}],
        "horizon_mask": [[0, 5], [180, 8]],
    }
    station: dict[str, object] = {
        "id": "sg",
        "name": "Svalbard",
        "latitude_deg": 78.23,
        "longitude_deg": 15.39,
        "altitude_m": 500.0,
        "antennas": [antenna],
    }
    for key, value in changes.items():
        target = antenna if key.startswith("antenna_") else station
        key = key.removeprefix("antenna_")
        if value is ...:
            del target[key]
        else:
            target[key] = value
    troll = {"name": "Troll", "latitude_deg": -72.0, "longitude_deg": 2.5}
    return json.dumps({"stations": [troll, station]})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"latitude_deg": 91}, "stations[1].latitude_deg"),
        ({"lat": 91, "latitude_deg": ...}, "stations[1].lat"),
        ({"latitude_deg": ...}, "stations[1].latitude_deg"),
        ({"name": ...}, "stations[1].name"),
        ({"longitude_deg": "east"}, "stations[1].longitude_deg"),
        ({"altitude_m": True}, "stations[1].altitude_m"),
        ({"name": ""}, "stations[1].name"),
        ({"id": "troll"}, "stations[1].id"),  # the other station is "troll" by its name
        ({"colour": "red"}, "stations[1].colour"),
        ({"lat": 78.0}, "stations[1].lat"),  # latitude given twice
        ({"antenna_id": ""}, "stations[1].antennas[0].id"),
        ({"antenna_min_elevation_deg": -1}, "stations[1].antennas[0].min_elevation_deg"),
        ({"antenna_max_slew_azimuth_deg_s": 0}, "stations[1].antennas[0].max_slew_azimuth_deg_s"),
        ({"antenna_gain_db": 40}, "stations[1].antennas[0].gain_db"),
        ({"antenna_horizon_mask": [[0, 5], [180, 95]]}, "stations[1].antennas[0].horizon_mask"),
        ({"antenna_horizon_mask": [[180, 5], [0, 8]]}, "stations[1].antennas[0].horizon_mask"),
        ({"antenna_horizon_mask": [[0, 5, 1]]}, "stations[1].antennas[0].horizon_mask[0]"),
        ({"antenna_horizon_mask": [[360, 5]]}, "stations[1].antennas[0].horizon_mask"),
        ({"antenna_horizon_mask": {"azimuth_deg": [0]}}, "stations[1].antennas[0].horizon_mask"),
        (
            {"antenna_bands": [{"name": "X", "min_hz": 8e9, "max_hz": 8.4e9, "polar": "RHCP"}]},
            "stations[1].antennas[0].bands[0].polar",
        ),
        (
            {"antenna_bands": [{"name": "X", "min_hz": 8.5e9, "max_hz": 8.4e9}]},
            "stations[1].antennas[0].bands[0].max_hz",
        ),
        (
            {"antenna_bands": [{"name": "X", "min_hz": 8e9 + 0.5, "max_hz": 8.4e9}]},
            "stations[1].antennas[0].bands[0].min_hz",
        ),
        (
            {"antenna_bands": [{"name": "X", "min_hz": 8e9, "max_hz": 8.4e9, "direction": "down"}]},
            "stations[1].antennas[0].bands[0].direction",
        ),
        ({"antennas": "sg1"}, "stations[1].antennas"),
    ],
)
def test_json_errors_name_the_field_by_its_path(changes: dict[str, object], field: str):
    error = _error(_one(**changes), source="net.json")
    assert error.field.startswith(field), error.message
    assert error.source == "net.json"
    assert error.message.startswith(f"net.json: {error.field}: got ")


def test_latitude_91_and_mask_95_messages():
    latitude = _error(_one(latitude_deg=91))
    assert "latitude_deg" in latitude.message
    assert "[-90, 90]" in latitude.message
    mask = _error(_one(antenna_horizon_mask=[[0, 5], [180, 95]]))
    assert "horizon_mask" in mask.message
    assert "95" in mask.message


def test_duplicate_station_ids_are_refused():
    stations = [
        {"id": "a", "name": "A", "lat": 0, "lon": 0},
        {"id": "b", "name": "B", "lat": 0, "lon": 1},
        {"id": "a", "name": "A again", "lat": 1, "lon": 0},
    ]
    error = _error(json.dumps(stations))
    assert (error.field, error.value) == ("stations[2].id", "a")
    assert "stations[0]" in error.expected


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{"stations": [\n  {"name": "A",\n   "lat": 1,,\n}]}', 3),
        ("stations:\n  - name: A\n    lat: [1\n  - name: B\n", 4),
    ],
)
def test_syntax_errors_give_the_line(text: str, line: int):
    error = _error(text, source="net")
    assert error.line == line
    assert error.source == "net"


def test_keys_given_twice_are_refused():
    in_yaml = _error("- name: A\n  lat: 1\n  lon: 2\n  lat: 3\n")
    assert (in_yaml.field, in_yaml.line) == ("lat", 4)
    in_json = _error('[{"name": "A", "lat": 1, "lon": 2, "lat": 3}]')
    assert in_json.field == "lat"


@pytest.mark.parametrize("text", ["", "stations: 3\n", '{"version": 1, "stations": []}', "42"])
def test_documents_that_are_not_station_lists_are_refused(text: str):
    assert _error(text).field in {"stations", "version"}


def test_bad_arguments_are_refused():
    assert _error("[]", fmt="xml").field == "fmt"
    assert _error("[]", default_min_elevation_deg=91).field == "default_min_elevation_deg"


def test_read_stations_file_takes_the_format_from_the_extension(tmp_path: Path):
    document = [station_to_dict(TWO_ANTENNA_STATION)]
    (tmp_path / "net.json").write_text(json.dumps(document))
    (tmp_path / "net.yml").write_text(yaml.safe_dump(document))
    (tmp_path / "net.csv").write_text(HEADER + "Svalbard,78.23,15.39,500.0,5.0\n")
    (tmp_path / "bad.yaml").write_text("- name: A\n  lat: 95\n  lon: 0\n")

    assert read_stations_file(tmp_path / "net.json") == [TWO_ANTENNA_STATION]
    assert read_stations_file(str(tmp_path / "net.yml")) == [TWO_ANTENNA_STATION]
    assert read_stations_file(tmp_path / "net.csv") == demo_stations()[:1]
    with pytest.raises(InvalidInput, match=r"bad\.yaml: stations\[0\]\.lat: got '95\.0'"):
        read_stations_file(tmp_path / "bad.yaml")


# --- the model ------------------------------------------------------------------------------------


def test_horizon_mask_interpolates_across_north():
    mask = HorizonMask(azimuth_deg=(10.0, 180.0, 350.0), elevation_deg=(2.0, 20.0, 6.0))

    assert mask.elevation_at(0.0) == pytest.approx(4.0)  # halfway between 350° (6) and 10° (2)
    assert mask.elevation_at(360.0) == pytest.approx(4.0)
    assert mask.elevation_at(355.0) == pytest.approx(5.0)
    assert mask.elevation_at(-5.0) == pytest.approx(5.0)
    np.testing.assert_allclose(mask.elevation_at([[10.0, 95.0], [180.0, 5.0]]), [[2, 11], [20, 3]])


def test_horizon_mask_with_one_point_is_flat():
    mask = HorizonMask((123.0,), (7.0,))
    np.testing.assert_allclose(mask.elevation_at([0.0, 123.0, 300.0]), 7.0)
    assert mask.is_flat


def test_antenna_elevation_limit_is_the_higher_of_minimum_and_mask():
    mask = HorizonMask((0.0, 90.0, 180.0, 270.0), (2.0, 12.0, 2.0, 2.0))
    antenna = Antenna("a", min_elevation_deg=5.0, horizon_mask=mask)

    np.testing.assert_allclose(antenna.elevation_limit_deg([0.0, 45.0, 90.0, 200.0]), [5, 7, 12, 5])
    assert antenna.elevation_limit_deg(np.zeros((2, 3))).shape == (2, 3)
    assert antenna.lowest_elevation_deg == 5.0
    assert antenna.has_azimuth_mask
    np.testing.assert_allclose(Antenna("b", 10.0).elevation_limit_deg([0.0, 180.0]), [10.0, 10.0])


def test_model_refuses_impossible_values_naming_the_field():
    with pytest.raises(InvalidInput, match="latitude_deg"):
        GroundStation("x", "X", latitude_deg=91.0, longitude_deg=0.0)
    with pytest.raises(InvalidInput, match="horizon_mask"):
        HorizonMask((0.0,), (95.0,))
    with pytest.raises(InvalidInput, match="antennas"):
        GroundStation("x", "X", 0.0, 0.0, antennas=(Antenna("a"), Antenna("a")))
    with pytest.raises(InvalidInput, match="min_hz"):
        FrequencyBand("X", 8.025e9, 8_400_000_000)  # type: ignore[arg-type]  # Hz are whole


# --- the examples in docs/stations.md -------------------------------------------------------------

DOCS = Path(__file__).parents[1] / "docs" / "stations.md"


def _doc_blocks(language: str) -> list[str]:
    """The fenced ``language`` code blocks of docs/stations.md."""
    parts = DOCS.read_text(encoding="utf-8").split(f"```{language}\n")[1:]
    return [part.split("```", 1)[0] for part in parts]


def test_docs_yaml_and_json_examples_describe_the_same_stations():
    (in_yaml,) = _doc_blocks("yaml")
    in_json = _doc_blocks("json")[0]  # the file format; later JSON blocks are API bodies

    svalbard, troll = parse_stations(in_yaml, source="docs/stations.md")
    assert parse_stations(in_json) == [svalbard, troll]
    assert svalbard == TWO_ANTENNA_STATION
    assert (troll.id, troll.altitude_m, troll.antennas) == ("troll", 1270.0, (Antenna("ant1"),))


def test_docs_csv_examples_parse():
    demo, merged = _doc_blocks("csv")
    assert parse_stations(demo) == demo_stations()[:2]
    (station,) = parse_stations(merged)
    assert [a.id for a in station.antennas] == ["sg1", "sg2"]
