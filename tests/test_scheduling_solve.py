"""solve(): the one entry point returns valid schedules with a consistent value, bound and gap."""

from __future__ import annotations

import pytest

from groundlink.errors import InvalidInput
from groundlink.scheduling.fairness import min_ratio, tenant_shares
from groundlink.scheduling.feasibility import fixed_contacts
from groundlink.scheduling.greedy import greedy_schedule
from groundlink.scheduling.model import DemandKind, FixedContact, Resource
from groundlink.scheduling.solve import FAIR_FLOOR, solve
from groundlink.scheduling.validate import check_schedule, schedule_value, served_by_request
from scheduling_bruteforce import brute_force, whole_window_instance
from scheduling_fixtures import build, opportunity, random_instance, request


@pytest.mark.parametrize(
    ("seed", "method"), [(0, "auto"), (1, "cpsat"), (2, "greedy"), (3, "auto")]
)
def test_result_is_valid_and_its_numbers_agree(seed: int, method: str) -> None:
    instance = random_instance(seed, spacecraft=10, antennas=4, hours=6, fixed=True)
    schedule = solve(instance, time_limit_s=2.0, method=method)  # type: ignore[arg-type]
    assert check_schedule(instance, schedule.contacts) == []
    assert schedule.value == pytest.approx(schedule_value(instance, schedule.contacts))
    assert schedule.bound >= schedule.value - 1e-9
    assert schedule.gap == pytest.approx((schedule.bound - schedule.value) / schedule.bound)
    assert sorted(c for c in schedule.contacts if c.fixed) == sorted(fixed_contacts(instance))
    assert schedule.bound_method
    assert schedule.status in ("optimal", "feasible", "heuristic")
    if method == "greedy":
        assert schedule.status in ("heuristic", "optimal")
        assert "CP-SAT" not in schedule.solver
    # Every tenant is in the shares; exactly the requests served short are explained.
    assert {s.tenant for s in schedule.shares} == {r.tenant for r in instance.requests}
    served = served_by_request(instance, schedule.contacts)
    short = {r.id for r in instance.requests if served[r.id] < r.demand * (1 - 1e-9)}
    assert {u.request for u in schedule.unserved} == short


def test_never_worse_than_the_greedy_and_never_above_the_bound() -> None:
    instance = random_instance(11, spacecraft=14, antennas=4, hours=8, load=1.6)
    greedy = schedule_value(instance, greedy_schedule(instance, fairness=False))
    schedule = solve(instance, time_limit_s=2.0, fairness=False)
    assert greedy - 1e-9 <= schedule.value <= schedule.bound + 1e-9
    assert schedule.fairness_loss is None


@pytest.mark.parametrize("seed", range(5))
def test_small_exact_instances_are_solved_to_optimality(seed: int) -> None:
    instance = whole_window_instance(seed, integral=True)
    optimum, _ = brute_force(instance)
    schedule = solve(instance, time_limit_s=5.0, fairness=False)
    assert schedule.value == pytest.approx(optimum, rel=1e-5, abs=1e-9)
    assert schedule.bound >= optimum - 1e-9
    no_bytes = all(r.demand_kind is not DemandKind.BYTES for r in instance.requests)
    if no_bytes:
        # CP-SAT's proven bound on an exact model closes the gap.
        assert schedule.status == "optimal"
        assert schedule.gap < 1e-4


def test_fairness_keeps_the_floor_the_greedy_reaches_and_reports_its_cost() -> None:
    instance = random_instance(
        8, spacecraft=12, antennas=3, hours=6, tenants=3, load=2.0, priority_by_tenant=True
    )
    fair_greedy = min_ratio(tenant_shares(instance, greedy_schedule(instance, fairness=True)))
    schedule = solve(instance, time_limit_s=2.0, fairness=True)
    assert check_schedule(instance, schedule.contacts) == []
    assert min_ratio(schedule.shares) >= min(FAIR_FLOOR, fair_greedy) - 1e-9
    assert schedule.fairness_loss is not None and 0.0 <= schedule.fairness_loss <= 1.0


def test_progress_goes_forward_through_named_stages() -> None:
    instance = random_instance(4, spacecraft=8, antennas=2, hours=4)
    calls: list[tuple[str, float]] = []
    solve(instance, time_limit_s=1.0, progress=lambda stage, f: calls.append((stage, f)))
    stages = [stage for stage, _ in calls]
    fractions = [f for _, f in calls]
    assert stages[0] == "greedy" and stages[-1] == "done"
    assert "bound" in stages
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions == sorted(fractions)


def test_the_time_limit_is_respected_loosely() -> None:
    instance = random_instance(6, spacecraft=16, antennas=4, hours=12, load=1.5)
    schedule = solve(instance, time_limit_s=1.0)
    assert schedule.solve_s < 1.0 + 3.0  # explanations and rounding, never a second budget
    assert schedule.status in ("feasible", "optimal")


def test_a_fixed_contact_that_fills_the_only_pass_leaves_nothing_to_do() -> None:
    instance = build(
        [request("r1", demand=1, min_duration_s=100, max_duration_s=300)],
        [opportunity(1, "r1", 0, 300)],
        [Resource("A1", station="S1")],
        fixed=[FixedContact("f", ("A1",), 0, 300)],
    )
    schedule = solve(instance, time_limit_s=1.0)
    assert schedule.value == 0.0 and schedule.bound == pytest.approx(0.0, abs=1e-6)
    assert schedule.gap == 0.0
    assert [c.fixed for c in schedule.contacts] == [True]
    assert [u.request for u in schedule.unserved] == ["r1"]


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"time_limit_s": 0}, "time_limit_s"),
        ({"time_limit_s": float("nan")}, "time_limit_s"),
        ({"method": "simplex"}, "method"),
    ],
)
def test_bad_arguments_name_the_field(fields: dict[str, object], name: str) -> None:
    instance = build([request("r1")], [opportunity(1, "r1", 0, 300)])
    with pytest.raises(InvalidInput) as caught:
        solve(instance, **fields)  # type: ignore[arg-type]
    assert name in str(caught.value)
