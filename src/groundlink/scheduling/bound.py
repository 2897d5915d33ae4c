"""An upper bound on the value of any valid schedule: an LP relaxation, certified by duality.

Every result reports ``value 8,642, bound 9,494, gap 9.0%``; the bound is
what makes the gap mean something, so it must be *valid* (no schedule is
worth more) and *fast* (computed inside the same time budget as the
schedule). A plain time-indexed LP of a day of 300 spacecraft on 20
antennas takes 30-40 s; this one takes well under a second because it
splits the LP along its structure and never trusts a solver's arithmetic
for validity.

**The relaxation.** Take any valid schedule. Each usable opportunity ``o``
of request ``r`` holds at most one contact of ``d`` seconds,
``m_r <= d <= L_o`` where ``L_o = min(max_duration_s, window length)``
(shorter contacts serve nothing, so drop them), inside a part of the window
where its hold meets no maintenance and keeps turnaround + the worst slew
from every fixed contact's hold (windows are cut there first). Let ``W`` be
the slew the conflict rule charges next to a trimmed edge (a 180° azimuth
move: ``180 / az rate``; 0 without slew rates). Give each contact the
*padded span* ``[start - setup - W/2 [start trimmed], end + teardown +
turnaround + W/2 [end trimmed])``. Two consecutive holds on an antenna are
at least ``turnaround + slew`` apart and that slew is ``W`` when either
facing edge is trimmed, so ``>= W/2`` per trimmed facing edge: padded spans
are disjoint (fixed contacts, which have no pointing, count as trimmed at
both ends). A padded span lies inside the opportunity's *extended window*
(the window widened by those paddings), and it meets maintenance only
within turnaround + ``W/2`` after its start or ``W/2`` before its end.
Write ``P = setup + teardown + turnaround`` and measure, per opportunity:

* ``u_o``: contacts (a contact-count request) or contact seconds (seconds
  and bytes requests) served;
* ``y_{o,T}``: seconds of its padded spans in time slice ``T`` of its
  antenna.

Then, exactly for the real schedule:

1. ``sum_T y_{o,T} >= rho_o u_o``. Counts: each contact costs at least
   ``min(m_r + P + W/2, window + P)`` (shorter than its window means a
   trimmed edge; the whole window only if allowed). Seconds and bytes:
   ``rho_o = 1 + P / window`` if the whole window is an allowed contact
   (the padded length of a contact is at least ``d (1 + P / window)``),
   else ``1 + (P + W/2) / L_o`` (always trimmed, ``d <= L_o``);
2. ``y_{o,T} <= |extended window ∩ T|`` and, per antenna and slice,
   ``sum_o y_{o,T} <= |T| - (blocked time in T)``, blocked time being fixed
   contacts' padded spans and maintenance less those edges;
3. per request, ``sum_o q_o u_o <= demand - (what its fixed contacts
   serve)`` (``q_o`` = 1, or the byte rate: service beyond the demand is
   worth nothing, so it can be left out), and, with ``max_contacts``,
   ``sum_o n_o <= max_contacts - fixed ones`` where ``n_o = u_o`` or
   ``u_o / L_o`` (a lower bound on contacts);
4. per spacecraft *cluster* (its opportunity windows that overlap,
   transitively), ``sum_o c_o u_o <= k x |union of windows| - (its fixed
   contact seconds there)``, ``c_o`` the contact seconds per unit of ``u``
   (``m_r`` or 1): at most ``k`` contacts at once;
5. value ``<= sum_r w_r/D_r (F_r + sum_o q_o u_o)``: the value is linear in
   what is served up to the demand (:func:`~.model.request_value`), and
   ``min_served`` only ever lowers it.

So the LP "maximise 5 subject to 1-4" on *elementary* slices (between
consecutive extended-window edges) is at least the value of every valid
schedule. Identical antennas of one station (same bands, turnaround, slew
rates, maintenance) are *pooled*: their opportunities with the same window
become one column with their summed capacity (a sum of valid rows is
valid). It is a relaxation: contacts may be split in time, so on a busy
network where packing whole contacts is the difficulty (SatNet's
multi-hour tracks) it can be far from the optimum.

**Why it is fast: prices, then flows.** The elementary LP of 300 x 20 has
some 200,000 columns (GLOP: 27 s, as slow as a plain time-indexed LP); but
it is a transportation problem per antenna pool, tied together only by rows
3 and 4. So:

1. an *aggregate* LP (GLOP) keeps rows 3-4 and collapses each pool's time
   into a single slice (elementary slices when the LP is small anyway);
   its duals price every request (``pi``), contact budget and cluster;
2. with those prices fixed, the Lagrangian of the *elementary* LP splits
   into one max-weight transportation problem per pool: opportunity ``o``
   earns ``(c_o - prices) / rho_o`` per antenna-second, placed in the
   slices of its extended window. Each is an exact min-cost flow (OR-Tools'
   ``SimpleMinCostFlow``, integer milliseconds; the rounding is bounded and
   added). Opportunities on several pools (arrays) split their earnings
   between pools in proportion to the LP's prices (any split is valid).

By weak duality the result, ``prices . right-hand sides + sum of the pool
flows``, bounds the elementary LP from above for *any* non-negative prices,
so neither GLOP's tolerances nor a time-out can make it wrong, only looser;
the aggregate LP's own dual bound (``b.y + sum_j ub_j max(0, c_j -
(A^T y)_j)``, also valid for any ``y >= 0``) and the per-request caps are
kept too, and the smallest of the three is returned, with a relative
margin of 1e-9 for float rounding. Measured on a generated day of 300
spacecraft x 20 antennas with demand 1.5 x capacity (one idle 2-core
machine): elementary LP 1544.32 in 27 s (GLOP; 211,135 columns); aggregated
LP 1552.93 in 0.20 s; with the flows 1544.96 in 0.32 s more: 0.04% above
the exact LP, 50 times faster.

Per-opportunity scores (the fraction of each opportunity the flows use,
with the reduced profit as a tie-break) are returned for
:func:`~.greedy.greedy_schedule`'s ``order_value``.

Hand-written because no library builds this relaxation; the LP is
OR-Tools' GLOP and the flows its min-cost flow. No I/O, no global state.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow
from ortools.linear_solver import linear_solver_pb2, pywraplp

from groundlink.contacts.conflicts import MAX_AZIMUTH_MOVE_DEG
from groundlink.scheduling.feasibility import (
    IndexedInstance,
    Usability,
    fixed_contacts,
    index_instance,
)
from groundlink.scheduling.model import DemandKind, Instance, Resource, ScheduledContact
from groundlink.scheduling.validate import merged_maintenance, served_by_request

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Largest elementary LP (columns + rows) solved as it is; larger ones are aggregated in time.
LP_SIZE_TARGET = 60_000
#: Cluster rows kept in the aggregate LP (beyond this their prices are left at zero).
CLUSTER_ROWS_MAX = 5_000
#: Largest number of opportunity-slice arcs in the flows; beyond it slices are merged.
FLOW_ARCS_MAX = 2_500_000
#: Slice widths tried when the elementary flows would be too large, seconds.
FLOW_GRID_S = (30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
#: Flow unit: one millisecond of antenna time.
_FLOW_UNITS_PER_S = 1000.0
#: Largest integer cost handed to the min-cost flow (leaves room for its cost scaling).
_MAX_FLOW_COST = 2**30
#: Relative safety margin on every certified bound (float64 rounding in the duality sums).
_MARGIN = 1e-9


@dataclass(frozen=True)
class LpBound:
    """An upper bound on the value of every valid schedule, and what the LP did per opportunity.

    ``value`` is in :func:`~.model.request_value` units; ``method`` says how
    it was obtained (e.g. ``"lp-relaxation (priced flows on exact slices)"``).
    ``opportunity_values`` maps usable opportunity ids to a score in [0, 1.5],
    higher first: the fraction of the opportunity the relaxation uses, plus
    up to 0.5 by its reduced profit; usable as
    :func:`~.greedy.greedy_schedule`'s ``order_value``. ``lp_value`` is the
    LP optimum GLOP reported (``nan`` if none), ``solve_s`` wall seconds.
    """

    value: float
    method: str
    opportunity_values: Mapping[int, float]
    lp_value: float
    solve_s: float


def lp_bound(instance: Instance, *, time_limit_s: float | None = None) -> LpBound:
    """An upper bound on the value of any valid schedule of ``instance`` (module docstring).

    ``time_limit_s`` bounds the LP solve (None: no limit); if GLOP stops
    without prices, the flows run with zero prices: still valid, looser.
    """
    began = time.perf_counter()
    relaxation = _Relaxation(instance, index_instance(instance))
    caps = relaxation.capped_value()
    if relaxation.columns == 0:
        return LpBound(caps, "per-request caps (no usable opportunity)", {}, math.nan, 0.0)
    exact = relaxation.elementary_size() <= LP_SIZE_TARGET
    lp = _SlicedLp(
        relaxation,
        0.0 if exact else math.inf,
        with_clusters=exact or relaxation.cluster_row_count <= CLUSTER_ROWS_MAX,
    )
    remaining = None if time_limit_s is None else max(0.05, time_limit_s - _since(began))
    solution = _solve_glop(lp, remaining)
    bounds = {"per-request caps": caps}
    if solution is None:
        primal, duals, lp_value = np.zeros(lp.shape[1]), np.zeros(lp.shape[0]), math.nan
    else:
        primal, duals, lp_value = solution
        lp_value += relaxation.fixed_value
        bounds["lp-relaxation"] = lp.dual_bound(duals) + relaxation.fixed_value
    if exact and solution is not None:
        used = primal[: relaxation.columns]
    else:
        flow_bound, used = _priced_flows(relaxation, lp, duals)
        bounds["flows"] = flow_bound + relaxation.fixed_value
    name = min(bounds, key=lambda key: bounds[key])
    method = {
        "per-request caps": "per-request caps",
        "lp-relaxation": "lp-relaxation ("
        + ("elementary slices" if exact else "aggregated in time")
        + ", dual-certified)",
        "flows": "lp-relaxation (priced flows on exact slices, dual-certified)",
    }[name]
    scores = relaxation.opportunity_scores(used, lp.reduced_profit(duals))
    return LpBound(bounds[name], method, scores, lp_value, _since(began))


def _since(began: float) -> float:
    return time.perf_counter() - began


# --- the relaxation's columns ----------------------------------------------------------------


def _pool_key(resource: Resource) -> tuple[object, ...]:
    windows = tuple(sorted((w.start_s, w.end_s) for w in resource.maintenance))
    return (
        resource.station or f"#{resource.id}",
        tuple(sorted(resource.bands)),
        resource.turnaround_s,
        resource.max_az_rate_deg_s,
        resource.max_el_rate_deg_s,
        windows,
    )


class _Relaxation:
    """The columns of the LP: pooled opportunities ("windows") and their antenna pools.

    Over windows ``j``: ``request``, ``start_s``/``end_s`` (the usable
    contact window), ``amount_cap`` (most ``u`` the window can take),
    ``value_per_unit`` (``c``), ``served_per_unit`` (``q``),
    ``contacts_per_unit`` (``n`` per unit), ``contact_s_per_unit`` (``c`` of
    row 4), and ``member_ids``/``member_window`` (the opportunity ids pooled
    in each). Over incidences ``i`` = (window, pool): ``inc_window``,
    ``inc_pool``, ``inc_hold`` (resources of the pool one unit of padded
    span holds), ``inc_width`` (contacts that may run at once on the pool),
    ``rho`` and the extended window ``ext_start_s``/``ext_end_s``.
    """

    def __init__(self, instance: Instance, index: IndexedInstance) -> None:
        requests = instance.requests
        self._pools(instance)
        fixed = fixed_contacts(instance)
        served = served_by_request(instance, fixed)
        demand = np.array([r.demand for r in requests], dtype=np.float64)
        self.weight_per_unit = np.array([r.weight / r.demand for r in requests])
        fixed_served = np.array([served[r.id] for r in requests], dtype=np.float64)
        self.remaining = np.maximum(demand - fixed_served, 0.0)
        self.fixed_value = float(np.sum(self.weight_per_unit * np.minimum(fixed_served, demand)))
        self.total_weight = float(sum(r.weight for r in requests))
        fixed_count: dict[str, int] = {}
        for contact in fixed:
            if contact.request:
                fixed_count[contact.request] = fixed_count.get(contact.request, 0) + 1
        self.contact_room = np.array(
            [
                math.inf
                if r.max_contacts is None
                else max(0, r.max_contacts - fixed_count.get(r.id, 0))
                for r in requests
            ],
            dtype=np.float64,
        )
        self._windows(instance, index)
        self._blocked(instance)
        self._clusters(instance, fixed)

    def _pools(self, instance: Instance) -> None:
        keys: dict[tuple[object, ...], int] = {}
        pool_of = [keys.setdefault(_pool_key(r), len(keys)) for r in instance.resources]
        self.pool_of_resource = np.array(pool_of, dtype=np.int64)
        self.pool_count = len(keys)
        self.pool_size = np.bincount(self.pool_of_resource, minlength=self.pool_count)
        self.pool_turnaround_s = np.zeros(self.pool_count)
        self.pool_half_slew_s = np.zeros(self.pool_count)
        for resource, pool in zip(instance.resources, pool_of, strict=True):
            self.pool_turnaround_s[pool] = resource.turnaround_s
            self.pool_half_slew_s[pool] = _half_worst_slew_s(resource)

    def _windows(self, instance: Instance, index: IndexedInstance) -> None:
        requests = instance.requests
        usable = np.nonzero(index.usability == Usability.USABLE)[0]
        usable = usable[self.remaining[index.opportunity_request[usable]] > 0]
        # Each distinct resource tuple: its pools and how many of its resources each holds.
        set_pools: list[dict[int, int]] = []
        for resource_ids in index.resource_sets:
            counts: dict[int, int] = {}
            for rid in resource_ids:
                pool = int(self.pool_of_resource[index.resource_index[rid]])
                counts[pool] = counts.get(pool, 0) + 1
            set_pools.append(counts)
        alone = np.array([len(ids) == 1 for ids in index.resource_sets], dtype=bool)
        first_pool = np.array([min(c) for c in set_pools], dtype=np.int64)
        usable, start, end = self._split_by_blocked(instance, index, usable)
        sets = index.resource_set[usable]
        request = index.opportunity_request[usable]
        rate = index.rate_bytes_s[usable]
        # Single-resource opportunities with equal (request, window, rate, pool) are pooled;
        # multi-resource ones (arrays) stay alone.
        key = np.where(alone[sets], first_pool[sets], -1 - np.arange(len(usable)))
        table = np.stack([request.astype(np.float64), start, end, rate, key.astype(float)], 1)
        if len(usable):
            _, first, window_of = np.unique(table, axis=0, return_index=True, return_inverse=True)
        else:
            first, window_of = np.zeros(0, np.int64), np.zeros(0, np.int64)
        self.columns = count = len(first)
        ids = np.array([o.id for o in instance.opportunities], dtype=np.int64)
        self.member_ids = ids[usable]
        self.member_window = window_of.reshape(-1)
        multiplicity = np.bincount(self.member_window, minlength=count).astype(np.float64)
        self.request = request[first]
        self.start_s = start[first]
        self.end_s = end[first]
        kinds = [r.demand_kind for r in requests]
        is_count = np.array([k is DemandKind.CONTACTS for k in kinds], dtype=bool)[self.request]
        is_bytes = np.array([k is DemandKind.BYTES for k in kinds], dtype=bool)[self.request]
        min_s = np.array([r.min_duration_s for r in requests])[self.request]
        max_s = np.array([r.max_duration_s for r in requests])[self.request]
        setup = np.array([r.setup_s for r in requests])[self.request]
        teardown = np.array([r.teardown_s for r in requests])[self.request]
        longest = np.minimum(max_s, self.end_s - self.start_s)
        self.served_per_unit = np.where(is_bytes, rate[first], 1.0)
        self.value_per_unit = self.weight_per_unit[self.request] * self.served_per_unit
        self.contacts_per_unit = np.where(is_count, 1.0, 1.0 / longest)
        self.contact_s_per_unit = np.where(is_count, min_s, 1.0)
        self.amount_cap = np.where(is_count, multiplicity, multiplicity * longest)
        inc_window, inc_pool, inc_hold, inc_width = [], [], [], []
        for j, number in enumerate(sets[first].tolist()):
            for pool, held in set_pools[number].items():
                inc_window.append(j)
                inc_pool.append(pool)
                inc_hold.append(1.0 if alone[number] else float(held))
                inc_width.append(multiplicity[j] if alone[number] else float(held))
        self.inc_window = np.array(inc_window, dtype=np.int64)
        self.inc_pool = np.array(inc_pool, dtype=np.int64)
        self.inc_hold = np.array(inc_hold, dtype=np.float64)
        self.inc_width = np.array(inc_width, dtype=np.float64)
        of = self.inc_window
        turnaround = self.pool_turnaround_s[self.inc_pool]
        half_slew = self.pool_half_slew_s[self.inc_pool]
        padding = setup[of] + teardown[of] + turnaround
        window = self.end_s[of] - self.start_s[of]
        whole = window <= max_s[of] + 1e-6  # the whole window is an allowed contact
        # A contact shorter than its window has a trimmed edge: half a worst slew more.
        count_cost = np.minimum(
            np.where(min_s[of] < window - 1e-6, min_s[of] + padding + half_slew, np.inf),
            np.where(whole, window + padding, np.inf),
        )
        time_cost = np.where(
            whole, 1.0 + padding / window, 1.0 + (padding + half_slew) / longest[of]
        )
        self.rho = np.where(is_count[of], count_cost, time_cost)
        self.ext_start_s = self.start_s[of] - setup[of] - half_slew
        self.ext_end_s = self.end_s[of] + teardown[of] + turnaround + half_slew

    def _split_by_blocked(
        self, instance: Instance, index: IndexedInstance, usable: IntArray
    ) -> tuple[IntArray, FloatArray, FloatArray]:
        """Usable windows cut where no contact may be: maintenance and fixed contacts.

        A contact's hold may not meet maintenance, nor come within turnaround
        (+ the worst slew, fixed contacts having no pointing) of a fixed
        contact's hold; the pieces left shorter than the minimum duration go.
        Returns the opportunity positions (repeated per piece) and the pieces.
        """
        # Per resource: (start, end, gap) of each hold a contact's hold must keep ``gap`` from.
        zones: dict[str, list[tuple[float, float, float]]] = {}
        maintenance = merged_maintenance(instance)
        requests_by_id = {r.id: r for r in instance.requests}
        for resource in instance.resources:
            own = [(a, b, 0.0) for a, b in maintenance[resource.id]]
            gap = resource.turnaround_s + 2 * _half_worst_slew_s(resource)
            for fixed in instance.fixed:
                if resource.id in fixed.resources:
                    owner = requests_by_id.get(fixed.request)
                    setup = owner.setup_s if owner else 0.0
                    teardown = owner.teardown_s if owner else 0.0
                    own.append((fixed.start_s - setup, fixed.end_s + teardown, gap))
            if own:
                zones[resource.id] = own
        start = index.window_start_s[usable]
        end = index.window_end_s[usable]
        if not zones:
            return usable, start, end
        requests = instance.requests
        keep_position: list[int] = []
        keep_start: list[float] = []
        keep_end: list[float] = []
        for k, position in enumerate(usable.tolist()):
            opportunity = instance.opportunities[position]
            touched = [z for rid in opportunity.resources for z in zones.get(rid, ())]
            if not touched:
                keep_position.append(position)
                keep_start.append(float(start[k]))
                keep_end.append(float(end[k]))
                continue
            request = requests[int(index.opportunity_request[position])]
            cuts = [
                (a - request.teardown_s - gap, b + gap + request.setup_s) for a, b, gap in touched
            ]
            for piece_start, piece_end in _pieces_outside(float(start[k]), float(end[k]), cuts):
                if piece_end - piece_start >= max(request.min_duration_s - 1e-6, 1e-9):
                    keep_position.append(position)
                    keep_start.append(piece_start)
                    keep_end.append(piece_end)
        return (
            np.array(keep_position, dtype=np.int64),
            np.array(keep_start, dtype=np.float64),
            np.array(keep_end, dtype=np.float64),
        )

    def _blocked(self, instance: Instance) -> None:
        """Per pool, the spans (one list per resource, merged) no padded span may use."""
        spans: list[list[tuple[float, float]]] = [[] for _ in instance.resources]
        resource_index = {r.id: i for i, r in enumerate(instance.resources)}
        maintenance = merged_maintenance(instance)
        for i, resource in enumerate(instance.resources):
            half_slew = _half_worst_slew_s(resource)
            for start, end in maintenance[resource.id]:
                # Padded spans may run into maintenance by their turnaround and half slew.
                if end - half_slew > start + resource.turnaround_s + half_slew:
                    spans[i].append((start + resource.turnaround_s + half_slew, end - half_slew))
        requests = {r.id: r for r in instance.requests}
        for contact in instance.fixed:
            request = requests.get(contact.request)
            setup = request.setup_s if request else 0.0
            teardown = request.teardown_s if request else 0.0
            for rid in contact.resources:
                i = resource_index[rid]
                turnaround = instance.resources[i].turnaround_s
                half_slew = _half_worst_slew_s(instance.resources[i])
                spans[i].append(
                    (
                        contact.start_s - setup - half_slew,
                        contact.end_s + teardown + turnaround + half_slew,
                    )
                )
        self.blocked_by_pool: list[list[tuple[float, float]]] = [[] for _ in range(self.pool_count)]
        for i, own in enumerate(spans):
            self.blocked_by_pool[int(self.pool_of_resource[i])].extend(_merged(own))

    def _clusters(self, instance: Instance, fixed: tuple[ScheduledContact, ...]) -> None:
        """Row 4: per spacecraft, windows that overlap (transitively), and their capacity."""
        requests = instance.requests
        names = sorted({r.spacecraft for r in requests})
        code = {name: n for n, name in enumerate(names)}
        craft_of_request = np.array([code[r.spacecraft] for r in requests], dtype=np.int64)
        craft = craft_of_request[self.request]
        request_index = {r.id: n for n, r in enumerate(requests)}
        fixed_spans: dict[int, list[tuple[float, float]]] = {}
        for contact in fixed:
            if contact.request:
                owner = int(craft_of_request[request_index[contact.request]])
                fixed_spans.setdefault(owner, []).append((contact.start_s, contact.end_s))
        limits = [instance.spacecraft_limit(name) for name in names]
        order = np.lexsort((self.start_s, craft)).tolist()
        starts, ends, crafts = self.start_s.tolist(), self.end_s.tolist(), craft.tolist()
        self.cluster_rows: list[tuple[list[int], float]] = []
        position = 0
        while position < len(order):
            first = order[position]
            owner = crafts[first]
            members = [first]
            union = [[starts[first], ends[first]]]
            position += 1
            while position < len(order):
                j = order[position]
                if crafts[j] != owner or starts[j] >= union[-1][1]:
                    break
                members.append(j)
                union[-1][1] = max(union[-1][1], ends[j])
                position += 1
            start, end = union[0]
            taken = sum(
                max(0.0, min(end, fe) - max(start, fs)) for fs, fe in fixed_spans.get(owner, [])
            )
            capacity = max(0.0, limits[owner] * (end - start) - taken)
            if len(members) > 1:
                self.cluster_rows.append((members, capacity))
            elif self.contact_s_per_unit[first] > 0:
                cap = capacity / self.contact_s_per_unit[first]
                self.amount_cap[first] = min(self.amount_cap[first], cap)
        self.cluster_row_count = len(self.cluster_rows)

    def capped_value(self) -> float:
        """Fixed value plus, per request, the value of all its windows filled (capped)."""
        most = np.bincount(
            self.request,
            weights=self.served_per_unit * self.amount_cap,
            minlength=len(self.remaining),
        )
        extra = float(np.sum(self.weight_per_unit * np.minimum(most, self.remaining)))
        return min(self.total_weight, self.fixed_value + extra) * (1 + _MARGIN) + _MARGIN

    def elementary_size(self) -> int:
        """Columns + rows of the LP on elementary slices (estimated without building it)."""
        total = self.columns + len(self.inc_window) + len(self.remaining) + self.cluster_row_count
        for pool in range(self.pool_count):
            sel = self.inc_pool == pool
            if sel.any():
                points = _breakpoints(self.ext_start_s[sel], self.ext_end_s[sel], 0.0)
                lo, hi = _slice_span(points, self.ext_start_s[sel], self.ext_end_s[sel])
                total += int(np.sum(hi - lo)) + len(points)
        return total

    def opportunity_scores(self, used: FloatArray, reduced: FloatArray) -> dict[int, float]:
        """Per opportunity id: the fraction of its window used, + up to 0.5 by reduced profit."""
        fraction = np.clip(used / np.maximum(self.amount_cap, 1e-12), 0.0, 1.0)
        relative = reduced[: self.columns] / np.maximum(self.value_per_unit, 1e-300)
        tie = 0.5 / (1.0 + np.exp(-np.clip(4.0 * relative, -50.0, 50.0)))
        score = np.where(fraction < 1.0, fraction + tie, 1.5)
        return dict(zip(self.member_ids.tolist(), score[self.member_window].tolist(), strict=True))


def _pieces_outside(
    start: float, end: float, cuts: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The parts of ``[start, end]`` outside every open interval of ``cuts``."""
    pieces = []
    for cut_start, cut_end in sorted(cuts):
        if cut_end <= start or cut_start >= end:
            continue
        if cut_start > start:
            pieces.append((start, cut_start))
        start = max(start, cut_end)
    if end > start:
        pieces.append((start, end))
    return pieces


