"""The one ingest entry point: format detection, bad records, duplicates, epoch age."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib import resources
from pathlib import Path

import pytest

import groundlink.orbits
from groundlink.errors import InvalidInput
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.ingest import (
    ElementsReport,
    detect_format,
    epoch_age_warnings,
    parse_elements,
    read_elements_file,
)
from groundlink.orbits.omm import write_omm_csv, write_omm_json, write_omm_kvn, write_omm_xml
from groundlink.orbits.tle import parse_tle, write_tle

ISS = (
    "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927",
    "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537",
)
ISS_ELEMENTS = parse_tle(*ISS, name="ISS (ZARYA)")


def fleet(count: int) -> list[OrbitalElements]:
    """``count`` distinct element sets (catalogue numbers 40001...)."""
    return [
        replace(ISS_ELEMENTS, norad_cat_id=40_001 + index, object_name=f"SAT {index}")
        for index in range(count)
    ]


WRITERS: dict[str, Callable[[Iterable[OrbitalElements]], str]] = {
    "tle": write_tle,
    "json": partial(write_omm_json, indent=2),
    "csv": write_omm_csv,
    "xml": write_omm_xml,
    "kvn": write_omm_kvn,
}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_detects_every_format_and_reads_it_back(fmt: str) -> None:
    original = fleet(3)
    text = WRITERS[fmt](original)
    assert detect_format(text) == fmt
    report = parse_elements(text, source=f"gp.{fmt}")
    assert (report.fmt, report.problems, report.warnings) == (fmt, [], [])
    assert report.elements == original
    assert report.ok


def test_detects_2le_and_byte_order_mark() -> None:
    assert detect_format("\n".join(ISS)) == "tle"
    report = parse_elements("\ufeff" + write_omm_csv([ISS_ELEMENTS]))
    assert (report.fmt, len(report.elements)) == ("csv", 1)


def test_one_corrupt_tle_among_many_costs_only_itself() -> None:
    lines = write_tle(fleet(3000)).splitlines()
    bad_line = 3 * 1500 + 3  # line 2 of the 1501st record (1-based line numbers)
    lines[bad_line - 1] = lines[bad_line - 1][:68] + str((int(lines[bad_line - 1][68]) + 1) % 10)
    report = parse_elements("\n".join(lines), source="big.tle")
    assert len(report.elements) == 2999
    assert 40_001 + 1500 not in {item.norad_cat_id for item in report.elements}
    assert [item.norad_cat_id for item in report.elements[1499:1501]] == [41_500, 41_502]
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert (problem.source, problem.line, problem.field) == ("big.tle", bad_line, "line 2 checksum")
    assert str(problem).startswith(f"big.tle:{bad_line}: line 2 checksum: got ")


def test_verify_checksum_false_accepts_the_bad_checksum() -> None:
    text = "\n".join([ISS[0][:68] + "0", ISS[1]])
    assert parse_elements(text).problems[0].field == "line 1 checksum"
    lenient = parse_elements(text, verify_checksum=False)
    assert lenient.problems == []
    assert lenient.elements[0].norad_cat_id == 25544


@pytest.mark.parametrize("fmt", ["json", "csv", "xml", "kvn"])
def test_one_bad_omm_record_is_located_and_the_rest_kept(fmt: str) -> None:
    good = fleet(5)
    text = WRITERS[fmt](good)
    marker = "15.72125391"  # the mean motion of every record; break the third one
    third = text.index(marker, text.index(marker, text.index(marker) + 1) + 1)
    text = text[:third] + "NaN" + text[third + len(marker) :]
    report = parse_elements(text, source=f"gp.{fmt}")
    assert report.elements == good[:2] + good[3:]
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert (problem.field, problem.source) == ("MEAN_MOTION", f"gp.{fmt}")
    assert problem.line is not None
    assert "finite" in problem.expected
    assert problem.line == text[:third].count("\n") + 1  # the bad field's line (CSV: its row)


def test_duplicate_catalog_numbers_keep_the_newest_epoch() -> None:
    older = replace(ISS_ELEMENTS, epoch=datetime(2024, 5, 30, tzinfo=UTC))
    newer = replace(ISS_ELEMENTS, epoch=datetime(2024, 5, 31, tzinfo=UTC))
    other = fleet(1)[0]
    report = parse_elements(write_omm_json([older, other, newer, older]), source="dup.json")
    assert report.elements == [other, newer]
    assert report.warnings == [
        "dup.json: ISS (ZARYA) (25544) appears 3 times; kept the newest epoch 2024-05-31T00:00:00Z"
    ]


def test_sgp4_verification_file_through_the_entry_point() -> None:
    text = resources.files("sgp4").joinpath("SGP4-VER.TLE").read_text()
    report = parse_elements(text, source="SGP4-VER.TLE", verify_checksum=False)
    assert report.fmt == "tle"
    assert [(p.field, p.line) for p in report.problems] == [("MEAN_MOTION", 104)]
    assert len(report.elements) == 31  # 32 good, catalogue number 20413 twice
    assert any("NORAD 20413 appears 2 times" in warning for warning in report.warnings)


def test_empty_and_unrecognised_input() -> None:
    empty = parse_elements("  \n", source="empty.txt")
    assert (empty.elements, empty.problems) == ([], [])
    assert "no element sets" in empty.warnings[0]
    unknown = parse_elements("hello world\n", source="x.txt")
    assert [(p.field, p.line, p.source) for p in unknown.problems] == [("format", 1, "x.txt")]
    assert not unknown.ok


def test_explicit_format_and_unknown_format_name() -> None:
    assert parse_elements("\n".join(ISS), fmt="3LE").fmt == "tle"
    assert parse_elements("\n".join(ISS), fmt="json").problems[0].field == "JSON"
    with pytest.raises(InvalidInput) as caught:
        parse_elements("\n".join(ISS), fmt="yaml")
    assert caught.value.field == "fmt"


def test_read_elements_file(tmp_path: Path) -> None:
    path = tmp_path / "gp.csv"
    path.write_text(write_omm_csv(fleet(2)), encoding="utf-8-sig")
    report = read_elements_file(path)
    assert isinstance(report, ElementsReport)
    assert [item.norad_cat_id for item in report.elements] == [40_001, 40_002]
    with pytest.raises(InvalidInput) as caught:
        read_elements_file(tmp_path / "missing.tle")
    assert caught.value.field == "file"


def test_bad_file_problem_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.tle"
    path.write_text("ISS (ZARYA)\n" + ISS[0] + "\n" + ISS[1][:-1] + "\n")
    problem = read_elements_file(path).problems[0]
    assert (problem.source, problem.line, problem.field) == (str(path), 3, "line 2 length")


# --- epoch age -------------------------------------------------------------------------------


def test_epoch_age_warning_text() -> None:
    stale = replace(ISS_ELEMENTS, norad_cat_id=25544, epoch=datetime(2024, 5, 1, tzinfo=UTC))
    fresh = replace(stale, epoch=datetime(2024, 5, 25, tzinfo=UTC))
    window_start = datetime(2024, 6, 1, tzinfo=UTC)
    assert epoch_age_warnings([fresh, stale], window_start) == [
        "ISS (ZARYA) (25544): epoch 2024-05-01T00:00:00Z is 31.0 days from the prediction "
        "window start; SGP4 accuracy degrades with age"
    ]


def test_epoch_age_counts_both_directions_and_the_threshold() -> None:
    window_start = datetime(2024, 6, 1, tzinfo=UTC)
    future = replace(ISS_ELEMENTS, object_name="", epoch=window_start + timedelta(days=20))
    (warning,) = epoch_age_warnings([future], window_start)
    assert warning.startswith("NORAD 25544: epoch 2024-06-21T00:00:00Z is 20.0 days")
    assert epoch_age_warnings([future], window_start, max_age_days=20.5) == []


def test_epoch_age_needs_an_aware_window_start() -> None:
    with pytest.raises(InvalidInput) as caught:
        epoch_age_warnings([ISS_ELEMENTS], datetime(2024, 6, 1))
    assert caught.value.field == "window_start"


def test_public_names_are_exported() -> None:
    for name in groundlink.orbits.__all__:
        assert getattr(groundlink.orbits, name) is not None
    assert groundlink.orbits.parse_elements is parse_elements
