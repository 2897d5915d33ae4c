"""The CP-SAT optimiser: exact where the model is exact, valid always, never worse than its hint."""

from __future__ import annotations

import pytest

from groundlink.scheduling import cpsat
from groundlink.scheduling.bound import lp_bound
from groundlink.scheduling.cpsat import optimise, optimise_in_detail
from groundlink.scheduling.fairness import min_ratio, tenant_shares
from groundlink.scheduling.feasibility import fixed_contacts
from groundlink.scheduling.greedy import greedy_schedule
from groundlink.scheduling.model import DemandKind, Resource, ScheduledContact
from groundlink.scheduling.validate import check_schedule, schedule_value
from scheduling_bruteforce import brute_force, whole_window_instance
from scheduling_fixtures import build, opportunity, random_instance, request


@pytest.mark.parametrize("seed", range(12))
def test_exact_model_proves_the_brute_force_optimum(seed: int) -> None:
    # Whole seconds, no slew, no bytes: the flexible model is exact, so "optimal" means
    # optimal and CP-SAT's bound is a bound. (Bytes are counted in millionths: not exact.)
    instance = whole_window_instance(seed, integral=True)
    optimum, _ = brute_force(instance)
    result = optimise_in_detail(instance, time_limit_s=20.0)
    assert check_schedule(instance, result.contacts) == []
    assert schedule_value(instance, result.contacts) == pytest.approx(optimum, rel=1e-5, abs=1e-9)
    has_bytes = any(r.demand_kind is DemandKind.BYTES for r in instance.requests)
    assert result.status == ("feasible" if has_bytes else "optimal")
    if has_bytes:
        assert result.bound is None
    else:
        assert result.bound is not None
        assert optimum - 1e-9 <= result.bound <= optimum * (1 + 1e-4) + 1e-6


@pytest.mark.parametrize("seed", range(12))
def test_candidate_model_with_slew_finds_the_brute_force_optimum(seed: int) -> None:
    # With slew the model offers fixed candidate contacts; here the whole window is the only
    # possible contact, so the candidate model is the whole problem.
    instance = whole_window_instance(100 + seed, slew=True)
    optimum, _ = brute_force(instance)
    contacts, status = optimise(instance, time_limit_s=20.0)
    assert check_schedule(instance, contacts) == []
    assert status == "feasible"  # the candidate model is never called exact
    assert schedule_value(instance, contacts) == pytest.approx(optimum, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_result_is_valid_and_never_worse_than_the_hint(seed: int) -> None:
    instance = random_instance(
        seed, spacecraft=10, antennas=4, hours=6, arrays=seed % 2 == 0, multi_k=seed % 3 == 1
    )
    hint = greedy_schedule(instance, fairness=False)
    seen: list[tuple[float, float]] = []
    contacts, _ = optimise(
        instance, time_limit_s=1.5, hint=hint, on_improvement=lambda v, t: seen.append((v, t))
    )
    assert check_schedule(instance, contacts) == []
    value = schedule_value(instance, contacts)
    assert value >= schedule_value(instance, hint) - 1e-9
    assert value <= lp_bound(instance).value + 1e-9
    values = [v for v, _ in seen]
    assert values == sorted(values)
    if seen:
        assert values[-1] == pytest.approx(value, rel=1e-9)


def test_fixed_contacts_are_kept_exactly_once() -> None:
    instance = random_instance(7, spacecraft=8, antennas=4, hours=4, fixed=True)
    assert instance.fixed
    contacts, _ = optimise(instance, time_limit_s=1.0)
    assert check_schedule(instance, contacts) == []
    assert sorted(c for c in contacts if c.fixed) == sorted(fixed_contacts(instance))


def test_an_invalid_hint_is_ignored() -> None:
    instance = build(
        [request("r1", demand=2, min_duration_s=100, max_duration_s=300)],
        [opportunity(1, "r1", 0, 300), opportunity(2, "r1", 1000, 1300)],
    )
    bad = [ScheduledContact("r1", 1, ("A1",), 0, 50)]  # shorter than the minimum
    contacts, _ = optimise(instance, time_limit_s=2.0, hint=bad)
    assert check_schedule(instance, contacts) == []
    assert schedule_value(instance, contacts) == pytest.approx(4.0)  # both passes: all of it


def test_blocks_of_the_large_neighbourhood_search_keep_the_schedule_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Force the by-blocks search on a small instance: valid, at least the hint, fixed kept.
    monkeypatch.setattr(cpsat, "FULL_MODEL_OPPORTUNITIES", 10)
    monkeypatch.setattr(cpsat, "BLOCK_OPPORTUNITIES", 12)
    monkeypatch.setattr(cpsat, "BLOCK_MIN_S", 0.1)
    for slew in (True, False):
        instance = random_instance(3, spacecraft=12, antennas=4, hours=8, slew=slew, load=1.5)
        hint = greedy_schedule(instance, fairness=False)
        contacts, status = optimise(instance, time_limit_s=2.0, hint=hint)
        assert status == "feasible"
        assert check_schedule(instance, contacts) == []
        assert schedule_value(instance, contacts) >= schedule_value(instance, hint) - 1e-9


def test_a_spacecraft_limit_above_one_allows_simultaneous_contacts() -> None:
    # One spacecraft seen by two stations at once, asking for 1,200 s: with k = 2 both
    # passes count in full; with k = 1 only 600 s of them.
    passes = [opportunity(1, "r1", 0, 600, "A1"), opportunity(2, "r1", 0, 600, "A2")]
    resources = [Resource("A1", station="S1"), Resource("A2", station="S2")]
    demand = request("r1", demand=1200, demand_kind=DemandKind.SECONDS, priority=1)
    one = build([demand], passes, resources)
    two = build([demand], passes, resources, max_simultaneous={"sc-r1": 2})
    one_contacts, one_status = optimise(one, time_limit_s=5.0)
    two_contacts, two_status = optimise(two, time_limit_s=5.0)
    assert check_schedule(one, one_contacts) == [] and check_schedule(two, two_contacts) == []
    assert schedule_value(one, one_contacts) == pytest.approx(8.0)
    assert schedule_value(two, two_contacts) == pytest.approx(16.0)
    assert one_status == two_status == "optimal"


def test_fairness_floor_is_kept_where_the_hint_keeps_it() -> None:
    instance = random_instance(
        5, spacecraft=10, antennas=3, hours=6, load=2.0, priority_by_tenant=True
    )
    hint = greedy_schedule(instance, fairness=True)
    before = min_ratio(tenant_shares(instance, hint))
    result = optimise_in_detail(instance, time_limit_s=2.0, hint=hint, fair_floor=0.8)
    assert check_schedule(instance, result.contacts) == []
    after = min_ratio(tenant_shares(instance, result.contacts))
    assert after >= min(0.8, before) - 1e-9
    assert schedule_value(instance, result.contacts) >= schedule_value(instance, hint) - 1e-9
    assert result.bound is None  # a constrained model gives no bound on the unconstrained one


def test_min_served_is_all_or_nothing() -> None:
    # SatNet-style: 3,600 s or nothing; only 3,000 s of pass: nothing is worth anything.
    instance = build(
        [request("r1", demand=3600, demand_kind=DemandKind.SECONDS, min_served=3600.0)],
        [opportunity(1, "r1", 0, 3000)],
    )
    result = optimise_in_detail(instance, time_limit_s=5.0)
    assert schedule_value(instance, result.contacts) == 0.0
    assert result.status == "optimal"
    assert result.bound is not None and result.bound < 1e-4  # rounding slack only
