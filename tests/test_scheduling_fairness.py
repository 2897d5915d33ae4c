"""The fairness rule: antenna seconds and water-filling by hand, caps, shares and the summaries."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundlink.scheduling.fairness import (
    FairnessRule,
    fair_shares,
    jain_index,
    min_ratio,
    reachable_amounts,
    reachable_value,
    requested_seconds,
    requested_value,
    tenant_shares,
    water_fill,
)
from groundlink.scheduling.feasibility import index_instance
from groundlink.scheduling.model import (
    DemandKind,
    FixedContact,
    Resource,
    ScheduledContact,
    TenantShare,
)
from scheduling_fixtures import build, opportunity, random_instance, request


def test_water_fill_by_hand() -> None:
    # 9 to share 1:1:2; b is capped at 1, the other 8 go 1:2 to a and c.
    parts = water_fill({"a": 1, "b": 1, "c": 2}, {"a": 10, "b": 1, "c": 10}, 9)
    assert parts == pytest.approx({"a": 8 / 3, "b": 1, "c": 16 / 3})


def test_water_fill_with_everyone_capped_and_nothing_to_share() -> None:
    assert water_fill({"a": 1, "b": 3}, {"a": 2, "b": 1}, 100) == {"a": 2, "b": 1}
    assert water_fill({"a": 1, "b": 3}, {"a": 2, "b": 1}, 0) == {"a": 0, "b": 0}
    assert water_fill({"a": 1, "b": 1}, {"a": 0, "b": 5}, 4) == {"a": 0, "b": 4}


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(st.floats(0.1, 50, allow_nan=False), st.floats(0, 40, allow_nan=False)),
        min_size=1,
        max_size=8,
    ),
    st.floats(0, 300, allow_nan=False),
)
def test_water_fill_properties(tenants: list[tuple[float, float]], total: float) -> None:
    entitlement = {f"t{i}": e for i, (e, _) in enumerate(tenants)}
    caps = {f"t{i}": c for i, (_, c) in enumerate(tenants)}
    parts = water_fill(entitlement, caps, total)
    assert sum(parts.values()) == pytest.approx(min(total, sum(caps.values())), abs=1e-6)
    for t in parts:
        assert -1e-9 <= parts[t] <= caps[t] + 1e-9
    # Uncapped tenants get the same part per unit of entitlement, at least that of any other.
    levels = [parts[t] / entitlement[t] for t in parts if parts[t] < caps[t] - 1e-6]
    if levels:
        assert max(levels) - min(levels) < 1e-6
        assert all(parts[t] / entitlement[t] <= max(levels) + 1e-6 for t in parts)


def _two_tenant_instance():  # type: ignore[no-untyped-def]
    # Tenant "a": two priority-1 requests (16 each), "b": one priority-3 (4) and one priority-5
    # request (1) that has no pass at all.
    return build(
        [
            request("a1", tenant="a", priority=1),
            request("a2", tenant="a", priority=1),
            request("b1", tenant="b", priority=3),
            request("b2", tenant="b", priority=5),
        ],
        [
            opportunity(0, "a1", 0, 600),
            opportunity(1, "a2", 0, 600),
            opportunity(2, "b1", 0, 600),
        ],
    )


def test_requested_and_reachable_values() -> None:
    instance = _two_tenant_instance()
    assert requested_value(instance) == {"a": 32, "b": 5}
    assert reachable_value(instance) == {"a": 32, "b": 4}


def test_fair_shares_by_hand() -> None:
    instance = _two_tenant_instance()
    # Every pass is a whole 600 s contact on an antenna without turnaround: a asks for 1,200
    # antenna seconds (value 32), b for 600 (value 5, of which 4 reachable: a cap of 480 s).
    # a at 16 and b at 0 serve 600 s: 300 s each, worth 8 to a and 2.5 to b.
    assert fair_shares(instance, {"a": 16}) == pytest.approx({"a": 8, "b": 2.5})
    # a at 32 and b at 4 serve 1,680 s: b's 840 passes its cap of 480, a gets the other 1,200.
    assert fair_shares(instance, {"a": 32, "b": 4}) == pytest.approx({"a": 32, "b": 4})
    # a at 24 and b at 2 serve 1,140 s: b is capped at 480 s (value 4), a gets 660 s = 17.6.
    assert fair_shares(instance, {"a": 24, "b": 2}) == pytest.approx({"a": 17.6, "b": 4})
    # Tenant weights share the seconds: with b at weight 3, 600 s go 150 : 450.
    weighted = build(list(instance.requests), list(instance.opportunities), tenant_weights={"b": 3})
    assert fair_shares(weighted, {"a": 16}) == pytest.approx({"a": 4, "b": 3.75})


def test_the_fast_rule_agrees_with_water_fill() -> None:
    instance = random_instance(3, spacecraft=10, tenants=4, priority_by_tenant=True)
    rule = FairnessRule(instance)
    tenants = sorted(rule.requested)
    rng = np.random.default_rng(0)
    for _ in range(20):
        values = {t: float(rng.uniform(0, rule.caps[t])) for t in tenants}
        assert rule.fair_values(values) == pytest.approx(fair_shares(instance, values))


def test_the_rule_shares_the_served_antenna_time_max_min() -> None:
    instance = random_instance(5, spacecraft=12, tenants=4, priority_by_tenant=True)
    rule = FairnessRule(instance)
    values = {t: 0.6 * c for t, c in rule.caps.items()}
    fair = rule.fair_values(values)
    fair_s = {t: fair[t] * rule.requested_s[t] / rule.requested[t] for t in fair}
    served_s = sum(values[t] * rule.requested_s[t] / rule.requested[t] for t in values)
    # The same antenna seconds, shared: the same seconds per unit of tenant weight for every
    # tenant below its cap, and no capped tenant above that level. Priorities play no part.
    assert sum(fair_s.values()) == pytest.approx(served_s)
    level = {t: fair_s[t] / instance.tenant_weight(t) for t in fair_s}
    free = [level[t] for t in level if fair_s[t] < rule.caps_s[t] - 1e-6]
    assert free and max(free) - min(free) < 1e-6
    assert all(level[t] <= max(free) + 1e-6 for t in level)
    assert len({instance.tenant_weight(t) for t in fair}) > 1  # weights are exercised


def test_requested_seconds_by_hand() -> None:
    resources = [Resource("A1", turnaround_s=60), Resource("A2", turnaround_s=30)]
    instance = build(
        [
            request("c", demand=3, min_duration_s=200, setup_s=10, teardown_s=20),
            request("s", demand=1000, demand_kind=DemandKind.SECONDS, max_duration_s=400),
            request("b", demand=1e6, demand_kind=DemandKind.BYTES),
            request("z", demand=2),
            request("n", demand=5),
        ],
        [
            opportunity(0, "c", 0, 600, "A1"),  # 200 + 30 + 60 = 290 s for one contact
            opportunity(1, "c", 1000, 1500, ("A1", "A2")),  # 230 x 2 + 60 + 30 = 550 s
            opportunity(2, "c", 2000, 2100, "A1"),  # too short: not counted
            opportunity(3, "s", 0, 600, "A1"),  # 400 s served in 460 s
            opportunity(4, "s", 0, 300, "A2"),  # 300 s served in 330 s
            opportunity(5, "b", 0, 500, "A1", rate_bytes_s=1000),  # 500 kB in 560 s
            opportunity(6, "b", 0, 100, "A2", rate_bytes_s=3000),  # 300 kB in 130 s
            opportunity(7, "z", 0, 300, "A1"),  # no minimum: the whole pass, 360 s
        ],
        resources,
    )
    seconds = requested_seconds(index_instance(instance))
    assert seconds == pytest.approx(
        {
            "c": 3 * (290 + 550) / 2,
            "s": 1000 * (460 + 330) / 700,
            "b": 1e6 * (560 + 130) / 8e5,
            "z": 2 * 360,
            "n": 0,
        }
    )


def test_tenant_shares_by_hand() -> None:
    instance = _two_tenant_instance()
    # a1 and b1 served: a has 16 of 32 (600 s), b 4 of 5 (480 s); 1,080 s in all, 540 s each:
    # b is capped at 480 s (fair value 4), a gets 600 s (fair value 16).
    contacts = [
        ScheduledContact("a1", 0, ("A1",), 0, 100),
        ScheduledContact("b1", 2, ("A1",), 200, 300),
    ]
    shares = {s.tenant: s for s in tenant_shares(instance, contacts)}
    assert shares["a"].value == 16 and shares["a"].requested_value == 32
    assert shares["a"].share == 0.5 and shares["a"].fair_share == pytest.approx(0.5)
    assert shares["b"].share == pytest.approx(0.8)
    assert shares["b"].fair_share == pytest.approx(0.8)
    assert shares["a"].ratio == pytest.approx(1) and shares["b"].ratio == pytest.approx(1)
    # a alone: 1,200 s served, 600 each, b capped at 480: a's fair value 720 s = 19.2.
    alone = {
        s.tenant: s
        for s in tenant_shares(
            instance, [*contacts[:1], ScheduledContact("a2", 1, ("A1",), 400, 500)]
        )
    }
    assert alone["a"].fair_share == pytest.approx(19.2 / 32)
    assert alone["b"].ratio == 0 and min_ratio(list(alone.values())) == 0


def test_a_tenant_entitled_to_nothing_has_ratio_one() -> None:
    instance = build([request("r", tenant="lonely")], [])
    (share,) = tenant_shares(instance, [])
    assert share.fair_share == 0 and share.ratio == 1.0


def test_jain_index_over_ratios() -> None:
    def shares(*ratios: float) -> list[TenantShare]:
        return [TenantShare(f"t{i}", 1, 1, 1, 1, r) for i, r in enumerate(ratios)]

    assert jain_index(shares(1, 1, 1)) == pytest.approx(1)
    assert jain_index(shares(1, 0.5)) == pytest.approx(2.25 / 2.5)
    assert jain_index(shares(3, 0, 0)) == pytest.approx(1 / 3)
    assert jain_index([]) == 1 and min_ratio([]) == 1
    assert min_ratio(shares(1.2, 0.7, 0.9)) == 0.7


def test_reachable_amounts_count_overlapping_passes_once_per_spacecraft() -> None:
    resources = [Resource("A1"), Resource("A2")]
    instance = build(
        [
            # Two antennas see the spacecraft at once: one contact of 300 s at a time.
            request("c", demand=5, min_duration_s=300),
            request("s", demand=10_000, demand_kind=DemandKind.SECONDS, max_duration_s=500),
            request("m", demand=5, max_contacts=2),
            request("f", demand=3, min_duration_s=100),
        ],
        [
            opportunity(0, "c", 0, 600, "A1"),
            opportunity(1, "c", 100, 700, "A2"),  # cluster 0-700: 2 windows, 2 fit in 700 s
            opportunity(2, "c", 1000, 1200, "A1"),  # too short for 300 s
            opportunity(3, "s", 0, 600, "A1"),
            opportunity(4, "s", 300, 900, "A2"),  # cluster 0-900: at most 900 s
            opportunity(5, "m", 0, 100),
            opportunity(6, "m", 200, 300),
            opportunity(7, "m", 400, 500),
            opportunity(8, "f", 0, 600),
        ],
        resources,
        fixed=[FixedContact("F", ("A2",), 1000, 1200, request="f")],
    )
    amounts = reachable_amounts(index_instance(instance))
    assert amounts == pytest.approx({"c": 2, "s": 900, "m": 2, "f": 2})
    assert not math.isnan(sum(amounts.values()))
