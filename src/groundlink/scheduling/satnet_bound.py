"""A bound for SatNet-like instances that keeps every track whole: a Lagrangian over requests.

The LP bound of :mod:`.bound` lets a contact split in time, which on
SatNet's DSN weeks (tracks of 1-10 hours, each with its own setup and
teardown) lets almost every requested hour fit. This bound keeps each track
in one piece, on a time grid of :data:`GRID_S` seconds, and decomposes the
week by request, so that a request is served either not at all or by at
least its minimum, as in a schedule.

**The relaxation.** Take any valid schedule (:mod:`.model`; no slew, no
turnaround, no fixed contacts: :func:`applies`) and drop its contacts that
serve nothing (shorter than the request's minimum duration): it stays valid
and keeps its value. Each remaining contact ``[s, e)`` of request ``r``
holds each antenna of its opportunity over ``[s - setup, e + teardown)``.
Map that hold to grid slots ``A = ceil(hold start / g)`` and
``B = ceil(hold end / g)``. ``ceil`` is monotone, so holds that do not
overlap on an antenna map to slot spans ``[A, B)`` that do not overlap, and
a hold clear of a maintenance window ``[ms, me)`` maps clear of the slots
``[ceil(ms / g), ceil(me / g))``. The contact's length ``L`` satisfies
``L < (B - A + 1) g - setup - teardown`` and ``L <= max_duration``; the
window and the minimum duration give ranges for ``A``, ``B`` and
``B - A`` (computed with a tolerance that only widens them). The contact
covers the whole of every slot ``t`` with ``A + ceil(setup / g) <= t`` and
``t <= B - 2 - ceil(teardown / g)`` (its *certified* slots), so a mission's
contacts, which never overlap, never share a certified slot.

So every valid schedule maps to a choice, per request, of a *track set*:
grid tracks (an array opportunity's track holds each of its antennas), at
most one per opportunity and at most ``max_contacts`` in all, whose mapped
lengths total ``X``, worth ``weight x min(X, demand) / demand`` when ``X``
reaches the request's ``min_served`` and minimum duration, else nothing
(mapped lengths are at least the real ones, and the value grows with
``X``, so the set is worth at least the request's real value); such that
every antenna slot is held by at most one track and every mission slot is
certified by at most one. Its value is at least the schedule's.

**The Lagrangian.** Price each antenna slot (``pi_{a,t}`` >= 0) and
each mission slot (``mu_{m,t}`` >= 0). For *any* such prices the relaxed
problem separates by request: the prices' sum, plus per request the best
of serving nothing and its best track set, each track costing the prices of
the antenna slots it holds and the mission slots it certifies (weak
duality). The best set is exact up to rounding that only raises it: a
request of one track takes the best single track (:func:`_cheapest_tracks`
tries every start and end slot of every opportunity, compiled); a request of
several tracks, the best combination of its opportunities' cheapest track
per length in whole grid steps, each length rounded up
(:func:`_relaxed_value`, a small knapsack). A projected, deflected
subgradient method (Polyak steps aimed half way from the best bound to the
best value known) improves the prices, and the smallest sum seen is the
bound, with a relative margin of 1e-9 for float rounding. A poor or
unconverged price only loosens it. When the steps have converged with more
than :data:`REFINE_FROM_S` seconds left, they go on on a grid of half the
step, from the coarse prices spread over it, down to :data:`FINEST_GRID_S`,
and the smallest of the bounds is reported (a track's length is rounded up
by at most half as much at each halving): W10_2018 1,109.5 h in 45 s
against 1,112.8 h on the 5-minute grid alone; 1,105.1 h on the 75 s grid in
900 s.

Why by request and not by antenna (sessions 3-9 priced the requests and took
longest paths per antenna): per antenna the grid tracks form an interval
matrix, so that decomposition is worth no more than its LP, which serves
any share of a request whose tracks fall short of ``min_served``. Here a
request's track sets are whole, and the bound sees that a request reaching
only part of its minimum is worth nothing. Measured on the CI-class machine
(session 10): W10_2018 1,111-1,114 h in 25-70 s (by antenna: 1,142.2 h),
W20_2018 1,320 h (by antenna no better than the LP's 1,329.5 h).

No I/O, no global state.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

from groundlink.scheduling.feasibility import IndexedInstance, Usability, index_instance
from groundlink.scheduling.model import DemandKind, Instance

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Grid of the relaxation, seconds: a track may be valued up to one grid step longer than it is.
GRID_S = 300.0
#: Seconds left after the grid's steps have converged from which they go on on a grid of half
#: the step, from the coarse prices.
REFINE_FROM_S = 5.0
#: The finest grid the steps go on to, seconds. Each halving costs about four times as much per
#: step (W10_2018 beside a CP-SAT solve: 36, 184 and 643 ms) and took about 4 h off (900 s in all:
#: 1,113.7 h, 1,108.9 h, 1,105.1 h unconverged), so only long solves reach it.
FINEST_GRID_S = GRID_S / 4
#: Widening of every rounding, in grid steps (far above float error, far below a step).
_WIDEN = 1e-7
#: Steps without a better bound before the step length is halved.
_PATIENCE = 20
#: Polyak steps aim this share of the way from the best bound down to the best value known. Half
#: way does better than all the way from the greedy's value in short runs (session 10, 9 s:
#: W20_2018 1,322.6 h against 1,334.5 h, W10_2018 1,116.4 h against 1,115.3 h) and the same
#: in 30 s (1,320.7 h; 1,113.5 h against 1,112.8 h).
_AIM = 0.5
#: Share of the previous direction added to the subgradient (0: plain subgradient).
_DEFLECT = 0.5
#: Relative and absolute margins added to the bound for float rounding.
_MARGIN = 1e-9
#: Seconds of track a request may fall short of its minimum and still count (more than float
#: error: it only loosens the bound).
_MINIMUM_SLACK_S = 1e-3


@dataclass(frozen=True)
class TrackBound:
    """The bound (value units; hours on SatNet), how it was found: ``iterations`` subgradient
    steps in ``seconds``, the last on a grid of ``grid_s`` seconds."""

    value: float
    iterations: int
    seconds: float
    grid_s: float


def applies(instance: Instance) -> bool:
    """Whether the relaxation is valid here: no slew, no turnaround, no fixed contacts, demands
    in seconds, one contact per spacecraft at a time, and every minimum duration at least a
    grid step (so that a track spans a grid step)."""
    return (
        not instance.fixed
        and all(r.turnaround_s == 0 for r in instance.resources)
        and all(
            r.max_az_rate_deg_s is None or r.max_el_rate_deg_s is None for r in instance.resources
        )
        and all(
            q.demand_kind is DemandKind.SECONDS and q.min_duration_s >= GRID_S
            for q in instance.requests
        )
        and all(k == 1 for k in instance.max_simultaneous.values())
    )


class _Grid(NamedTuple):
    """The relaxation's tables, as arrays: per usable opportunity (rows sorted by request) its
    ranges of grid slots, and per request its value rule.

    Slots count ``grid_s`` steps from ``offset_s`` seconds before the epoch. An opportunity's track
    starts its hold at slot ``A`` in ``[a_min, a_max]`` and ends it at ``B`` in
    ``[A + span_min, min(A + span_max, b_max)]``; it certifies the mission slots
    ``A + certified_from`` to ``B - certified_to``. ``antenna_ptr``/``antenna``: the
    antennas each opportunity holds (CSR); ``request``: each row's request; ``request_ptr``:
    each request's rows.
    """

    grid_s: float
    offset_s: float
    slots: int
    antennas: int
    missions: int
    antenna_ptr: IntArray
    antenna: IntArray
    request: IntArray
    mission: IntArray
    a_min: IntArray
    a_max: IntArray
    b_max: IntArray
    span_min: IntArray
    span_max: IntArray
    certified_from: IntArray
    certified_to: IntArray
    padding_s: FloatArray
    longest_s: FloatArray
    setup_s: FloatArray
    window_from: FloatArray
    window_to: FloatArray
    request_ptr: IntArray
    weight: FloatArray
    demand_s: FloatArray
    minimum_s: FloatArray
    tracks_most: IntArray
    blocked_before: IntArray


def _grid(instance: Instance, index: IndexedInstance, grid_s: float) -> _Grid:
    g = grid_s
    setup_most = max((r.setup_s for r in instance.requests), default=0.0)
    offset = setup_most + g
    missions = sorted({r.spacecraft for r in instance.requests})
    mission_of = {m: k for k, m in enumerate(missions)}
    rows: list[tuple[float, ...]] = []
    held: list[list[int]] = []
    usable = np.nonzero(index.usability == Usability.USABLE)[0].tolist()
    slots = 0
    for position in sorted(usable, key=lambda p: int(index.opportunity_request[p])):
        opportunity = instance.opportunities[position]
        r = int(index.opportunity_request[position])
        request = instance.requests[r]
        low = float(index.window_start_s[position])
        high = float(index.window_end_s[position])
        longest = min(request.max_duration_s, high - low)
        if longest < request.min_duration_s - 1e-6:
            continue
        setup, teardown = request.setup_s, request.teardown_s
        padding = setup + teardown
        b_max = math.ceil((high + teardown + offset) / g + _WIDEN)
        rows.append(
            (
                r,
                mission_of[request.spacecraft],
                math.ceil((low - setup + offset) / g - _WIDEN),
                math.ceil((high - request.min_duration_s - setup + offset) / g + _WIDEN),
                b_max,
                max(1, math.floor((padding + request.min_duration_s) / g - _WIDEN)),
                math.ceil((padding + longest) / g + _WIDEN),
                math.ceil(setup / g + _WIDEN),
                2 + math.ceil(teardown / g + _WIDEN),
                padding,
                longest,
                setup,
                low + offset,
                high + offset,
            )
        )
        held.append([index.resource_index[resource] for resource in opportunity.resources])
        slots = max(slots, b_max + 1)
    table = np.array(rows, dtype=np.float64).reshape(-1, 14)
    ints = table[:, :9].astype(np.int64)
    slots = max(slots, math.ceil((instance.horizon_s + offset) / g) + 2)
    antennas = len(instance.resources)
    blocked = np.zeros((antennas, slots), dtype=np.int64)
    for a, antenna in enumerate(instance.resources):
        for window in antenna.maintenance:
            first = max(0, math.ceil((window.start_s + offset) / g + _WIDEN))
            last = min(slots, math.ceil((window.end_s + offset) / g - _WIDEN))
            if last > first:
                blocked[a, first:last] = 1
    blocked_before = np.zeros((antennas, slots + 1), dtype=np.int64)
    blocked_before[:, 1:] = np.cumsum(blocked, axis=1)
    requests = instance.requests
    rows_per_request = np.bincount(ints[:, 0], minlength=len(requests))
    request_ptr = np.zeros(len(requests) + 1, dtype=np.int64)
    request_ptr[1:] = np.cumsum(rows_per_request)
    most = [
        min(int(n), q.max_contacts if q.max_contacts is not None else int(n))
        for q, n in zip(requests, rows_per_request, strict=True)
    ]
    return _Grid(
        grid_s=g,
        offset_s=offset,
        slots=slots,
        antennas=antennas,
        missions=len(missions),
        antenna_ptr=np.concatenate([[0], np.cumsum([len(h) for h in held])]).astype(np.int64),
        antenna=np.array([a for h in held for a in h], dtype=np.int64),
        request=ints[:, 0].copy(),
        mission=ints[:, 1].copy(),
        a_min=ints[:, 2].copy(),
        a_max=ints[:, 3].copy(),
        b_max=ints[:, 4].copy(),
        span_min=ints[:, 5].copy(),
        span_max=ints[:, 6].copy(),
        certified_from=ints[:, 7].copy(),
        certified_to=ints[:, 8].copy(),
        padding_s=table[:, 9].copy(),
        longest_s=table[:, 10].copy(),
        setup_s=table[:, 11].copy(),
        window_from=table[:, 12].copy(),
        window_to=table[:, 13].copy(),
        request_ptr=request_ptr,
        weight=np.array([q.weight for q in requests], dtype=np.float64),
        demand_s=np.array([q.demand for q in requests], dtype=np.float64),
        minimum_s=np.array(
            [max(q.min_served, q.min_duration_s) - _MINIMUM_SLACK_S for q in requests]
        ),
        tracks_most=np.array(most, dtype=np.int64),
        blocked_before=blocked_before,
    )


@njit(cache=True, nogil=True)
def _mapped_length(
    start: int,
    end: int,
    grid_s: float,
    padding_s: float,
    setup_s: float,
    longest_s: float,
    window_from: float,
    after_start: float,
) -> float:
    """The longest contact (s) whose hold maps to slots ``[start, end)``: the hold is
    shorter than ``end - start + 1`` steps, the contact at most ``longest_s``, ends by
    ``end g - teardown`` after the window opens, and lasts less than ``after_start``."""
    length = (end - start + 1) * grid_s - padding_s
    teardown_s = padding_s - setup_s
    by_end = end * grid_s - teardown_s - window_from
    if by_end < length:
        length = by_end
    if after_start < length:
        length = after_start
    if longest_s < length:
        length = longest_s
    return length


@njit(cache=True, nogil=True)
def _worth(weight: float, demand_s: float, minimum_s: float, served_s: float) -> float:
    """A request's value for ``served_s`` seconds of track: nothing below its minimum."""
    if served_s < minimum_s:
        return 0.0
    return weight * min(served_s, demand_s) / demand_s


