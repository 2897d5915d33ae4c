"""The LP bound: never below the exact optimum, exact where it obviously should be, certified."""

from __future__ import annotations

import math

import numpy as np
import pytest

from groundlink.scheduling import bound as bound_module
from groundlink.scheduling.bound import lp_bound
from groundlink.scheduling.cpsat import optimise
from groundlink.scheduling.feasibility import index_instance
from groundlink.scheduling.greedy import greedy_schedule
from groundlink.scheduling.model import (
    DemandKind,
    FixedContact,
    Interval,
    Resource,
)
from groundlink.scheduling.validate import check_schedule, schedule_value
from scheduling_bruteforce import brute_force, whole_window_instance
from scheduling_fixtures import build, opportunity, random_instance, request


@pytest.mark.parametrize("seed", range(40))
def test_bound_is_never_below_the_exact_optimum(seed: int) -> None:
    instance = whole_window_instance(seed, slew=seed % 2 == 0)
    optimum, _ = brute_force(instance)
    bound = lp_bound(instance)
    assert bound.value >= optimum - 1e-9
    assert bound.value <= sum(r.weight for r in instance.requests) + 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_bound_is_above_every_schedule_the_solvers_find(seed: int) -> None:
    # General instances: trimmed contacts, bytes, maintenance, fixed contacts, arrays, k = 2.
    instance = random_instance(
        seed, spacecraft=8, antennas=4, hours=4, arrays=seed % 2 == 1, multi_k=seed % 3 == 0
    )
    bound = lp_bound(instance)
    greedy = greedy_schedule(instance, fairness=False)
    polished, _ = optimise(instance, time_limit_s=1.0, hint=greedy)
    for contacts in (greedy, polished):
        assert check_schedule(instance, contacts) == []
        assert bound.value >= schedule_value(instance, contacts) - 1e-9


def test_disjoint_passes_on_one_antenna_give_the_exact_value() -> None:
    # Nothing competes: the bound is the value of serving every pass (3 of 4 contacts).
    instance = build(
        [request("r1", demand=4, priority=2, min_duration_s=100, max_duration_s=600)],
        [opportunity(i, "r1", 1000.0 * i, 1000.0 * i + 300) for i in range(3)],
        [Resource("A1", station="S1", turnaround_s=60)],
    )
    assert lp_bound(instance).value == pytest.approx(8.0 * 3 / 4, rel=1e-6)


def test_one_antenna_two_requests_one_window_fits_one() -> None:
    # Both requests want the same whole 600 s window on one antenna: only one fits, and the
    # relaxation (padded spans are disjoint) knows it: the bound is the better request.
    instance = build(
        [
            request("hi", priority=1, min_duration_s=600, max_duration_s=600),
            request("lo", priority=3, min_duration_s=600, max_duration_s=600),
        ],
        [opportunity(1, "hi", 0, 600), opportunity(2, "lo", 0, 600)],
        [Resource("A1", station="S1", turnaround_s=30)],
    )
    optimum, _ = brute_force(instance)
    assert optimum == 16.0
    assert lp_bound(instance).value == pytest.approx(16.0, rel=1e-6)


def test_maintenance_and_fixed_contacts_take_capacity() -> None:
    # One 1000 s window, contacts of at least 400 s: maintenance over the middle leaves two
    # 300 s pieces (nothing fits); a fixed contact instead leaves room for one contact.
    demand = request("r1", demand=2, min_duration_s=400, max_duration_s=1000)
    window = opportunity(1, "r1", 0, 1000)
    down = Resource("A1", station="S1", maintenance=(Interval(300, 700),))
    assert lp_bound(build([demand], [window], [down])).value == pytest.approx(0.0, abs=1e-6)
    busy = build(
        [demand],
        [window],
        [Resource("A1", station="S1")],
        fixed=[FixedContact("f", ("A1",), 0, 550)],
    )
    assert lp_bound(busy).value == pytest.approx(4.0 / 2, rel=1e-6)