def _half_worst_slew_s(resource: Resource) -> float:
    """Half the slew the conflict rule charges next to a trimmed edge (180° of azimuth)."""
    if resource.max_az_rate_deg_s is None or resource.max_el_rate_deg_s is None:
        return 0.0
    return 0.5 * MAX_AZIMUTH_MOVE_DEG / resource.max_az_rate_deg_s


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# --- slices ----------------------------------------------------------------------------------


def _breakpoints(starts: FloatArray, ends: FloatArray, bin_s: float) -> FloatArray:
    """Slice edges covering every span: exact edges (0), a grid of ``bin_s``, or one slice (inf)."""
    if bin_s <= 0:
        return np.unique(np.concatenate([starts, ends]))
    if math.isinf(bin_s):
        return np.array([float(starts.min()), float(ends.max())])
    first = math.floor(float(starts.min()) / bin_s)
    last = math.ceil(float(ends.max()) / bin_s)
    return np.arange(first, last + 1, dtype=np.float64) * bin_s


def _slice_span(
    points: FloatArray, starts: FloatArray, ends: FloatArray
) -> tuple[IntArray, IntArray]:
    """For each span, the first slice it meets and one past the last."""
    lo = np.searchsorted(points, starts, side="right") - 1
    hi = np.searchsorted(points, ends, side="left")
    return lo.astype(np.int64), hi.astype(np.int64)


