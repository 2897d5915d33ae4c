"""``groundlink schedule solve|plot``, with every result checked the way an outsider would.

The checkers below read only the raw input files and the JSON the command
prints, and apply the rules as ``docs/scheduling.md`` (our format) and the
SatNet paper (Goh et al. 2021) state them: no groundlink code is used to
decide whether a contact is valid.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cli_fixtures import run

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "schedule_instance.json"
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
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Times in the result are written to the millisecond.
TOLERANCE_S = 1e-3
PRIORITY_WEIGHT = {1: 16.0, 2: 8.0, 3: 4.0, 4: 2.0, 5: 1.0}  # docs/scheduling.md


def _t(text: str) -> float:
    """POSIX seconds of an ISO-8601 'Z' time, by the standard library alone."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# --- an outside checker for the JSON instance format -------------------------------------------

NAN = math.nan


@dataclass(frozen=True)
class Hold:
    """A resource held from ``start`` to ``end`` (POSIX s), and the pointing at both edges."""

    start: float
    end: float
    label: str
    start_az: float = NAN
    start_el: float = NAN
    end_az: float = NAN
    end_el: float = NAN


def check_instance_result(raw: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """Every broken rule of docs/scheduling.md, as sentences; empty when the result is valid."""
    problems: list[str] = []
    requests = {q["id"]: q for q in raw["requests"]}
    resources = {r["id"]: r for r in raw["resources"]}
    stations = {r["id"]: r.get("station", "") for r in raw["resources"]}
    opportunities = {o["id"]: o for o in raw["opportunities"]}
    holds: dict[str, list[Hold]] = defaultdict(list)
    spans_of_craft: dict[str, list[tuple[float, float]]] = defaultdict(list)
    per_request: dict[str, int] = defaultdict(int)
    fixed_seen = 0
    for c in result["contacts"]:
        start, end = _t(c["start"]), _t(c["end"])
        label = f"{c['request']} {c['resource']} {c['start']}"
        if not end > start:
            problems.append(f"{label}: ends before it starts")
        request = requests.get(c["request"])
        if c["fixed"]:
            fixed_seen += 1
            match = [
                f
                for f in raw["fixed"]
                if f["request"] == c["request"]
                and f["resources"] == c["resources"]
                and abs(_t(f["start"]) - start) <= TOLERANCE_S
                and abs(_t(f["end"]) - end) <= TOLERANCE_S
            ]
            if not match:
                problems.append(f"{label}: marked fixed but no such fixed contact")
        if request is None:
            if c["request"]:
                problems.append(f"{label}: unknown request")
            continue
        per_request[c["request"]] += 1
        if c["resource"] != "_".join(c["resources"]):
            problems.append(f"{label}: resource is not its resources joined by _")
        start_az = start_el = end_az = end_el = NAN
        if not c["fixed"]:
            window = opportunities.get(c["opportunity"])
            if window is None or window["request"] != c["request"]:
                problems.append(f"{label}: not an opportunity of its request")
                continue
            if window["resources"] != c["resources"]:
                problems.append(f"{label}: not on its opportunity's resources")
            w_start, w_end = _t(window["start"]), _t(window["end"])
            if start < w_start - TOLERANCE_S or end > w_end + TOLERANCE_S:
                problems.append(f"{label}: outside its opportunity")
            if "earliest" in request and start < _t(request["earliest"]) - TOLERANCE_S:
                problems.append(f"{label}: before the request's earliest time")
            if "latest" in request and end > _t(request["latest"]) + TOLERANCE_S:
                problems.append(f"{label}: after the request's latest time")
            duration = end - start
            if duration < request.get("min_duration_s", 0) - TOLERANCE_S:
                problems.append(f"{label}: shorter than min_duration_s")
            if duration > request.get("max_duration_s", math.inf) + TOLERANCE_S:
                problems.append(f"{label}: longer than max_duration_s")
            for resource in c["resources"]:
                station = stations[resource]
                if request.get("stations") and station not in request["stations"]:
                    problems.append(f"{label}: at a station the request does not allow")
                if station in request.get("excluded_stations", []):
                    problems.append(f"{label}: at an excluded station")
                bands = resources[resource].get("bands", [])
                if bands and request.get("bands") and not set(request["bands"]) <= set(bands):
                    problems.append(f"{label}: {resource} does not serve the request's bands")
            if abs(start - w_start) <= TOLERANCE_S:  # untrimmed edges keep the window's pointing
                start_az = window.get("start_azimuth_deg", NAN)
                start_el = window.get("start_elevation_deg", NAN)
            if abs(end - w_end) <= TOLERANCE_S:
                end_az = window.get("end_azimuth_deg", NAN)
                end_el = window.get("end_elevation_deg", NAN)
        setup, teardown = request.get("setup_s", 0), request.get("teardown_s", 0)
        for resource in c["resources"]:
            hold = Hold(start - setup, end + teardown, label, start_az, start_el, end_az, end_el)
            holds[resource].append(hold)
        spans_of_craft[request["spacecraft"]].append((start, end))
    if fixed_seen != len(raw["fixed"]):
        problems.append(
            f"{fixed_seen} fixed contacts in the result, {len(raw['fixed'])} in the input"
        )
    for f in raw["fixed"]:
        if not f["request"]:
            for resource in f["resources"]:
                holds[resource].append(Hold(_t(f["start"]), _t(f["end"]), f["id"]))
    for request_id, n in per_request.items():
        limit = requests[request_id].get("max_contacts")
        if limit is not None and n > limit:
            problems.append(f"{request_id}: {n} contacts, more than max_contacts {limit}")
    for resource_id, items in holds.items():
        resource = resources[resource_id]
        for m in resource.get("maintenance", []):
            for h in items:
                if h.start < _t(m["end"]) and _t(m["start"]) < h.end:
                    problems.append(f"{h.label}: overlaps maintenance of {resource_id}")
        ordered = sorted(items, key=lambda h: h.start)
        for before, after in itertools.pairwise(ordered):
            gap_needed = _turnaround_s(resource) + _slew_s(resource, before, after)
            if after.start < before.end + gap_needed - TOLERANCE_S:
                problems.append(
                    f"{after.label} follows {before.label} on {resource_id} too closely"
                )
    limits = raw.get("max_simultaneous", {})
    for craft, spans in spans_of_craft.items():
        events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
        busy = 0
        for _, step in events:  # an end sorts before a start at the same instant (-1 < 1)
            busy += step
            if busy > limits.get(craft, 1):
                problems.append(f"{craft} in {busy} contacts at once")
    return problems


def _turnaround_s(resource: dict[str, Any]) -> float:
    value = resource.get("turnaround_s", 0)
    if isinstance(value, str):  # "PT2M": the only ISO-8601 duration form the example uses
        assert value.startswith("PT") and value.endswith("M")
        return float(value[2:-1]) * 60
    return float(value)


def _slew_s(resource: dict[str, Any], before: Hold, after: Hold) -> float:
    """Move from the earlier contact's end pointing to the later one's start.

    Unknown azimuth: the worst case, 180°; unknown elevation: no move (docs/contacts.md).
    """
    az_rate, el_rate = resource.get("max_az_rate_deg_s"), resource.get("max_el_rate_deg_s")
    if az_rate is None or el_rate is None:
        return 0.0
    from_az, from_el = before.end_az, before.end_el
    to_az, to_el = after.start_az, after.start_el
    az_move = (
        180.0
        if math.isnan(from_az) or math.isnan(to_az)
        else abs((to_az - from_az + 180) % 360 - 180)
    )
    el_move = 0.0 if math.isnan(from_el) or math.isnan(to_el) else abs(to_el - from_el)
    return float(max(az_move / az_rate, el_move / el_rate))


def value_of(raw: dict[str, Any], result: dict[str, Any]) -> float:
    """The value as docs/scheduling.md defines it, from the raw input and the contacts."""
    rate = {o["id"]: o.get("rate_bytes_s", 0.0) for o in raw["opportunities"]}
    served: dict[str, float] = defaultdict(float)
    requests = {q["id"]: q for q in raw["requests"]}
    for c in result["contacts"]:
        request = requests.get(c["request"])
        if request is None:
            continue
        duration = _t(c["end"]) - _t(c["start"])
        if duration < request.get("min_duration_s", 0) - TOLERANCE_S:
            continue
        kind = request.get("demand_kind", "contacts")
        served[c["request"]] += {
            "contacts": 1.0,
            "seconds": duration,
            "bytes": duration * rate.get(c["opportunity"], 0.0),
        }[kind]
    total = 0.0
    for q in raw["requests"]:
        amount = served[q["id"]]
        if amount < q.get("min_served", 0) - 1e-6:
            continue
        weight = q.get("value_weight") or PRIORITY_WEIGHT[q.get("priority", 3)]
        total += weight * min(amount, q["demand"]) / q["demand"]
    return total


# --- solve on the documented example ------------------------------------------------------------


def test_solve_the_example_prints_a_result_an_outsider_can_verify() -> None:
    result = run(
        "schedule", "solve", "--instance", EXAMPLE, "--time-limit", "3", "--output", "json"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    raw = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert check_instance_result(raw, document) == []
    assert {"value", "bound", "gap", "solve_s", "contacts", "status", "bound_method"} <= set(
        document
    )
    assert document["contacts"]
    assert document["value"] == pytest.approx(value_of(raw, document), rel=1e-6)
    assert document["value"] <= document["bound"] + 1e-6
    assert document["gap"] == pytest.approx(
        (document["bound"] - document["value"]) / document["bound"]
    )
    assert 0 <= document["gap"] <= 1
    assert {s["tenant"] for s in document["shares"]} == {q["tenant"] for q in raw["requests"]}


def test_solve_prints_a_summary_table(tmp_path: Path) -> None:
    result = run(
        "schedule", "solve", "--instance", EXAMPLE, "--time-limit", "2", "--method", "greedy"
    )
    assert result.exit_code == 0, result.output
    for word in ("value", "bound", "gap", "contacts", "tenants", "polar-eo"):
        assert word in result.stdout
    out = tmp_path / "result.json"
    written = run(
        "schedule", "solve", "--instance", EXAMPLE, "--time-limit", "2", "-o", "json", "--out", out
    )
    assert written.exit_code == 0, written.output
    assert "value" in written.stdout and f"wrote the result to {out}" in written.stdout
    assert json.loads(out.read_text())["contacts"]


def test_plot_draws_the_plan(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    solved = run(
        "schedule", "solve", "--instance", EXAMPLE, "--time-limit", "2", "-o", "json", "--out", out
    )
    assert solved.exit_code == 0, solved.output
    png = tmp_path / "plan.png"
    result = run("schedule", "plot", "--instance", EXAMPLE, "--schedule", out, "--out", png)
    assert result.exit_code == 0, result.output
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    contacts = len(json.loads(out.read_text())["contacts"])
    assert f"wrote the plan of {contacts} contacts to {png}" in result.stdout


# --- solve on a SatNet extract ------------------------------------------------------------------


def check_satnet_result(
    week: list[dict[str, Any]], maintenance_csv: str, result: dict[str, Any]
) -> list[str]:
    """Every broken SatNet rule (Goh et al. 2021) in ``result``, from the raw week and CSV alone."""
    problems: list[str] = []
    by_id = {item["track_id"]: item for item in week}
    tracks: dict[str, list[tuple[float, float]]] = defaultdict(list)
    holds: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for c in result["contacts"]:
        item = by_id.get(c["request"])
        label = f"{c['request']} on {c['resource']} at {c['start']}"
        if item is None:
            problems.append(f"{label}: no such track_id")
            continue
        start, end = _t(c["start"]), _t(c["end"])
        periods = item["resource_vp_dict"].get(c["resource"])
        if periods is None:
            problems.append(f"{label}: resource not in the request's resource_vp_dict")
            continue
        if not any(vp["TRX ON"] <= start and end <= vp["TRX OFF"] for vp in periods):
            problems.append(f"{label}: not inside a view period")
        if start < item["time_window_start"] or end > item["time_window_end"]:
            problems.append(f"{label}: outside the time window")
        tracks[c["request"]].append((start, end))
        for antenna in c["resource"].split("_"):
            holds[antenna].append(
                (start - item["setup_time"] * 60, end + item["teardown_time"] * 60, label)
            )
    for track_id, spans in tracks.items():
        item = by_id[track_id]
        durations = [end - start for start, end in spans]
        total_h = sum(durations) / 3600
        if item["duration"] >= 8:
            if any(d < 4 * 3600 for d in durations):
                problems.append(f"{track_id}: a split track shorter than 4 h")
        elif len(spans) > 1:
            problems.append(f"{track_id}: split, but shorter than 8 h")
        if total_h < item["duration_min"] - 1e-6 or total_h > item["duration"] + 1e-6:
            problems.append(f"{track_id}: {total_h:.3f} h outside [duration_min, duration]")
    for row in csv.DictReader(io.StringIO(maintenance_csv)):
        for start, end, label in holds.get(row["antenna"], []):
            if start < float(row["endtime"]) and float(row["starttime"]) < end:
                problems.append(f"{label}: setup-track-teardown overlaps maintenance")
    for antenna, items in holds.items():
        ordered = sorted(items)
        for before, after in itertools.pairwise(ordered):
            if after[0] < before[1]:
                problems.append(f"{after[2]} overlaps {before[2]} on {antenna}")
    return problems


@pytest.mark.skipif(SATNET is None, reason="SatNet weeks not found in shared/data")
def test_solve_a_satnet_extract_gives_tracks_satnet_accepts(tmp_path: Path) -> None:
    assert SATNET is not None
    week = json.loads((SATNET / "W10_2018.json").read_text())["W10_2018"]
    missions = sorted({item["subject"] for item in week})[:6]
    extract = [item for item in week if item["subject"] in missions]
    week_file = tmp_path / "W10_extract.json"
    week_file.write_text(json.dumps({"W10_2018": extract}))
    maintenance_csv = (SATNET / "W10_2018_maintenance.csv").read_text()
    maintenance = tmp_path / "maintenance.csv"
    maintenance.write_text(maintenance_csv)

    result = run(
        "schedule", "solve", "--satnet", week_file, "--maintenance", maintenance,
        "--time-limit", "5", "--output", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert check_satnet_result(extract, maintenance_csv, document) == []
    assert document["contacts"]

    # the SatNet metrics, recomputed from the tracks and the raw week
    hours: dict[str, float] = defaultdict(float)
    for c in document["contacts"]:
        hours[c["request"]] += (_t(c["end"]) - _t(c["start"])) / 3600
    by_id = {item["track_id"]: item for item in extract}
    asked = defaultdict(float)
    got = defaultdict(float)
    for item in extract:
        asked[str(item["subject"])] += item["duration"]
        got[str(item["subject"])] += hours.get(item["track_id"], 0.0)
    unsatisfied = [(asked[m] - got[m]) / asked[m] for m in asked]
    satnet = document["satnet"]
    assert satnet["hours_requested"] == pytest.approx(sum(i["duration"] for i in extract))
    assert satnet["hours_allocated"] == pytest.approx(sum(hours.values()))
    assert satnet["requests_satisfied"] == len(hours) and satnet["requests"] == len(by_id)
    assert satnet["u_max"] == pytest.approx(max(unsatisfied))
    assert satnet["u_rms"] == pytest.approx(
        math.sqrt(sum(u * u for u in unsatisfied) / len(unsatisfied))
    )
    assert document["value"] == pytest.approx(satnet["hours_allocated"], rel=1e-6)  # value is hours
    assert document["value"] <= document["bound"] + 1e-6


# --- bad input: one line, exit code 2 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--instance", "missing.json"], "missing.json: No such file or directory"),
        (
            ["--time-limit", "0", "--instance", EXAMPLE],
            "--time-limit: got '0.0', expected seconds > 0",
        ),
        ([], "--instance/--satnet: got 'neither', expected exactly one of"),
        (["--instance", EXAMPLE, "--satnet", EXAMPLE], "got 'both'"),
        (["--instance", EXAMPLE, "--maintenance", EXAMPLE], "--maintenance: got"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args: list[str | Path], message: str) -> None:
    result = run("schedule", "solve", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_an_invalid_instance_names_the_field(tmp_path: Path) -> None:
    raw = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw["requests"][2]["priority"] = 9
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    result = run("schedule", "solve", "--instance", bad)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {bad}: requests[iot7-time].priority: got '9', "
        "expected an integer 1-5 (1 is the most important)\n"
    )
    plot = run(
        "schedule", "plot", "--instance", EXAMPLE, "--schedule", bad, "--out", tmp_path / "p.png"
    )
    assert plot.exit_code == 2 and "contacts" in plot.stderr
