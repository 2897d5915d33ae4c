"""Tests of groundlink.passes.table: the CSV and JSON forms a user reads back.

The references are the standard library's readers: ``csv`` (RFC 4180
quoting), ``json`` and ``datetime.fromisoformat``. Whatever the table
writes must come back through them as the table's own values.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from groundlink.orbits.elements import OrbitalElements
from groundlink.passes.engine import find_passes
from groundlink.passes.table import PassTable, unix_seconds
from groundlink.stations.model import Antenna, GroundStation

HEADER = (
    "satellite,norad_id,station,antenna,aos,tca,los,duration_s,max_elevation_deg,"
    "aos_azimuth_deg,tca_azimuth_deg,los_azimuth_deg,aos_clipped,los_clipped,sunlit,"
    "sun_elevation_deg"
)
ISO_MS_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
TIME_COLUMNS = {"aos": "aos_unix_s", "tca": "tca_unix_s", "los": "los_unix_s"}
DECIMAL_COLUMNS = (
    "max_elevation_deg",
    "aos_azimuth_deg",
    "tca_azimuth_deg",
    "los_azimuth_deg",
    "sun_elevation_deg",
)
FLAG_COLUMNS = ("aos_clipped", "los_clipped", "sunlit")

#: Names that need quoting or escaping in CSV or JSON.
AWKWARD_SATELLITE_NAMES = ('SAT, "ONE"', "ØRSTED \\ 2", 'say "hi"', "")
AWKWARD_STATION = GroundStation(
    "awkward",
    'Station "X", Y',
    47.0,
    8.0,
    400.0,
    (Antenna("dish,1", 5.0), Antenna('ant "b"', 10.0)),
)


def _satellite(name: str, norad: int) -> OrbitalElements:
    return OrbitalElements(
        object_name=name,
        object_id="2024-001A",
        epoch=datetime(2024, 5, 31, tzinfo=UTC),
        mean_motion=15.05,
        eccentricity=0.0001,
        inclination=53.0,
        ra_of_asc_node=10.0,
        arg_of_pericenter=90.0,
        mean_anomaly=0.0,
        norad_cat_id=norad,
    )


def _hand_made_table() -> PassTable:
    """Four passes with awkward names and times that round across seconds and minutes."""
    satellites = tuple(
        _satellite(name, 70001 + i) for i, name in enumerate(AWKWARD_SATELLITE_NAMES)
    )
    antennas = tuple((AWKWARD_STATION, a) for a in AWKWARD_STATION.antennas)
    t0 = unix_seconds(datetime(2024, 6, 1, tzinfo=UTC))
    aos = t0 + np.array([0.0, 59.9996, 3600.0004, 86399.9996])
    return PassTable(
        satellites=satellites,
        antennas=antennas,
        satellite_index=np.array([0, 1, 2, 3]),
        antenna_index=np.array([0, 1, 0, 1]),
        aos_unix_s=aos,
        tca_unix_s=aos + np.array([120.25, 0.0, 300.1234, 10.0]),
        los_unix_s=aos + np.array([240.5, 59.0, 600.9876, 20.0]),
        max_elevation_deg=np.array([45.12345, 10.0, 89.99951, 5.0004]),
        aos_azimuth_deg=np.array([0.0, 359.9994, 180.5, 12.3456]),
        tca_azimuth_deg=np.array([90.0, 1.0, 270.0, 33.0]),
        los_azimuth_deg=np.array([180.0, 2.0, 0.0004, 44.0]),
        aos_clipped=np.array([True, False, False, False]),
        los_clipped=np.array([False, False, False, True]),
        sunlit=np.array([True, False, True, False]),
        sun_elevation_deg=np.array([-12.3456, -0.0004, 0.0, 45.0]),
    )


@pytest.fixture(scope="module")
def engine_table(population, stations, reference_start) -> PassTable:
    """A real table: a few satellites renamed awkwardly, over the reference network and
    AWKWARD_STATION, for 12 hours."""
    satellites = [
        replace(population[i * 500], object_name=name)
        for i, name in enumerate(AWKWARD_SATELLITE_NAMES)
    ]
    end = reference_start + timedelta(hours=12)
    return find_passes(satellites, [*stations, AWKWARD_STATION], reference_start, end)


@pytest.fixture(params=["hand-made", "engine"])
def table(request: pytest.FixtureRequest) -> PassTable:
    """Each table test runs on the hand-made table and on the engine's (needs the data)."""
    if request.param == "hand-made":
        return _hand_made_table()
    engine: PassTable = request.getfixturevalue("engine_table")
    return engine


