"""The timeline's quick room test is a necessary condition, and lengthening in place is exact."""

from __future__ import annotations

import pytest

from groundlink.scheduling.feasibility import Usability
from groundlink.scheduling.greedy import Planner
from groundlink.scheduling.model import DemandKind, Instance
from groundlink.scheduling.timeline import Timeline
from scheduling_fixtures import CONFIGURATIONS, configuration_id, random_instance


def half_filled(config: dict[str, object], seed: int) -> tuple[Instance, Planner]:
    """A planner whose fill stopped at half the value a full fill reaches."""
    instance = random_instance(seed, spacecraft=24, antennas=4, hours=8, **config)  # type: ignore[arg-type]
    full = Planner(instance)
    full.place_fixed()
    full.fill()
    planner = Planner(instance)
    planner.place_fixed()
    planner.fill(target_value=0.5 * full.total_value)
    return instance, planner


def windows(instance: Instance, planner: Planner) -> list[tuple[int, int, float, float]]:
    """(request, opportunity position, window start, window end) of every unused usable pass."""
    index = planner.index
    return [
        (
            int(index.opportunity_request[i]),
            i,
            float(index.window_start_s[i]),
            float(index.window_end_s[i]),
        )
        for i, o in enumerate(instance.opportunities)
        if index.usability[i] == Usability.USABLE and o.id not in planner.used_opportunities
    ]


def room(planner: Planner, r: int, i: int, start_s: float, end_s: float, min_s: float) -> bool:
    timeline, index = planner.timeline, planner.index
    request, opportunity = planner.instance.requests[r], planner.instance.opportunities[i]
    antenna = index.resource_index[opportunity.resources[0]]
    return timeline.has_room(
        antenna, request.spacecraft, start_s, end_s, min_s, request.setup_s, request.teardown_s
    )


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("config", CONFIGURATIONS, ids=configuration_id)
def test_a_contact_the_exact_search_finds_always_passes_the_quick_test(
    config: dict[str, object], seed: int
) -> None:
    # The exact search asked for the longest contact it can find fills its free gap, so the
    # quick test for that length is at its limit: a test stricter than the rule fails here.
    instance, planner = half_filled(config, seed)
    found = rejected = 0
    for r, i, start_s, end_s in windows(instance, planner):
        request, opportunity = instance.requests[r], instance.opportunities[i]
        longest = min(end_s - start_s, request.max_duration_s)
        window = planner.timeline.best_window(
            opportunity, request, start_s, end_s, longest, 1.0, longest, screened=True
        )
        if window is not None:
            assert room(planner, r, i, start_s, end_s, window[1] - window[0]), (r, i, window)
            found += 1
        rejected += not room(planner, r, i, start_s, end_s, request.min_duration_s)
    assert found and rejected  # both cases were seen


@pytest.mark.parametrize("config", CONFIGURATIONS[:4], ids=configuration_id)
def test_a_window_without_room_stays_without_room_as_the_fill_goes_on(
    config: dict[str, object],
) -> None:
    instance, planner = half_filled(config, 3)
    min_s = 60.0
    full = [w for w in windows(instance, planner) if not room(planner, *w, min_s)]
    planner.fill()
    assert full
    assert not any(room(planner, *w, min_s) for w in full)


def test_first_with_room_is_the_first_window_that_passes_the_quick_test() -> None:
    instance, planner = half_filled({}, 5)
    index = planner.index
    for r, request in enumerate(instance.requests):
        mine = [w for w in windows(instance, planner) if w[0] == r]
        resources = [index.resource_index[instance.opportunities[w[1]].resources[0]] for w in mine]
        starts, ends = [w[2] for w in mine], [w[3] for w in mine]
        passing = [k for k, w in enumerate(mine) if room(planner, *w, 120.0)]
        for first in range(len(mine) + 1):
            expected = next((k for k in passing if k >= first), len(mine))
            got = planner.timeline.first_with_room(
                resources,
                starts,
                ends,
                first,
                len(mine),
                request.spacecraft,
                120.0,
                request.setup_s,
                request.teardown_s,
            )
            assert got == expected


@pytest.mark.parametrize(
    "config",
    [c for c in CONFIGURATIONS if "contacts" in c.get("kinds", ("contacts",))],  # type: ignore[operator]
    ids=configuration_id,
)
def test_widening_a_contact_in_place_equals_taking_it_out_first(config: dict[str, object]) -> None:
    instance, planner = half_filled(config, 7)
    timeline: Timeline = planner.timeline
    index = planner.index
    compared = 0
    for key, placement in list(timeline.placements.items()):
        contact = placement.contact
        if contact.fixed or key in planner.frozen:
            continue
        request = index.request(contact.request)
        if request.demand_kind is not DemandKind.CONTACTS:
            continue
        i = index.opportunity_index[contact.opportunity]
        args = (
            instance.opportunities[i],
            request,
            float(index.window_start_s[i]),
            float(index.window_end_s[i]),
            (contact.start_s, contact.end_s),
        )
        in_place = timeline.widest_window(*args, max_s=request.max_duration_s, ignore=key)
        timeline.remove(key)
        taken_out = timeline.widest_window(*args, max_s=request.max_duration_s)
        timeline.add(contact, key=key)
        assert in_place == taken_out
        compared += in_place is not None
    assert compared
