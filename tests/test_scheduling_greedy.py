"""The greedy: always valid, never above brute force (equal where obvious), and each rule."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundlink.contacts.conflicts import find_antenna_conflicts
from groundlink.scheduling.fairness import min_ratio, tenant_shares
from groundlink.scheduling.feasibility import index_instance
from groundlink.scheduling.greedy import Planner, greedy_schedule
from groundlink.scheduling.model import (
    DemandKind,
    FixedContact,
    Instance,
    Interval,
    Resource,
    ScheduledContact,
)
from groundlink.scheduling.timeline import Timeline
from groundlink.scheduling.validate import check_schedule, schedule_value
from scheduling_fixtures import (
    CONFIGURATIONS,
    build,
    configuration_id,
    opportunity,
    random_instance,
    request,
)

SLEWING = Resource("A1", turnaround_s=30, max_az_rate_deg_s=3, max_el_rate_deg_s=1)


def independent_antenna_pairs(instance: Instance, contacts: tuple[ScheduledContact, ...]) -> int:
    """Conflicting pairs by find_antenna_conflicts, with holds and pointings built here."""
    index = index_instance(instance)
    rows = []
    for c in contacts:
        req = index.request(c.request) if c.request else None
        opp = None if c.fixed else index.opportunity(c.opportunity)
        pointing = [math.nan] * 4
        if opp is not None:
            if c.start_s == opp.start_s:
                pointing[0:2] = [opp.start_azimuth_deg, opp.start_elevation_deg]
            if c.end_s == opp.end_s:
                pointing[2:4] = [opp.end_azimuth_deg, opp.end_elevation_deg]
        for name in c.resources:
            resource = index.resources([name])[0]
            setup = req.setup_s if req else 0.0
            teardown = req.teardown_s if req else 0.0
            rows.append((c.start_s - setup, c.end_s + teardown, name, resource, pointing, c.fixed))
            # Maintenance never overlaps a hold: checked here too, by hand.
            if not c.fixed:
                for window in resource.maintenance:
                    assert not (
                        window.start_s < c.end_s + teardown and c.start_s - setup < window.end_s
                    )
    if len(rows) < 2:
        return 0
    slewing = [r for r in rows if r[3].max_az_rate_deg_s is not None]
    plain = [r for r in rows if r[3].max_az_rate_deg_s is None]
    count = 0
    for group, with_slew in ((slewing, True), (plain, False)):
        if len(group) < 2:
            continue
        pairs = find_antenna_conflicts(
            [r[0] for r in group],
            [r[1] for r in group],
            np.array([r[2] for r in group], dtype=object),
            [r[3].turnaround_s for r in group],
            start_azimuth_deg=[r[4][0] for r in group],
            start_elevation_deg=[r[4][1] for r in group],
            end_azimuth_deg=[r[4][2] for r in group],
            end_elevation_deg=[r[4][3] for r in group],
            max_az_rate_deg_s=[r[3].max_az_rate_deg_s for r in group] if with_slew else None,
            max_el_rate_deg_s=[r[3].max_el_rate_deg_s for r in group] if with_slew else None,
        )
        count += sum(1 for i, j in pairs.tolist() if not (group[i][5] and group[j][5]))
    return count


@pytest.mark.parametrize("fairness", [True, False])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("config", CONFIGURATIONS, ids=configuration_id)
def test_random_instances_get_valid_schedules(
    config: dict[str, object], seed: int, fairness: bool
) -> None:
    instance = random_instance(seed, **config)  # type: ignore[arg-type]
    contacts = greedy_schedule(instance, fairness=fairness)
    assert check_schedule(instance, contacts) == []
    assert independent_antenna_pairs(instance, contacts) == 0
    assert sum(c.fixed for c in contacts) == len(instance.fixed)
    assert schedule_value(instance, contacts) > 0


@st.composite
def tiny_instances(draw: st.DrawFn) -> Instance:
    antennas = [
        Resource(
            f"A{a}",
            station=f"S{a}",
            turnaround_s=float(draw(st.sampled_from([0, 20, 60]))),
            max_az_rate_deg_s=draw(st.sampled_from([None, 2.0])),
            max_el_rate_deg_s=1.0,
            maintenance=tuple(
                Interval(float(s), float(s) + 300)
                for s in draw(st.lists(st.integers(0, 3000), max_size=1))
            ),
        )
        for a in range(draw(st.integers(1, 3)))
    ]
    requests, opportunities = [], []
    for r in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(list(DemandKind)))
        requests.append(
            request(
                f"r{r}",
                spacecraft=f"sc{draw(st.integers(0, 2))}",
                demand={DemandKind.CONTACTS: 2.0, DemandKind.SECONDS: 500.0}.get(kind, 5e5),
                demand_kind=kind,
                min_duration_s=float(draw(st.sampled_from([0, 60, 200]))),
                max_duration_s=float(draw(st.sampled_from([300, math.inf]))),
                priority=draw(st.integers(1, 5)),
                setup_s=float(draw(st.sampled_from([0, 30]))),
                teardown_s=float(draw(st.sampled_from([0, 30]))),
            )
        )
        for _ in range(draw(st.integers(0, 4))):
            start = float(draw(st.integers(0, 3600)))
            length = float(draw(st.integers(30, 900)))
            on: str | tuple[str, ...] = draw(st.sampled_from(antennas)).id
            if len(antennas) > 1 and draw(st.booleans()):
                on = (antennas[0].id, antennas[1].id)  # an arrayed pass: both at once
            opportunities.append(
                opportunity(
                    len(opportunities),
                    f"r{r}",
                    start,
                    start + length,
                    on,
                    rate_bytes_s=1000.0,
                    start_azimuth_deg=float(draw(st.integers(0, 359))),
                    start_elevation_deg=5.0,
                    end_azimuth_deg=float(draw(st.integers(0, 359))),
                    end_elevation_deg=5.0,
                )
            )
    limits = {"sc0": 2} if draw(st.booleans()) else {}
    fixed = []
    if draw(st.booleans()):
        start = float(draw(st.integers(0, 3600)))
        fixed.append(FixedContact("F", (antennas[0].id,), start, start + 200, request="r0"))
    return build(
        requests, opportunities, antennas, fixed=fixed, max_simultaneous=limits, horizon_s=7200
    )


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(tiny_instances(), st.booleans())
def test_tiny_random_instances_get_valid_schedules(instance: Instance, fairness: bool) -> None:
    contacts = greedy_schedule(instance, fairness=fairness)
    assert check_schedule(instance, contacts) == []
    assert independent_antenna_pairs(instance, contacts) == 0


# --- against brute force --------------------------------------------------------------------


def brute_force_value(instance: Instance) -> float:
    """Best value over every subset of whole-pass contacts (each pass is exactly one contact)."""
    candidates = [
        ScheduledContact(o.request, o.id, o.resources, o.start_s, o.end_s)
        for o in instance.opportunities
    ]
    best = 0.0
    for size in range(len(candidates) + 1):
        for subset in itertools.combinations(candidates, size):
            if check_schedule(instance, subset) == []:
                best = max(best, schedule_value(instance, subset))
    return best


@st.composite
def whole_pass_instances(draw: st.DrawFn) -> Instance:
    """Every pass lasts its request's one allowed duration: a contact is all of it or none."""
    antennas = [Resource(f"A{a}", turnaround_s=30.0) for a in range(draw(st.integers(1, 2)))]
    requests, opportunities = [], []
    for r in range(draw(st.integers(1, 3))):
        length = float(draw(st.sampled_from([120, 300])))
        requests.append(
            request(
                f"r{r}",
                spacecraft=f"sc{r}",
                demand=float(draw(st.integers(1, 3))),
                min_duration_s=length,
                max_duration_s=length,
                priority=draw(st.integers(1, 5)),
            )
        )
        for _ in range(draw(st.integers(1, 3))):
            start = float(draw(st.integers(0, 12)) * 100)
            on = draw(st.sampled_from(antennas)).id
            opportunities.append(
                opportunity(len(opportunities), f"r{r}", start, start + length, on)
            )
    return build(requests, opportunities[:7], antennas, horizon_s=3600)


