"""The window search of SatNet-like weeks, and how solve() routes such weeks (and only them)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from groundlink.scheduling.bound import lp_bound
from groundlink.scheduling.greedy import greedy_schedule
from groundlink.scheduling.instance_io import loads_instance
from groundlink.scheduling.satnet_bound import track_bound
from groundlink.scheduling.satnet_search import applies, improve, whole_seconds
from groundlink.scheduling.solve import solve
from groundlink.scheduling.validate import check_schedule, schedule_value
from test_scheduling_satnet_bound import tiny_week

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "schedule_instance.json"


def test_whole_seconds_keeps_a_schedule_valid_and_drops_only_what_falls_short() -> None:
    instance, _ = tiny_week(3)
    greedy = greedy_schedule(instance, fairness=False)
    nudged = [replace(c, start_s=c.start_s + 0.4, end_s=c.end_s - 0.3) for c in greedy]
    cut = whole_seconds(instance, nudged)
    assert not check_schedule(instance, cut)
    assert all(c.start_s.is_integer() and c.end_s.is_integer() for c in cut)
    minimum = {r.id: r.min_duration_s for r in instance.requests}
    kept = {(c.request, c.opportunity) for c in cut}
    for contact in nudged:
        if (contact.request, contact.opportunity) not in kept:
            assert contact.duration_s < minimum[contact.request] + 2.0


@pytest.mark.parametrize("seed", [103, 105, 108])
def test_the_search_keeps_valid_schedules_never_worse_than_its_start(seed: int) -> None:
    instance, _ = tiny_week(seed, requests=9)
    assert applies(instance)
    start = greedy_schedule(instance, fairness=False)
    found = improve(instance, start, time_limit_s=2.0)
    assert not check_schedule(instance, found)
    assert (
        schedule_value(instance, found)
        >= schedule_value(instance, whole_seconds(instance, start)) - 1e-9
    )
    # from nothing at all it still finds a schedule (the blocks cover the whole week)
    assert schedule_value(instance, improve(instance, (), time_limit_s=2.0)) > 0


def test_solve_reports_the_whole_track_bound_on_a_satnet_week() -> None:
    instance, _ = tiny_week(103, requests=9)
    track_bound(instance, time_limit_s=0.1)  # compiled before the clock starts
    schedule = solve(instance, time_limit_s=8.0, fairness=False)
    assert not check_schedule(instance, schedule.contacts)
    assert schedule.bound_method.startswith("lagrangian, whole tracks")
    assert schedule.value <= schedule.bound + 1e-9
    assert schedule.bound < lp_bound(instance).value - 1.0
    assert "CP-SAT windows" in schedule.solver


def test_solve_leaves_instances_with_slew_to_the_usual_pipeline() -> None:
    instance = loads_instance(EXAMPLE.read_text())
    assert not applies(instance)
    schedule = solve(instance, time_limit_s=2.0, fairness=False)
    assert not schedule.bound_method.startswith("lagrangian")
    assert "windows" not in schedule.solver
