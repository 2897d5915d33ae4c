"""Repair: only what must change changes, after an outage or an ephemeris update."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

from groundlink.scheduling.greedy import greedy_schedule
from groundlink.scheduling.model import Instance, Interval, Resource, ScheduledContact
from groundlink.scheduling.repair import repair
from groundlink.scheduling.validate import check_schedule, schedule_value
from scheduling_fixtures import build, opportunity, random_instance, request


def with_outage(instance: Instance, antenna: str, start_s: float, end_s: float) -> Instance:
    resources = tuple(
        dataclasses.replace(r, maintenance=(*r.maintenance, Interval(start_s, end_s)))
        if r.id == antenna
        else r
        for r in instance.resources
    )
    return dataclasses.replace(instance, resources=resources)


def test_nothing_changed_nothing_changes() -> None:
    instance = random_instance(3, spacecraft=30, antennas=4, hours=12)
    previous = greedy_schedule(instance)
    result = repair(instance, previous)
    assert result.changed == 0
    assert set(result.contacts) == set(previous)
    assert len(result.kept) == sum(not c.fixed for c in previous)


def test_an_outage_moves_a_contact_to_the_nearest_free_pass() -> None:
    resources = [Resource("A1"), Resource("A2")]
    instance = build(
        [request("r", min_duration_s=300, max_duration_s=300), request("other")],
        [
            opportunity(0, "r", 3600, 4200, "A1"),
            opportunity(1, "r", 3600 + 7200, 4200 + 7200, "A2"),
            opportunity(2, "r", 3600 + 3 * 3600, 4200 + 3 * 3600, "A1"),
            opportunity(3, "other", 20_000, 20_600, "A2"),
        ],
        resources,
    )
    previous = (
        ScheduledContact("r", 0, ("A1",), 3600, 3900),
        ScheduledContact("other", 3, ("A2",), 20_000, 20_600),
    )
    assert check_schedule(instance, previous) == []
    changed = with_outage(instance, "A1", 3000, 5000)
    result = repair(changed, previous)
    assert result.kept == (previous[1],)
    ((before, after),) = result.moved
    assert before == previous[0]
    assert (after.opportunity, after.start_s, after.end_s) == (1, 3600 + 7200, 3900 + 7200)
    assert result.dropped == result.added == ()
    assert check_schedule(changed, result.contacts) == []


def test_a_contact_with_no_place_left_is_dropped_and_its_capacity_refilled() -> None:
    instance = build(
        [request("gone", priority=1, min_duration_s=300), request("waiting", priority=5)],
        [opportunity(0, "gone", 0, 600, "A1"), opportunity(1, "waiting", 600, 1200, "A1")],
        [Resource("A1", turnaround_s=120)],
    )
    previous = greedy_schedule(instance)
    assert [c.request for c in previous] == ["gone", "waiting"]
    changed = with_outage(instance, "A1", 0, 500)
    result = repair(changed, previous)
    assert [c.request for c in result.dropped] == ["gone"]
    assert [c.request for c in result.kept] == ["waiting"]
    assert result.changed == 1
    assert check_schedule(changed, result.contacts) == []


def test_a_contact_of_a_request_that_is_no_more_is_dropped_and_nothing_replaces_it() -> None:
    instance = build([request("r")], [opportunity(0, "r", 0, 600)])
    stale = ScheduledContact("vanished", 5, ("A1",), 0, 100)
    result = repair(instance, [stale])
    assert result.dropped == (stale,)
    # No request of the instance lost anything: a repair is no re-plan.
    assert result.added == ()


def test_a_six_hour_outage_changes_few_contacts_fast() -> None:
    instance = random_instance(11, spacecraft=300, antennas=20, hours=24, tenants=8)
    previous = greedy_schedule(instance)
    busiest = Counter(r for c in previous for r in c.resources).most_common(1)[0][0]
    changed = with_outage(instance, busiest, 6 * 3600, 12 * 3600)
    result = repair(changed, previous)
    assert check_schedule(changed, result.contacts) == []
    # Only contacts that held the antenna during the outage had to change.
    hit = [
        c
        for c in previous
        if busiest in c.resources and c.start_s < 12 * 3600 and c.end_s > 6 * 3600 - 600
    ]
    assert len(result.moved) + len(result.dropped) <= len(hit)
    untouched = set(previous) - set(hit)
    assert untouched <= set(result.contacts)
    assert result.changed_fraction <= 0.03
    fresh = greedy_schedule(changed)
    assert schedule_value(changed, result.contacts) >= 0.99 * schedule_value(changed, fresh)


def test_an_ephemeris_update_moves_passes_and_contacts_follow() -> None:
    instance = random_instance(5, spacecraft=40, antennas=6, hours=12)
    previous = greedy_schedule(instance)
    rng = np.random.default_rng(1)
    shifts = rng.uniform(-15, 15, len(instance.opportunities)).tolist()
    shifted = tuple(
        dataclasses.replace(o, id=o.id + 10_000, start_s=o.start_s + d, end_s=o.end_s + d)
        for o, d in zip(instance.opportunities, shifts, strict=True)
    )
    updated = dataclasses.replace(instance, opportunities=shifted)
    result = repair(updated, previous)
    assert check_schedule(updated, result.contacts) == []
    moves = [abs(after.start_s - before.start_s) for before, after in result.moved]
    assert moves and np.median(moves) <= 30
    # Every kept or moved contact is matched to a renumbered pass of its own request.
    by_id = {o.id: o for o in shifted}
    for contact in [*result.kept, *(after for _, after in result.moved)]:
        assert by_id[contact.opportunity].request == contact.request
    assert len(result.dropped) <= 0.1 * len(previous)


def test_kept_contacts_are_exactly_the_previous_ones() -> None:
    instance = random_instance(8, spacecraft=30, antennas=4, hours=12)
    previous = greedy_schedule(instance)
    changed = with_outage(instance, "A1", 3600, 7200)
    result = repair(changed, previous)
    previous_set = set(previous)
    assert all(c in previous_set for c in result.kept)
    assert not any(after in previous_set for _, after in result.moved)
    assert not any(c in previous_set for c in result.added)
    total = len(result.kept) + len(result.moved) + len(result.dropped)
    assert total == sum(not c.fixed for c in previous)
    assert result.changed_fraction == pytest.approx(result.changed / total)


def test_capacity_goes_to_the_requests_that_lost_a_contact_not_to_the_others() -> None:
    resources = [Resource("A1"), Resource("A2")]
    instance = build(
        [
            request("hit", demand=1, min_duration_s=300, max_duration_s=300),
            request("content", demand=2, min_duration_s=300, max_duration_s=300),
        ],
        [
            opportunity(0, "hit", 0, 600, "A1"),
            opportunity(1, "hit", 10_000, 10_600, "A2"),
            opportunity(2, "content", 20_000, 20_600, "A1"),
            opportunity(3, "content", 30_000, 30_600, "A2"),
        ],
        resources,
    )
    # The previous plan left "content" one contact short although pass 3 was free.
    previous = (
        ScheduledContact("hit", 0, ("A1",), 0, 300),
        ScheduledContact("content", 2, ("A1",), 20_000, 20_300),
    )
    changed = with_outage(instance, "A1", 0, 1000)
    result = repair(changed, previous)
    ((before, after),) = result.moved  # "hit" finds its other pass
    assert (before.request, after.opportunity) == ("hit", 1)
    assert result.added == ()  # "content" lost nothing: its free pass stays free
    assert check_schedule(changed, result.contacts) == []


def test_lost_value_is_made_up_elsewhere_only_up_to_the_previous_plan() -> None:
    others = [f"o{k}" for k in range(3)]
    instance = build(
        [
            request("hit", priority=1, min_duration_s=300, max_duration_s=300),
            *(request(o, priority=2, min_duration_s=300, max_duration_s=300) for o in others),
        ],
        [
            opportunity(0, "hit", 0, 600),
            *(
                opportunity(1 + k, o, 10_000 * (k + 1), 10_000 * (k + 1) + 600)
                for k, o in enumerate(others)
            ),
        ],
    )
    previous = (ScheduledContact("hit", 0, ("A1",), 0, 300),)
    changed = with_outage(instance, "A1", 0, 1000)
    previous_value = schedule_value(instance, previous)
    assert previous_value == 16  # priority 1 (weight 16), fully served
    # "hit" has nowhere to go; two priority-2 contacts (8 each) make up what was lost, no more.
    result = repair(changed, previous, value_tolerance=0.0)
    assert result.dropped == previous
    assert len(result.added) == 2
    assert schedule_value(changed, result.contacts) == previous_value
    # With a tolerance of half the value, one is enough.
    result = repair(changed, previous, value_tolerance=0.5)
    assert len(result.added) == 1
    assert schedule_value(changed, result.contacts) == 0.5 * previous_value