@njit(cache=True, nogil=True)
def _cheapest_tracks(
    grid: _Grid, steps_most: int, antenna_prefix: FloatArray, mission_prefix: FloatArray
) -> tuple[FloatArray, IntArray, FloatArray, IntArray]:
    """Per opportunity, its cheapest track of each length in whole grid steps (rounded up),
    and its best single track (value less cost) for its request.

    Returns ``cost[o, k]`` (inf where no track is ``k`` steps long) and ``at[o, k]``, that
    track's hold slots packed as ``start * (slots + 1) + end``; the best single track's net
    value ``single[o]`` (-inf where none reaches the request's minimum) and its packed slots
    ``single_at[o]``.
    """
    grid_s, slots = grid.grid_s, grid.slots
    antenna_ptr, antenna, mission = grid.antenna_ptr, grid.antenna, grid.mission
    a_min, a_max, b_max = grid.a_min, grid.a_max, grid.b_max
    span_min, span_max = grid.span_min, grid.span_max
    certified_from, certified_to = grid.certified_from, grid.certified_to
    padding_s, longest_s, setup_s = grid.padding_s, grid.longest_s, grid.setup_s
    window_from, window_to, blocked_before = grid.window_from, grid.window_to, grid.blocked_before
    weight, demand_s, minimum_s = grid.weight, grid.demand_s, grid.minimum_s
    n = len(a_min)
    cost = np.full((n, steps_most + 1), np.inf)
    at = np.zeros((n, steps_most + 1), dtype=np.int64)
    single = np.full(n, -np.inf)
    single_at = np.zeros(n, dtype=np.int64)
    for o in range(n):
        r = grid.request[o]
        for start in range(a_min[o], a_max[o] + 1):
            after_start = window_to[o] - (start - 1) * grid_s - setup_s[o]
            hi = min(start + span_max[o], b_max[o], slots)
            for end in range(start + span_min[o], hi + 1):
                clear = True
                held = 0.0
                for k in range(antenna_ptr[o], antenna_ptr[o + 1]):
                    a = antenna[k]
                    if blocked_before[a, end] - blocked_before[a, start] > 0:
                        clear = False
                        break
                    held += antenna_prefix[a, end] - antenna_prefix[a, start]
                if not clear:
                    break
                length = _mapped_length(
                    start,
                    end,
                    grid_s,
                    padding_s[o],
                    setup_s[o],
                    longest_s[o],
                    window_from[o],
                    after_start,
                )
                if length <= 0.0:
                    continue
                t0 = start + certified_from[o]
                t1 = end - certified_to[o]
                if t1 >= t0:
                    held += mission_prefix[mission[o], t1 + 1] - mission_prefix[mission[o], t0]
                steps = min(math.ceil(length / grid_s), steps_most)
                if held < cost[o, steps]:
                    cost[o, steps] = held
                    at[o, steps] = start * (slots + 1) + end
                net = _worth(weight[r], demand_s[r], minimum_s[r], length) - held
                if length >= minimum_s[r] and net > single[o]:
                    single[o] = net
                    single_at[o] = start * (slots + 1) + end
    return cost, at, single, single_at


