"""The fairness rule: water-filling by hand, caps from opportunities, shares and the summaries."""

from __future__ import annotations

import math

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
from scheduling_fixtures import build, opportunity, request


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
    # Entitlements 32 : 5; for 20 in all, b's part 20 x 5/37 = 2.70 is under its cap of 4.
    assert fair_shares(instance, 20) == pytest.approx({"a": 20 * 32 / 37, "b": 20 * 5 / 37})
    # For 34, b's 4.59 would pass its cap: it gets 4 and a the other 30.
    assert fair_shares(instance, 34) == pytest.approx({"a": 30, "b": 4})
    # Tenant weights multiply the entitlement: b with weight 32/5 stands level with a.
    weighted = build(
        list(instance.requests),
        list(instance.opportunities),
        tenant_weights={"b": 32 / 5},
    )
    assert fair_shares(weighted, 8) == pytest.approx({"a": 4, "b": 4})


def test_the_fast_rule_agrees_with_water_fill() -> None:
    instance = _two_tenant_instance()
    rule = FairnessRule(instance)
    for total in (0, 1, 4.5, 20, 34, 36, 50):
        assert rule.fair_values(total) == pytest.approx(fair_shares(instance, total))


def test_tenant_shares_by_hand() -> None:
    instance = _two_tenant_instance()
    # a1 and b1 served: a has 16 of 32, b 4 of 5; total 20.
    contacts = [
        ScheduledContact("a1", 0, ("A1",), 0, 100),
        ScheduledContact("b1", 2, ("A1",), 200, 300),
    ]
    shares = {s.tenant: s for s in tenant_shares(instance, contacts)}
    fair_a, fair_b = 20 * 32 / 37, 20 * 5 / 37
    assert shares["a"].value == 16 and shares["a"].requested_value == 32
    assert shares["a"].share == 0.5
    assert shares["a"].fair_share == pytest.approx(fair_a / 32)
    assert shares["a"].ratio == pytest.approx(16 / fair_a)
    assert shares["b"].share == pytest.approx(0.8)
    assert shares["b"].ratio == pytest.approx(4 / fair_b)
    assert min_ratio(list(shares.values())) == pytest.approx(16 / fair_a)


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
