"""The schedule referee: every rule caught alone, agreement with the conflict rule, the value."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundlink.contacts.conflicts import ContactWindow, antenna_conflicts, spacecraft_conflicts
from groundlink.scheduling.feasibility import fixed_contacts, index_instance
from groundlink.scheduling.model import (
    DemandKind,
    FixedContact,
    Interval,
    Resource,
    ScheduledContact,
)
from groundlink.scheduling.validate import check_schedule, schedule_value, served_by_request
from scheduling_fixtures import EPOCH, build, opportunity, request

SLEWING = Resource(
    "A1", station="S1", bands=("S", "X"), turnaround_s=30, max_az_rate_deg_s=3, max_el_rate_deg_s=1
)


def contact(req: str, opp: int, start: float, end: float, on: str = "A1") -> ScheduledContact:
    return ScheduledContact(req, opp, (on,), start, end)


def one_pass_instance(**request_fields: object):  # type: ignore[no-untyped-def]
    return build(
        [request("r1", min_duration_s=100, max_duration_s=400, **request_fields)],
        [opportunity(1, "r1", 1000, 1600)],
        [SLEWING],
    )


def test_a_valid_schedule_has_no_problem() -> None:
    instance = one_pass_instance()
    assert check_schedule(instance, [contact("r1", 1, 1000, 1300)]) == []


@pytest.mark.parametrize(
    ("start", "end", "fields", "words"),
    [
        (900, 1200, {}, "outside its opportunity"),
        (1300, 1700, {}, "outside its opportunity"),
        (1000, 1050, {}, "less than the request's minimum"),
        (1000, 1500, {}, "more than the request's maximum"),
        (1000, 1300, {"earliest_s": 1100.0}, "before the request's earliest"),
        (1000, 1300, {"latest_s": 1200.0}, "after the request's latest"),
        (1000, 1300, {"bands": ("Ka",)}, "do not serve the bands"),
        (1000, 1300, {"excluded_stations": ("S1",)}, "station is not allowed"),
        (1000, 1300, {"stations": ("S9",)}, "station is not allowed"),
        (1300, 1300, {}, "ends at or before its start"),
    ],
)
def test_each_rule_of_a_contact_on_its_own(
    start: float, end: float, fields: dict[str, object], words: str
) -> None:
    problems = check_schedule(one_pass_instance(**fields), [contact("r1", 1, start, end)])
    assert len(problems) == 1
    assert words in problems[0]


def test_opportunity_request_and_resources_must_match() -> None:
    instance = build(
        [request("r1"), request("r2")],
        [opportunity(1, "r1", 0, 600), opportunity(2, "r2", 0, 600)],
        [Resource("A1"), Resource("A2")],
    )
    assert "not in the instance" in check_schedule(instance, [contact("r1", 9, 0, 60)])[0]
    assert "belongs to request r2" in check_schedule(instance, [contact("r1", 2, 0, 60)])[0]
    assert "is on A1, not on A2" in check_schedule(instance, [contact("r1", 1, 0, 60, "A2")])[0]
    assert "not in the instance" in check_schedule(instance, [contact("r9", 1, 0, 60)])[0]


def test_one_contact_per_opportunity_and_max_contacts() -> None:
    instance = build(
        [request("r1", demand=3, max_contacts=1, spacecraft="sc")],
        [opportunity(1, "r1", 0, 600), opportunity(2, "r1", 1000, 1600)],
    )
    twice = check_schedule(instance, [contact("r1", 1, 0, 60), contact("r1", 1, 300, 360)])
    assert any("holds more than one contact" in p for p in twice)
    two = check_schedule(instance, [contact("r1", 1, 0, 60), contact("r1", 2, 1000, 1060)])
    assert two == ["request r1 has 2 contacts, more than its max_contacts 1"]


def test_fixed_contacts_must_all_be_there_and_only_they_marked_fixed() -> None:
    instance = build(
        [request("r1")],
        [opportunity(1, "r1", 0, 600)],
        fixed=[FixedContact("F1", ("A1",), 2000, 2300, request="r1")],
    )
    fixed = fixed_contacts(instance)
    assert fixed == (ScheduledContact("r1", -1, ("A1",), 2000, 2300, fixed=True),)
    assert check_schedule(instance, list(fixed)) == []
    assert check_schedule(instance, []) == ["fixed contact F1 on A1 is missing from the schedule"]
    fake = ScheduledContact("r1", 1, ("A1",), 0, 60, fixed=True)
    problems = check_schedule(instance, [*fixed, fake])
    assert len(problems) == 1 and "is marked fixed but is no fixed contact" in problems[0]


def test_fixed_contact_finds_its_opportunity_for_the_downlink_rate() -> None:
    instance = build(
        [request("r1", demand=1e6, demand_kind=DemandKind.BYTES)],
        [opportunity(7, "r1", 0, 600, rate_bytes_s=1000.0)],
        fixed=[FixedContact("F1", ("A1",), 100, 400, request="r1")],
    )
    (fixed,) = fixed_contacts(instance)
    assert fixed.opportunity == 7
    assert served_by_request(instance, [fixed])["r1"] == pytest.approx(300_000)


def test_maintenance_blocks_the_hold_including_setup_and_teardown() -> None:
    resource = Resource("A1", maintenance=(Interval(2000, 3000),))
    instance = build(
        [request("r1", setup_s=120, teardown_s=60)],
        [opportunity(1, "r1", 0, 5000)],
        [resource],
    )
    assert check_schedule(instance, [contact("r1", 1, 3120, 3300)]) == []  # setup ends the window
    assert check_schedule(instance, [contact("r1", 1, 1000, 1940)]) == []  # teardown to its start
    late_setup = check_schedule(instance, [contact("r1", 1, 3100, 3300)])
    assert len(late_setup) == 1 and "during its maintenance" in late_setup[0]
    late_teardown = check_schedule(instance, [contact("r1", 1, 1000, 1941)])
    assert len(late_teardown) == 1 and "during its maintenance" in late_teardown[0]


def _two_passes(first_end_az: float, second_start_az: float, second_start: float):  # type: ignore[no-untyped-def]
    return build(
        [request("r1"), request("r2")],
        [
            opportunity(1, "r1", 0, 600, end_azimuth_deg=first_end_az, end_elevation_deg=5),
            opportunity(
                2,
                "r2",
                second_start,
                second_start + 600,
                start_azimuth_deg=second_start_az,
                start_elevation_deg=5,
            ),
        ],
        [SLEWING],
    )


def test_turnaround_plus_slew_with_known_pointing() -> None:
    # 90 deg of azimuth at 3 deg/s is 30 s, plus 30 s turnaround: the second may start at 660.
    instance = _two_passes(10, 100, 660)
    both = [contact("r1", 1, 0, 600), contact("r2", 2, 660, 900)]
    assert check_schedule(instance, both) == []
    instance = _two_passes(10, 100, 659)
    problems = check_schedule(instance, [contact("r1", 1, 0, 600), contact("r2", 2, 659, 900)])
    assert len(problems) == 1 and "conflict on antenna A1: 59 s between them" in problems[0]


def test_a_trimmed_edge_counts_the_worst_slew() -> None:
    # Starting 1 s into its pass, the second contact's pointing is unknown: 180 deg = 60 s.
    instance = _two_passes(10, 100, 660)
    trimmed = [contact("r2", 2, 661, 900), contact("r1", 1, 0, 600)]
    assert len(check_schedule(instance, trimmed)) == 1
    far_enough = [contact("r1", 1, 0, 600), contact("r2", 2, 690, 900)]
    assert check_schedule(instance, far_enough) == []
    # Trimming the first contact's end leaves its LOS pointing unknown as well.
    end_trimmed = [contact("r1", 1, 0, 590), contact("r2", 2, 660, 900)]
    assert len(check_schedule(instance, end_trimmed)) == 1
    assert check_schedule(instance, [contact("r1", 1, 0, 570), contact("r2", 2, 660, 900)]) == []


def test_overlap_between_contacts_on_an_antenna() -> None:
    instance = build(
        [request("r1"), request("r2")],
        [opportunity(1, "r1", 0, 600), opportunity(2, "r2", 0, 600)],
    )
    problems = check_schedule(instance, [contact("r1", 1, 0, 300), contact("r2", 2, 200, 400)])
    assert len(problems) == 1 and "overlap on antenna A1" in problems[0]
    touching = [contact("r1", 1, 0, 300), contact("r2", 2, 300, 400)]
    assert check_schedule(instance, touching) == []  # half-open, no turnaround set


def test_spacecraft_limit_counts_contacts_not_setup() -> None:
    instance = build(
        [
            request("r1", spacecraft="sc", setup_s=100),
            request("r2", spacecraft="sc", setup_s=100),
        ],
        [opportunity(1, "r1", 0, 600, "A1"), opportunity(2, "r2", 0, 600, "A2")],
        [Resource("A1"), Resource("A2")],
    )
    handover = [contact("r1", 1, 0, 300, "A1"), contact("r2", 2, 300, 600, "A2")]
    assert check_schedule(instance, handover) == []
    overlap = [contact("r1", 1, 0, 300, "A1"), contact("r2", 2, 299, 600, "A2")]
    problems = check_schedule(instance, overlap)
    assert len(problems) == 1 and "already in 1 contact(s)" in problems[0]
    two_at_once = build(
        list(instance.requests),
        list(instance.opportunities),
        list(instance.resources),
        max_simultaneous={"sc": 2},
    )
    assert check_schedule(two_at_once, overlap) == []


def test_conflicts_among_fixed_contacts_alone_are_not_the_schedules() -> None:
    resource = Resource("A1", maintenance=(Interval(0, 100),))
    instance = build(
        [request("r1")],
        [opportunity(1, "r1", 1000, 1600)],
        [resource],
        fixed=[FixedContact("F1", ("A1",), 50, 300), FixedContact("F2", ("A1",), 200, 400)],
    )
    assert check_schedule(instance, list(fixed_contacts(instance))) == []
    clash = [*fixed_contacts(instance), contact("r1", 1, 1000, 1100)]
    assert check_schedule(instance, clash) == []
    instance = build(
        [request("r1")],
        [opportunity(1, "r1", 0, 600)],
        fixed=[FixedContact("F1", ("A1",), 50, 300)],
    )
    problems = check_schedule(instance, [*fixed_contacts(instance), contact("r1", 1, 0, 100)])
    assert len(problems) == 1 and "overlap on antenna A1" in problems[0]


def test_value_is_priority_weighted_share_of_demand() -> None:
    instance = build(
        [
            request("c", demand=4, priority=1),  # 2 of 4 contacts: 16 / 2
            request("s", demand=600, demand_kind=DemandKind.SECONDS, priority=3),  # 300 s: 4 / 2
            request("b", demand=1000, demand_kind=DemandKind.BYTES, priority=5),  # capped: 1
            request("m", demand=3, priority=2, min_served=2),  # 1 of 3 below min: 0
        ],
        [
            opportunity(1, "c", 0, 100),
            opportunity(2, "c", 200, 300),
            opportunity(3, "s", 400, 800),
            opportunity(4, "b", 1000, 1100, rate_bytes_s=50.0),
            opportunity(5, "m", 1200, 1300),
        ],
    )
    schedule = [
        contact("c", 1, 0, 100),
        contact("c", 2, 200, 300),
        contact("s", 3, 400, 700),
        contact("b", 4, 1000, 1100),
        contact("m", 5, 1200, 1300),
    ]
    assert check_schedule(instance, schedule) == []
    assert schedule_value(instance, schedule) == pytest.approx(8 + 2 + 1 + 0)


# --- agreement with the conflict rule ------------------------------------------------------------

_RATES = {"A1": (3.0, 1.0), "A2": (2.0, 2.0)}


def _random_schedule(
    data: st.DataObject,
) -> tuple[object, list[ScheduledContact]]:
    count = data.draw(st.integers(2, 9))
    resources = [
        Resource(
            a,
            turnaround_s=float(data.draw(st.integers(0, 60))),
            max_az_rate_deg_s=az,
            max_el_rate_deg_s=el,
        )
        for a, (az, el) in _RATES.items()
    ]
    requests, opportunities, contacts = [], [], []
    for k in range(count):
        start = float(data.draw(st.integers(0, 3000)))
        length = float(data.draw(st.integers(60, 600)))
        antenna = data.draw(st.sampled_from(["A1", "A2"]))
        setup = float(data.draw(st.sampled_from([0, 30])))
        requests.append(
            request(
                f"r{k}",
                spacecraft=f"sc{data.draw(st.integers(0, 2))}",
                setup_s=setup,
                teardown_s=setup,
            )
        )
        opportunities.append(
            opportunity(
                k,
                f"r{k}",
                start,
                start + length,
                antenna,
                start_azimuth_deg=float(data.draw(st.integers(0, 359))),
                start_elevation_deg=float(data.draw(st.integers(0, 60))),
                end_azimuth_deg=float(data.draw(st.integers(0, 359))),
                end_elevation_deg=float(data.draw(st.integers(0, 60))),
            )
        )
        trim_start = data.draw(st.sampled_from([0.0, 10.0]))
        trim_end = data.draw(st.sampled_from([0.0, 10.0]))
        contacts.append(contact(f"r{k}", k, start + trim_start, start + length - trim_end, antenna))
    return build(requests, opportunities, resources), contacts


@settings(max_examples=200, deadline=None, database=None)
@given(st.data())
def test_antenna_and_spacecraft_verdicts_match_the_conflict_module(data: st.DataObject) -> None:
    instance, contacts = _random_schedule(data)
    index = index_instance(instance)  # type: ignore[arg-type]
    windows = []
    for c in contacts:
        req = index.request(c.request)
        opp = index.opportunity(c.opportunity)
        assert opp is not None
        trimmed_start, trimmed_end = c.start_s > opp.start_s, c.end_s < opp.end_s
        windows.append(
            ContactWindow(
                EPOCH + timedelta(seconds=c.start_s),
                EPOCH + timedelta(seconds=c.end_s),
                req.setup_s,
                req.teardown_s,
                c.resources[0],
                req.spacecraft,
                start_azimuth_deg=None if trimmed_start else opp.start_azimuth_deg,
                # The rule treats a missing elevation as no move; the scheduler has NaN for both.
                start_elevation_deg=None if trimmed_start else opp.start_elevation_deg,
                end_azimuth_deg=None if trimmed_end else opp.end_azimuth_deg,
                end_elevation_deg=None if trimmed_end else opp.end_elevation_deg,
            )
        )
    resources = instance.resources  # type: ignore[attr-defined]
    expected_antenna = antenna_conflicts(
        windows,
        turnaround_s={r.id: r.turnaround_s for r in resources},
        max_az_rate_deg_s={a: az for a, (az, _) in _RATES.items()},
        max_el_rate_deg_s={a: el for a, (_, el) in _RATES.items()},
    )
    expected_spacecraft = spacecraft_conflicts(windows, 1)
    problems = check_schedule(instance, contacts)  # type: ignore[arg-type]
    antenna_problems = [p for p in problems if "on antenna" in p]
    spacecraft_problems = [p for p in problems if "at once" in p]
    assert len(antenna_problems) == len(expected_antenna)
    assert len(spacecraft_problems) == len({id(c.second) for c in expected_spacecraft})
    assert len(problems) == len(antenna_problems) + len(spacecraft_problems)


def test_value_of_nothing_is_zero_and_no_nan() -> None:
    instance = one_pass_instance()
    assert schedule_value(instance, []) == 0.0
    assert not math.isnan(schedule_value(instance, [contact("r1", 1, 1000, 1300)]))
    assert np.isclose(schedule_value(instance, [contact("r1", 1, 1000, 1300)]), 4.0)