@njit(cache=True, nogil=True)
def _best_set(
    first: int,
    last: int,
    most: int,
    grid_s: float,
    weight: float,
    demand_s: float,
    minimum_s: float,
    cost: FloatArray,
) -> tuple[float, IntArray]:
    """The best set of at most ``most`` tracks, one per opportunity of ``first:last``, valued
    on their lengths in whole grid steps (a knapsack over the steps, capped at the demand).

    Returns its net value and, per opportunity, the length taken in steps (0: none).
    """
    n = last - first
    cap = math.ceil(demand_s / grid_s) + 1
    steps_most = cost.shape[1] - 1
    best = np.full((n + 1, most + 1, cap + 1), np.inf)
    took = np.zeros((n + 1, most + 1, cap + 1), dtype=np.int64)
    best[0, 0, 0] = 0.0
    for i in range(n):
        best[i + 1] = best[i]
        row = cost[first + i]
        for j in range(most):
            for total in range(cap + 1):
                here = best[i, j, total]
                if here == np.inf:
                    continue
                for steps in range(1, steps_most + 1):
                    if row[steps] == np.inf:
                        continue
                    reach = min(total + steps, cap)
                    if here + row[steps] < best[i + 1, j + 1, reach]:
                        best[i + 1, j + 1, reach] = here + row[steps]
                        took[i + 1, j + 1, reach] = steps * (cap + 1) + total
    top, top_j, top_total = -np.inf, 0, 0
    for j in range(1, most + 1):
        for total in range(cap + 1):
            if best[n, j, total] < np.inf:
                net = _worth(weight, demand_s, minimum_s, total * grid_s) - best[n, j, total]
                if total * grid_s >= minimum_s and net > top:
                    top, top_j, top_total = net, j, total
    lengths = np.zeros(n, dtype=np.int64)
    j, total = top_j, top_total
    for i in range(n, 0, -1):
        if j == 0:
            break
        if best[i, j, total] < best[i - 1, j, total]:
            steps = took[i, j, total] // (cap + 1)
            lengths[i - 1] = steps
            total = took[i, j, total] % (cap + 1)
            j -= 1
    return top, lengths