def _csv_rows(table: PassTable) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(table.to_csv(), newline=""))
    header, *rows = list(reader)
    return header, [dict(zip(header, row, strict=True)) for row in rows]


def _parse_utc(text: str) -> float:
    """An ISO-8601 UTC time with ``Z`` as POSIX seconds (the stdlib parser, Python 3.11+)."""
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(0)
    return moment.timestamp()


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_header_is_exactly_the_documented_columns(table: PassTable):
    """The first line is the header, spelled and ordered as documented."""
    assert table.to_csv().split("\n", 1)[0] == HEADER
    header, _ = _csv_rows(table)
    assert ",".join(header) == HEADER


def test_csv_names_with_commas_and_quotes_read_back_unchanged(table: PassTable):
    """RFC 4180 quoting: the csv module reads back every name, antenna id and station name."""
    _, rows = _csv_rows(table)
    assert len(rows) == len(table) > 0
    for i, row in enumerate(rows):
        satellite = table.satellites[int(table.satellite_index[i])]
        station, antenna = table.antennas[int(table.antenna_index[i])]
        assert row["satellite"] == satellite.name
        assert row["norad_id"] == str(satellite.norad_cat_id)
        assert row["station"] == station.name
        assert row["antenna"] == antenna.id
    assert 'SAT, "ONE"' in {row["satellite"] for row in rows}
    assert {row["station"] for row in rows} >= {AWKWARD_STATION.name}
    assert {row["antenna"] for row in rows} >= {"dish,1", 'ant "b"'}


def test_unnamed_satellite_shows_its_catalogue_number():
    """A satellite without OBJECT_NAME is listed under its NORAD number."""
    assert _csv_rows(_hand_made_table())[1][3]["satellite"] == "70004"
    assert json.loads(_hand_made_table().to_json())[3]["satellite"] == "70004"


def test_csv_times_are_iso_utc_milliseconds_and_read_back_within_half_a_ms(table: PassTable):
    """aos/tca/los: YYYY-MM-DDTHH:MM:SS.mmmZ, equal to the table's instants within 0.5 ms."""
    _, rows = _csv_rows(table)
    for text_column, value_column in TIME_COLUMNS.items():
        values = getattr(table, value_column)
        for i, row in enumerate(rows):
            assert ISO_MS_Z.fullmatch(row[text_column]), row[text_column]
            assert abs(_parse_utc(row[text_column]) - values[i]) <= 0.0005 + 1e-6


def test_csv_times_round_to_the_nearest_millisecond_across_boundaries():
    """59.9996 s rounds up to the next minute, 86399.9996 s to the next day, 3600.0004 s down."""
    _, rows = _csv_rows(_hand_made_table())
    assert rows[0]["aos"] == "2024-06-01T00:00:00.000Z"
    assert rows[1]["aos"] == "2024-06-01T00:01:00.000Z"
    assert rows[2]["aos"] == "2024-06-01T01:00:00.000Z"
    assert rows[3]["aos"] == "2024-06-02T00:00:00.000Z"


def test_csv_numbers_and_flags_read_back_as_the_table_values(table: PassTable):
    """Angles, elevations and durations to 3 decimals; flags as true/false."""
    _, rows = _csv_rows(table)
    for i, row in enumerate(rows):
        assert float(row["duration_s"]) == pytest.approx(table.duration_s[i], abs=5e-4)
        for column in DECIMAL_COLUMNS:
            assert float(row[column]) == pytest.approx(getattr(table, column)[i], abs=5e-4)
        for column in FLAG_COLUMNS:
            assert row[column] == ("true" if getattr(table, column)[i] else "false")