def test_fixed_contacts_of_a_request_count_towards_its_demand() -> None:
    # Two contacts asked for, one already booked, one more pass: full value, and no more.
    instance = build(
        [request("r1", demand=2, priority=1, min_duration_s=100, max_duration_s=300)],
        [
            opportunity(1, "r1", 0, 300),
            opportunity(2, "r1", 2000, 2300),
            opportunity(3, "r1", 5000, 5300),
        ],
        fixed=[FixedContact("f", ("A1",), 0, 300, request="r1")],
    )
    assert lp_bound(instance).value == pytest.approx(16.0, rel=1e-6)


def test_spacecraft_limit_one_shares_overlapping_passes() -> None:
    # Two stations see the same 600 s pass: one spacecraft can take 600 s of it, not 1200 s.
    instance = build(
        [request("r1", demand=1200, demand_kind=DemandKind.SECONDS, priority=5)],
        [opportunity(1, "r1", 0, 600, "A1"), opportunity(2, "r1", 0, 600, "A2")],
        [Resource("A1", station="S1"), Resource("A2", station="S2")],
    )
    assert lp_bound(instance).value == pytest.approx(0.5, rel=1e-6)
    two = build(
        [request("r1", demand=1200, demand_kind=DemandKind.SECONDS, priority=5)],
        [opportunity(1, "r1", 0, 600, "A1"), opportunity(2, "r1", 0, 600, "A2")],
        [Resource("A1", station="S1"), Resource("A2", station="S2")],
        max_simultaneous={"sc-r1": 2},
    )
    assert lp_bound(two).value == pytest.approx(1.0, rel=1e-6)


def test_weak_duality_holds_for_any_prices() -> None:
    # The certificate does not depend on GLOP: random non-negative prices give valid bounds.
    instance = whole_window_instance(3)
    optimum, _ = brute_force(instance)
    relaxation = bound_module._Relaxation(instance, index_instance(instance))
    lp = bound_module._SlicedLp(relaxation, 0.0, with_clusters=True)
    rng = np.random.default_rng(0)
    for _ in range(50):
        prices = rng.exponential(rng.choice([1e-4, 1e-2, 1.0]), size=lp.shape[0])
        assert lp.dual_bound(prices) + relaxation.fixed_value >= optimum - 1e-9
        flows, _ = bound_module._priced_flows(relaxation, lp, prices)
        assert flows + relaxation.fixed_value >= optimum - 1e-9


def test_aggregated_lp_and_flows_stay_valid_and_close(monkeypatch: pytest.MonkeyPatch) -> None:
    # Force the large-instance path (time-aggregated LP + exact-slice flows) on a small one.
    instance = random_instance(4, spacecraft=10, antennas=4, hours=6, load=2.0)
    exact = lp_bound(instance)
    monkeypatch.setattr(bound_module, "LP_SIZE_TARGET", 0)
    aggregated = lp_bound(instance)
    greedy = schedule_value(instance, greedy_schedule(instance, fairness=False))
    assert "flows" in aggregated.method or "caps" in aggregated.method
    assert aggregated.value >= greedy - 1e-9
    assert aggregated.value >= exact.value * (1 - 1e-6)
    assert aggregated.value <= exact.value * 1.02


def test_a_time_out_still_gives_a_valid_bound() -> None:
    instance = whole_window_instance(5)
    optimum, _ = brute_force(instance)
    bound = lp_bound(instance, time_limit_s=1e-9)
    assert bound.value >= optimum - 1e-9
    assert math.isfinite(bound.value)


def test_opportunity_values_score_the_usable_opportunities() -> None:
    instance = random_instance(2, spacecraft=6, antennas=2, hours=4)
    bound = lp_bound(instance)
    usable = {
        o.id
        for o, verdict in zip(
            instance.opportunities, index_instance(instance).usability, strict=True
        )
        if verdict == 0
    }
    assert set(bound.opportunity_values) <= usable
    assert all(0.0 <= v <= 1.5 for v in bound.opportunity_values.values())
    assert "dual-certified" in bound.method or "caps" in bound.method


def test_no_usable_opportunity_gives_the_fixed_value_only() -> None:
    instance = build(
        [request("r1", demand=2, priority=1, bands=("Ka",))],
        [opportunity(1, "r1", 0, 300)],
        [Resource("A1", station="S1", bands=("S",))],
    )
    assert lp_bound(instance).value == pytest.approx(0.0, abs=1e-6)
