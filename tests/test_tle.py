"""TLE parsing and writing, checked against sgp4's own parser, checksum and Alpha-5 code."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from sgp4 import alpha5
from sgp4.api import Satrec
from sgp4.exporter import export_tle
from sgp4.io import compute_checksum, fix_checksum

from groundlink.errors import InvalidInput
from groundlink.orbits.elements import OrbitalElements
from groundlink.orbits.tle import (
    checksum,
    format_tle,
    from_alpha5,
    parse_tle,
    read_tle,
    to_alpha5,
    write_tle,
)

POPULATION = Path("/work/shared/data/population.tle")

# The classic example TLE of the ISS (Wikipedia, "Two-line element set").
ISS = (
    "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927",
    "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537",
)
# From sgp4's own test suite (sgp4/tests.py): CelesTrak's VANGUARD 1 and MARIO.
VANGUARD = (
    "1 00005U 58002B   20287.20333880 -.00000016  00000-0 -22483-4 0  9998",
    "2 00005  34.2443 225.5254 1845686 162.2516 205.2356 10.84869164218149",
)
MARIO = (
    "1 55123U 98067UQ  23115.44827133  .00787702  29408-3  15680-2 0  9999",
    "2 55123  51.6242 216.2930 0014649 331.8976  28.1241 15.99081912 18396",
)
FIXTURES = [ISS, VANGUARD, MARIO]

XPDOTP = 1440.0 / (2.0 * math.pi)  # rev/day per rad/min, as in sgp4


def with_field(line: str, column: int, text: str) -> str:
    """Put ``text`` at 1-based ``column`` of a TLE line and fix the checksum (with sgp4's code)."""
    start = column - 1
    return str(fix_checksum(line[:start] + text + line[start + len(text) : 68]))


def julian_date(moment: datetime) -> float:
    return 2451545.0 + (moment - datetime(2000, 1, 1, 12, tzinfo=UTC)).total_seconds() / 86400.0


def assert_matches_sgp4(elements: OrbitalElements, line1: str, line2: str) -> None:
    """Compare every field with what ``Satrec.twoline2rv`` read from the same lines."""
    sat = Satrec.twoline2rv(line1[:69], line2[:69])
    assert elements.norad_cat_id == sat.satnum
    assert julian_date(elements.epoch) == pytest.approx(sat.jdsatepoch + sat.jdsatepochF, abs=1e-9)
    day_of_year = elements.epoch.timetuple().tm_yday
    seconds = elements.epoch.hour * 3600 + elements.epoch.minute * 60 + elements.epoch.second
    fraction = (seconds + elements.epoch.microsecond / 1e6) / 86400.0
    assert day_of_year + fraction == pytest.approx(sat.epochdays, abs=1e-10)
    assert elements.epoch.year % 100 == sat.epochyr
    assert elements.mean_motion / XPDOTP == pytest.approx(sat.no_kozai, rel=1e-12)
    assert elements.eccentricity == pytest.approx(sat.ecco, rel=1e-12)
    assert math.radians(elements.inclination) == pytest.approx(sat.inclo, rel=1e-12)
    assert math.radians(elements.ra_of_asc_node) == pytest.approx(sat.nodeo, abs=1e-12)
    assert math.radians(elements.arg_of_pericenter) == pytest.approx(sat.argpo, abs=1e-12)
    assert math.radians(elements.mean_anomaly) == pytest.approx(sat.mo, abs=1e-12)
    assert elements.bstar == pytest.approx(sat.bstar, rel=1e-12, abs=1e-300)
    assert elements.mean_motion_dot / (XPDOTP * 1440.0) == pytest.approx(sat.ndot, rel=1e-12)
    assert elements.mean_motion_ddot / (XPDOTP * 1440.0**2) == pytest.approx(sat.nddot, rel=1e-12)
    assert elements.rev_at_epoch == sat.revnum
    assert elements.element_set_no == sat.elnum
    assert elements.classification_type == (sat.classification.strip() or "U")
    designator = sat.intldesg.strip()
    if designator:
        year = int(designator[:2])
        full_year = 1900 + year if year >= 57 else 2000 + year
        assert elements.object_id == f"{full_year}-{designator[2:]}"
    else:
        assert elements.object_id == ""


# --- Alpha-5 and checksum ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [("00005", 5), ("99999", 99999), ("A0000", 100000), ("H9999", 179999), ("J0000", 180000),
     ("N9999", 229999), ("P0000", 230000), ("Z9999", 339999)],
)  # fmt: skip
def test_alpha5_known_values(text: str, number: int) -> None:
    assert from_alpha5(text) == number
    assert to_alpha5(number) == text


