"""The ``groundlink`` command line, run through Typer's CliRunner (and twice as a real process).

The fleet is the first five satellites of the packaged demo fleet (taken
verbatim from the reference population), over three stations, for six hours
from 2024-06-01T00:00Z, close to the elements' epochs: every run takes
milliseconds.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from cli_fixtures import run
from groundlink import __version__
from groundlink.orbits.ingest import parse_elements, read_elements_file
from groundlink.orbits.propagation import SatelliteBatch, split_julian_date
from groundlink.orbits.sgp4_scan import first_failures
from groundlink.orbits.tle import write_tle
from groundlink.passes.table import COLUMNS

START = "2024-06-01T00:00:00Z"
DAY = timedelta(hours=24)
WINDOW = ["--start", START, "--hours", "6"]
STATIONS_CSV = (
    "name,lat_deg,lon_deg,alt_m,mask_deg\n"
    "Svalbard,78.23,15.39,500.0,5.0\n"
    "Matera,40.65,16.70,536.0,10.0\n"
    "Santiago,-33.15,-70.67,700.0,10.0\n"
)
DEMO_FLEET = resources.files("groundlink") / "data" / "demo_fleet.tle"


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """Five TLEs (15 lines) of the demo fleet, in a file."""
    lines = DEMO_FLEET.read_text(encoding="utf-8").splitlines()[:15]
    path = tmp_path / "fleet.tle"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def stations(tmp_path: Path) -> Path:
    """Three stations, one antenna each, as CSV."""
    path = tmp_path / "stations.csv"
    path.write_text(STATIONS_CSV, encoding="utf-8")
    return path


def decaying_tle() -> str:
    """A 3LE of a low, high-drag satellite that SGP4 declares decayed (code 6) on 2024-06-01."""
    base = parse_elements(DEMO_FLEET.read_text(encoding="utf-8")).elements[0]
    decaying = replace(
        base,
        object_name="DECAYING-1",
        norad_cat_id=69001,
        object_id="2024-099A",
        mean_motion=16.4,
        bstar=0.002,
        mean_motion_dot=0.0,
    )
    return write_tle([decaying])


# --- passes -----------------------------------------------------------------------------------


def test_passes_csv_has_the_engine_columns_and_keeps_stdout_machine_readable(
    fleet: Path, stations: Path
) -> None:
    result = run("passes", "--elements", fleet, "--stations", stations, *WINDOW, "-o", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows
    assert tuple(rows[0]) == COLUMNS
    assert {row["station"] for row in rows} <= {"Svalbard", "Matera", "Santiago"}
    assert all(START[:10] in row["aos"] and row["aos"].endswith("Z") for row in rows[:1])
    assert f"{len(rows):,} passes of 5 satellites over 3 antennas" in result.stderr
    assert "window 2024-06-01T00:00:00Z → 2024-06-01T06:00:00Z (6 h)" in result.stderr


def test_passes_json_matches_csv(fleet: Path, stations: Path) -> None:
    as_csv = run("passes", "--elements", fleet, "--stations", stations, *WINDOW, "-o", "csv")
    as_json = run("passes", "--elements", fleet, "--stations", stations, *WINDOW, "-o", "json")
    assert as_json.exit_code == 0, as_json.output
    records = json.loads(as_json.stdout)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(records) == len(rows) > 0
    assert all(tuple(record) == COLUMNS for record in records)
    assert [r["aos"] for r in records] == [r["aos"] for r in rows]
    assert isinstance(records[0]["max_elevation_deg"], float)
    assert isinstance(records[0]["aos_clipped"], bool)


def test_satellite_option_selects_by_norad_id_and_by_exact_name(
    fleet: Path, stations: Path
) -> None:
    names = [e.object_name for e in read_elements_file(fleet).elements]
    first_id = read_elements_file(fleet).elements[0].norad_cat_id
    result = run(
        "passes",
        "--elements",
        fleet,
        "--stations",
        stations,
        *WINDOW,
        "-o",
        "json",
        "--satellite",
        str(first_id),
        "--satellite",
        names[3],
    )
    assert result.exit_code == 0, result.output
    chosen = {record["satellite"] for record in json.loads(result.stdout)}
    assert chosen == {names[0], names[3]}
    assert "of 2 satellites" in result.stderr


def test_passes_table_then_summary_on_stdout(fleet: Path, stations: Path) -> None:
    result = run("passes", "--elements", fleet, "--stations", stations, *WINDOW, "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "AOS (UTC)" in result.stdout
    assert "passes of 5 satellites over 3 antennas" in result.stdout
    assert "first 3 of" in result.stdout
    assert result.stderr == ""


def test_passes_out_file_and_plot(fleet: Path, stations: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out, picture = tmp_path / "passes.csv", tmp_path / "passes.png"
    result = run(
        "passes",
        "--elements",
        fleet,
        "--stations",
        stations,
        *WINDOW,
        "-o",
        "csv",
        "--out",
        out,
        "--plot",
        picture,
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith(",".join(COLUMNS) + "\n")
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"wrote the timeline to {picture}" in result.stdout


def test_old_elements_are_warned_about(fleet: Path, stations: Path) -> None:
    result = run(
        "passes", "--elements", fleet, "--stations", stations, "--start", "2024-07-01", "-o", "csv"
    )
    assert result.exit_code == 0, result.output
    assert "old element sets (5):" in result.stderr
    assert "SGP4 accuracy degrades with age" in result.stderr


def test_sgp4_failures_and_skipped_records_appear_in_the_summary(
    fleet: Path, stations: Path
) -> None:
    text = fleet.read_text(encoding="utf-8")
    broken = text.replace(text.splitlines()[1], text.splitlines()[1][:-1] + "0", 1)
    fleet.write_text(broken + decaying_tle(), encoding="utf-8")
    result = run("passes", "--elements", fleet, "--stations", stations, *WINDOW, "-o", "csv")
    assert result.exit_code == 0, result.output
    assert "element records skipped (1):" in result.stderr
    assert f"{fleet}:2: line 1 checksum" in result.stderr
    assert "SGP4 failures (1):" in result.stderr
    assert "DECAYING-1 (69001): SGP4 error 6" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--elements", "missing.tle"], "expected a readable file (No such file or directory)"),
        (["--stations", "missing.csv"], "expected a readable file (No such file or directory)"),
        (["--start", "yesterday"], "--start: got 'yesterday'"),
        (["--start", "2024-13-01T00:00:00Z"], "--start"),
        (["--hours", "0"], "--hours: got '0.0', expected hours in (0, 744]"),
        (["--hours", "-3"], "--hours"),
        (["--hours", "745"], "--hours"),
        (["--min-elevation", "95"], "min_elevation_deg"),
        (["--satellite", "NO-SUCH-SAT"], "--satellite: got 'NO-SUCH-SAT'"),
        (["--elements", "STATIONS"], "expected TLE/3LE, or OMM"),
        (["--stations", "FLEET"], "stations"),
        (["--elements", "EMPTY"], "no element sets found"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_code_2(
    fleet: Path, stations: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "empty.tle").write_text("", encoding="utf-8")
    files = {"STATIONS": str(stations), "FLEET": str(fleet), "EMPTY": str(tmp_path / "empty.tle")}
    options = {"--elements": str(fleet), "--stations": str(stations), "--start": START}
    for name, value in zip(args[::2], args[1::2], strict=True):
        options[name] = files.get(value, str(tmp_path / value) if "missing" in value else value)
    result = run("passes", *[part for pair in options.items() for part in pair])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_plot_without_matplotlib_is_bad_input(
    fleet: Path, stations: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("groundlink.plots.matplotlib_available", lambda: False)
    result = run(
        "passes", "--elements", fleet, "--stations", stations, "--plot", tmp_path / "p.png"
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: plots need matplotlib")
    assert "pip install 'groundlink[plot]'" in result.stderr


# --- elements ---------------------------------------------------------------------------------


def test_elements_check_reports_a_corrupted_record_by_line_and_exits_1(fleet: Path) -> None:
    lines = fleet.read_text(encoding="utf-8").splitlines()
    line_number = 9  # line 2 of the third record
    good_digit = lines[line_number - 1][-1]
    lines[line_number - 1] = lines[line_number - 1][:-1] + str((int(good_digit) + 1) % 10)
    fleet.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run("elements", "check", fleet, "--start", START)
    assert result.exit_code == 1, result.output
    assert "4 element sets (TLE), 1 bad record" in result.stdout
    assert f"{fleet}:{line_number}: line 2 checksum" in result.stdout
    assert f"expected {good_digit}" in result.stdout
    assert "all 4 satellites propagate without error" in result.stdout
    assert "problems found" in result.stdout


def test_elements_check_clean_file_exits_0(fleet: Path) -> None:
    result = run("elements", "check", fleet, "--start", START, "--hours", "2")
    assert result.exit_code == 0, result.output
    assert "SGP4 from 2024-06-01T00:00:00Z to 2024-06-01T02:00:00Z, every minute:" in result.stdout
    assert result.stdout.rstrip().endswith("clean")


def test_elements_check_reports_sgp4_failure_with_code_and_first_time(fleet: Path) -> None:
    fleet.write_text(fleet.read_text(encoding="utf-8") + decaying_tle(), encoding="utf-8")
    result = run("elements", "check", fleet, "--start", START)
    assert result.exit_code == 1, result.output
    start = datetime(2024, 6, 1, tzinfo=UTC)
    (failure,) = first_failures(parse_elements(decaying_tle()).elements, start, start + DAY)
    since = failure.since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert start < failure.since < start + DAY
    assert (
        "DECAYING-1 (69001): error 6 (satellite has decayed (the position returned is not "
        f"valid)) from {since}"
    ) in result.stdout
    assert "propagate without error" not in result.stdout


def test_elements_check_warns_about_duplicates_and_old_epochs(fleet: Path) -> None:
    text = fleet.read_text(encoding="utf-8")
    fleet.write_text(text + "\n".join(text.splitlines()[:3]) + "\n", encoding="utf-8")
    result = run("elements", "check", fleet, "--start", "2024-08-01")
    assert result.exit_code == 0, result.output
    assert "warnings (6):" in result.stdout
    assert "appears 2 times" in result.stdout
    assert "clean (with warnings)" in result.stdout


def test_elements_check_unusable_input_exits_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.tle"
    empty.write_text("\n", encoding="utf-8")
    for path in (empty, tmp_path / "missing.tle"):
        result = run("elements", "check", path)
        assert result.exit_code == 2
        assert result.stderr.startswith("error: ")
        assert len(result.stderr.splitlines()) == 1


def test_first_failure_is_the_first_failing_minute() -> None:
    decaying = parse_elements(decaying_tle()).elements
    start = datetime(2024, 6, 1, tzinfo=UTC)
    (failure,) = first_failures(decaying, start, start + DAY)
    assert failure.code == 6
    assert failure.satellite.norad_cat_id == 69001
    batch = SatelliteBatch(decaying)
    for moment, expected in ((failure.since - timedelta(minutes=1), 0), (failure.since, 6)):
        whole, fraction = split_julian_date(moment)
        error = batch.propagate(np.array([whole]), np.array([fraction])).error
        assert int(error[0, 0]) == expected


@pytest.mark.parametrize("fmt", ["omm-json", "omm-csv", "omm-xml", "omm-kvn", "tle"])
def test_elements_convert_round_trips(fleet: Path, tmp_path: Path, fmt: str) -> None:
    converted = tmp_path / f"converted.{fmt}"
    result = run("elements", "convert", fleet, "--to", fmt, "--out", converted)
    assert result.exit_code == 0, result.output
    assert read_elements_file(converted).elements == read_elements_file(fleet).elements

    back = run("elements", "convert", converted, "--to", "tle")
    assert back.exit_code == 0, back.output
    assert back.stdout == fleet.read_text(encoding="utf-8")


def test_elements_convert_skips_bad_records_and_exits_1(fleet: Path) -> None:
    lines = fleet.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][:-1] + str((int(lines[1][-1]) + 1) % 10)
    fleet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("elements", "convert", fleet, "--to", "omm-json")
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)) == 4
    assert result.stderr.startswith(f"skipped: {fleet}:2: line 1 checksum")


# --- stations, doctor, up, version ------------------------------------------------------------


def test_stations_list_defaults_to_the_demo_network() -> None:
    result = run("stations", "list")
    assert result.exit_code == 0, result.output
    assert "Svalbard" in result.stdout
    assert "30 stations, 30 antennas (the demo network)" in result.stdout


def test_stations_list_reads_a_file_as_json(stations: Path) -> None:
    result = run("stations", "list", "--stations", stations, "-o", "json")
    assert result.exit_code == 0, result.output
    assert [s["name"] for s in json.loads(result.stdout)] == ["Svalbard", "Matera", "Santiago"]


def test_stations_list_bad_file_exits_2(fleet: Path) -> None:
    result = run("stations", "list", "--stations", fleet)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1


def test_doctor_reports_versions_sgp4_core_and_services(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDLINK_DATABASE_URL", "postgresql://gl:secret@127.0.0.1:5432/gl")
    result = run("doctor")
    assert result.exit_code == 0, result.output
    assert f"groundlink   {__version__}" in result.stdout
    assert "sgp4 core    C++ core" in result.stdout
    assert "postgresql://gl:***@127.0.0.1:5432/gl (GROUNDLINK_DATABASE_URL)" in result.stdout
    assert "secret" not in result.stdout
    assert "postgresql   127.0.0.1:5432 " in result.stdout
    assert "nats         127.0.0.1:4222 " in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"groundlink {__version__}\n"


# --- the installed console script -------------------------------------------------------------

SCRIPT = Path(sys.executable).with_name("groundlink")
needs_script = pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed")


@needs_script
def test_console_script_version() -> None:
    done = subprocess.run([SCRIPT, "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"groundlink {__version__}"


@needs_script
def test_console_script_passes_csv(fleet: Path, stations: Path) -> None:
    done = subprocess.run(
        [SCRIPT, "passes", "--elements", fleet, "--stations", stations, *WINDOW, "-o", "csv"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert rows
    assert tuple(rows[0]) == COLUMNS
    assert "passes of 5 satellites over 3 antennas" in done.stderr


def test_track_samples_one_pass_from_the_passes_output(fleet: Path, stations: Path) -> None:
    """``track`` over a pass that ``passes`` found: elevation is at the mask at both ends."""
    found = run("passes", "--elements", fleet, "--stations", stations, *WINDOW, "-o", "csv")
    first = next(csv.DictReader(io.StringIO(found.stdout)))
    hours = (
        datetime.fromisoformat(first["los"]) - datetime.fromisoformat(first["aos"])
    ).total_seconds() / 3600
    result = run(
        "track",
        "--elements",
        fleet,
        "--stations",
        stations,
        "--satellite",
        first["norad_id"],
        "--station",
        first["station"],
        "--start",
        first["aos"],
        "--hours",
        f"{hours:.9f}",
        "--step",
        "10",
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["time"] == first["aos"]
    elevations = [float(row["elevation_deg"]) for row in rows]
    mask = {"Svalbard": 5.0, "Matera": 10.0, "Santiago": 10.0}[first["station"]]
    if first["aos_clipped"] == "false":
        assert elevations[0] == pytest.approx(mask, abs=0.01)
    assert max(elevations) <= float(first["max_elevation_deg"]) + 1e-3
    assert "samples every 10 s" in result.stderr


def test_track_rejects_an_unknown_station(fleet: Path, stations: Path) -> None:
    result = run(
        "track",
        "--elements",
        fleet,
        "--stations",
        stations,
        "--satellite",
        "EO-SSO-036",
        "--station",
        "Atlantis",
        *WINDOW,
    )
    assert result.exit_code == 2
    assert "--station: got 'Atlantis'" in result.stderr
