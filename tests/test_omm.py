"""OMM in JSON, CSV, XML and KVN, checked against sgp4.omm and the TLEs of the same objects."""

from __future__ import annotations

import io
import json
import math
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources

import pytest
from sgp4 import omm as sgp4_omm
from sgp4.api import Satrec

from groundlink.errors import InvalidInput
from groundlink.orbits.elements import OMM_FIELDS, OrbitalElements
from groundlink.orbits.omm import (
    elements_from_omm,
    read_omm_csv,
    read_omm_json,
    read_omm_kvn,
    read_omm_xml,
    write_omm_csv,
    write_omm_json,
    write_omm_kvn,
    write_omm_xml,
)
from groundlink.orbits.tle import format_tle, parse_tle

# sgp4's sample files (python-sgp4, sgp4/sample_omm.*): VANGUARD 1 from CelesTrak.
# Some sgp4 wheels do not ship them, so these are verbatim copies, used when
# importlib.resources cannot find the packaged ones.
SAMPLE_OMM_CSV = """\
OBJECT_NAME,OBJECT_ID,EPOCH,MEAN_MOTION,ECCENTRICITY,INCLINATION,RA_OF_ASC_NODE,ARG_OF_PERICENTER,MEAN_ANOMALY,EPHEMERIS_TYPE,CLASSIFICATION_TYPE,NORAD_CAT_ID,ELEMENT_SET_NO,REV_AT_EPOCH,BSTAR,MEAN_MOTION_DOT,MEAN_MOTION_DDOT
VANGUARD 1,1958-002B,2020-10-13T04:52:48.472320,10.84869164,.1845686,34.2443,225.5254,162.2516,205.2356,0,U,5,999,21814,-.22483E-4,-1.6E-7,0
"""  # noqa: E501
SAMPLE_OMM_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<ndm xmlns:xsi="https://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://sanaregistry.org/r/ndmxml/ndmxml-1.0-master.xsd">
<omm id="CCSDS_OMM_VERS" version="2.0">
<header><CREATION_DATE/><ORIGINATOR/></header><body><segment><metadata><OBJECT_NAME>VANGUARD 1</OBJECT_NAME><OBJECT_ID>1958-002B</OBJECT_ID><CENTER_NAME>EARTH</CENTER_NAME><REF_FRAME>TEME</REF_FRAME><TIME_SYSTEM>UTC</TIME_SYSTEM><MEAN_ELEMENT_THEORY>SGP4</MEAN_ELEMENT_THEORY></metadata><data><meanElements><EPOCH>2020-10-13T04:52:48.472320</EPOCH><MEAN_MOTION>10.84869164</MEAN_MOTION><ECCENTRICITY>.1845686</ECCENTRICITY><INCLINATION>34.2443</INCLINATION><RA_OF_ASC_NODE>225.5254</RA_OF_ASC_NODE><ARG_OF_PERICENTER>162.2516</ARG_OF_PERICENTER><MEAN_ANOMALY>205.2356</MEAN_ANOMALY></meanElements><tleParameters><EPHEMERIS_TYPE>0</EPHEMERIS_TYPE><CLASSIFICATION_TYPE>U</CLASSIFICATION_TYPE><NORAD_CAT_ID>5</NORAD_CAT_ID><ELEMENT_SET_NO>999</ELEMENT_SET_NO><REV_AT_EPOCH>21814</REV_AT_EPOCH><BSTAR>-.22483E-4</BSTAR><MEAN_MOTION_DOT>-1.6E-7</MEAN_MOTION_DOT><MEAN_MOTION_DDOT>0</MEAN_MOTION_DDOT></tleParameters></data></segment></body></omm>
</ndm>
"""  # noqa: E501
SAMPLE_OMM_JSON = """\
[{
    "OBJECT_NAME": "VANGUARD 1",
    "OBJECT_ID": "1958-002B",
    "EPOCH": "2025-02-14T14:36:48.662784",
    "MEAN_MOTION": 10.85873516,
    "ECCENTRICITY": 0.1841322,
    "INCLINATION": 34.2493,
    "RA_OF_ASC_NODE": 19.2327,
    "ARG_OF_PERICENTER": 100.1057,
    "MEAN_ANOMALY": 281.1229,
    "EPHEMERIS_TYPE": 0,
    "CLASSIFICATION_TYPE": "U",
    "NORAD_CAT_ID": 5,
    "ELEMENT_SET_NO": 999,
    "REV_AT_EPOCH": 39027,
    "BSTAR": 0.00035436,
    "MEAN_MOTION_DOT": 2.64e-6,
    "MEAN_MOTION_DDOT": 0
}]
"""
VANGUARD_TLE = (  # the same element set as SAMPLE_OMM_CSV/XML, from sgp4/tests.py
    "1 00005U 58002B   20287.20333880 -.00000016  00000-0 -22483-4 0  9998",
    "2 00005  34.2443 225.5254 1845686 162.2516 205.2356 10.84869164218149",
)

# From sgp4/tests.py: MARIO, chosen there because every field is non-zero.
MARIO_TLE = (
    "1 55123U 98067UQ  23115.44827133  .00787702  29408-3  15680-2 0  9999",
    "2 55123  51.6242 216.2930 0014649 331.8976  28.1241 15.99081912 18396",
)
MARIO_CSV = """\
OBJECT_NAME,OBJECT_ID,EPOCH,MEAN_MOTION,ECCENTRICITY,INCLINATION,RA_OF_ASC_NODE,ARG_OF_PERICENTER,MEAN_ANOMALY,EPHEMERIS_TYPE,CLASSIFICATION_TYPE,NORAD_CAT_ID,ELEMENT_SET_NO,REV_AT_EPOCH,BSTAR,MEAN_MOTION_DOT,MEAN_MOTION_DDOT
MARIO,1998-067UQ,2023-04-25T10:45:30.642912,15.99081912,.0014649,51.6242,216.2930,331.8976,28.1241,0,U,55123,999,1839,.1568E-2,.787702E-2,.29408E-3
"""

# In the style of the example in CCSDS 502.0-B-2 (GOES 9): day-of-year epoch, units, comments.
GOES_KVN = """\
CCSDS_OMM_VERS = 2.0
COMMENT this is a comment
CREATION_DATE = 2007-065T16:00:00
ORIGINATOR = NOAA/USA
OBJECT_NAME = GOES 9 [+]
OBJECT_ID = 1995-025A
CENTER_NAME = EARTH
REF_FRAME = TEME
TIME_SYSTEM = UTC
MEAN_ELEMENT_THEORY = SGP/SGP4
EPOCH = 2007-064T10:34:41.4264
MEAN_MOTION = 1.00273272 [rev/day]
ECCENTRICITY = 0.0005013
INCLINATION = 3.0539 [deg]
RA_OF_ASC_NODE = 81.7939 [deg]
ARG_OF_PERICENTER = 249.2363 [deg]
MEAN_ANOMALY = 150.1602 [deg]
GM = 398600.8 [km**3/s**2]
EPHEMERIS_TYPE = 0
CLASSIFICATION_TYPE = U
NORAD_CAT_ID = 23581
ELEMENT_SET_NO = 0925
REV_AT_EPOCH = 4316
BSTAR = 0.0001 [1/ER]
MEAN_MOTION_DOT = -0.00000113 [rev/day**2]
MEAN_MOTION_DDOT = 0.0 [rev/day**3]
"""

ISS_RECORD: dict[str, object] = {
    "OBJECT_NAME": "ISS (ZARYA)",
    "OBJECT_ID": "1998-067A",
    "EPOCH": "2024-05-31T12:00:00.000000",
    "MEAN_MOTION": 15.50103472,
    "ECCENTRICITY": 0.0003481,
    "INCLINATION": 51.6393,
    "RA_OF_ASC_NODE": 74.2186,
    "ARG_OF_PERICENTER": 106.5539,
    "MEAN_ANOMALY": 253.5804,
    "EPHEMERIS_TYPE": 0,
    "CLASSIFICATION_TYPE": "U",
    "NORAD_CAT_ID": 25544,
    "ELEMENT_SET_NO": 999,
    "REV_AT_EPOCH": 45512,
    "BSTAR": 0.00027,
    "MEAN_MOTION_DOT": 0.00014,
    "MEAN_MOTION_DDOT": 0,
}


def sample(name: str, fallback: str) -> str:
    """sgp4's packaged sample file if this sgp4 ships it, else the verbatim copy above."""
    packaged = resources.files("sgp4").joinpath(name)
    return packaged.read_text() if packaged.is_file() else fallback