@settings(max_examples=60, deadline=None, database=None)
@given(whole_pass_instances(), st.booleans())
def test_greedy_never_beats_brute_force(instance: Instance, fairness: bool) -> None:
    contacts = greedy_schedule(instance, fairness=fairness)
    assert check_schedule(instance, contacts) == []
    assert schedule_value(instance, contacts) <= brute_force_value(instance) + 1e-9


def test_greedy_matches_brute_force_when_passes_do_not_overlap() -> None:
    requests = [request("r0", demand=2, priority=1), request("r1", demand=3, priority=4)]
    opportunities = [opportunity(i, f"r{i % 2}", i * 1000.0, i * 1000.0 + 300) for i in range(6)]
    instance = build(requests, opportunities)
    contacts = greedy_schedule(instance)
    assert schedule_value(instance, contacts) == pytest.approx(brute_force_value(instance))
    assert schedule_value(instance, contacts) == pytest.approx(16 + 2)


def test_greedy_matches_brute_force_on_one_contested_pass() -> None:
    # One antenna, one 10-minute window, two requests that each need all of it.
    requests = [
        request("low", priority=5, min_duration_s=600, max_duration_s=600),
        request("high", priority=2, min_duration_s=600, max_duration_s=600),
    ]
    instance = build(requests, [opportunity(0, "low", 0, 600), opportunity(1, "high", 0, 600)])
    contacts = greedy_schedule(instance)
    assert [c.request for c in contacts] == ["high"]
    assert schedule_value(instance, contacts) == brute_force_value(instance) == 8