@njit(cache=True, nogil=True)
def _relaxed_value(
    grid: _Grid, antenna_price: FloatArray, mission_price: FloatArray
) -> tuple[float, FloatArray, FloatArray]:
    """The relaxed problem at the given prices: its value (the prices' sum plus each request's
    best track set or nothing), and how many chosen tracks hold each antenna slot and certify
    each mission slot (for the subgradient)."""
    slots, grid_s = grid.slots, grid.grid_s
    antenna_prefix = np.zeros((antenna_price.shape[0], slots + 1))
    for a in range(antenna_price.shape[0]):
        for t in range(slots):
            antenna_prefix[a, t + 1] = antenna_prefix[a, t] + antenna_price[a, t]
    mission_prefix = np.zeros((mission_price.shape[0], slots + 2))
    for m in range(mission_price.shape[0]):
        for t in range(slots + 1):
            mission_prefix[m, t + 1] = mission_prefix[m, t] + mission_price[m, t]
    steps_most = math.ceil(grid.longest_s.max() / grid_s) + 2
    cost, at, single, single_at = _cheapest_tracks(grid, steps_most, antenna_prefix, mission_prefix)
    request_ptr, tracks_most = grid.request_ptr, grid.tracks_most
    antenna_ptr, antenna, mission = grid.antenna_ptr, grid.antenna, grid.mission
    total = antenna_price.sum() + mission_price.sum()
    antenna_use = np.zeros_like(antenna_price)
    mission_use = np.zeros_like(mission_price)
    for r in range(len(request_ptr) - 1):
        first, last = request_ptr[r], request_ptr[r + 1]
        if last == first:
            continue
        chosen = np.full(last - first, -1, dtype=np.int64)
        if tracks_most[r] == 1:
            pick = first + int(np.argmax(single[first:last]))
            net = single[pick]
            chosen[pick - first] = single_at[pick]
        else:
            net, lengths = _best_set(
                first,
                last,
                tracks_most[r],
                grid_s,
                grid.weight[r],
                grid.demand_s[r],
                grid.minimum_s[r],
                cost,
            )
            for i in range(last - first):
                if lengths[i] > 0:
                    chosen[i] = at[first + i, lengths[i]]
        if net <= 0.0:
            continue
        total += net
        for i in range(last - first):
            if chosen[i] < 0:
                continue
            o = first + i
            start, end = chosen[i] // (slots + 1), chosen[i] % (slots + 1)
            for k in range(antenna_ptr[o], antenna_ptr[o + 1]):
                antenna_use[antenna[k], start:end] += 1.0
            t0, t1 = start + grid.certified_from[o], end - grid.certified_to[o]
            if t1 >= t0:
                mission_use[mission[o], t0 : t1 + 1] += 1.0
    return total, antenna_use, mission_use


