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
:data:`WINDOW_S` over the week, weighted towards view periods of requests
that lack value; the fourth frees every view period of a few missions that
lack value, over the whole week, so that a mission can move its tracks to
other days.

Contacts are first cut to whole seconds (start up, end down; a contact
that would fall below its minimum is dropped): the model counts in whole
seconds, and kept contacts at fractional times would be rounded outwards
into their neighbours.

No I/O, no global state; randomness from a seeded generator.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from groundlink.scheduling.cpsat import BlockProblem
from groundlink.scheduling.feasibility import TIME_TOLERANCE_S
from groundlink.scheduling.model import Instance, ScheduledContact
from groundlink.scheduling.satnet_bound import applies as whole_track_bound_applies

#: Width of a time-window neighbourhood, seconds (on W10_2018 about 220 view periods; 8 h
#: blocks of 1 s gained as much or more in 60 s than 5-36 h blocks of 0.7-4 s).
WINDOW_S = 8 * 3600.0
#: Seconds given to one block (CP-SAT on ``workers`` threads).
BLOCK_S = 1.0
#: Missions freed together in a mission neighbourhood.
MISSIONS_PER_BLOCK = 2


def applies(instance: Instance) -> bool:
    """Whether this search is meant for ``instance``: SatNet-like (no slew, no turnaround, no
    fixed contacts, demands in seconds, tracks of at least minutes; see :mod:`.satnet_bound`)."""
    return whole_track_bound_applies(instance) and all(
        c.is_integer() for o in instance.opportunities for c in (o.start_s, o.end_s)
    )


def whole_seconds(
    instance: Instance, contacts: Sequence[ScheduledContact]
) -> list[ScheduledContact]:
    """``contacts`` cut to whole seconds (start rounded up, end down); fixed ones unchanged;
    a contact that would fall below its request's minimum duration is dropped."""
    minimum = {r.id: r.min_duration_s for r in instance.requests}
    cut = []
    for contact in contacts:
        if contact.fixed:
            cut.append(contact)
            continue
        start = float(math.ceil(contact.start_s - TIME_TOLERANCE_S))
        end = float(math.floor(contact.end_s + TIME_TOLERANCE_S))
        if end - start >= minimum.get(contact.request, 0.0) - TIME_TOLERANCE_S and end > start:
            cut.append(replace(contact, start_s=start, end_s=end))
    return cut


def improve(
    instance: Instance,
    hint: Sequence[ScheduledContact],
    *,
    time_limit_s: float,
    workers: int = 2,
    seed: int = 0,
    fair_floor: float | None = None,
    on_improvement: Callable[[float, float], None] | None = None,
) -> tuple[ScheduledContact, ...]:
    """The best schedule the window search finds from ``hint`` within ``time_limit_s``.

    Returns the contacts (fixed ones included), sorted by start; never worth
    less than ``hint`` cut to whole seconds (an invalid hint starts from
    nothing). ``on_improvement(value, elapsed_s)`` is called on every better one.
    ``fair_floor``: as in :func:`~.cpsat.optimise_in_detail`, schedules are
    compared by value less the price of the tenants' shortfall from that
    share of their fair value.
    """
    began = time.perf_counter()
    problem = BlockProblem(instance, fair_floor)
    incumbent = problem.start_from(whole_seconds(instance, hint))
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
    rounds = 0
    while time.perf_counter() - began < time_limit_s - 0.05:
        rounds += 1
        lost = problem.lost_value(incumbent)
        if rounds % 4 == 0:
            free = _mission_block(lost, mission_of_request, request_of, usable, rng)
        else:
            free = _window_block(lost[request_of], starts, ends, usable, rng)
        if len(free) == 0:
            continue
        left = time_limit_s - (time.perf_counter() - began)
        outcome = problem.solve_block(
            free, incumbent, time_limit_s=min(BLOCK_S, left), workers=workers, on_solution=None
        )
        if outcome.contacts is None:
            continue
        if problem.better(incumbent, outcome.contacts):
            continue
        gained = problem.better(outcome.contacts, incumbent)
        incumbent = outcome.contacts
        if gained and on_improvement is not None:
            on_improvement(problem.value(incumbent), time.perf_counter() - began)
    return problem.finish(incumbent)


def _window_block(
    lost: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    usable: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """View periods meeting a window of :data:`WINDOW_S`, centred in a view period drawn by the
    value its request lacks (uniformly when nothing lacks)."""
    weights = lost + 1e-3 * max(float(lost.max()), 1e-9)
    pick = int(rng.choice(len(usable), p=weights / weights.sum()))
    centre = rng.uniform(starts[pick], ends[pick])
    low, high = centre - WINDOW_S / 2, centre + WINDOW_S / 2
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
