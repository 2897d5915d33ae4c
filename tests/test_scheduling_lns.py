"""The optimiser's large-neighbourhood search: its neighbourhoods, parallel blocks and merges."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from groundlink.scheduling import cpsat, lns
from groundlink.scheduling.cpsat import optimise
from groundlink.scheduling.greedy import greedy_schedule
from groundlink.scheduling.lns import ContactHolds, Neighbourhoods
from groundlink.scheduling.model import DemandKind, FixedContact, Resource, ScheduledContact
from groundlink.scheduling.validate import check_schedule, schedule_value
from scheduling_fixtures import build, opportunity, random_instance, request

SLEWING = Resource("A1", station="S1", turnaround_s=60, max_az_rate_deg_s=3, max_el_rate_deg_s=3)


@pytest.fixture
def by_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small instances go by blocks of a dozen opportunities, 0.1 s each."""
    monkeypatch.setattr(cpsat, "FULL_MODEL_OPPORTUNITIES", 1)
    monkeypatch.setattr(cpsat, "BLOCK_OPPORTUNITIES", 12)
    monkeypatch.setattr(cpsat, "BLOCK_MIN_S", 0.1)


@pytest.mark.usefixtures("by_blocks")
@pytest.mark.parametrize("seed", range(4))
def test_parallel_blocks_stay_valid_and_never_worse_than_the_hint(seed: int) -> None:
    # Two blocks at once, each solved against the incumbent it started from and merged
    # into the newer one: arrays, spacecraft limits above one, fixed contacts, slew or not.
    instance = random_instance(
        seed,
        spacecraft=14,
        antennas=4,
        hours=8,
        load=1.5,
        slew=seed % 2 == 0,
        arrays=seed % 2 == 1,
        multi_k=seed == 2,
    )
    hint = greedy_schedule(instance, fairness=False)
    seen: list[float] = []
    contacts, status = optimise(
        instance, time_limit_s=2.0, hint=hint, workers=2, on_improvement=lambda v, t: seen.append(v)
    )
    assert status == "feasible"
    assert check_schedule(instance, contacts) == []
    value = schedule_value(instance, contacts)
    assert value >= schedule_value(instance, hint) - 1e-9
    assert seen == sorted(seen)
    if seen:
        assert seen[-1] == pytest.approx(value, rel=1e-9)


@pytest.mark.usefixtures("by_blocks")
def test_the_search_stops_when_no_request_is_short() -> None:
    # The hint serves every request: no block can gain anything, so the search returns
    # long before its time limit, with the hint.
    instance = build(
        [request("a"), request("b")],
        [
            opportunity(1, "a", 0, 600),
            opportunity(2, "a", 3600, 4200),
            opportunity(3, "b", 0, 600, "A2"),
        ],
        [Resource("A1", station="S1"), Resource("A2", station="S2")],
    )
    hint = [ScheduledContact("a", 1, ("A1",), 0, 600), ScheduledContact("b", 3, ("A2",), 0, 600)]
    began = time.perf_counter()
    contacts, _ = optimise(instance, time_limit_s=30.0, hint=hint)
    assert time.perf_counter() - began < 10.0
    assert sorted((c.request, c.opportunity) for c in contacts) == [("a", 1), ("b", 3)]


@pytest.mark.usefixtures("by_blocks")
def test_request_blocks_exchange_passes_far_apart_in_time() -> None:
    # "high" holds the only pass of "low"; its other pass is 10 hours later. Freeing both
    # requests whole moves "high" away and serves "low": the optimum, 16 + 2.
    instance = build(
        [request("high", priority=1, min_duration_s=300), request("low", priority=4)],
        [
            opportunity(1, "high", 0, 600),
            opportunity(2, "low", 0, 600),
            opportunity(3, "high", 36_000, 36_600),
        ],
        [SLEWING],
    )
    hint = [ScheduledContact("high", 1, ("A1",), 0, 600)]
    assert check_schedule(instance, hint) == []
    contacts, _ = optimise(instance, time_limit_s=1.0, hint=hint, workers=1)
    assert check_schedule(instance, contacts) == []
    assert schedule_value(instance, contacts) == pytest.approx(18.0)