def track_bound(
    instance: Instance,
    *,
    time_limit_s: float,
    best_known: float = 0.0,
    index: IndexedInstance | None = None,
    max_iterations: int = 100_000,
) -> TrackBound | None:
    """The whole-track Lagrangian bound (module docstring), or None where it does not apply:
    on the :data:`GRID_S` grid, then, with time to spare, on grids of half the step each down
    to :data:`FINEST_GRID_S`; ``grid_s`` names the grid of the smallest bound.

    Args:
        time_limit_s: wall seconds for the subgradient steps (the first step always runs).
        best_known: the value of a valid schedule (a target for the step length; any value
            below the bound works, better ones converge faster).
    """
    if not applies(instance):
        return None
    began = time.perf_counter()
    index = index or index_instance(instance)
    grid = _grid(instance, index, GRID_S)
    if len(grid.a_min) == 0:
        return TrackBound(0.0, 0, time.perf_counter() - began, GRID_S)
    deadline = began + time_limit_s
    bound, iterations, prices = _subgradient(grid, best_known, deadline, max_iterations)
    bound_grid_s = grid.grid_s
    while (
        time.perf_counter() < deadline - REFINE_FROM_S
        and iterations < max_iterations
        and grid.grid_s / 2 >= FINEST_GRID_S
    ):
        # These prices have converged with time to spare: go on on a grid of half the step.
        fine = _grid(instance, index, grid.grid_s / 2)
        finer, more, fine_prices = _subgradient(
            fine, best_known, deadline, max_iterations - iterations, _halved(grid, fine, prices)
        )
        if finer < bound:
            bound, bound_grid_s = finer, fine.grid_s
        grid, prices = fine, fine_prices
        iterations += more
    return TrackBound(bound, iterations, time.perf_counter() - began, bound_grid_s)


