"""solve()'s fairness floor against every valid schedule of small hand-built days.

One antenna, no turnaround, and every pass exactly as long as its request's
contacts: the valid schedules are the sets of passes that do not overlap, so
they can all be listed, and the best one that keeps every tenant at
:data:`FAIR_FLOOR` of its fair share found by enumeration.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from groundlink.scheduling.cpsat import FAIRNESS_PRICE
from groundlink.scheduling.fairness import min_ratio, tenant_shares
from groundlink.scheduling.model import DemandKind, Instance, ScheduledContact
from groundlink.scheduling.solve import FAIR_FLOOR, solve
from groundlink.scheduling.validate import check_schedule, schedule_value
from scheduling_fixtures import build, opportunity, request


def _day(low_pass_s: float, vip_value: float = 16.0) -> Instance:
    """A priority-1 tenant asking for ten 300 s contacts (worth ``vip_value`` in all), one pass
    each, 1,000 s apart, and a priority-5 tenant asking for one contact whose only pass,
    ``low_pass_s`` long, overlaps the first ``ceil(low_pass_s / 1000)`` of them."""
    vip = [opportunity(k, "vip", 1000.0 * k + 50, 1000.0 * k + 350) for k in range(10)]
    return build(
        [
            request(
                "vip",
                tenant="vip",
                priority=1,
                value_weight=vip_value,
                demand=10,
                min_duration_s=300,
                max_duration_s=300,
            ),
            request(
                "low",
                tenant="low",
                priority=5,
                min_duration_s=low_pass_s,
                max_duration_s=low_pass_s,
            ),
        ],
        [*vip, opportunity(10, "low", 0, low_pass_s)],
    )


def _every_schedule(instance: Instance) -> Iterator[list[ScheduledContact]]:
    contacts = [
        ScheduledContact(o.request, o.id, o.resources, o.start_s, o.end_s)
        for o in instance.opportunities
    ]

    def grow(start: int, chosen: list[ScheduledContact]) -> Iterator[list[ScheduledContact]]:
        yield chosen
        for k in range(start, len(contacts)):
            if not check_schedule(instance, [*chosen, contacts[k]]):
                yield from grow(k + 1, [*chosen, contacts[k]])

    yield from grow(0, [])


def _best(instance: Instance) -> tuple[float, float]:
    """The best value of all, and the best of the schedules that meet the floor."""
    values = [
        (schedule_value(instance, s), tenant_shares(instance, s)) for s in _every_schedule(instance)
    ]
    best = max(v for v, _ in values)
    fair = max(v for v, shares in values if min_ratio(shares) >= FAIR_FLOOR - 1e-9)
    return best, fair


def test_a_starved_tenant_is_lifted_to_the_floor_at_the_least_cost() -> None:
    instance = _day(300.0)
    best, best_fair = _best(instance)
    # Serving everything the priority-1 tenant asks (16) starves the other: it is entitled to
    # all of its 300 s (less than an equal half of the 3,000 s served), so the floor binds.
    # The cheapest way to it gives up one 1.6 contact for the 1.0 one: 15.4, 3.75% less.
    assert best == pytest.approx(16) and best_fair == pytest.approx(15.4)
    unfair = solve(instance, time_limit_s=2.0, fairness=False)
    assert unfair.value == pytest.approx(16)
    assert min_ratio(unfair.shares) == 0
    fair = solve(instance, time_limit_s=2.0)
    assert check_schedule(instance, fair.contacts) == []
    assert min_ratio(fair.shares) >= FAIR_FLOOR
    assert fair.value == pytest.approx(best_fair)
    assert fair.fairness_loss == pytest.approx((16 - 15.4) / 16)


def test_the_floor_yields_where_lifting_costs_more_than_its_price() -> None:
    # The low tenant's pass now overlaps three of the other's, worth 4 each: serving it costs
    # 3 x 4 - 1 = 11 of value, while without it it lacks only 0.8 x 1,500 / 2,300 = 0.52
    # (entitled to half of the 3,000 s served, of the 2,300 s it asks).
    instance = _day(2300.0, vip_value=40.0)
    best, best_fair = _best(instance)
    assert best == pytest.approx(40) and best_fair == pytest.approx(29)
    fair = solve(instance, time_limit_s=2.0)
    (low,) = [s for s in fair.shares if s.tenant == "low"]
    lacking = FAIR_FLOOR * low.fair_share * low.requested_value - low.value
    assert fair.value == pytest.approx(best) and low.ratio == 0
    assert lacking == pytest.approx(0.8 * 1500 / 2300)
    # Kept below its floor because the floor would cost more than FAIRNESS_PRICE per unit.
    assert best - best_fair > FAIRNESS_PRICE * lacking


def test_the_search_aims_a_margin_above_the_floor() -> None:
    # Two tenants ask for all 3,000 s of one antenna's only pass: each is entitled to half.
    # Every second the low tenant gets costs the other twice its value, and the floor's
    # price is 10: so the search lifts it exactly to where it aims, the floor plus the
    # margin (1,215 s), and no further.
    pass_s = 3000.0
    instance = build(
        [
            request("vip", tenant="vip", demand=pass_s, demand_kind=DemandKind.SECONDS,
                    value_weight=2.0),
            request("low", tenant="low", demand=pass_s, demand_kind=DemandKind.SECONDS,
                    value_weight=1.0),
        ],
        [opportunity(1, "vip", 0, pass_s), opportunity(2, "low", 0, pass_s)],
    )  # fmt: skip
    unfair = solve(instance, time_limit_s=2.0, fairness=False)
    assert unfair.value == pytest.approx(2.0)
    fair = solve(instance, time_limit_s=2.0)
    assert check_schedule(instance, fair.contacts) == []
    (low,) = [s for s in fair.shares if s.tenant == "low"]
    assert low.fair_share == pytest.approx(0.5)
    # A point above the floor of 0.8 (SEARCH_FLOOR_MARGIN): a run cut short still meets it.
    assert low.ratio == pytest.approx(0.81, abs=1e-3)
    low_s = sum(c.duration_s for c in fair.contacts if c.request == "low")
    assert low_s == pytest.approx(0.81 * pass_s / 2, abs=1.0)