def test_density_picks_two_short_contacts_over_one_long() -> None:
    # The long request is worth 4 and holds the antenna 900 s; two short ones 4 each.
    requests = [
        request("long", min_duration_s=900, max_duration_s=900),
        request("a", min_duration_s=300, max_duration_s=300),
        request("b", min_duration_s=300, max_duration_s=300),
    ]
    opportunities = [
        opportunity(0, "long", 0, 900),
        opportunity(1, "a", 0, 300),
        opportunity(2, "b", 500, 800),
    ]
    instance = build(requests, opportunities)
    contacts = greedy_schedule(instance, fairness=False)
    assert sorted(c.request for c in contacts) == ["a", "b"]
    assert schedule_value(instance, contacts) == brute_force_value(instance) == 8


# --- the rules, one at a time ---------------------------------------------------------------


def test_a_contact_request_takes_its_minimum_then_is_lengthened_to_its_maximum() -> None:
    instance = build(
        [request("r", demand=1, min_duration_s=120, max_duration_s=400)],
        [opportunity(0, "r", 1000, 2000)],
    )
    (contact,) = greedy_schedule(instance)
    assert contact.duration_s == pytest.approx(400)
    # Centred on the pass where the antenna is free.
    assert contact.start_s == pytest.approx(1300)


def test_lengthening_stops_at_the_neighbour() -> None:
    instance = build(
        [
            request("r", demand=1, min_duration_s=120, max_duration_s=900, priority=5),
            request("other", demand=1, min_duration_s=300, max_duration_s=300, priority=1),
        ],
        [opportunity(0, "r", 1000, 2000), opportunity(1, "other", 1500, 1800)],
        [Resource("A1", turnaround_s=60)],
    )
    contacts = greedy_schedule(instance)
    by_request = {c.request: c for c in contacts}
    assert by_request["other"].start_s == 1500
    # 1000 to 1440: up to the other's hold minus the turnaround.
    assert by_request["r"].start_s == 1000
    assert by_request["r"].end_s == pytest.approx(1440, abs=1e-3)
    assert check_schedule(instance, contacts) == []


def test_a_seconds_request_takes_what_it_still_lacks() -> None:
    instance = build(
        [request("r", demand=700, demand_kind=DemandKind.SECONDS, min_duration_s=60)],
        [opportunity(0, "r", 0, 600), opportunity(1, "r", 1000, 1600)],
    )
    contacts = greedy_schedule(instance)
    assert [c.duration_s for c in contacts] == [600, 100]
    assert schedule_value(instance, contacts) == pytest.approx(4)


def test_a_bytes_request_lasts_as_long_as_its_rate_needs() -> None:
    instance = build(
        [request("r", demand=3e6, demand_kind=DemandKind.BYTES)],
        [opportunity(0, "r", 0, 900, rate_bytes_s=1e4)],
    )
    (contact,) = greedy_schedule(instance)
    assert contact.duration_s == pytest.approx(300)