def _blocked_in(points: FloatArray, spans: list[tuple[float, float]]) -> FloatArray:
    """Seconds of ``spans`` inside each slice (spans of different resources add up)."""
    blocked = np.zeros(len(points) - 1)
    for start, end in spans:
        lo = int(np.searchsorted(points, start, side="right")) - 1
        hi = int(np.searchsorted(points, end, side="left"))
        lo, hi = max(lo, 0), min(hi, len(points) - 1)
        if hi > lo:
            edges = points[lo : hi + 1]
            blocked[lo:hi] += np.clip(
                np.minimum(edges[1:], end) - np.maximum(edges[:-1], start), 0, None
            )
    return blocked


def _ranges(lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray]:
    """For each i, the integers ``lo[i] .. hi[i]-1``: (owner i, integer), concatenated."""
    counts = np.maximum(hi - lo, 0)
    owner = np.repeat(np.arange(len(lo)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner.astype(np.int64), (lo[owner] + offsets).astype(np.int64)


def _pieces(
    points: FloatArray, starts: FloatArray, ends: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Every (span, slice) pair with the seconds they share (> 0)."""
    lo, hi = _slice_span(points, starts, ends)
    owner, slices = _ranges(lo, hi)
    overlap = np.minimum(ends[owner], points[slices + 1]) - np.maximum(
        starts[owner], points[slices]
    )
    keep = overlap > 0
    return owner[keep], slices[keep], overlap[keep]


# --- the LP ----------------------------------------------------------------------------------


class _SlicedLp:
    """``max c.x, A x <= b, 0 <= x <= ub`` as COO arrays; columns: windows' ``u``, then ``y``.

    Rows: per pool its slice rows and link rows, then (from
    ``first_price_row``) requests, contact budgets and clusters.
    ``inc_row``/``inc_coef``: the antenna row where each incidence's ``u``
    enters, and its coefficient (to split an array's earnings by price).
    """

    def __init__(self, relaxation: _Relaxation, bin_s: float, *, with_clusters: bool) -> None:
        rel = relaxation
        n = rel.columns
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        vals: list[FloatArray] = []
        rhs: list[FloatArray] = []
        upper: list[FloatArray] = [rel.amount_cap.copy()]
        self.inc_row = np.zeros(len(rel.inc_window), dtype=np.int64)
        self.inc_coef = rel.inc_hold * rel.rho
        next_row, next_col = 0, n
        for pool in range(rel.pool_count):
            sel = np.nonzero(rel.inc_pool == pool)[0]
            if len(sel) == 0:
                continue
            starts, ends = rel.ext_start_s[sel], rel.ext_end_s[sel]
            points = _breakpoints(starts, ends, bin_s)
            lo, hi = _slice_span(points, starts, ends)
            capacity = float(rel.pool_size[pool]) * np.diff(points)
            capacity -= _blocked_in(points, rel.blocked_by_pool[pool])
            slice_row = next_row + np.arange(len(points) - 1)
            next_row += len(points) - 1
            rhs.append(np.maximum(capacity, 0.0))
            windows = rel.inc_window[sel]
            coef = self.inc_coef[sel]
            width = rel.inc_width[sel]
            # A window inside one slice: its u goes straight into the slice's row.
            single = np.nonzero(hi - lo == 1)[0]
            rows.append(slice_row[lo[single]])
            cols.append(windows[single])
            vals.append(coef[single])
            self.inc_row[sel[single]] = slice_row[lo[single]]
            span = ends[single] - starts[single]
            upper[0][windows[single]] = np.minimum(
                upper[0][windows[single]], width[single] * span / np.maximum(coef[single], 1e-12)
            )
            # Others: one y per slice, and a link row  coef * u - sum y <= 0.
            multi = np.nonzero(hi - lo > 1)[0]
            owner, slices, overlap = _pieces(points, starts[multi], ends[multi])
            y_cols = next_col + np.arange(len(owner))
            next_col += len(owner)
            upper.append(width[multi][owner] * overlap)
            link_row = next_row + np.arange(len(multi))
            next_row += len(multi)
            rows += [slice_row[slices], link_row[owner], link_row]
            cols += [y_cols, y_cols, windows[multi]]
            vals += [np.ones(len(owner)), -np.ones(len(owner)), coef[multi]]
            rhs.append(np.zeros(len(multi)))
            self.inc_row[sel[multi]] = link_row
        self.first_price_row = next_row
        # Demand left per request.
        active = np.unique(rel.request)
        request_row = np.full(len(rel.remaining), -1, dtype=np.int64)
        request_row[active] = next_row + np.arange(len(active))
        next_row += len(active)
        rows.append(request_row[rel.request])
        cols.append(np.arange(n))
        vals.append(rel.served_per_unit)
        rhs.append(rel.remaining[active])
        # Contacts left per request (max_contacts).
        limited = active[np.isfinite(rel.contact_room[active])]
        if len(limited):
            contact_row = np.full(len(rel.remaining), -1, dtype=np.int64)
            contact_row[limited] = next_row + np.arange(len(limited))
            next_row += len(limited)
            mine = np.nonzero(contact_row[rel.request] >= 0)[0]
            rows.append(contact_row[rel.request[mine]])
            cols.append(mine)
            vals.append(rel.contacts_per_unit[mine])
            rhs.append(rel.contact_room[limited])
        # Spacecraft clusters.
        if with_clusters and rel.cluster_rows:
            members = np.concatenate([np.array(m, dtype=np.int64) for m, _ in rel.cluster_rows])
            which = np.repeat(
                np.arange(rel.cluster_row_count), [len(m) for m, _ in rel.cluster_rows]
            )
            rows.append(next_row + which)
            cols.append(members)
            vals.append(rel.contact_s_per_unit[members])
            rhs.append(np.array([c for _, c in rel.cluster_rows], dtype=np.float64))
            next_row += rel.cluster_row_count
        self.row = np.concatenate(rows).astype(np.int64)
        self.col = np.concatenate(cols).astype(np.int64)
        self.val = np.concatenate(vals).astype(np.float64)
        self.rhs = np.concatenate(rhs).astype(np.float64)
        self.upper = np.concatenate(upper).astype(np.float64)
        self.objective = np.zeros(next_col)
        self.objective[:n] = rel.value_per_unit

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return len(self.rhs), len(self.objective)

    def reduced_profit(self, duals: FloatArray, *, from_row: int = 0) -> FloatArray:
        """``c - A^T y`` per column, counting only rows ``>= from_row``."""
        y = np.where(np.arange(len(self.rhs)) >= from_row, _prices(duals), 0.0)
        priced = np.bincount(
            self.col, weights=self.val * y[self.row], minlength=len(self.objective)
        )
        profit: FloatArray = self.objective - priced
        return profit

    def dual_bound(self, duals: FloatArray) -> float:
        """Weak duality: ``b.y + sum_j ub_j max(0, c_j - (A^T y)_j)`` for ``y >= 0``, padded."""
        y = _prices(duals)
        bound = float(self.rhs @ y + self.upper @ np.maximum(self.reduced_profit(y), 0.0))
        return bound * (1 + _MARGIN) + _MARGIN

    def to_proto(self) -> linear_solver_pb2.MPModelProto:
        """The LP as an OR-Tools model (maximise)."""
        model = linear_solver_pb2.MPModelProto(maximize=True)
        for upper, cost in zip(self.upper.tolist(), self.objective.tolist(), strict=True):
            model.variable.add(lower_bound=0.0, upper_bound=upper, objective_coefficient=cost)
        order = np.argsort(self.row, kind="stable")
        cuts = np.searchsorted(self.row[order], np.arange(len(self.rhs) + 1)).tolist()
        columns = self.col[order].tolist()
        values = self.val[order].tolist()
        for r, bound in enumerate(self.rhs.tolist()):
            constraint = model.constraint.add(lower_bound=-math.inf, upper_bound=bound)
            constraint.var_index.extend(columns[cuts[r] : cuts[r + 1]])
            constraint.coefficient.extend(values[cuts[r] : cuts[r + 1]])
        return model


def _prices(duals: FloatArray) -> FloatArray:
    """Duals made usable in weak duality: finite and >= 0."""
    clean: FloatArray = np.maximum(np.nan_to_num(duals, nan=0.0, posinf=0.0, neginf=0.0), 0.0)
    return clean


def _solve_glop(
    lp: _SlicedLp, time_limit_s: float | None
) -> tuple[FloatArray, FloatArray, float] | None:
    """GLOP's primal, row duals and objective, or None if it stopped without them."""
    request = linear_solver_pb2.MPModelRequest(
        model=lp.to_proto(),
        solver_type=linear_solver_pb2.MPModelRequest.GLOP_LINEAR_PROGRAMMING,
    )
    if time_limit_s is not None:
        request.solver_time_limit_seconds = time_limit_s
    response = linear_solver_pb2.MPSolutionResponse()
    pywraplp.Solver.SolveWithProto(request, response)
    if (
        response.status != linear_solver_pb2.MPSOLVER_OPTIMAL
        or len(response.dual_value) != len(lp.rhs)
        or len(response.variable_value) != lp.shape[1]
    ):
        return None
    return (
        np.array(response.variable_value, dtype=np.float64),
        np.array(response.dual_value, dtype=np.float64),
        float(response.objective_value),
    )


# --- the priced flows ------------------------------------------------------------------------


def _priced_flows(
    relaxation: _Relaxation, lp: _SlicedLp, duals: FloatArray
) -> tuple[float, FloatArray]:
    """The elementary LP's Lagrangian at the LP's request/contact/cluster prices.

    Returns the certified bound (without the fixed value) and, per window,
    the ``u`` the flows use.
    """
    rel = relaxation
    y = _prices(duals)
    price_rows = np.arange(len(lp.rhs)) >= lp.first_price_row
    constant = float(lp.rhs[price_rows] @ y[price_rows])
    earning = lp.reduced_profit(y, from_row=lp.first_price_row)[: rel.columns]
    # Split each window's earning between its pools in proportion to the LP's antenna prices.
    antenna_price = lp.inc_coef * y[lp.inc_row]
    per_window = np.bincount(rel.inc_window, weights=antenna_price, minlength=rel.columns)
    count = np.bincount(rel.inc_window, minlength=rel.columns)
    share = np.where(
        per_window[rel.inc_window] > 0,
        antenna_price / np.maximum(per_window[rel.inc_window], 1e-300),
        1.0 / count[rel.inc_window],
    )
    inc_earning = earning[rel.inc_window] * share
    used = np.full(rel.columns, np.inf)
    np.minimum.at(used, rel.inc_window[inc_earning <= 0], 0.0)
    total = constant
    grid = _flow_grid(rel)
    for pool in range(rel.pool_count):
        sel = np.nonzero((rel.inc_pool == pool) & (inc_earning > 0))[0]
        if len(sel):
            value, amount = _pool_flow(rel, pool, sel, inc_earning[sel], grid)
            total += value
            np.minimum.at(used, rel.inc_window[sel], amount)
    used[np.isinf(used)] = 0.0
    return total * (1 + _MARGIN) + _MARGIN, used


def _flow_grid(relaxation: _Relaxation) -> float:
    """0 (elementary slices) if the flows' arcs fit in :data:`FLOW_ARCS_MAX`, else a grid width."""
    rel = relaxation
    arcs = 0
    for pool in range(rel.pool_count):
        sel = rel.inc_pool == pool
        if sel.any():
            points = _breakpoints(rel.ext_start_s[sel], rel.ext_end_s[sel], 0.0)
            lo, hi = _slice_span(points, rel.ext_start_s[sel], rel.ext_end_s[sel])
            arcs += int(np.sum(hi - lo))
    if arcs <= FLOW_ARCS_MAX:
        return 0.0
    spans = rel.ext_end_s - rel.ext_start_s
    for width in FLOW_GRID_S:
        if float(np.sum(spans / width + 2)) <= FLOW_ARCS_MAX:
            return width
    return FLOW_GRID_S[-1]


def _pool_flow(
    relaxation: _Relaxation, pool: int, incidences: IntArray, earning: FloatArray, grid_s: float
) -> tuple[float, FloatArray]:
    """Max of ``sum earning_i u_i`` over the pool's antenna rows: an exact min-cost flow.

    Flow units are milliseconds of antenna time: source -> incidence (its
    most antenna time, earning per unit as negative cost) -> slice (its
    share of the extended window) -> sink (the slice's capacity), plus a
    free source -> sink arc. Capacities are rounded up (a relaxation) and
    costs to integers; the rounding's worth (half a cost unit per flow unit)
    is added, so the result bounds the real maximum. Returns it and ``u``
    per incidence.
    """
    rel = relaxation
    hold = rel.inc_hold[incidences] * rel.rho[incidences]
    most_u = rel.amount_cap[rel.inc_window[incidences]]
    free = hold <= 1e-9  # uses no antenna time: earns its whole cap
    value = float(np.sum(earning[free] * most_u[free]))
    amount = np.where(free, most_u, 0.0)
    keep = np.nonzero(~free)[0]
    if len(keep) == 0:
        return value, amount
    starts = rel.ext_start_s[incidences[keep]]
    ends = rel.ext_end_s[incidences[keep]]
    points = _breakpoints(starts, ends, grid_s)
    capacity = float(rel.pool_size[pool]) * np.diff(points)
    capacity = np.maximum(capacity - _blocked_in(points, rel.blocked_by_pool[pool]), 0.0)
    owner, slices, overlap = _pieces(points, starts, ends)
    per_second = earning[keep] / hold[keep]
    # value per flow unit = per_second / units; integer cost = round(value per unit * scale).
    per_unit = per_second / _FLOW_UNITS_PER_S
    scale = _MAX_FLOW_COST / float(per_unit.max())
    cost = -np.round(per_unit * scale).astype(np.int64)
    supply = np.ceil(hold[keep] * most_u[keep] * _FLOW_UNITS_PER_S).astype(np.int64)
    arc_cap = np.ceil(rel.inc_width[incidences[keep]][owner] * overlap * _FLOW_UNITS_PER_S)
    slice_cap = np.ceil(capacity * _FLOW_UNITS_PER_S).astype(np.int64)
    m, s = len(keep), len(points) - 1
    source, sink = 0, 1
    window_node = 2 + np.arange(m)
    slice_node = 2 + m + np.arange(s)
    total_supply = int(supply.sum())
    graph = min_cost_flow.SimpleMinCostFlow()
    graph.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(m, source), window_node[owner], slice_node, [source]]),
        np.concatenate([window_node, slice_node[slices], np.full(s, sink), [sink]]),
        np.concatenate([supply, arc_cap.astype(np.int64), slice_cap, [total_supply]]),
        np.concatenate([cost, np.zeros(len(owner) + s + 1, dtype=np.int64)]),
    )
    graph.set_node_supply(source, total_supply)
    graph.set_node_supply(sink, -total_supply)
    status = graph.solve()
    if status != graph.OPTIMAL:
        # Cannot happen for this network (always feasible through the free arc); stay valid.
        value += float(np.sum(earning[keep] * most_u[keep]))
        amount[keep] = most_u[keep]
        return value, amount
    flows = graph.flows(np.arange(m))
    rounding = 0.5 / scale * float(min(total_supply, int(slice_cap.sum())))
    value += -graph.optimal_cost() / scale + rounding
    amount[keep] = flows / _FLOW_UNITS_PER_S / hold[keep]
    return value, amount
