"""Explanations: each reason on an instance built so that it must be that reason."""

from __future__ import annotations

import pytest

from groundlink.scheduling.explain import explain_unserved
from groundlink.scheduling.greedy import greedy_schedule
from groundlink.scheduling.model import (
    DemandKind,
    FixedContact,
    Interval,
    Resource,
    ScheduledContact,
    Unserved,
)
from groundlink.scheduling.validate import check_schedule
from scheduling_fixtures import build, opportunity, random_instance, request


def only(explained: tuple[Unserved, ...], request_id: str) -> Unserved:
    (found,) = [u for u in explained if u.request == request_id]
    return found


def test_fully_served_requests_need_no_explanation() -> None:
    instance = build([request("r")], [opportunity(0, "r", 0, 600)])
    assert explain_unserved(instance, greedy_schedule(instance)) == ()


def test_no_opportunity_in_the_time_window() -> None:
    instance = build(
        [request("r", earliest_s=5000.0, latest_s=9000.0), request("none")],
        [opportunity(0, "r", 0, 600), opportunity(1, "r", 10_000, 10_600)],
    )
    explained = explain_unserved(instance, greedy_schedule(instance))
    r = only(explained, "r")
    assert (r.reason, r.served, r.demand) == ("no_opportunity", 0, 1)
    assert "2 of its 2 passes lie outside its time window" in r.detail
    assert only(explained, "none").detail == "served 0 of 1 contacts: it has no passes at all"


def test_all_passes_used_and_still_short() -> None:
    instance = build([request("r", demand=3)], [opportunity(0, "r", 0, 600)])
    r = only(explain_unserved(instance, greedy_schedule(instance)), "r")
    assert r.reason == "no_opportunity" and r.served == 1
    assert "all 1 of its passes are used" in r.detail


def test_band_mismatch() -> None:
    instance = build(
        [request("r", bands=("X",))],
        [opportunity(0, "r", 0, 600, "A1"), opportunity(1, "r", 1000, 1600, "A1")],
        [Resource("A1", station="S1", bands=("S",))],
    )
    r = only(explain_unserved(instance, greedy_schedule(instance)), "r")
    assert r.reason == "band_mismatch"
    assert "2 of its 2 passes are on antennas that do not serve its bands" in r.detail
    assert "A1 at 2024-06-01T00:00:00Z" in r.detail


def test_excluded_stations() -> None:
    instance = build(
        [request("r", excluded_stations=("S1",))],
        [opportunity(0, "r", 0, 600)],
    )
    assert only(explain_unserved(instance, []), "r").reason == "excluded_stations"
    listed = build([request("r", stations=("S7",))], [opportunity(0, "r", 0, 600)])
    assert only(explain_unserved(listed, []), "r").reason == "excluded_stations"


def test_too_short() -> None:
    instance = build(
        [request("r", min_duration_s=600)],
        [opportunity(0, "r", 0, 300), opportunity(1, "r", 1000, 1500)],
    )
    r = only(explain_unserved(instance, greedy_schedule(instance)), "r")
    assert r.reason == "too_short"
    assert "2 of its 2 passes are shorter than its minimum duration" in r.detail


def test_maintenance() -> None:
    resource = Resource("A1", maintenance=(Interval(0, 2000),))
    instance = build(
        [request("r", min_duration_s=300)],
        # The second pass leaves 200 s after maintenance: not enough for 300 s.
        [opportunity(0, "r", 0, 600), opportunity(1, "r", 1500, 2200)],
        [resource],
    )
    r = only(explain_unserved(instance, greedy_schedule(instance)), "r")
    assert r.reason == "maintenance"
    assert "2 of its 2 passes fall in maintenance" in r.detail


def test_busy_with_higher_priority() -> None:
    instance = build(
        [
            request("vip", priority=1, min_duration_s=600),
            request("r", priority=3, min_duration_s=300),
        ],
        [opportunity(0, "vip", 0, 600), opportunity(1, "r", 100, 500)],
    )
    schedule = greedy_schedule(instance)
    assert [c.request for c in schedule] == ["vip"]
    r = only(explain_unserved(instance, schedule), "r")
    assert r.reason == "busy_higher_priority"
    assert "1 of its 1 passes are taken (1 by priority-1 requests)" in r.detail
    assert "vip (priority 1) on A1 at 2024-06-01T00:00:00Z" in r.detail


def test_busy_with_same_or_lower_priority() -> None:
    # A fixed contact of a priority-5 request holds the antenna: it is never moved.
    instance = build(
        [request("old", priority=5), request("r", priority=3, min_duration_s=300)],
        [opportunity(0, "old", 0, 600), opportunity(1, "r", 100, 500)],
        fixed=[FixedContact("F", ("A1",), 0, 600, request="old")],
    )
    schedule = greedy_schedule(instance)
    r = only(explain_unserved(instance, schedule), "r")
    assert r.reason == "busy_same_or_lower_priority"
    assert "1 by priority-5 requests" in r.detail