def test_a_contact_packed_between_held_contacts_is_offered() -> None:
    # Fixed contacts hold A1 over [0, 400) and [900, 1300): the pass [300, 1000) has room
    # only in [520, 780] (60 s turnaround + 60 s worst slew either side). A contact aligned
    # on its AOS or LOS conflicts; one packed after the first fixed contact fits.
    instance = build(
        [request("r1", min_duration_s=200, max_duration_s=250)],
        [opportunity(1, "r1", 300, 1000)],
        [SLEWING],
        fixed=[FixedContact("f1", ("A1",), 0, 400), FixedContact("f2", ("A1",), 900, 1300)],
    )
    contacts, _ = optimise(instance, time_limit_s=2.0)
    assert check_schedule(instance, contacts) == []
    assert schedule_value(instance, contacts) == pytest.approx(4.0)
    (served,) = [c for c in contacts if not c.fixed]
    assert served.start_s >= 520 - 1e-6 and served.end_s <= 780 + 1e-6


def test_a_block_clashing_with_a_newer_result_is_not_merged() -> None:
    # Two blocks solved from the same (empty) schedule: the first result is taken; the
    # second is carried over only if its contact meets none of the first's.
    instance = build(
        [request("a"), request("b"), request("c")],
        [
            opportunity(1, "a", 0, 600),
            opportunity(2, "b", 0, 600),
            opportunity(3, "c", 0, 600, "A2"),
        ],
        [Resource("A1", station="S1"), Resource("A2", station="S2")],
    )
    problem = cpsat.BlockProblem(instance)
    base: list[ScheduledContact] = []
    first = [ScheduledContact("a", 1, ("A1",), 0, 600)]
    clashing = ScheduledContact("b", 2, ("A1",), 0, 600)
    elsewhere = ScheduledContact("c", 3, ("A2",), 0, 600)
    assert problem.merge(cpsat._Outcome([clashing], True), np.array([1]), base, first) is None
    merged = problem.merge(cpsat._Outcome([elsewhere], True), np.array([2]), base, first)
    assert merged is not None
    assert sorted(c.request for c in merged) == ["a", "c"]
    assert check_schedule(instance, merged) == []


def test_served_amounts_are_remembered_for_tuples_only() -> None:
    # The search asks for its incumbent's served amounts and holds many times: a tuple's
    # are computed once; a list (which may change) is read afresh every time.
    instance = build(
        [request("a", demand=2), request("b")],
        [opportunity(1, "a", 0, 600), opportunity(2, "a", 3600, 4200), opportunity(3, "b", 0, 600)],
        [Resource("A1", station="S1"), Resource("A2", station="S2")],
    )
    problem = cpsat.BlockProblem(instance)
    first = ScheduledContact("a", 1, ("A1",), 0, 600)
    second = ScheduledContact("a", 2, ("A1",), 3600, 4200)
    schedule = (first,)
    assert problem.served(schedule) is problem.served(schedule)
    assert problem.holds(schedule) is problem.holds(schedule)
    assert problem.served((first, second)).tolist() == [2.0, 0.0]  # another tuple: its own
    assert problem.served(schedule).tolist() == [1.0, 0.0]
    growing = [first]
    assert problem.value(growing) == pytest.approx(0.5 * request("a", demand=2).weight)
    growing.append(second)
    assert problem.served(growing).tolist() == [2.0, 0.0]
    assert problem.holds(growing).start.tolist() == [0.0, 3600.0]
    with pytest.raises(ValueError, match="read-only"):
        problem.served(schedule)[0] = 5.0


def test_the_facts_of_contacts_a_long_search_left_behind_are_forgotten() -> None:
    # Every block makes new contacts; the facts of those no longer in the incumbent go once
    # they outnumber the incumbent's, so memory does not grow with the length of a search.
    instance = random_instance(5, spacecraft=10, antennas=3, hours=6, load=1.5)
    problem = cpsat.BlockProblem(instance)
    incumbent = tuple(greedy_schedule(instance, fairness=False))
    usable = problem.usable_opportunities()
    rng = np.random.default_rng(5)
    created = 0
    for _ in range(60):
        free = np.sort(rng.choice(usable, size=min(6, len(usable)), replace=False))
        outcome = problem.solve_block(
            free, incumbent, time_limit_s=0.05, workers=1, on_solution=None
        )
        if outcome.contacts is not None and not problem.better(incumbent, outcome.contacts):
            incumbent = tuple(outcome.contacts)
        # stand-ins for the contacts that blocks' solutions make and throw away
        for contact in incumbent:
            problem.fact(replace(contact))
            created += 1
        limit = (cpsat._FACTS_SLACK + 1) * (len(incumbent) + len(problem.fixed)) + 100
        assert len(problem._facts) <= limit + 2 * len(incumbent)
    assert created > 3 * limit  # without forgetting, the table would have outgrown it
    assert check_schedule(instance, incumbent) == []