def assert_matches_sgp4_fields(elements: OrbitalElements, fields: dict[str, str]) -> None:
    """Compare with the raw text sgp4.omm read for each field."""
    for key in OMM_FIELDS:
        ours = getattr(elements, key.lower())
        theirs = fields[key]
        if key == "EPOCH":
            theirs_epoch = datetime.strptime(theirs, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
            assert ours == theirs_epoch
        elif isinstance(ours, str):
            assert ours == theirs, key
        elif isinstance(ours, int):
            assert ours == int(theirs), key
        else:
            assert ours == float(theirs), key


def satrec_from_sgp4_omm(fields: dict[str, str]) -> Satrec:
    sat = Satrec()
    sgp4_omm.initialize(sat, fields)
    return sat


def assert_same_satrec(a: Satrec, b: Satrec) -> None:
    for name in ("satnum", "no_kozai", "ecco", "inclo", "nodeo", "argpo", "mo", "bstar"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-12, abs=1e-15), name
    assert a.ndot == pytest.approx(b.ndot, rel=1e-9, abs=1e-20)
    assert a.nddot == pytest.approx(b.nddot, rel=1e-9, abs=1e-25)
    assert a.jdsatepoch + a.jdsatepochF == pytest.approx(b.jdsatepoch + b.jdsatepochF, abs=1e-8)


def only(parsed: tuple[list[OrbitalElements], list[InvalidInput]]) -> OrbitalElements:
    elements, problems = parsed
    assert problems == []
    assert len(elements) == 1
    return elements[0]


def problem_of(parsed: tuple[list[OrbitalElements], list[InvalidInput]]) -> InvalidInput:
    elements, problems = parsed
    assert elements == []
    assert len(problems) == 1
    return problems[0]


# --- against sgp4.omm and the TLEs ----------------------------------------------------------


def test_sample_csv_matches_sgp4_omm_and_the_tle() -> None:
    text = sample("sample_omm.csv", SAMPLE_OMM_CSV)
    elements = only(read_omm_csv(text))
    fields = next(iter(sgp4_omm.parse_csv(io.StringIO(text))))
    assert_matches_sgp4_fields(elements, fields)
    assert format_tle(elements) == VANGUARD_TLE


def test_sample_xml_matches_sgp4_omm_and_the_tle() -> None:
    text = sample("sample_omm.xml", SAMPLE_OMM_XML)
    elements = only(read_omm_xml(text))
    fields = next(sgp4_omm.parse_xml(io.StringIO(text)))
    assert_matches_sgp4_fields(elements, fields)
    assert format_tle(elements) == VANGUARD_TLE
    assert_same_satrec(satrec_from_sgp4_omm(fields), Satrec.twoline2rv(*format_tle(elements)))


def test_sample_json() -> None:
    elements = only(read_omm_json(sample("sample_omm.json", SAMPLE_OMM_JSON)))
    assert elements.object_id == "1958-002B"
    assert elements.epoch == datetime(2025, 2, 14, 14, 36, 48, 662784, tzinfo=UTC)
    assert elements.mean_motion_dot == 2.64e-6
    assert elements.bstar == 0.00035436


def test_mario_csv_gives_mario_tle_exactly() -> None:
    elements = only(read_omm_csv(MARIO_CSV))
    assert format_tle(elements) == MARIO_TLE
    assert parse_tle(*MARIO_TLE, name="MARIO") == elements


# --- JSON ------------------------------------------------------------------------------------


def test_json_single_object_and_list() -> None:
    single = only(read_omm_json(json.dumps(ISS_RECORD)))
    assert single.norad_cat_id == 25544
    assert only(read_omm_json(json.dumps([ISS_RECORD]))) == single
    assert read_omm_json("[]") == ([], [])


def test_json_writer_is_celestrak_shaped() -> None:
    records = json.loads(write_omm_json([elements_from_omm(ISS_RECORD)]))
    assert list(records[0]) == list(OMM_FIELDS)
    assert records[0] == ISS_RECORD


def test_json_round_trip_keeps_every_field() -> None:
    original = [
        parse_tle(*MARIO_TLE, name="MARIO"),
        parse_tle(*VANGUARD_TLE, name="VANGUARD 1"),
        replace(elements_from_omm(ISS_RECORD), norad_cat_id=400_000),  # beyond any TLE
    ]
    for indent in (None, 2):
        elements, problems = read_omm_json(write_omm_json(original, indent=indent))
        assert problems == []
        assert elements == original


def test_json_problem_is_located_at_the_bad_field() -> None:
    bad = dict(ISS_RECORD, NORAD_CAT_ID=25545, MEAN_MOTION="fast")
    text = write_omm_json([elements_from_omm(ISS_RECORD)], indent=2)[:-2] + ",\n"
    text += json.dumps(bad, indent=2) + "\n]"
    lines = text.splitlines()
    elements, problems = read_omm_json(text, source="gp.json")
    assert [item.norad_cat_id for item in elements] == [25544]
    assert problems[0].field == "MEAN_MOTION"
    assert problems[0].source == "gp.json"
    assert problems[0].line is not None
    assert '"MEAN_MOTION": "fast"' in lines[problems[0].line - 1]


def test_invalid_json_is_one_problem_with_its_line() -> None:
    problem = problem_of(read_omm_json('[\n{"OBJECT_NAME": "X",\n "EPOCH" 1}\n]'))
    assert problem.field == "JSON"
    assert problem.line == 3


# --- CSV -------------------------------------------------------------------------------------


def test_csv_round_trip() -> None:
    original = [parse_tle(*MARIO_TLE, name="MARIO"), parse_tle(*VANGUARD_TLE, name="V, 1")]
    elements, problems = read_omm_csv(write_omm_csv(original))
    assert problems == []
    assert elements == original


def test_csv_bad_row_is_reported_at_its_line_and_others_kept() -> None:
    header, row = MARIO_CSV.splitlines()
    bad = row.replace(",51.6242,", ",NaN,")
    text = "\n".join([header, row, bad, row.replace("55123", "55124")]) + "\n"
    elements, problems = read_omm_csv(text, source="gp.csv")
    assert [item.norad_cat_id for item in elements] == [55123, 55124]
    assert [(p.field, p.line, p.source) for p in problems] == [("INCLINATION", 3, "gp.csv")]
    assert "finite" in problems[0].expected


def test_csv_short_row_and_missing_column() -> None:
    header, row = MARIO_CSV.splitlines()
    assert problem_of(read_omm_csv(header + "\n" + row[:40] + "\n")).field == "CSV row"
    no_epoch = MARIO_CSV.replace("EPOCH,", "EPOCHE,", 1)
    problem = problem_of(read_omm_csv(no_epoch))
    assert problem.field == "CSV header"
    assert "EPOCH" in problem.expected
    assert problem.line == 1


# --- XML -------------------------------------------------------------------------------------


def test_xml_writer_output_is_read_by_sgp4_omm() -> None:
    elements = parse_tle(*MARIO_TLE, name="MARIO")
    text = write_omm_xml([elements])
    fields = next(sgp4_omm.parse_xml(io.StringIO(text)))
    assert_matches_sgp4_fields(elements, fields)
    assert_same_satrec(satrec_from_sgp4_omm(fields), Satrec.twoline2rv(*MARIO_TLE))
    assert only(read_omm_xml(text)) == elements


def test_xml_bare_omm_and_namespaces() -> None:
    text = write_omm_xml([parse_tle(*MARIO_TLE)])
    bare = text[text.index("<omm") : text.index("</ndm>")]
    assert only(read_omm_xml(bare)).norad_cat_id == 55123
    qualified = text.replace("<ndm>", '<ndm xmlns="urn:ccsds:schema:ndmxml">')
    assert only(read_omm_xml(qualified)).norad_cat_id == 55123


def test_xml_missing_field_is_named_and_located() -> None:
    two = write_omm_xml([parse_tle(*MARIO_TLE), parse_tle(*VANGUARD_TLE)])
    start = two.rindex("<MEAN_MOTION>")
    end = two.index("\n", start)
    text = two[:start] + two[end + 1 :]  # drop VANGUARD's MEAN_MOTION line
    elements, problems = read_omm_xml(text, source="gp.xml")
    assert [item.norad_cat_id for item in elements] == [55123]
    assert problems[0].field == "MEAN_MOTION"
    assert "required" in problems[0].expected
    second_segment_line = text[: text.rindex("<segment>")].count("\n") + 1
    assert problems[0].line == second_segment_line


def test_xml_missing_metadata_and_malformed_xml() -> None:
    text = SAMPLE_OMM_XML.replace("<metadata>", "<meta>").replace("</metadata>", "</meta>")
    assert problem_of(read_omm_xml(text)).field == "metadata"
    malformed = problem_of(read_omm_xml("<ndm>\n<omm>\n</ndm>"))
    assert (malformed.field, malformed.line) == ("XML", 3)


def test_xml_units_attribute_is_checked() -> None:
    fine = SAMPLE_OMM_XML.replace("<INCLINATION>", '<INCLINATION units="deg">')
    assert only(read_omm_xml(fine)).inclination == 34.2443
    radians = SAMPLE_OMM_XML.replace("<MEAN_MOTION>", '<MEAN_MOTION units="rad/min">')
    problem = problem_of(read_omm_xml(radians))
    assert (problem.field, problem.value, problem.line) == ("MEAN_MOTION unit", "rad/min", 4)


def test_xml_without_segments() -> None:
    problem = problem_of(read_omm_xml("<ndm>\n</ndm>\n"))
    assert (problem.field, problem.value) == ("XML", "ndm")


def test_xml_with_a_frame_sgp4_does_not_use_is_rejected() -> None:
    text = SAMPLE_OMM_XML.replace("<REF_FRAME>TEME<", "<REF_FRAME>GCRF<")
    problem = problem_of(read_omm_xml(text))
    assert (problem.field, problem.value) == ("REF_FRAME", "GCRF")


# --- KVN -------------------------------------------------------------------------------------


def test_kvn_ccsds_example() -> None:
    elements = only(read_omm_kvn(GOES_KVN))
    assert elements.object_name == "GOES 9 [+]"  # a bracket in a name is not a unit
    assert elements.epoch == datetime(2007, 3, 5, 10, 34, 41, 426400, tzinfo=UTC)
    assert elements.mean_motion == 1.00273272
    assert elements.mean_motion_dot == -0.00000113
    assert elements.element_set_no == 925
    assert elements.norad_cat_id == 23581


def test_kvn_concatenated_messages_and_bad_unit() -> None:
    bad = GOES_KVN.replace("1.00273272 [rev/day]", "0.00437 [rad/min]").replace("23581", "23582")
    text = GOES_KVN + "\n" + bad + GOES_KVN.replace("23581", "23583")
    elements, problems = read_omm_kvn(text, source="gp.kvn")
    assert [item.norad_cat_id for item in elements] == [23581, 23583]
    assert problems[0].field == "MEAN_MOTION unit"
    assert problems[0].value == "rad/min"
    assert problems[0].line is not None
    assert text.splitlines()[problems[0].line - 1].startswith("MEAN_MOTION =")


def test_kvn_duplicate_key_and_garbage_line() -> None:
    duplicate = GOES_KVN.replace("ECCENTRICITY = 0.0005013", "EPOCH = 2007-064T10:00:00")
    assert problem_of(read_omm_kvn(duplicate)).field == "EPOCH"
    garbage = problem_of(read_omm_kvn(GOES_KVN.replace("GM = ", "GM : ")))
    assert (garbage.field, garbage.line) == ("KVN line", 18)


def test_kvn_round_trip() -> None:
    original = [parse_tle(*MARIO_TLE, name="MARIO"), parse_tle(*VANGUARD_TLE, name="VANGUARD 1")]
    text = write_omm_kvn(original, creation_date=datetime(2024, 6, 1, tzinfo=UTC))
    assert text.count("CCSDS_OMM_VERS") == 2
    assert "CREATION_DATE = 2024-06-01T00:00:00" in text
    elements, problems = read_omm_kvn(text)
    assert problems == []
    assert elements == original


# --- unit traps and bad values ---------------------------------------------------------------


def omm_problem(**changes: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        elements_from_omm({**ISS_RECORD, **changes})
    return caught.value


@pytest.mark.parametrize("value", [math.nan, "NaN", math.inf, "-Infinity"])
def test_nan_and_infinity_are_named(value: object) -> None:
    problem = omm_problem(ECCENTRICITY=value)
    assert problem.field == "ECCENTRICITY"
    assert "finite" in problem.expected


def test_json_nan_literal_is_rejected() -> None:
    text = json.dumps(ISS_RECORD).replace("51.6393", "NaN")
    problem = problem_of(read_omm_json(text))
    assert (problem.field, problem.line) == ("INCLINATION", 1)


@pytest.mark.parametrize(
    "rev_per_day", [15.50103472, 14.2, 1.00273, 2.006]
)  # ISS, sun-synchronous, GEO, GPS
def test_mean_motion_in_rad_per_min_is_caught(rev_per_day: float) -> None:
    problem = omm_problem(MEAN_MOTION=rev_per_day * 2 * math.pi / 1440.0)
    assert problem.field == "MEAN_MOTION"
    assert "rad/min" in problem.expected


def test_a_real_slow_eccentric_orbit_is_not_mistaken_for_rad_per_min() -> None:
    # TESS-like: 13.7-day period, very eccentric; genuinely 0.073 rev/day.
    elements = elements_from_omm({**ISS_RECORD, "MEAN_MOTION": 0.073, "ECCENTRICITY": 0.55})
    assert elements.mean_motion == 0.073


def test_negative_eccentricity() -> None:
    problem = omm_problem(ECCENTRICITY="-0.001")
    assert (problem.field, problem.value) == ("ECCENTRICITY", "-0.001")


@pytest.mark.parametrize("field", ["EPOCH", "MEAN_MOTION", "NORAD_CAT_ID", "MEAN_ANOMALY"])
def test_missing_required_field(field: str) -> None:
    record = {key: value for key, value in ISS_RECORD.items() if key != field}
    with pytest.raises(InvalidInput) as caught:
        elements_from_omm(record)
    assert caught.value.field == field
    assert "required" in caught.value.expected


@pytest.mark.parametrize(
    ("field", "value"),
    [("NORAD_CAT_ID", "25544.5"), ("NORAD_CAT_ID", True), ("BSTAR", "1_0"), ("EPOCH", "today")],
)
def test_malformed_values(field: str, value: object) -> None:
    assert omm_problem(**{field: value}).field == field


def test_optional_fields_take_celestrak_defaults() -> None:
    required = ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
                "ARG_OF_PERICENTER", "MEAN_ANOMALY", "NORAD_CAT_ID")  # fmt: skip
    elements = elements_from_omm({key: ISS_RECORD[key] for key in required})
    assert (elements.object_name, elements.object_id, elements.bstar) == ("", "", 0.0)
    assert (elements.classification_type, elements.element_set_no) == ("U", 999)


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        ("2024-05-31T12:00:00.000000", datetime(2024, 5, 31, 12, tzinfo=UTC)),
        ("2024-05-31T12:00:00Z", datetime(2024, 5, 31, 12, tzinfo=UTC)),
        ("2024-05-31T14:00:00+02:00", datetime(2024, 5, 31, 12, tzinfo=UTC)),
        ("2024-152T12:00:00", datetime(2024, 5, 31, 12, tzinfo=UTC)),
    ],
)
def test_epoch_without_zone_is_utc(epoch: str, expected: datetime) -> None:
    assert elements_from_omm({**ISS_RECORD, "EPOCH": epoch}).epoch == expected