def test_a_fixed_block_counts_as_more_important() -> None:
    instance = build(
        [request("r", priority=1, min_duration_s=300)],
        [opportunity(0, "r", 100, 500)],
        fixed=[FixedContact("F", ("A1",), 0, 600)],
    )
    r = only(explain_unserved(instance, greedy_schedule(instance)), "r")
    assert r.reason == "busy_higher_priority"
    assert "1 by fixed blocks" in r.detail


def test_spacecraft_limit() -> None:
    resources = [Resource("A1"), Resource("A2")]
    instance = build(
        [
            request("first", spacecraft="sc", priority=1, min_duration_s=600),
            request("second", spacecraft="sc", priority=3, min_duration_s=300),
        ],
        [opportunity(0, "first", 0, 600, "A1"), opportunity(1, "second", 100, 500, "A2")],
        resources,
    )
    schedule = greedy_schedule(instance)
    r = only(explain_unserved(instance, schedule), "second")
    assert r.reason == "spacecraft_limit"
    assert "overlap other contacts of its spacecraft sc" in r.detail


def test_fairness() -> None:
    # Tenant a gets a1 and a3 (8 of 12), b gets b1 (4 of 8): a is above its fair share,
    # b below. a2's only pass went to b1: fairness. b2's went to a3: busy, same priority.
    instance = build(
        [
            request("a1", tenant="a"),
            request("a2", tenant="a"),
            request("a3", tenant="a"),
            request("b1", tenant="b"),
            request("b2", tenant="b"),
        ],
        [
            opportunity(0, "a1", 0, 600, "A1"),
            opportunity(1, "a2", 1000, 1600, "A2"),
            opportunity(2, "b1", 1000, 1600, "A2"),
            opportunity(3, "a3", 2000, 2600, "A3"),
            opportunity(4, "b2", 2000, 2600, "A3"),
        ],
        [Resource("A1"), Resource("A2"), Resource("A3")],
    )
    schedule = [
        ScheduledContact("a1", 0, ("A1",), 0, 600),
        ScheduledContact("b1", 2, ("A2",), 1000, 1600),
        ScheduledContact("a3", 3, ("A3",), 2000, 2600),
    ]
    assert check_schedule(instance, schedule) == []
    explained = explain_unserved(instance, schedule)
    assert only(explained, "a2").reason == "fairness"
    assert only(explained, "b2").reason == "busy_same_or_lower_priority"
    # A schedule made without the fairness floor never blames fairness.
    unfair = explain_unserved(instance, schedule, fairness=False)
    assert only(unfair, "a2").reason == "busy_same_or_lower_priority"


def test_unused_capacity() -> None:
    instance = build([request("r", demand=2)], [opportunity(0, "r", 0, 600)])
    r = only(explain_unserved(instance, []), "r")
    assert r.reason == "unused_capacity"
    assert r.detail.startswith("served 0 of 2 contacts: 1 of its 1 passes still have room")


def test_max_contacts_and_min_served_limits() -> None:
    instance = build(
        [
            request("capped", demand=900, demand_kind=DemandKind.SECONDS, max_contacts=1),
            request("minimum", demand=900, demand_kind=DemandKind.SECONDS, min_served=800),
        ],
        [opportunity(0, "capped", 0, 600, "A1"), opportunity(1, "minimum", 0, 600, "A2")],
        [Resource("A1"), Resource("A2")],
    )
    explained = explain_unserved(instance, greedy_schedule(instance))
    capped = only(explained, "capped")
    assert capped.reason == "too_short" and capped.served == pytest.approx(600)
    assert "max_contacts" in capped.detail
    minimum = only(explained, "minimum")
    assert minimum.reason == "too_short" and minimum.served == 0
    assert "min_served" in minimum.detail


@pytest.mark.parametrize("seed", range(4))
def test_every_unserved_request_of_a_greedy_schedule_is_explained(seed: int) -> None:
    instance = random_instance(seed, spacecraft=30, antennas=4, hours=12, load=1.5)
    schedule = greedy_schedule(instance)
    explained = explain_unserved(instance, schedule)
    served_fully = {r.id for r in instance.requests} - {u.request for u in explained}
    assert explained and len(served_fully) + len(explained) == len(instance.requests)
    for unserved in explained:
        assert unserved.served < unserved.demand
        assert unserved.detail.startswith("served ")
        # The greedy looks at every usable pass: none is left with room for its request.
        assert unserved.reason != "unused_capacity"
