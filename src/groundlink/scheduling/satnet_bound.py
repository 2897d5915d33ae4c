"""A bound for SatNet-like instances that keeps every track whole: a Lagrangian over antennas.

The LP bound of :mod:`.bound` lets a contact split in time, which on
SatNet's DSN weeks (tracks of 1-10 hours, each with its own setup and
teardown) lets almost every requested hour fit. This bound keeps each track
in one piece, on a time grid of :data:`GRID_S` seconds, and decomposes the
week by antenna.

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

So every valid schedule maps to a choice, per antenna, of non-overlapping
grid tracks (an array opportunity is one track on each of its antennas)
such that: per request the value is at most ``min(weight, sum of mapped
values)``, with each track valued at ``weight / demand`` per second of the
longer length above; per opportunity at most one track; per request at
most ``max_contacts`` tracks; per mission and slot at most one certified
track. Its value is at least the schedule's.

**The Lagrangian.** Price the per-request cap (``lambda_r`` in [0, 1]),
the per-opportunity and per-request counts (``rho_o``, ``nu_r`` >= 0) and
the mission slots (``mu_{m,t}`` >= 0), and split an array track's value in
half between its two antennas (the two copies need not agree in the
relaxation; a schedule's copies do, and then the halves add up to the
value). For *any* such prices the relaxed problem separates: a request
term ``weight_r max(0, 1 - lambda_r)``, the constants ``sum rho +
sum nu x max_contacts + sum mu``, and per antenna the heaviest set of
non-overlapping grid tracks, a longest path over the slots
(:func:`_antenna_paths`, exact, compiled). Their sum bounds every valid
schedule's value (weak duality); the prices are improved by a projected
subgradient method (Polyak steps towards the best value known), and the
smallest sum seen is the bound, with a relative margin of 1e-9 for float
rounding. A poor or unconverged price only loosens it.

No I/O, no global state.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from groundlink.scheduling.feasibility import IndexedInstance, Usability, index_instance
from groundlink.scheduling.model import DemandKind, Instance

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Grid of the relaxation, seconds: a track may be valued up to one grid step longer than it is.
GRID_S = 300.0
#: Widening of every rounding, in grid steps (far above float error, far below a step).
_WIDEN = 1e-7
#: Steps without a better bound before the step length is halved.
_PATIENCE = 20
#: Polyak steps aim this share of the way from the best bound down to the best value known.
_AIM = 1.0
#: Share of the previous direction added to the subgradient (0: plain subgradient).
_DEFLECT = 0.5
#: Relative and absolute margins added to the bound for float rounding.
_MARGIN = 1e-9


@dataclass(frozen=True)
class TrackBound:
    """The bound (value units; hours on SatNet), how it was found, and the prices at its best.

    ``iterations``: subgradient steps taken; ``cap_prices``: ``lambda_r``
    per request (0-1: what an extra unit of the request's value costs in
    antenna time at the bound, 1 = it is not contested).
    """

    value: float
    iterations: int
    seconds: float
    cap_prices: FloatArray


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


@dataclass(frozen=True)
class _Tracks:
    """The grid tracks per (opportunity, antenna) *copy*, and the slot tables, as arrays."""

    slots: int
    antennas: int
    copy_antenna: IntArray
    copy_request: IntArray
    copy_opportunity: IntArray
    copy_mission: IntArray
    copy_first: IntArray
    copy_share: FloatArray
    a_min: IntArray
    a_max: IntArray
    b_max: IntArray
    span_min: IntArray
    span_max: IntArray
    certified_from: IntArray
    certified_to: IntArray
    padding_s: FloatArray
    longest_s: FloatArray
    per_second: FloatArray
    setup_s: FloatArray
    window_from: FloatArray
    window_to: FloatArray
    blocked_before: IntArray
    starts_ptr: IntArray
    starts_copy: IntArray
    missions: int
    weight: FloatArray
    max_contacts: FloatArray
    opportunities: int


def _tracks(instance: Instance, index: IndexedInstance) -> _Tracks:
    g = GRID_S
    setup_most = max((r.setup_s for r in instance.requests), default=0.0)
    offset = setup_most + g
    missions = sorted({r.spacecraft for r in instance.requests})
    mission_of = {m: k for k, m in enumerate(missions)}
    rows: list[tuple[float, ...]] = []
    usable = np.nonzero(index.usability == Usability.USABLE)[0].tolist()
    slots = 0
    for position in usable:
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
        a_min = math.ceil((low - setup + offset) / g - _WIDEN)
        a_max = math.ceil((high - request.min_duration_s - setup + offset) / g + _WIDEN)
        b_max = math.ceil((high + teardown + offset) / g + _WIDEN)
        span_min = math.floor((padding + request.min_duration_s) / g - _WIDEN)
        span_max = math.ceil((padding + longest) / g + _WIDEN)
        certified_from = math.ceil(setup / g + _WIDEN)
        certified_to = 2 + math.ceil(teardown / g + _WIDEN)
        per_second = request.weight / request.demand
        share = 1.0 / len(opportunity.resources)
        for k, resource in enumerate(opportunity.resources):
            rows.append(
                (
                    index.resource_index[resource],
                    r,
                    position,
                    mission_of[request.spacecraft],
                    1 if k == 0 else 0,
                    share,
                    a_min,
                    a_max,
                    b_max,
                    max(1, span_min),
                    span_max,
                    certified_from,
                    certified_to,
                    padding,
                    longest,
                    per_second,
                    setup,
                    low + offset,
                    high + offset,
                )
            )
        slots = max(slots, b_max + 1)
    table = np.array(rows, dtype=np.float64).reshape(-1, 19)
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
    ints = table[:, [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]].astype(np.int64)
    # Per (antenna, start slot): the copies that may start there, sorted (CSR).
    a_min_col, a_max_col = ints[:, 5], ints[:, 6]
    counts = np.maximum(a_max_col - a_min_col + 1, 0)
    copy_of = np.repeat(np.arange(len(ints)), counts)
    start_of = np.repeat(a_min_col, counts) + (
        np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    key = ints[copy_of, 0] * (slots + 1) + start_of
    order = np.argsort(key, kind="stable")
    starts_ptr = np.zeros(antennas * (slots + 1) + 1, dtype=np.int64)
    np.add.at(starts_ptr, key[order] + 1, 1)
    starts_ptr = np.cumsum(starts_ptr)
    requests = instance.requests
    return _Tracks(
        slots=slots,
        antennas=antennas,
        copy_antenna=ints[:, 0].copy(),
        copy_request=ints[:, 1].copy(),
        copy_opportunity=ints[:, 2].copy(),
        copy_mission=ints[:, 3].copy(),
        copy_first=ints[:, 4].copy(),
        copy_share=table[:, 5].copy(),
        a_min=ints[:, 5].copy(),
        a_max=ints[:, 6].copy(),
        b_max=ints[:, 7].copy(),
        span_min=ints[:, 8].copy(),
        span_max=ints[:, 9].copy(),
        certified_from=ints[:, 10].copy(),
        certified_to=ints[:, 11].copy(),
        padding_s=table[:, 13].copy(),
        longest_s=table[:, 14].copy(),
        per_second=table[:, 15].copy(),
        setup_s=table[:, 16].copy(),
        window_from=table[:, 17].copy(),
        window_to=table[:, 18].copy(),
        blocked_before=blocked_before,
        starts_ptr=starts_ptr,
        starts_copy=copy_of[order].astype(np.int64),
        missions=len(missions),
        weight=np.array([q.weight for q in requests], dtype=np.float64),
        max_contacts=np.array(
            [math.inf if q.max_contacts is None else float(q.max_contacts) for q in requests]
        ),
        opportunities=len(instance.opportunities),
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
def _antenna_paths(
    slots: int,
    antennas: int,
    grid_s: float,
    copy_antenna: IntArray,
    b_max: IntArray,
    span_min: IntArray,
    span_max: IntArray,
    certified_from: IntArray,
    certified_to: IntArray,
    copy_mission: IntArray,
    copy_first: IntArray,
    padding_s: FloatArray,
    longest_s: FloatArray,
    setup_s: FloatArray,
    window_from: FloatArray,
    window_to: FloatArray,
    coefficient: FloatArray,
    fixed_price: FloatArray,
    mission_prefix: FloatArray,
    blocked_before: IntArray,
    starts_ptr: IntArray,
    starts_copy: IntArray,
) -> tuple[float, IntArray, IntArray, IntArray, FloatArray]:
    """Per antenna the heaviest non-overlapping grid tracks (a longest path over the slots).

    Returns the total, and the tracks chosen: copy, start slot, end slot and mapped length (s).
    """
    total = 0.0
    out_copy = np.empty(0, dtype=np.int64)
    out_a = np.empty(0, dtype=np.int64)
    out_b = np.empty(0, dtype=np.int64)
    out_len = np.empty(0, dtype=np.float64)
    found_copy = []
    found_a = []
    found_b = []
    found_len = []
    best = np.empty(slots + 1, dtype=np.float64)
    arrive = np.empty(slots + 1, dtype=np.float64)
    arrive_copy = np.empty(slots + 1, dtype=np.int64)
    arrive_from = np.empty(slots + 1, dtype=np.int64)
    for a in range(antennas):
        for t in range(slots + 1):
            arrive[t] = -1.0
            arrive_copy[t] = -1
            arrive_from[t] = -1
        best[0] = 0.0
        for start in range(slots + 1):
            if start > 0:
                best[start] = best[start - 1]
                if arrive[start] > best[start]:
                    best[start] = arrive[start]
                else:
                    arrive_copy[start] = -1
            here = best[start]
            key = a * (slots + 1) + start
            for k in range(starts_ptr[key], starts_ptr[key + 1]):
                c = starts_copy[k]
                coef = coefficient[c]
                if coef <= 0.0:
                    continue
                price = fixed_price[c]
                mission = copy_mission[c]
                first = copy_first[c] == 1
                lo = start + span_min[c]
                hi = min(start + span_max[c], b_max[c])
                if hi > slots:
                    hi = slots
                # The contact starts after (start - 1) g + setup and ends by the window's end.
                after_start = window_to[c] - (start - 1) * grid_s - setup_s[c]
                for end in range(lo, hi + 1):
                    if blocked_before[a, end] - blocked_before[a, start] > 0:
                        break
                    length = _mapped_length(
                        start,
                        end,
                        grid_s,
                        padding_s[c],
                        setup_s[c],
                        longest_s[c],
                        window_from[c],
                        after_start,
                    )
                    value = here + coef * length - price
                    if first and mission >= 0:
                        t0 = start + certified_from[c]
                        t1 = end - certified_to[c]
                        if t1 >= t0:
                            value -= mission_prefix[mission, t1 + 1] - mission_prefix[mission, t0]
                    if value > arrive[end] + 1e-12 and value > here:
                        arrive[end] = value
                        arrive_copy[end] = c
                        arrive_from[end] = start
        total += best[slots]
        t = slots
        while t > 0:
            c = arrive_copy[t]
            if c >= 0 and arrive[t] >= best[t]:
                start = arrive_from[t]
                length = _mapped_length(
                    start,
                    t,
                    grid_s,
                    padding_s[c],
                    setup_s[c],
                    longest_s[c],
                    window_from[c],
                    window_to[c] - (start - 1) * grid_s - setup_s[c],
                )
                found_copy.append(c)
                found_a.append(start)
                found_b.append(t)
                found_len.append(length)
                t = start
            else:
                t -= 1
    if len(found_copy) > 0:
        out_copy = np.array(found_copy, dtype=np.int64)
        out_a = np.array(found_a, dtype=np.int64)
        out_b = np.array(found_b, dtype=np.int64)
        out_len = np.array(found_len, dtype=np.float64)
    return total, out_copy, out_a, out_b, out_len


def track_bound(
    instance: Instance,
    *,
    time_limit_s: float,
    best_known: float = 0.0,
    index: IndexedInstance | None = None,
    max_iterations: int = 100_000,
) -> TrackBound | None:
    """The whole-track Lagrangian bound (module docstring), or None where it does not apply.

    Args:
        time_limit_s: wall seconds for the subgradient steps (the first step always runs).
        best_known: the value of a valid schedule (a target for the step length; any value
            below the bound works, better ones converge faster).
    """
    if not applies(instance):
        return None
    began = time.perf_counter()
    index = index or index_instance(instance)
    tracks = _tracks(instance, index)
    if len(tracks.copy_antenna) == 0:
        return TrackBound(0.0, 0, time.perf_counter() - began, np.zeros(len(instance.requests)))
    # Starting from the LP's request prices (its duals) was tried: on W20_2018 the bound at
    # them, without mission prices, is 2,122 h, and 15 s of steps end where they do from 1.
    start = np.ones(len(instance.requests))
    return _subgradient(tracks, best_known, began, time_limit_s, max_iterations, start)


def _subgradient(
    tracks: _Tracks,
    best_known: float,
    began: float,
    time_limit_s: float,
    max_iterations: int,
    start: FloatArray,
) -> TrackBound:
    requests = len(tracks.weight)
    capped = np.isfinite(tracks.max_contacts)
    contacts_cap = np.where(capped, tracks.max_contacts, 0.0)
    lam = start.copy()
    nu = np.zeros(requests)
    rho = np.zeros(tracks.opportunities)
    mu = np.zeros((max(tracks.missions, 1), tracks.slots + 1))
    best_value = math.inf
    best_lam = lam.copy()
    theta = 1.0
    stall = 0
    previous: tuple[FloatArray, FloatArray, FloatArray, FloatArray] | None = None
    iterations = 0
    while iterations < max_iterations and (
        iterations == 0 or time.perf_counter() - began < time_limit_s
    ):
        iterations += 1
        coefficient = lam[tracks.copy_request] * tracks.per_second * tracks.copy_share
        first = tracks.copy_first == 1
        fixed_price = np.where(first, rho[tracks.copy_opportunity] + nu[tracks.copy_request], 0.0)
        prefix = np.zeros((mu.shape[0], mu.shape[1] + 1))
        prefix[:, 1:] = np.cumsum(mu, axis=1)
        total, chosen, a, b, length = _antenna_paths(
            tracks.slots,
            tracks.antennas,
            GRID_S,
            tracks.copy_antenna,
            tracks.b_max,
            tracks.span_min,
            tracks.span_max,
            tracks.certified_from,
            tracks.certified_to,
            tracks.copy_mission,
            tracks.copy_first,
            tracks.padding_s,
            tracks.longest_s,
            tracks.setup_s,
            tracks.window_from,
            tracks.window_to,
            coefficient,
            fixed_price,
            prefix,
            tracks.blocked_before,
            tracks.starts_ptr,
            tracks.starts_copy,
        )
        value = (
            float(np.sum(tracks.weight * np.maximum(0.0, 1.0 - lam)))
            + float(np.sum(nu * contacts_cap))
            + float(np.sum(rho))
            + float(np.sum(mu))
            + total
        )
        if value < best_value - 1e-9 * max(1.0, abs(value)):
            best_value, best_lam, stall = value, lam.copy(), 0
        else:
            stall += 1
            if stall >= _PATIENCE:
                theta, stall = theta / 2, 0
                if theta < 1e-4:
                    break
        # Subgradients (of the function being minimised).
        request = tracks.copy_request[chosen]
        served = np.zeros(requests)
        np.add.at(served, request, length * tracks.per_second[chosen] * tracks.copy_share[chosen])
        g_lam = served - np.where(lam < 1.0, tracks.weight, 0.0)
        is_first = tracks.copy_first[chosen] == 1
        starts_r = np.zeros(requests)
        np.add.at(starts_r, request[is_first], 1.0)
        g_nu = np.where(capped, contacts_cap - starts_r, 0.0)
        starts_o = np.zeros(tracks.opportunities)
        np.add.at(starts_o, tracks.copy_opportunity[chosen[is_first]], 1.0)
        g_rho = 1.0 - starts_o
        g_mu = np.ones_like(mu)
        for c, t0, t1 in zip(
            chosen[is_first].tolist(),
            (a[is_first] + tracks.certified_from[chosen[is_first]]).tolist(),
            (b[is_first] - tracks.certified_to[chosen[is_first]]).tolist(),
            strict=True,
        ):
            if t1 >= t0:
                g_mu[tracks.copy_mission[c], t0 : t1 + 1] -= 1.0
        # Only directions that can move (projection on the non-negative prices).
        g_lam = np.where((lam <= 0.0) & (g_lam > 0), 0.0, g_lam)
        g_lam = np.where((lam >= 1.0) & (g_lam < 0), 0.0, g_lam)
        g_nu = np.where((nu <= 0.0) & (g_nu > 0), 0.0, g_nu)
        g_rho = np.where((rho <= 0.0) & (g_rho > 0), 0.0, g_rho)
        g_mu = np.where((mu <= 0.0) & (g_mu > 0), 0.0, g_mu)
        if _DEFLECT > 0 and previous is not None:
            # Deflected subgradient: a share of the last direction damps the zig-zag.
            g_lam = g_lam + _DEFLECT * previous[0]
            g_nu = g_nu + _DEFLECT * previous[1]
            g_rho = g_rho + _DEFLECT * previous[2]
            g_mu = g_mu + _DEFLECT * previous[3]
        previous = (g_lam, g_nu, g_rho, g_mu)
        norm = float(np.sum(g_lam**2) + np.sum(g_nu**2) + np.sum(g_rho**2) + np.sum(g_mu**2))
        if norm <= 1e-18:
            break
        known = best_known if 0 < best_known < best_value else 0.9 * best_value
        target = best_value - _AIM * (best_value - known)
        step = theta * (value - target) / norm
        lam = np.clip(lam - step * g_lam, 0.0, 1.0)
        nu = np.maximum(0.0, nu - step * g_nu)
        rho = np.maximum(0.0, rho - step * g_rho)
        mu = np.maximum(0.0, mu - step * g_mu)
    bound = best_value * (1 + _MARGIN) + _MARGIN
    return TrackBound(bound, iterations, time.perf_counter() - began, best_lam)