def test_trimmed_start_after_a_neighbour_waits_the_worst_slew() -> None:
    # "first" holds 0-600 (LOS pointing known); "second"'s pass starts at 300, so its
    # contact is trimmed: unknown pointing, 180 deg at 3 deg/s = 60 s, + 30 s turnaround.
    instance = build(
        [
            request("first", priority=1, min_duration_s=600, max_duration_s=600),
            request("second", priority=3, min_duration_s=200, max_duration_s=200),
        ],
        [
            opportunity(0, "first", 0, 600, end_azimuth_deg=10, end_elevation_deg=5),
            opportunity(1, "second", 300, 1200, start_azimuth_deg=20, start_elevation_deg=5),
        ],
        [SLEWING],
    )
    contacts = greedy_schedule(instance)
    second = next(c for c in contacts if c.request == "second")
    assert second.start_s == pytest.approx(690, abs=2e-3)
    assert check_schedule(instance, contacts) == []


def test_an_untrimmed_pass_start_uses_its_known_pointing() -> None:
    # The second pass starts 40 s after the first ends: 10 deg = 3.3 s slew + 30 s turnaround.
    instance = build(
        [
            request("first", priority=1, min_duration_s=600, max_duration_s=600),
            request("second", priority=3, min_duration_s=200, max_duration_s=200),
        ],
        [
            opportunity(0, "first", 0, 600, end_azimuth_deg=10, end_elevation_deg=5),
            opportunity(1, "second", 640, 1200, start_azimuth_deg=20, start_elevation_deg=5),
        ],
        [SLEWING],
    )
    second = next(c for c in greedy_schedule(instance) if c.request == "second")
    assert second.start_s == 640


def test_maintenance_bands_stations_and_time_window_are_respected() -> None:
    resources = [
        Resource("A1", station="S1", bands=("S",)),
        Resource("A2", station="S2", bands=("S", "X"), maintenance=(Interval(0, 1000),)),
        Resource("A3", station="S3", bands=("S", "X")),
        Resource("A4", station="S4", bands=("S", "X")),
    ]
    instance = build(
        [
            request(
                "r",
                demand=5,
                bands=("X",),
                excluded_stations=("S3",),
                earliest_s=500.0,
                latest_s=5000.0,
            )
        ],
        [
            opportunity(0, "r", 600, 900, "A1"),  # band
            opportunity(1, "r", 600, 900, "A2"),  # maintenance
            opportunity(2, "r", 1600, 1900, "A3"),  # excluded station
            opportunity(3, "r", 0, 400, "A4"),  # before earliest
            opportunity(4, "r", 4900, 5200, "A4"),  # partly after latest
            opportunity(5, "r", 2600, 2900, "A4"),  # fine
        ],
        resources,
    )
    contacts = greedy_schedule(instance)
    assert [(c.opportunity, c.start_s, c.end_s) for c in contacts] == [
        (5, 2600, 2900),
        (4, 4900, 5000),
    ]


def test_spacecraft_limit() -> None:
    resources = [Resource("A1"), Resource("A2")]
    requests = [request("r", demand=2, spacecraft="sc")]
    opportunities = [opportunity(0, "r", 0, 600, "A1"), opportunity(1, "r", 0, 600, "A2")]
    one = greedy_schedule(build(requests, opportunities, resources))
    assert len(one) == 1
    two = greedy_schedule(build(requests, opportunities, resources, max_simultaneous={"sc": 2}))
    assert len(two) == 2


def test_fixed_contacts_come_first_and_count() -> None:
    instance = build(
        [request("r", demand=2, min_duration_s=100, max_duration_s=100)],
        [opportunity(0, "r", 0, 600), opportunity(1, "r", 1000, 1600)],
        fixed=[
            FixedContact("F-block", ("A1",), 1000, 1600),
            FixedContact("F-own", ("A1",), 2000, 2100, request="r"),
        ],
    )
    contacts = greedy_schedule(instance)
    assert sum(c.fixed for c in contacts) == 2
    assert [c.opportunity for c in contacts if not c.fixed] == [0]
    assert schedule_value(instance, contacts) == pytest.approx(4)  # 2 of 2: one fixed


def test_keep_is_placed_first_and_kept_if_valid() -> None:
    instance = build(
        [
            request("high", priority=1, min_duration_s=300, max_duration_s=300),
            request("low", priority=5, min_duration_s=300, max_duration_s=300),
        ],
        [opportunity(0, "high", 0, 800), opportunity(1, "low", 100, 400)],
    )
    keep = [ScheduledContact("low", 1, ("A1",), 100, 400)]
    contacts = greedy_schedule(instance, keep=keep)
    assert keep[0] in contacts
    high = next(c for c in contacts if c.request == "high")
    assert high.start_s >= 400
    invalid = [ScheduledContact("low", 1, ("A1",), 50, 350)]  # starts before its pass
    assert invalid[0] not in greedy_schedule(instance, keep=invalid)