def test_alpha5_agrees_with_sgp4_over_the_whole_range() -> None:
    for number in range(0, 340_000, 997):
        assert to_alpha5(number) == alpha5.to_alpha5(number)
        assert from_alpha5(alpha5.to_alpha5(number)) == number


@pytest.mark.parametrize("text", ["I0000", "O1234", "a0000", "AB123", "12A45", "     "])
def test_alpha5_rejects_letters_it_does_not_use(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        from_alpha5(text)
    assert caught.value.field == "catalog number"


def test_catalog_number_beyond_alpha5_says_only_omm_holds_it() -> None:
    with pytest.raises(InvalidInput) as caught:
        to_alpha5(340_000)
    assert caught.value.field == "NORAD_CAT_ID"
    assert "only OMM" in caught.value.expected


def test_checksum_agrees_with_sgp4() -> None:
    lines = [*ISS, *VANGUARD, *MARIO]
    assert any("-" in line[:68] for line in lines)  # minus signs count 1
    for line in lines:
        assert checksum(line) == compute_checksum(line) == int(line[68])


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lines", FIXTURES)
def test_fields_match_sgp4s_parser(lines: tuple[str, str]) -> None:
    assert_matches_sgp4(parse_tle(*lines), *lines)


def test_iss_fields_read_exactly() -> None:
    elements = parse_tle(*ISS, name="0 ISS (ZARYA)           ")
    assert elements.object_name == "ISS (ZARYA)"
    assert elements.object_id == "1998-067A"
    assert elements.norad_cat_id == 25544
    assert elements.epoch == datetime(2008, 9, 20, 12, 25, 40, 104192, tzinfo=UTC)
    assert elements.mean_motion_dot == -0.00002182
    assert elements.mean_motion_ddot == 0.0
    assert elements.bstar == -0.11606e-4
    assert elements.eccentricity == 0.0006703
    assert elements.mean_motion == 15.72125391
    assert elements.rev_at_epoch == 56353
    assert elements.element_set_no == 292


@pytest.mark.parametrize(
    ("field", "value"),
    [(" 12345-3", 0.12345e-3), ("-22483-4", -0.22483e-4), (" 00000-0", 0.0),
     (" 00000+0", 0.0), ("+13519-0", 0.13519), (" 50000+0", 0.5)],
)  # fmt: skip
def test_implied_decimal_bstar(field: str, value: float) -> None:
    line1 = with_field(ISS[0], 54, field)
    elements = parse_tle(line1, ISS[1])
    assert elements.bstar == value
    assert elements.bstar == pytest.approx(Satrec.twoline2rv(line1, ISS[1]).bstar, rel=1e-15)


def test_implied_decimal_nddot_negative() -> None:
    line1 = with_field(ISS[0], 45, "-30915-6")
    assert parse_tle(line1, ISS[1]).mean_motion_ddot == -0.30915e-6


@pytest.mark.parametrize(
    ("two_digits", "year"), [("57", 1957), ("99", 1999), ("00", 2000), ("56", 2056)]
)
def test_two_digit_epoch_year(two_digits: str, year: int) -> None:
    line1 = with_field(ISS[0], 19, two_digits)
    elements = parse_tle(line1, ISS[1])
    assert elements.epoch.year == year
    assert_matches_sgp4(elements, line1, ISS[1])


def test_epoch_is_exact_to_the_microsecond() -> None:
    line1 = with_field(ISS[0], 19, "24152.23226756")
    assert parse_tle(line1, ISS[1]).epoch == datetime(2024, 5, 31, 5, 34, 27, 917184, tzinfo=UTC)


def test_blank_designator_is_empty_object_id() -> None:
    line1 = with_field(ISS[0], 10, " " * 8)
    assert parse_tle(line1, ISS[1]).object_id == ""


def test_alpha5_catalog_number_parses_like_sgp4() -> None:
    line1 = with_field(ISS[0], 3, "T0042")
    line2 = with_field(ISS[1], 3, "T0042")
    elements = parse_tle(line1, line2)
    assert elements.norad_cat_id == 270042
    assert_matches_sgp4(elements, line1, line2)


# --- rejected input --------------------------------------------------------------------------


def problem_of(line1: str, line2: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_tle(line1, line2)
    return caught.value


def test_wrong_checksum_names_line_and_expected_digit() -> None:
    bad = ISS[0][:68] + "3"
    problem = problem_of(bad, ISS[1])
    assert problem.field == "line 1 checksum"
    assert problem.value == "3"
    assert problem.expected == str(compute_checksum(ISS[0]))
    assert "line 1 checksum: got '3', expected 7" in str(problem)


def test_wrong_checksum_on_line_2() -> None:
    problem = problem_of(ISS[0], ISS[1][:68] + "0")
    assert problem.field == "line 2 checksum"
    assert problem.expected == "7"


def test_lenient_mode_ignores_checksum() -> None:
    assert parse_tle(ISS[0][:68] + "3", ISS[1], strict=False).norad_cat_id == 25544


@pytest.mark.parametrize("line2", [ISS[1][:-1], ISS[1] + "0"])
def test_wrong_length(line2: str) -> None:
    problem = problem_of(ISS[0], line2)
    assert problem.field == "line 2 length"
    assert problem.value == str(len(line2))


def test_mismatched_catalog_numbers() -> None:
    problem = problem_of(ISS[0], with_field(ISS[1], 3, "25545"))
    assert problem.field == "line 2 catalog number"
    assert problem.value == "25545"
    assert "25544" in problem.expected


def test_wrong_line_number() -> None:
    assert problem_of(ISS[1], ISS[1]).field == "line 1 column 1"


def test_field_out_of_its_columns() -> None:
    shifted = with_field(ISS[1], 17, "1")  # "51.64161247.4627": fields run together
    problem = problem_of(ISS[0], shifted)
    assert problem.field == "line 2 column 17"


def test_bad_eccentricity_digits() -> None:
    problem = problem_of(ISS[0], with_field(ISS[1], 27, "00067O3"))
    assert problem.field == "line 2 eccentricity"


def test_day_366_only_in_leap_years() -> None:
    assert parse_tle(with_field(ISS[0], 19, "08366.50000000"), ISS[1]).epoch.month == 12
    problem = problem_of(with_field(ISS[0], 19, "07366.50000000"), ISS[1])
    assert problem.field == "line 1 epoch day"


def test_out_of_range_value_names_omm_field() -> None:
    problem = problem_of(ISS[0], with_field(ISS[1], 53, " 0.00001000"))
    assert problem.field == "MEAN_MOTION"


# --- writing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lines", FIXTURES)
def test_format_round_trips_exactly(lines: tuple[str, str]) -> None:
    assert format_tle(parse_tle(*lines)) == lines


def test_format_agrees_with_sgp4_exporter() -> None:
    assert format_tle(parse_tle(*VANGUARD)) == export_tle(Satrec.twoline2rv(*VANGUARD))


def test_format_writes_alpha5_readable_by_sgp4() -> None:
    line1, line2 = format_tle(replace(parse_tle(*ISS), norad_cat_id=123456))
    assert line1[2:7] == line2[2:7] == "C3456"
    assert Satrec.twoline2rv(line1, line2).satnum == 123456
    assert checksum(line1) == int(line1[68]) and checksum(line2) == int(line2[68])


def test_format_rejects_catalog_number_beyond_alpha5() -> None:
    with pytest.raises(InvalidInput) as caught:
        format_tle(replace(parse_tle(*ISS), norad_cat_id=400_000))
    assert caught.value.field == "NORAD_CAT_ID"
    assert "only OMM can hold it" in str(caught.value)


def test_format_rounds_epoch_to_the_nearest_tick_and_carries_the_year() -> None:
    iss = parse_tle(*ISS)
    late = replace(iss, epoch=datetime(2023, 12, 31, 23, 59, 59, 999_900, tzinfo=UTC))
    assert format_tle(late)[0][18:32] == "24001.00000000"
    odd = replace(iss, epoch=datetime(2024, 1, 1, 0, 0, 0, 500, tzinfo=UTC))  # 0.58 of a tick
    assert format_tle(odd)[0][18:32] == "24001.00000001"


def test_format_rejects_epoch_outside_the_two_digit_years() -> None:
    with pytest.raises(InvalidInput) as caught:
        format_tle(replace(parse_tle(*ISS), epoch=datetime(2057, 1, 1, tzinfo=UTC)))
    assert caught.value.field == "EPOCH"


def test_format_rejects_object_id_that_is_not_cospar() -> None:
    with pytest.raises(InvalidInput) as caught:
        format_tle(replace(parse_tle(*ISS), object_id="UNKNOWN"))
    assert caught.value.field == "OBJECT_ID"


def test_format_small_bstar_keeps_the_exponent_in_one_digit() -> None:
    line1, _ = format_tle(replace(parse_tle(*ISS), bstar=1.2345e-12))
    assert line1[53:61] == " 00123-9"
    assert Satrec.twoline2rv(line1, ISS[1]).bstar == pytest.approx(1.23e-12)


def test_write_tle_writes_3le_and_2le() -> None:
    elements = [parse_tle(*ISS, name="ISS (ZARYA)"), parse_tle(*VANGUARD)]
    assert write_tle(elements) == "\n".join(["ISS (ZARYA)", *ISS, "5", *VANGUARD]) + "\n"
    assert write_tle(elements, names=False) == "\n".join([*ISS, *VANGUARD]) + "\n"


@pytest.mark.skipif(not POPULATION.exists(), reason="reference population not present")
def test_population_round_trips_line_for_line() -> None:
    lines = POPULATION.read_text().splitlines()
    elements, problems = read_tle(POPULATION.read_text(), source=str(POPULATION))
    assert problems == []
    assert len(elements) == len(lines) // 3 == 6048
    for index, item in enumerate(elements):
        assert item.object_name == lines[3 * index]
        assert format_tle(item) == (lines[3 * index + 1], lines[3 * index + 2])
    for index in range(0, len(elements), 97):  # a spread sample against sgp4 itself
        assert_matches_sgp4(elements[index], lines[3 * index + 1], lines[3 * index + 2])


# --- many records ----------------------------------------------------------------------------


def sgp4_verification_text() -> str:
    return resources.files("sgp4").joinpath("SGP4-VER.TLE").read_text()


def test_sgp4_verification_file_reads_leniently_and_matches_sgp4() -> None:
    text = sgp4_verification_text()
    elements, problems = read_tle(text, source="SGP4-VER.TLE", strict=False)
    pairs = [line for line in text.splitlines() if line[:2] in ("1 ", "2 ")]
    assert len(pairs) == 2 * 33
    # One case is a deliberately impossible orbit (mean motion 0.00001 rev/day).
    assert [(p.field, p.line) for p in problems] == [("MEAN_MOTION", 104)]
    by_number = {item.norad_cat_id: item for item in elements}
    assert len(elements) == 32
    for line1, line2 in zip(pairs[::2], pairs[1::2], strict=True):
        number = from_alpha5(line1[2:7])
        if number != 33334:
            assert_matches_sgp4(by_number[number], line1, line2)


def test_sgp4_verification_file_fails_strict_checks() -> None:
    _, problems = read_tle(sgp4_verification_text(), strict=True)
    fields = {p.field for p in problems}
    assert {"line 2 length", "line 1 checksum"} <= fields


def test_read_tle_reports_structure_problems_with_line_numbers() -> None:
    text = "\n".join(
        [
            "ORPHAN NAME",  # 1: followed by another name
            "ISS (ZARYA)",  # 2
            *ISS,  # 3, 4
            ISS[0],  # 5: line 1 without line 2
            "# a comment",  # 6
            "VANGUARD 1",  # 7
            *VANGUARD,  # 8, 9
            MARIO[1],  # 10: line 2 without line 1
        ]
    )
    elements, problems = read_tle(text, source="mixed.tle")
    assert [item.object_name for item in elements] == ["ISS (ZARYA)", "VANGUARD 1"]
    assert [(p.field, p.line, p.source) for p in problems] == [
        ("name line", 1, "mixed.tle"),
        ("line 2", 6, "mixed.tle"),
        ("line 1", 10, "mixed.tle"),
    ]
