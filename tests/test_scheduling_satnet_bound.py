"""The whole-track Lagrangian bound of SatNet-like weeks: valid against exact optima, tighter than
the LP where tracks cannot split or a request falls short of its minimum, and off where its
assumptions fail."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from groundlink.scheduling.bound import lp_bound
from groundlink.scheduling.cpsat import optimise_in_detail
from groundlink.scheduling.model import Instance, Resource
from groundlink.scheduling.satnet import MaintenanceWindow, parse_satnet_week
from groundlink.scheduling.satnet_bound import (
    FINEST_GRID_S,
    GRID_S,
    REFINE_FROM_S,
    applies,
    track_bound,
)
from groundlink.scheduling.validate import check_schedule, schedule_value

T0 = 1_600_000_000
HOUR = 3600


def _vp(on_s: int, off_s: int) -> dict[str, int]:
    return {"RISE": T0 + on_s, "SET": T0 + off_s, "TRX ON": T0 + on_s, "TRX OFF": T0 + off_s}


def _on_dss14(
    mission: int, track_id: str, hours: float, least: float, on_s: int, off_s: int, days_h: int
) -> dict[str, Any]:
    """A request of ``hours`` (at least ``least``) seen by DSS-14 from ``on_s`` to ``off_s``,
    setup 30 min and teardown 15, in a window of the first ``days_h`` hours."""
    return {
        "subject": mission,
        "track_id": track_id,
        "duration": hours,
        "duration_min": least,
        "setup_time": 30,
        "teardown_time": 15,
        "time_window_start": T0,
        "time_window_end": T0 + days_h * HOUR,
        "resource_vp_dict": {"DSS-14": [_vp(on_s, off_s)]},
    }


def tiny_week(seed: int, requests: int = 5) -> tuple[Instance, list[dict[str, Any]]]:
    """A random SatNet week of ``requests`` (or one more) requests of 2-3 missions on two
    antennas and their array, over 30 hours: single tracks of 1-3 h, split requests of 8-9 h
    (tracks of 4 h or more), setup and teardown of 15-60 min, odd-second times and one
    maintenance window."""
    rng = np.random.default_rng(seed)
    items = []
    for k in range(int(rng.integers(requests, requests + 2))):
        split = rng.random() < 0.35
        duration = float(rng.choice([8.0, 9.0])) if split else float(rng.choice([1.0, 2.0, 3.0]))
        minimum = duration if rng.random() < 0.6 else round(duration * 0.75, 2)
        periods: dict[str, list[dict[str, int]]] = {}
        for resource in ("DSS-14", "DSS-24", "DSS-14_DSS-24"):
            if rng.random() < (0.25 if "_" in resource else 0.7):
                spans = []
                at = int(rng.integers(0, 4 * HOUR))
                for _ in range(int(rng.integers(1, 3))):
                    length = int(rng.integers(3 * HOUR, 13 * HOUR)) + int(rng.integers(0, 60))
                    spans.append(_vp(at, min(at + length, 30 * HOUR)))
                    at += length + int(rng.integers(2 * HOUR, 8 * HOUR))
                    if at >= 28 * HOUR:
                        break
                periods[resource] = spans
        if not periods:
            periods["DSS-14"] = [_vp(HOUR, 12 * HOUR)]
        items.append(
            {
                "subject": int(rng.integers(0, 3)),
                "track_id": f"r{k}",
                "duration": duration,
                "duration_min": minimum,
                "setup_time": float(rng.choice([15, 30, 60])),
                "teardown_time": float(rng.choice([15, 30])),
                "time_window_start": T0,
                "time_window_end": T0 + 30 * HOUR,
                "resource_vp_dict": periods,
            }
        )
    down = MaintenanceWindow("DSS-24", T0 + 14 * HOUR + 7, T0 + 15 * HOUR + 11)
    instance = parse_satnet_week(json.dumps(items), maintenance=[down], week="W1_2020")
    return instance, items


@pytest.mark.parametrize("seed", range(8))
def test_the_bound_is_never_below_the_exact_optimum(seed: int) -> None:
    instance, _ = tiny_week(seed)
    assert applies(instance)
    exact = optimise_in_detail(instance, time_limit_s=20.0, workers=2)
    assert exact.status == "optimal"  # CP-SAT proved it on the exact (flexible) model
    assert not check_schedule(instance, exact.contacts)
    optimum = schedule_value(instance, exact.contacts)
    # long enough for the steps to converge and go on on the finer grid
    found = track_bound(instance, time_limit_s=2 * REFINE_FROM_S, best_known=optimum)
    assert found is not None
    assert found.value >= optimum - 1e-9
    # no looser than the LP that lets tracks split, but for a grid step per track
    tracks = sum(r.max_contacts or 1 for r in instance.requests)
    assert found.value <= lp_bound(instance).value + tracks * GRID_S / HOUR + 1e-6


@pytest.mark.parametrize("seed", [103, 105, 108])
def test_on_contested_weeks_it_stays_valid_and_beats_the_lp(seed: int) -> None:
    instance, _ = tiny_week(seed, requests=9)
    best = optimise_in_detail(instance, time_limit_s=10.0, workers=2)
    value = schedule_value(instance, best.contacts)
    found = track_bound(instance, time_limit_s=3.0, best_known=value)
    assert found is not None
    assert found.value >= value - 1e-9  # optimal or not, a valid schedule never beats it
    assert found.value < lp_bound(instance).value - 1.0  # whole tracks: over an hour tighter


def test_two_tracks_that_fit_only_one_at_a_time_count_once() -> None:
    # Two missions each want a 5 h track (setup 30 min, teardown 15) on DSS-14, both
    # visible over the same 8 h: one fits. The LP splits them and fills 8 h.
    items = [_on_dss14(m, f"t{m}", 5.0, 5.0, HOUR, 9 * HOUR, 10) for m in (1, 2)]
    instance = parse_satnet_week(json.dumps(items), week="W1_2020")
    lp = lp_bound(instance).value
    found = track_bound(instance, time_limit_s=2.0, best_known=5.0)
    assert found is not None
    assert lp > 6.5  # both tracks, split
    assert 5.0 <= found.value <= 5.0 + GRID_S / HOUR + 1e-6


def test_a_request_short_of_its_minimum_counts_for_nothing() -> None:
    # Two missions each want 8 h (at least 6.4 h, in tracks of 4 h or more) on DSS-14 over the
    # same 12 h: one gets its 8 h, the other is left 3.25 h, below its minimum, worth nothing.
    # The LP and a relaxation per antenna (sessions 3-9: 11.3 h) fill the 12 h with both.
    items = [_on_dss14(m, f"s{m}", 8.0, 6.4, HOUR, 13 * HOUR, 14) for m in (1, 2)]
    instance = parse_satnet_week(json.dumps(items), week="W1_2020")
    exact = optimise_in_detail(instance, time_limit_s=20.0, workers=2)
    assert exact.status == "optimal"
    optimum = schedule_value(instance, exact.contacts)
    track_bound(instance, time_limit_s=0.01)  # compiled before the clock starts
    found = track_bound(instance, time_limit_s=2.0, best_known=optimum)
    assert found is not None
    assert optimum == pytest.approx(8.0)
    assert lp_bound(instance).value > 11.0
    assert optimum - 1e-9 <= found.value <= optimum + 1e-3


def test_with_time_to_spare_it_goes_on_on_a_finer_grid() -> None:
    # A 10 h request (split: 4 h or more per track) sees DSS-14 for 6 h 7 min at odd seconds,
    # a 2 h one from 5 h on: the grid rounds the first track's length up by up to a step.
    items = [
        _on_dss14(1, "long", 10.0, 1.0, HOUR + 13, 7 * HOUR + 461, 10),
        _on_dss14(2, "short", 2.0, 2.0, 5 * HOUR + 17, 9 * HOUR, 10),
    ]
    instance = parse_satnet_week(json.dumps(items), week="W1_2020")
    exact = optimise_in_detail(instance, time_limit_s=20.0, workers=2)
    assert exact.status == "optimal"
    optimum = schedule_value(instance, exact.contacts)
    track_bound(instance, time_limit_s=0.01)  # compiled before the clock starts
    coarse = track_bound(instance, time_limit_s=REFINE_FROM_S / 2, best_known=optimum)
    fine = track_bound(instance, time_limit_s=REFINE_FROM_S * 2, best_known=optimum)
    finest = track_bound(instance, time_limit_s=REFINE_FROM_S * 4, best_known=optimum)
    assert coarse is not None and fine is not None and finest is not None
    assert coarse.grid_s == GRID_S
    assert fine.grid_s < GRID_S
    assert finest.grid_s == FINEST_GRID_S < GRID_S / 2
    assert optimum - 1e-9 <= finest.value <= optimum + FINEST_GRID_S / HOUR + 1e-6
    assert finest.value <= fine.value <= optimum + fine.grid_s / HOUR + 1e-6
    assert fine.value < coarse.value - 0.01 <= optimum + GRID_S / HOUR


def test_it_does_not_apply_where_antennas_slew_or_turn_around() -> None:
    instance, _ = tiny_week(0)
    slewing = Instance(
        epoch=instance.epoch,
        horizon_s=instance.horizon_s,
        resources=tuple(
            Resource(r.id, max_az_rate_deg_s=3.0, max_el_rate_deg_s=1.5) for r in instance.resources
        ),
        requests=instance.requests,
        opportunities=instance.opportunities,
    )
    turning = Instance(
        epoch=instance.epoch,
        horizon_s=instance.horizon_s,
        resources=tuple(Resource(r.id, turnaround_s=60.0) for r in instance.resources),
        requests=instance.requests,
        opportunities=instance.opportunities,
    )
    assert not applies(slewing) and track_bound(slewing, time_limit_s=1.0) is None
    assert not applies(turning)
