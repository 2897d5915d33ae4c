"""SatNet weeks as instances: the shared weeks against the paper, a tiny week by hand, metrics."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest

from groundlink.errors import InvalidInput
from groundlink.scheduling.model import DemandKind, ScheduledContact, request_value, served_amount
from groundlink.scheduling.satnet import (
    MIN_SPLIT_TRACK_S,
    parse_maintenance_csv,
    parse_satnet_week,
    satnet_metrics,
    satnet_tracks,
)

SATNET = next(
    (
        candidate
        for candidate in (
            Path(__file__).resolve().parents[2] / "shared" / "data" / "satnet",
            Path("/work/shared/data/satnet"),
        )
        if (candidate / "W10_2018.json").is_file()
    ),
    None,
)
needs_satnet = pytest.mark.skipif(SATNET is None, reason="SatNet weeks not found in shared/data")
HOUR = 3600.0

#: Goh et al. (2021), Table 1: requests, total requested hours (rounded), missions, antennas.
PAPER_TABLE_1 = {"W10_2018": (257, 1192, 30, 12), "W20_2018": (294, 1406, 33, 12)}


def _week(name: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    assert SATNET is not None
    raw = json.loads((SATNET / f"{name}.json").read_text(encoding="utf-8"))[name]
    with (SATNET / f"{name}_maintenance.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return raw, rows


@needs_satnet
@pytest.mark.parametrize("name", sorted(PAPER_TABLE_1))
def test_the_shared_weeks_match_the_papers_table_and_the_raw_file(name: str) -> None:
    assert SATNET is not None
    raw, rows = _week(name)
    maintenance = parse_maintenance_csv((SATNET / f"{name}_maintenance.csv").read_text())
    instance = parse_satnet_week((SATNET / f"{name}.json").read_bytes(), maintenance=maintenance)
    requests, hours, missions, antennas = PAPER_TABLE_1[name]
    assert instance.name == name
    assert len(instance.requests) == requests
    assert round(sum(r.demand for r in instance.requests) / HOUR) == hours
    assert len({r.tenant for r in instance.requests}) == missions
    assert len(instance.resources) == antennas
    assert all(r.id.startswith("DSS-") for r in instance.resources)

    # every view period long enough for one track is one opportunity, arrays included
    raw_by_id = {item["track_id"]: item for item in raw}
    expected_periods = sum(
        1
        for item in raw
        for vps in item["resource_vp_dict"].values()
        for vp in vps
        if vp["TRX OFF"] - vp["TRX ON"]
        >= (MIN_SPLIT_TRACK_S if item["duration"] >= 8 else item["duration_min"] * HOUR)
    )
    assert len(instance.opportunities) == expected_periods
    raw_arrays = sum(
        len(vps) for item in raw for key, vps in item["resource_vp_dict"].items() if "_" in key
    )
    arrays = [o for o in instance.opportunities if len(o.resources) > 1]
    assert 0 < len(arrays) <= raw_arrays
    epoch_unix_s = instance.epoch.timestamp()
    for opportunity in instance.opportunities:
        item = raw_by_id[opportunity.request]
        start, end = opportunity.start_s + epoch_unix_s, opportunity.end_s + epoch_unix_s
        assert item["time_window_start"] <= start < end <= item["time_window_end"]
        periods = item["resource_vp_dict"]["_".join(opportunity.resources)]
        assert any(vp["TRX ON"] <= start and end <= vp["TRX OFF"] for vp in periods)

    # maintenance: every CSV row inside the week is on its antenna, in seconds
    week_end = epoch_unix_s + instance.horizon_s
    inside = [
        r for r in rows if float(r["endtime"]) > epoch_unix_s and float(r["starttime"]) < week_end
    ]
    by_antenna = {r.id: r.maintenance for r in instance.resources}
    assert sum(len(spans) for spans in by_antenna.values()) == len(inside)
    for row in inside:
        start_s = max(float(row["starttime"]) - epoch_unix_s, 0.0)
        assert any(abs(span.start_s - start_s) < 1e-6 for span in by_antenna[row["antenna"]])


@needs_satnet
def test_requests_carry_the_splitting_rule_units_and_value() -> None:
    assert SATNET is not None
    raw, _ = _week("W10_2018")
    instance = parse_satnet_week((SATNET / "W10_2018.json").read_bytes())
    by_id = {r.id: r for r in instance.requests}
    long_item = next(i for i in raw if i["duration"] == 8.0 and i["duration_min"] == 6.4)
    short_item = next(i for i in raw if i["duration"] == 1.0)
    long, short = by_id[long_item["track_id"]], by_id[short_item["track_id"]]
    assert (long.demand, long.min_served, long.min_duration_s) == (8 * HOUR, 6.4 * HOUR, 4 * HOUR)
    assert (long.max_contacts, long.max_duration_s, long.value_weight) == (2, 8 * HOUR, 8.0)
    assert (short.max_contacts, short.min_duration_s, short.min_served) == (1, HOUR, HOUR)
    assert long.demand_kind is DemandKind.SECONDS
    assert long.setup_s == long_item["setup_time"] * 60
    assert long.teardown_s == long_item["teardown_time"] * 60
    assert long.tenant == long.spacecraft == str(long_item["subject"])


# --- a tiny week written by hand ----------------------------------------------------------------

T0 = 1_600_000_000  # 2020-09-13T12:26:40Z


def _vp(on_h: float, off_h: float) -> dict[str, int]:
    on, off = T0 + int(on_h * HOUR), T0 + int(off_h * HOUR)
    return {"RISE": on, "SET": off, "TRX ON": on, "TRX OFF": off}


TINY = {
    "W1_2020": [
        {  # 10 h, at least 8 h: may be split into tracks of 4 h or more
            "subject": 7, "user": "7_0", "duration": 10.0, "duration_min": 8.0,
            "resources": [["DSS-14"]], "track_id": "long-1", "setup_time": 60,
            "teardown_time": 15, "time_window_start": T0, "time_window_end": T0 + 48 * 3600,
            "resource_vp_dict": {"DSS-14": [_vp(0, 7), _vp(20, 27)]},
        },
        {  # 2 h in one track, on an array
            "subject": 7, "user": "7_1", "duration": 2.0, "duration_min": 2.0,
            "resources": [["DSS-34", "DSS-35"]], "track_id": "array-1", "setup_time": 30,
            "teardown_time": 15, "time_window_start": T0, "time_window_end": T0 + 48 * 3600,
            "resource_vp_dict": {"DSS-34_DSS-35": [_vp(2, 6), _vp(30, 31)]},
        },
        {  # 8 h, at least 6.4 h
            "subject": 9, "user": "9_0", "duration": 8.0, "duration_min": 6.4,
            "resources": [["DSS-43"]], "track_id": "other-1", "setup_time": 45,
            "teardown_time": 15, "time_window_start": T0 + 3600, "time_window_end": T0 + 40 * 3600,
            "resource_vp_dict": {"DSS-43": [_vp(0, 12)]},
        },
    ]
}  # fmt: skip
TINY_MAINTENANCE = f"""week,year,starttime,endtime,antenna
1.0,2020,{T0 + 10 * 3600},{T0 + 12 * 3600},DSS-14
1.0,2020,{T0 - 5 * 3600},{T0 + 3600},DSS-35
1.0,2020,{T0 + 100 * 3600},{T0 + 101 * 3600},DSS-14
"""


def test_a_tiny_week_becomes_the_instance_its_rules_say() -> None:
    maintenance = parse_maintenance_csv(TINY_MAINTENANCE, source="m.csv")
    instance = parse_satnet_week(json.dumps(TINY), maintenance=maintenance)
    assert instance.epoch.timestamp() == T0
    assert instance.horizon_s == 48 * HOUR
    assert [r.id for r in instance.resources] == ["DSS-14", "DSS-34", "DSS-35", "DSS-43"]
    assert [r.station for r in instance.resources] == [
        "goldstone",
        "canberra",
        "canberra",
        "canberra",
    ]
    down = {r.id: [(m.start_s, m.end_s) for m in r.maintenance] for r in instance.resources}
    assert down == {
        "DSS-14": [(10 * HOUR, 12 * HOUR)],
        "DSS-34": [],
        "DSS-35": [(0.0, HOUR)],
        "DSS-43": [],
    }
    spans = {
        (o.request, o.resources, o.start_s / HOUR, o.end_s / HOUR) for o in instance.opportunities
    }
    assert spans == {
        ("long-1", ("DSS-14",), 0, 7),
        ("long-1", ("DSS-14",), 20, 27),
        ("array-1", ("DSS-34", "DSS-35"), 2, 6),
        ("other-1", ("DSS-43",), 1, 12),  # clipped to the time window
    }  # array-1's 1 h view period at 30 h is shorter than its one 2 h track: left out
    long, array, other = instance.requests
    assert (long.max_contacts, long.min_duration_s, long.min_served) == (2, 4 * HOUR, 8 * HOUR)
    assert (array.max_contacts, array.min_duration_s, array.setup_s) == (1, 2 * HOUR, 1800.0)
    assert (other.earliest_s, other.latest_s) == (HOUR, 40 * HOUR)


def test_tracks_and_metrics_follow_the_papers_definitions() -> None:
    instance = parse_satnet_week(json.dumps(TINY))
    contacts = [
        # long-1: 6 h + 5 h = 11 h > 10 h requested: cut back to 10 h, still >= 8 h: satisfied
        ScheduledContact("long-1", 0, ("DSS-14",), 0.5 * HOUR, 6.5 * HOUR),
        ScheduledContact("long-1", 1, ("DSS-14",), 21 * HOUR, 26 * HOUR),
        # array-1: 1.5 h < its 2 h minimum: no track
        ScheduledContact("array-1", 2, ("DSS-34", "DSS-35"), 3 * HOUR, 4.5 * HOUR),
        # other-1: one 4 h track < 6.4 h minimum total: counts for nothing
        ScheduledContact("other-1", 4, ("DSS-43",), 2 * HOUR, 6 * HOUR),
    ]
    tracks = satnet_tracks(instance, contacts)
    assert [c.request for c in tracks] == ["long-1", "long-1"]
    assert sum(c.duration_s for c in tracks) == 10 * HOUR
    assert all(c.duration_s >= 4 * HOUR for c in tracks)
    assert tracks[0].start_s == 0.5 * HOUR and tracks[1].start_s == 21 * HOUR  # cut at the end

    metrics = satnet_metrics(instance, contacts)
    assert (metrics.hours_requested, metrics.hours_allocated) == (20.0, 10.0)
    assert (metrics.requests, metrics.requests_satisfied, metrics.missions) == (3, 1, 2)
    # mission 7 asked 10 + 2 = 12 h and got 10 h; mission 9 asked 8 h and got nothing
    assert metrics.unsatisfied_fraction == {"7": pytest.approx(2 / 12), "9": 1.0}
    assert (metrics.u_max, metrics.worst_mission) == (1.0, "9")
    assert metrics.u_rms == pytest.approx(math.sqrt(((2 / 12) ** 2 + 1.0) / 2))


def test_the_value_of_a_satnet_request_is_its_hours_allocated() -> None:
    instance = parse_satnet_week(json.dumps(TINY))
    long, _, other = instance.requests
    six_hours = [ScheduledContact("long-1", 0, ("DSS-14",), 0.0, 6 * HOUR)]
    nine_hours = [*six_hours, ScheduledContact("long-1", 1, ("DSS-14",), 20 * HOUR, 23 * HOUR)]
    assert request_value(long, served_amount(long, six_hours, {})) == 0.0  # below 8 h minimum
    assert request_value(long, served_amount(long, nine_hours, {})) == 0.0  # 3 h track too short
    nine_hours[1] = ScheduledContact("long-1", 1, ("DSS-14",), 20 * HOUR, 24 * HOUR)
    assert request_value(long, served_amount(long, nine_hours, {})) == pytest.approx(10.0)
    assert request_value(other, 7 * HOUR) == pytest.approx(7.0)


# --- bad input ----------------------------------------------------------------------------------


def _tiny_with(**changes: object) -> str:
    week = json.loads(json.dumps(TINY))
    week["W1_2020"][1].update(changes)
    return json.dumps(week)


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        (_tiny_with(duration_min=3.0), "W1_2020[1].duration_min", "duration (2.0)"),
        (_tiny_with(duration="two"), "W1_2020[1].duration", "number"),
        (_tiny_with(time_window_end=T0 - 1), "W1_2020[1].time_window_end", "after"),
        (_tiny_with(setup_time=-5), "W1_2020[1].setup_time", "non-negative"),
        (
            _tiny_with(resource_vp_dict={"DSS-34": [{"RISE": T0 + 9, "SET": T0}]}),
            "W1_2020[1].resource_vp_dict.DSS-34[0].TRX OFF",
            "after TRX ON",
        ),
        (json.dumps({"W1": [], "W2": []}), "week", "W1, W2"),
        (json.dumps({"W1": []}), "W1", "at least one request"),
        ("[{]", "(document)", "valid JSON"),
    ],
)
def test_a_bad_week_names_the_request_and_field(text: str, field: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_satnet_week(text, source="week.json")
    assert caught.value.field == field
    assert expected in caught.value.expected
    assert caught.value.source == "week.json"


def test_missing_fields_are_named() -> None:
    week = json.loads(json.dumps(TINY))
    del week["W1_2020"][2]["track_id"]
    with pytest.raises(InvalidInput) as caught:
        parse_satnet_week(json.dumps(week))
    assert caught.value.field == "W1_2020[2].track_id"


def test_a_bad_maintenance_row_names_its_line() -> None:
    text = "week,year,starttime,endtime,antenna\n1,2020,100,200,DSS-14\n1,2020,soon,300,DSS-14\n"
    with pytest.raises(InvalidInput) as caught:
        parse_maintenance_csv(text, source="m.csv")
    assert (caught.value.field, caught.value.line, caught.value.source) == ("starttime", 3, "m.csv")
    with pytest.raises(InvalidInput) as caught:
        parse_maintenance_csv("start,end\n1,2\n", source="m.csv")
    assert caught.value.field == "header"
    with pytest.raises(InvalidInput) as caught:
        parse_maintenance_csv("week,year,starttime,endtime,antenna\n1,1,300,200,DSS-14\n")
    assert caught.value.field == "endtime"