def _halved(
    coarse: _Grid, fine: _Grid, prices: tuple[FloatArray, FloatArray]
) -> tuple[FloatArray, FloatArray]:
    """``coarse`` grid's prices spread over a grid of half its step: each fine slot gets half
    the price of the coarse slot that holds its start."""
    spread = []
    for price, width in zip(prices, (fine.slots, fine.slots + 1), strict=True):
        start_s = np.arange(width) * fine.grid_s - fine.offset_s
        slot = np.floor((start_s + coarse.offset_s) / coarse.grid_s + _WIDEN).astype(np.int64)
        spread.append(price[:, np.clip(slot, 0, price.shape[1] - 1)] / 2)
    return spread[0], spread[1]


def _subgradient(
    grid: _Grid,
    best_known: float,
    deadline: float,
    max_iterations: int,
    prices: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[float, int, tuple[FloatArray, FloatArray]]:
    """The smallest relaxed value the steps reach by ``deadline`` (perf_counter seconds; the
    first step always runs), with a margin for float rounding, the steps taken, and the prices
    (antenna slots, mission slots) at the best, starting from ``prices`` (default zero)."""
    if prices is None:
        prices = (np.zeros((grid.antennas, grid.slots)), np.zeros((grid.missions, grid.slots + 1)))
    antenna_price, mission_price = prices
    best_value = math.inf
    best_prices = prices
    theta = 1.0
    stall = 0
    previous: tuple[FloatArray, FloatArray] | None = None
    iterations = 0
    while iterations < max_iterations and (iterations == 0 or time.perf_counter() < deadline):
        iterations += 1
        value, antenna_use, mission_use = _relaxed_value(grid, antenna_price, mission_price)
        if value < best_value - 1e-9 * max(1.0, abs(value)):
            best_value, best_prices, stall = value, (antenna_price, mission_price), 0
        else:
            stall += 1
            if stall >= _PATIENCE:
                theta, stall = theta / 2, 0
                if theta < 1e-4:
                    break
        # Subgradients of the function being minimised, only where the prices can move.
        g_antenna = 1.0 - antenna_use
        g_mission = 1.0 - mission_use
        g_antenna = np.where((antenna_price <= 0.0) & (g_antenna > 0), 0.0, g_antenna)
        g_mission = np.where((mission_price <= 0.0) & (g_mission > 0), 0.0, g_mission)
        if _DEFLECT > 0 and previous is not None:
            # Deflected subgradient: a share of the last direction damps the zig-zag.
            g_antenna = g_antenna + _DEFLECT * previous[0]
            g_mission = g_mission + _DEFLECT * previous[1]
        previous = (g_antenna, g_mission)
        norm = float(np.sum(g_antenna**2) + np.sum(g_mission**2))
        if norm <= 1e-18:
            break
        known = best_known if 0 < best_known < best_value else 0.9 * best_value
        target = best_value - _AIM * (best_value - known)
        step = theta * (value - target) / norm
        antenna_price = np.maximum(0.0, antenna_price - step * g_antenna)
        mission_price = np.maximum(0.0, mission_price - step * g_mission)
    return best_value * (1 + _MARGIN) + _MARGIN, iterations, best_prices