def test_request_chain_takes_the_short_request_its_blockers_and_theirs() -> None:
    # Request 0 is short (windows at 0 and 7,200 s on antenna 0). Request 1 holds antenna 0
    # over its first window; request 1's other window (3,600 s) is held by request 4, its
    # blocker. Request 2 holds antenna 1 (not one of request 0's), request 3 holds antenna
    # 0 ten hours later: neither blocks anybody in the chain.
    request_of = np.array([0, 0, 1, 1, 2, 3, 4])
    starts = np.array([0.0, 7200.0, 0.0, 3600.0, 0.0, 36_000.0, 20_000.0])
    needs = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [1, 0], [1, 0]], dtype=bool)
    choose = Neighbourhoods(
        np.arange(7) + 100,
        request_of,
        5,
        starts,
        starts + 600,
        needs,
        size=100,
        rng=np.random.default_rng(1),
    )
    holds = ContactHolds(
        request=np.array([1, 2, 3, 4]),
        resource=np.array([0, 1, 0, 0]),
        start=np.array([100.0, 0.0, 36_000.0, 3700.0]),
        end=np.array([500.0, 600.0, 36_600.0, 4100.0]),
    )
    lost = np.array([2.0, 0.0, 0.0, 0.0, 0.0])
    assert choose.request_chain(lost, holds).tolist() == [100, 101, 102, 103, 106]
    assert choose.request_chain(np.zeros(5), holds).tolist() == []


def test_request_chain_draws_at_most_the_fan_of_blockers_per_request() -> None:
    # Five requests each hold antenna 0 over the short request's window (their own windows
    # are hours apart, held by nobody): a chain takes CHAIN_FAN of them and stops there.
    request_of = np.arange(6)
    starts = np.arange(6) * 10_000.0
    needs = np.ones((6, 1), dtype=bool)
    choose = Neighbourhoods(
        np.arange(6), request_of, 6, starts, starts + 600, needs, size=100,
        rng=np.random.default_rng(2),
    )  # fmt: skip
    holds = ContactHolds(
        request=np.arange(1, 6), resource=np.zeros(5, dtype=np.int64),
        start=np.full(5, 100.0), end=np.full(5, 500.0),
    )  # fmt: skip
    lost = np.array([1.0, 0, 0, 0, 0, 0])
    for _ in range(5):
        chain = choose.request_chain(lost, holds).tolist()
        assert chain[0] == 0
        assert len(chain) == 1 + lns.CHAIN_FAN