def test_order_value_decides_who_goes_first() -> None:
    requests = [
        request("a", min_duration_s=600, max_duration_s=600, priority=1),
        request("b", min_duration_s=600, max_duration_s=600, priority=5),
    ]
    instance = build(requests, [opportunity(0, "a", 0, 600), opportunity(1, "b", 0, 600)])
    assert [c.request for c in greedy_schedule(instance)] == ["a"]
    assert [c.request for c in greedy_schedule(instance, order_value={1: 1.0, 0: 0.5})] == ["b"]


def test_min_served_requests_below_their_minimum_give_their_time_back() -> None:
    # "big" needs 800 s to count at all but only 600 s of pass exist: its contact goes, and
    # "small" gets the pass.
    instance = build(
        [
            request(
                "big",
                demand=1000,
                demand_kind=DemandKind.SECONDS,
                min_served=800,
                priority=1,
                min_duration_s=100,
            ),
            request("small", priority=5, min_duration_s=300, max_duration_s=300),
        ],
        [opportunity(0, "big", 0, 600), opportunity(1, "small", 0, 600)],
    )
    contacts = greedy_schedule(instance)
    assert [c.request for c in contacts] == ["small"]
    assert schedule_value(instance, contacts) == pytest.approx(1)


def test_fairness_lifts_the_worst_served_tenant() -> None:
    # Every tenant asks at one priority, 1 to 5, twice what the network can give: by score
    # alone the priority-5 tenant is starved.
    instance = random_instance(
        0, spacecraft=60, antennas=6, hours=24, tenants=5, priority_by_tenant=True, load=2.0
    )
    unfair = greedy_schedule(instance, fairness=False)
    fair = greedy_schedule(instance, fairness=True)
    assert min_ratio(tenant_shares(instance, unfair)) < 0.65
    assert min_ratio(tenant_shares(instance, fair)) > 0.75
    assert schedule_value(instance, fair) > 0.9 * schedule_value(instance, unfair)


def test_valid_on_a_day_of_300_spacecraft_and_20_antennas() -> None:
    # Its speed is measured by bench/schedule.py, never asserted here.
    instance = random_instance(7, spacecraft=300, antennas=20, hours=24, tenants=8)
    assert len(instance.opportunities) > 20_000
    contacts = greedy_schedule(instance)
    assert check_schedule(instance, contacts) == []
    assert schedule_value(instance, contacts) > 0


@pytest.mark.parametrize("fairness", [True, False])
def test_a_shared_index_gives_the_same_schedule(fairness: bool) -> None:
    instance = random_instance(4, spacecraft=60, antennas=6, hours=12, tenants=5)
    index = index_instance(instance)
    alone = greedy_schedule(instance, fairness=fairness)
    assert greedy_schedule(instance, fairness=fairness, index=index) == alone
    assert greedy_schedule(instance, fairness=fairness, index=index) == alone  # index reused


def test_the_fill_stops_as_soon_as_the_target_value_is_reached() -> None:
    instance = random_instance(6, spacecraft=40, antennas=4, hours=12)
    full = Planner(instance)
    full.fill()
    target = 0.5 * full.total_value
    planner = Planner(instance)
    added = planner.fill(target_value=target)
    assert planner.total_value >= target
    planner.remove(added[-1])
    assert planner.total_value < target  # the last contact was needed


@pytest.mark.parametrize("fairness", [True, False])
@pytest.mark.parametrize("config", CONFIGURATIONS, ids=configuration_id)
def test_the_quick_room_test_only_saves_time(
    config: dict[str, object], fairness: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every pass let through to the exact search (one at a time), the same schedule."""
    instance = random_instance(11, spacecraft=30, antennas=4, hours=12, **config)  # type: ignore[arg-type]
    quick = greedy_schedule(instance, fairness=fairness)
    monkeypatch.setattr(Timeline, "has_room", lambda self, *args: True)
    monkeypatch.setattr(
        Timeline, "first_with_room", lambda self, resources, starts, ends, first, *args: first
    )
    slow = greedy_schedule(instance, fairness=fairness)
    assert quick == slow
    assert check_schedule(instance, quick) == []
