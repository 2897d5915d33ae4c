"""Large-neighbourhood search for SatNet-like instances: exact CP-SAT blocks over time windows.

On SatNet's DSN weeks (2,500 view periods, tracks of hours) the whole week
as one CP-SAT model (:mod:`.cpsat`, flexible contacts) improves the
greedy's schedule slowly on two threads, and the request chains of
:mod:`.lns`, built for short passes, gain nothing. Here every block is the
*exact* flexible model (variable start and length per view period, setup
and teardown, arrays, mission no-overlap, ``min_served`` and
``max_contacts``) over the view periods that meet a window of time, on every
antenna, with every other track kept; its best solution replaces the
block's tracks when the whole week is worth at least as much (equal values
are taken too, to move on). Three blocks in four are a random window of
:data:`NARROW` (8 hours) over the week, or :data:`WIDE` (24 hours) when
the search has minutes, weighted towards view periods of requests
that lack value; the fourth frees every view period of a few missions that
lack value, over the whole week, so that a mission can move its tracks to
other days.

Contacts are first put on whole seconds (:func:`whole_seconds`): the model
counts in whole seconds, and kept contacts at fractional times would be
rounded outwards into their neighbours. Without a fairness floor they are
moved (every contact kept); with one they are cut inwards, which drops
about half the greedy's contacts and acts as a first shake: from the whole
fair greedy the search did worse at 60 s (W20_2018: 1,108 and 1,115 h
against 1,166 h; W10_2018: 976-999 h against 987-1,003 h), while without
the floor moving did as well or better (W20_2018 at 300 s: 1,268 h against
1,252 h).

Blocks count value in minutes of track (:data:`OBJECTIVE_STEP_S`,
:func:`value_step`), not in CP-SAT's default millionths of the largest
request: with the fine unit CP-SAT found hundreds of slightly better
solutions per block and spent its seconds on them. Measured from the greedy
on W20_2018 at 120 s, fairness off (session 9): seconds-fine values
1,222-1,246 h over sessions 8 and 9; a minute 1,255-1,266 h (15 s: 1,260 h; 4
minutes: 1,266 h); W10_2018 1,045 h against 1,061-1,069 h. At 60 s W20_2018
went from 1,203 to 1,242 h and W10_2018 from 1,031 to 1,053 h.

No I/O, no global state; randomness from a seeded generator.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from groundlink.scheduling.cpsat import BlockProblem
from groundlink.scheduling.feasibility import TIME_TOLERANCE_S, IndexedInstance
from groundlink.scheduling.model import Instance, ScheduledContact
from groundlink.scheduling.satnet_bound import applies as whole_track_bound_applies
from groundlink.scheduling.validate import check_schedule


@dataclass(frozen=True)
class Window:
    """The width of the time-window neighbourhoods (s) and the seconds one block gets (CP-SAT
    on ``workers`` threads)."""

    width_s: float
    block_s: float


#: Windows for a short search: 8 hours (about 220 view periods on W10_2018) of 1 s per block.
NARROW = Window(8 * 3600.0, 1.0)
#: Windows for a long search: 24 hours of 4 s per block. Hours reached from the greedy, 8 h of
#: 1 s against 24 h of 4 s (session 6, fairness off, one run per seed; seeds differ by 1-2%):
#:
#: - 60 s: W10_2018 1,025 and 1,014 against 1,012 and 1,030; W20_2018 1,206 against 1,197;
#: - 120 s: W10_2018 1,041 against 1,056; W20_2018 1,228 against 1,225;
#: - 240 s: W10_2018 1,050 against 1,062 and 1,065; W20_2018 1,255 against 1,256.
#:
#: 8-hour windows for the first minute, then 24-hour ones, gave 1,050 and 1,054 h on W10_2018
#: at 240 s: the wide windows pay from the start of a long search.
WIDE = Window(24 * 3600.0, 4.0)
#: Searches of at least this many seconds use :data:`WIDE`.
WIDE_FROM_S = 90.0
#: Missions freed together in a mission neighbourhood.
MISSIONS_PER_BLOCK = 2
#: Seconds of track one unit of a block's objective is worth (see :func:`value_step`).
OBJECTIVE_STEP_S = 60.0


def applies(instance: Instance) -> bool:
    """Whether this search is meant for ``instance``: SatNet-like (no slew, no turnaround, no
    fixed contacts, demands in seconds, tracks of at least minutes; see :mod:`.satnet_bound`)."""
    return whole_track_bound_applies(instance) and all(
        c.is_integer() for o in instance.opportunities for c in (o.start_s, o.end_s)
    )


def whole_seconds(
    instance: Instance,
    contacts: Sequence[ScheduledContact],
    *,
    move: bool = True,
    index: IndexedInstance | None = None,
) -> list[ScheduledContact]:
    """``contacts`` on whole seconds: each moved to start at its start rounded up, with its
    length rounded down; fixed ones unchanged; a contact whose whole seconds fall below its
    request's minimum duration is dropped.

    Where times, setup, teardown and maintenance are whole seconds this keeps the schedule
    valid (rounding up is monotone, so no hold moves past the rounded start of the next), and
    it keeps the contacts the greedy places a millisecond after a neighbour at exactly their
    minimum length, which cutting both ends inwards would drop (on W10_2018, 107 of its 235
    contacts). Where it would not keep it valid, or with ``move=False``, both ends are cut
    inwards instead. ``index``: ``index_instance(instance)`` when the caller has it already.
    """
    minimum = {r.id: r.min_duration_s for r in instance.requests}

    def rounded(shift: bool) -> list[ScheduledContact]:
        kept = []
        for contact in contacts:
            if contact.fixed:
                kept.append(contact)
                continue
            start = float(math.ceil(contact.start_s - TIME_TOLERANCE_S))
            if shift:
                end = start + math.floor(contact.duration_s + TIME_TOLERANCE_S)
            else:
                end = float(math.floor(contact.end_s + TIME_TOLERANCE_S))
            least = max(minimum.get(contact.request, 0.0) - TIME_TOLERANCE_S, 0.0)
            if end - start >= least and end > start:
                kept.append(replace(contact, start_s=start, end_s=end))
        return kept

    if move:
        shifted = rounded(shift=True)
        if not check_schedule(instance, shifted, index=index):
            return shifted
    return rounded(shift=False)


def improve(
    instance: Instance,
    hint: Sequence[ScheduledContact],
    *,
    time_limit_s: float,
    workers: int = 2,
    seed: int = 0,
    fair_floor: float | None = None,
    on_improvement: Callable[[float, float], None] | None = None,
    window: Window | None = None,
) -> tuple[ScheduledContact, ...]:
    """The best schedule the window search finds from ``hint`` within ``time_limit_s``.

    Returns the contacts (fixed ones included), sorted by start; never worth
    less than ``hint`` on whole seconds (:func:`whole_seconds`, moved without
    ``fair_floor``, cut with it; an invalid hint starts from nothing).
    ``on_improvement(value, elapsed_s)`` is called on every better one.
    ``window``: the neighbourhoods' width and block time; by default
    :func:`window_for` ``time_limit_s``. ``fair_floor``: as in
    :func:`~.cpsat.optimise_in_detail`, schedules are compared by value less
    the price of the tenants' shortfall from that share of their fair value.
    """
    began = time.perf_counter()
    problem = BlockProblem(instance, fair_floor, value_step=value_step(instance))
    on_seconds = whole_seconds(instance, hint, move=fair_floor is None, index=problem.index)
    incumbent = problem.start_from(on_seconds)
    usable = problem.usable_opportunities()
    if len(usable) == 0:
        return problem.finish(incumbent)
    index = problem.index
    starts = index.window_start_s[usable]
    ends = index.window_end_s[usable]
    request_of = index.opportunity_request[usable]
    mission_names = sorted({r.spacecraft for r in instance.requests})
    mission_number = {m: k for k, m in enumerate(mission_names)}
    mission_of_request = np.array(
        [mission_number[r.spacecraft] for r in instance.requests], dtype=np.int64
    )
    rng = np.random.default_rng(seed)
    window = window or window_for(time_limit_s)
    rounds = 0
    while time.perf_counter() - began < time_limit_s - 0.05:
        rounds += 1
        lost = problem.lost_value(incumbent)
        if rounds % 4 == 0:
            free = _mission_block(lost, mission_of_request, request_of, usable, rng)
        else:
            free = _window_block(lost[request_of], starts, ends, usable, window.width_s, rng)
        if len(free) == 0:
            continue
        left = time_limit_s - (time.perf_counter() - began)
        outcome = problem.solve_block(
            free,
            incumbent,
            time_limit_s=min(window.block_s, left),
            workers=workers,
            on_solution=None,
        )
        if outcome.contacts is None or problem.better(incumbent, outcome.contacts):
            continue
        if on_improvement is not None and problem.better(outcome.contacts, incumbent):
            on_improvement(problem.value(outcome.contacts), time.perf_counter() - began)
        incumbent = outcome.contacts
    return problem.finish(incumbent)


def value_step(instance: Instance) -> float:
    """The value of :data:`OBJECTIVE_STEP_S` seconds of track of the request worth most per
    second: the unit in which the blocks count value (SatNet's weeks: a minute, 1/60 h)."""
    per_second = max((r.weight / r.demand for r in instance.requests), default=1.0)
    return per_second * OBJECTIVE_STEP_S


def window_for(time_limit_s: float) -> Window:
    """The windows a search of ``time_limit_s`` seconds uses: :data:`WIDE` from
    :data:`WIDE_FROM_S`, else :data:`NARROW`."""
    return WIDE if time_limit_s >= WIDE_FROM_S else NARROW


def _window_block(
    lost: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    usable: np.ndarray,
    width_s: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """View periods meeting a window of ``width_s`` seconds, centred in a view period drawn by the
    value its request lacks (uniformly when nothing lacks)."""
    weights = lost + 1e-3 * max(float(lost.max()), 1e-9)
    pick = int(rng.choice(len(usable), p=weights / weights.sum()))
    centre = rng.uniform(starts[pick], ends[pick])
    low, high = centre - width_s / 2, centre + width_s / 2
    chosen: np.ndarray = usable[(ends > low) & (starts < high)]
    return chosen


def _mission_block(
    lost: np.ndarray,
    mission_of_request: np.ndarray,
    request_of: np.ndarray,
    usable: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Every view period of :data:`MISSIONS_PER_BLOCK` missions drawn by the value they lack."""
    missions = int(mission_of_request.max()) + 1
    lacking = np.bincount(mission_of_request, weights=lost, minlength=missions)
    weights = lacking + 1e-3 * max(float(lacking.max()), 1e-9)
    count = min(MISSIONS_PER_BLOCK, missions)
    picked = rng.choice(missions, size=count, replace=False, p=weights / weights.sum())
    chosen: np.ndarray = usable[np.isin(mission_of_request[request_of], picked)]
    return chosen