@pytest.mark.parametrize("flexible", [False, True])
def test_a_block_holds_every_contact_off_its_free_opportunities(flexible: bool) -> None:
    # A block reads its held contacts from the incumbent's table of arrays (cpsat._Held):
    # what they serve, their antenna holds and their spans must be those of a plain walk
    # over the fixed contacts and the incumbent's contacts outside the block.
    instance = random_instance(
        11,
        spacecraft=10,
        antennas=3,
        hours=6,
        load=1.5,
        slew=not flexible,
        arrays=True,
        setup_s=60.0,
    )
    problem = cpsat.BlockProblem(instance)
    assert problem.flexible is flexible
    incumbent = tuple(problem.start_from(greedy_schedule(instance, fairness=False)))
    usable = problem.usable_opportunities()
    free = np.sort(np.random.default_rng(3).choice(usable, size=len(usable) // 3, replace=False))
    block = cpsat._Block(problem, free, incumbent, {})
    freed = {instance.opportunities[i].id for i in free.tolist()}
    kept = [c for c in incumbent if c.opportunity not in freed]
    held = [*problem.fixed, *kept]
    assert block.kept == kept
    assert block.hint == [c for c in incumbent if c.opportunity in freed]
    assert 0 < len(kept) < len(incumbent)
    served = np.zeros(len(instance.requests))
    contacts = np.zeros(len(instance.requests), dtype=int)
    for contact in held:
        if contact.request:
            r = problem.index.request_index[contact.request]
            served[r] += problem.fact(contact).served
            contacts[r] += 1
    assert block.kept_served == pytest.approx(served.tolist())
    assert block.kept_contacts == contacts.tolist()
    walked = []
    for c in held:
        setup = teardown = 0.0
        if c.request:
            request = instance.requests[problem.index.request_index[c.request]]
            setup, teardown = request.setup_s, request.teardown_s
        for k in c.resources:
            walked.append((problem.index.resource_index[k], c.start_s - setup, c.end_s + teardown))
    holds = block.held_holds
    rows = zip(holds.resource.tolist(), holds.start.tolist(), holds.end.tolist(), strict=True)
    assert sorted(rows) == sorted(walked)
    spacecraft = {r.spacecraft for r in instance.requests}
    spans = block._held_spans(spacecraft)
    for name in spacecraft:
        own = [
            (c.start_s, c.end_s)
            for c in held
            if c.request
            and instance.requests[problem.index.request_index[c.request]].spacecraft == name
        ]
        assert sorted(spans.get(name, [])) == sorted(own)


def test_forgetting_facts_is_safe_while_another_block_adds_some() -> None:
    # Blocks run in threads: one may forget old facts while another adds new ones. Copying
    # the table while it grows raised "dictionary changed size during iteration" (seen in a
    # 60 s benchmark run); thread switches are forced often here so that it would show.
    instance = random_instance(5, spacecraft=10, antennas=3, hours=6, load=1.5)
    problem = cpsat.BlockProblem(instance)
    incumbent = tuple(greedy_schedule(instance, fairness=False))
    stop = threading.Event()
    errors: list[BaseException] = []

    def add_facts() -> None:
        try:
            while not stop.is_set():
                for contact in incumbent:
                    problem.fact(replace(contact))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    adder = threading.Thread(target=add_facts)
    adder.start()
    try:
        deadline = time.perf_counter() + 2.0
        while time.perf_counter() < deadline and not errors:
            problem._forget_old_facts(incumbent)
    finally:
        stop.set()
        adder.join()
        sys.setswitchinterval(interval)
    assert errors == []
    for contact in incumbent:
        assert problem.fact(contact).served >= 0


@pytest.mark.parametrize("value_step", [None, 0.05])
def test_a_block_values_a_split_request_whole_when_its_held_contact_falls_short(
    value_step: float | None,
) -> None:
    # "split" needs both of its 100 s contacts (min_served 200 s), worth 2.0 together and
    # nothing apart. Its contact on A1 is held; the block frees its contact on A2 and the
    # contact "rival" (worth 1.5) would take there. Valuing only the block's half of "split"
    # (1.0) the block swapped them, leaving 1.5 where the incumbent had 2.0.
    instance = build(
        [
            request(
                "split",
                demand=200.0,
                demand_kind=DemandKind.SECONDS,
                min_served=200.0,
                min_duration_s=100.0,
                max_duration_s=100.0,
                max_contacts=2,
                value_weight=2.0,
            ),
            request(
                "rival",
                demand=150.0,
                demand_kind=DemandKind.SECONDS,
                min_duration_s=150.0,
                value_weight=1.5,
            ),
        ],
        [
            opportunity(0, "split", 200.0, 300.0, "A1"),
            opportunity(1, "split", 0.0, 100.0, "A2"),
            opportunity(2, "rival", 0.0, 150.0, "A2"),
        ],
        (Resource("A1", station="S1"), Resource("A2", station="S2")),
    )
    problem = cpsat.BlockProblem(instance, value_step=value_step)
    incumbent = [
        ScheduledContact("split", 0, ("A1",), 200.0, 300.0),
        ScheduledContact("split", 1, ("A2",), 0.0, 100.0),
    ]
    assert check_schedule(instance, incumbent) == []
    assert problem.value(incumbent) == pytest.approx(2.0)
    outcome = problem.solve_block(
        np.array([1, 2]), incumbent, time_limit_s=5.0, workers=1, on_solution=None
    )
    assert outcome.proven and outcome.contacts is not None
    assert problem.value(outcome.contacts) == pytest.approx(2.0)
    assert sorted(c.request for c in outcome.contacts) == ["split", "split"]
    # the block's bound counts the held half inside the request's value, not beside it (2.5)
    assert outcome.bound is not None and 2.0 - 1e-9 <= outcome.bound < 2.2