def test_empty_table_gives_header_only_csv_and_empty_json(stations, reference_start):
    """No passes: the header line alone, and an empty JSON array."""
    empty = _hand_made_table().select(np.zeros(4, dtype=bool))
    assert len(empty) == 0
    assert empty.to_csv() == HEADER + "\n"
    assert empty.to_json() == "[]"
    assert json.loads(empty.to_json()) == []
    none = find_passes([], stations, reference_start, reference_start + timedelta(hours=1))
    assert none.to_csv() == HEADER + "\n" and none.to_json() == "[]"


# --- JSON --------------------------------------------------------------------------------------


def test_json_is_an_array_of_objects_with_proper_types(table: PassTable):
    """json.loads gives one object per pass, keys in column order, numbers as numbers,
    booleans as booleans, names and times as strings."""
    records = json.loads(table.to_json())
    assert isinstance(records, list) and len(records) == len(table)
    for record in records:
        assert ",".join(record) == HEADER
        for key in ("satellite", "station", "antenna", "aos", "tca", "los"):
            assert isinstance(record[key], str)
        assert type(record["norad_id"]) is int
        for key in ("duration_s", *DECIMAL_COLUMNS):
            assert type(record[key]) is float, key
        for key in FLAG_COLUMNS:
            assert type(record[key]) is bool


def test_json_values_are_the_table_values(table: PassTable):
    """Every JSON value equals the table's (names exactly, numbers to 3 decimals, times to 0.5 ms)
    and the CSV's."""
    records = json.loads(table.to_json())
    _, rows = _csv_rows(table)
    for i, (record, row) in enumerate(zip(records, rows, strict=True)):
        satellite = table.satellites[int(table.satellite_index[i])]
        station, antenna = table.antennas[int(table.antenna_index[i])]
        assert record["satellite"] == satellite.name
        assert record["norad_id"] == satellite.norad_cat_id
        assert (record["station"], record["antenna"]) == (station.name, antenna.id)
        for text_column, value_column in TIME_COLUMNS.items():
            assert record[text_column] == row[text_column]
            assert abs(_parse_utc(record[text_column]) - getattr(table, value_column)[i]) <= (
                0.0005 + 1e-6
            )
        assert record["duration_s"] == pytest.approx(table.duration_s[i], abs=5e-4)
        for column in DECIMAL_COLUMNS:
            assert record[column] == pytest.approx(getattr(table, column)[i], abs=5e-4)
            assert record[column] == float(row[column])
        for column in FLAG_COLUMNS:
            assert record[column] == bool(getattr(table, column)[i])


# --- rows and selections -----------------------------------------------------------------------


def test_row_is_the_columns_of_one_pass(table: PassTable):
    """row(i) carries the same values, with timezone-aware UTC times and duration = LOS - AOS."""
    for i in range(0, len(table), max(1, len(table) // 50)):
        row = table.row(i)
        assert row.satellite is table.satellites[int(table.satellite_index[i])]
        assert (row.station, row.antenna) == table.antennas[int(table.antenna_index[i])]
        for name, column in (("aos", "aos_unix_s"), ("tca", "tca_unix_s"), ("los", "los_unix_s")):
            moment = getattr(row, name)
            assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
            assert moment.timestamp() == pytest.approx(getattr(table, column)[i], abs=1e-6)
        assert row.duration_s == pytest.approx(table.duration_s[i], abs=2e-6)
        assert row.max_elevation_deg == table.max_elevation_deg[i]
        assert row.sunlit == bool(table.sunlit[i])
    assert len(list(table)) == len(table)


def test_select_keeps_columns_aligned(table: PassTable):
    """select() by indices or mask gives the same passes, in the order asked for."""
    picked = table.select([3, 1])
    assert len(picked) == 2
    assert picked.row(0) == table.row(3) and picked.row(1) == table.row(1)
    assert picked.to_csv().splitlines()[1] == table.to_csv().splitlines()[4]
    sunlit = table.select(table.sunlit)
    assert len(sunlit) == int(table.sunlit.sum()) and sunlit.sunlit.all()
    assert sunlit.problems == table.problems
