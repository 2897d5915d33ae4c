"""The window search of SatNet-like weeks, and how solve() routes such weeks (and only them)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from groundlink.scheduling import satnet_search
from groundlink.scheduling.bound import lp_bound
from groundlink.scheduling.greedy import greedy_schedule
from groundlink.scheduling.instance_io import loads_instance
from groundlink.scheduling.satnet_bound import track_bound
from groundlink.scheduling.satnet_search import (
    NARROW,
    OBJECTIVE_STEP_S,
    WIDE,
    WIDE_FROM_S,
    Window,
    applies,
    improve,
    value_step,
    whole_seconds,
    window_for,
)
from groundlink.scheduling.solve import solve
from groundlink.scheduling.validate import check_schedule, schedule_value
from test_scheduling_satnet_bound import tiny_week

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "schedule_instance.json"


@pytest.mark.parametrize("move", [True, False])
def test_whole_seconds_keeps_a_schedule_valid_and_drops_only_what_falls_short(move: bool) -> None:
    instance, _ = tiny_week(3)
    greedy = greedy_schedule(instance, fairness=False)
    nudged = [replace(c, start_s=c.start_s + 0.4, end_s=c.end_s - 0.3) for c in greedy]
    cut = whole_seconds(instance, nudged, move=move)
    assert not check_schedule(instance, cut)
    assert all(c.start_s.is_integer() and c.end_s.is_integer() for c in cut)
    minimum = {r.id: r.min_duration_s for r in instance.requests}
    kept = {(c.request, c.opportunity) for c in cut}
    for contact in nudged:
        if (contact.request, contact.opportunity) not in kept:
            assert contact.duration_s < minimum[contact.request] + 2.0


@pytest.mark.parametrize("seed", [103, 105, 108, 111])
def test_whole_seconds_keeps_every_contact_the_greedy_places_a_millisecond_off(seed: int) -> None:
    # The greedy starts a contact a millisecond after its neighbour's hold, often at exactly
    # its minimum length: cutting both ends inwards would drop it.
    instance, _ = tiny_week(seed, requests=9)
    greedy = greedy_schedule(instance, fairness=False)
    assert any(not c.start_s.is_integer() for c in greedy)
    moved = whole_seconds(instance, greedy)
    assert not check_schedule(instance, moved)
    assert len(moved) == len(greedy)
    for before, after in zip(greedy, moved, strict=True):
        assert 0.0 <= after.start_s - before.start_s < 1.0
        assert -1e-6 <= before.duration_s - after.duration_s < 1.0


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


@pytest.mark.parametrize("limit_s", [1.0, 60.0, WIDE_FROM_S - 1.0, WIDE_FROM_S, 600.0])
def test_a_longer_search_takes_wider_windows_with_more_time_per_block(limit_s: float) -> None:
    window = window_for(limit_s)
    assert window == (WIDE if limit_s >= WIDE_FROM_S else NARROW)
    assert NARROW.width_s < WIDE.width_s and NARROW.block_s < WIDE.block_s


@pytest.mark.parametrize("width_s", [3600.0, 1e6])
def test_the_search_frees_view_periods_in_windows_of_the_width_it_is_given(
    monkeypatch: pytest.MonkeyPatch, width_s: float
) -> None:
    instance, _ = tiny_week(105, requests=9)
    widths: list[float] = []
    original = satnet_search._window_block

    def spy(*args: Any) -> Any:
        widths.append(args[4])
        return original(*args)

    monkeypatch.setattr(satnet_search, "_window_block", spy)
    start = greedy_schedule(instance, fairness=False)
    found = improve(instance, start, time_limit_s=1.0, window=Window(width_s, 0.05))
    assert not check_schedule(instance, found)
    assert widths and set(widths) == {width_s}


def test_the_blocks_count_value_in_minutes_of_track(monkeypatch: pytest.MonkeyPatch) -> None:
    instance, items = tiny_week(108, requests=9)
    # SatNet's value is hours allocated: a minute of track is worth 1/60 h, whatever the request
    assert value_step(instance) == pytest.approx(OBJECTIVE_STEP_S / 3600.0)
    assert {r.weight for r in instance.requests} == {item["duration"] for item in items}
    steps: list[float | None] = []
    original = satnet_search.BlockProblem

    def spy(*args: Any, **kwargs: Any) -> Any:
        problem = original(*args, **kwargs)
        steps.append(problem.value_step)
        return problem

    monkeypatch.setattr(satnet_search, "BlockProblem", spy)
    start = greedy_schedule(instance, fairness=False)
    found = improve(instance, start, time_limit_s=1.0)
    assert steps == [value_step(instance)]
    # counting in minutes never costs the seconds the hint had
    assert not check_schedule(instance, found)
    assert (
        schedule_value(instance, found)
        >= schedule_value(instance, whole_seconds(instance, start)) - 1e-9
    )
