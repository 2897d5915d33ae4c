"""The greedy scheduler: a good valid schedule in about a second, and every solver's start.

:func:`greedy_schedule` builds a schedule in seven steps:

1. **Fixed contacts** of the instance go in first, as they are.
2. **Kept contacts** (``keep``: a previous plan, a warm start) go in next,
   most important request first, each only if it is still valid.
3. **Fill.** The usable opportunities are taken one at a time, best score
   first. The score is ``order_value`` when given (e.g. the LP
   relaxation's values, higher first), else the value one contact adds per
   second of antenna time it holds (the request's weight times the share of
   its demand the contact serves, over contact + setup + teardown seconds on
   each antenna plus the turnaround), divided by ``sqrt(1 + n)`` where ``n``
   is how many other candidate windows overlap it on its antenna: among
   equally valuable passes the least contended go first (0.2-1.5% more
   value on the test and benchmark instances). Ties go to the pass that
   ends first. Inside the pass
   the contact takes the earliest free part (:meth:`.Timeline.best_window`):
   a contact-count request its minimum duration (the whole pass, up to the
   maximum, when it sets no minimum), a seconds or bytes request as long as
   allowed up to what it still lacks.
4. **Fairness** (``fairness=True``): requests queue per tenant, and the
   tenant that goes next is the one whose best score times its *deficit
   weight* is highest. The deficit weight is
   ``1 + 30 x max(0, 1 - v / (0.85 F))``, with ``v`` the value the tenant has
   so far and ``F`` its fair value (:mod:`.fairness`) for the value placed so
   far: a tenant at 85% of its fair value or more competes on score alone,
   a starved one gets up to 31 times its score, enough to outweigh a factor
   16 in priority weight. Fair values move as others are served, so every
   tenant's key is redone whenever the total has grown by 2% (between
   refreshes the heap of tenants is re-scored lazily).
5. **Clean-up.** Requests that stay below their ``min_served`` give their
   contacts back (they are worth nothing) and the fill runs again.
6. **Fairness swaps** (``fairness=True``): while a tenant is below 85% of
   its fair value, an unused pass of its requests whose antennas are held
   only by tenants above 85% of theirs is given to it, and the contacts
   that held it move to the nearest free window of their own requests (or
   are dropped). Swaps stop when they would cost more than 1% of the
   schedule's value in all, or push a giving tenant below 85% of its fair
   value.
7. **Lengthening.** Contact-count contacts grow into the free time around
   them, up to their maximum duration and centred on the pass (longer
   contacts carry more data, at no cost to anybody).

On the benchmark's generated day of 300 spacecraft, 20 antennas and 15
tenants of one priority each, score alone leaves the worst tenant 19% of
its request (a ratio of 0.32 to its fair share); steps 4 and 6 raise the
worst ratio to 0.79 for 1.5% of value (0.85 for 0.14% on 1,000 x 60).

Every opportunity is looked at once at most, and a look is a binary search
in the sorted holds of its antennas (:mod:`.timeline`): O(n log n) for n
opportunities. Most looks end in :meth:`.Timeline.first_with_room`, a quick
test that never rejects a pass the exact rule would accept; as the fill
only adds contacts, a request's passes that fail it are skipped at once,
without going through the queues (the schedule is the same). CPU time, on
a shared 2-core machine: 0.11 s without fairness and 0.27-0.3 s with it
(its swaps) for a day of 300 spacecraft on 20 antennas (20,000 passes);
0.64-0.75 s without and 0.72-0.9 s with it for 1,000 on 60 (190,000 passes;
of which indexing the instance 0.12 s and the garbage collector about
0.08 s). The fairness rule is built once per :class:`Planner`, and a caller
that has the index already passes it (``index=``).
"""

from __future__ import annotations

import bisect
import heapq
import math
import time
from collections.abc import Mapping, Sequence
from operator import attrgetter

import numpy as np

from groundlink.scheduling.fairness import FairnessRule
from groundlink.scheduling.feasibility import (
    TIME_TOLERANCE_S,
    IndexedInstance,
    Usability,
    amount_of,
    fixed_contacts,
    index_instance,
)
from groundlink.scheduling.model import (
    DemandKind,
    Instance,
    Opportunity,
    Request,
    ScheduledContact,
)
from groundlink.scheduling.timeline import Timeline

#: How much a starved tenant's score is raised, per unit of missing fair value.
DEFICIT_BOOST = 30.0
#: The fraction of its fair value below which a tenant is favoured.
FAIR_TARGET = 0.85
#: Scores are divided by (1 + overlapping windows) to this power.
CONTENTION_EXPONENT = 0.5
#: Share of the schedule's value the fairness swaps may give up.
REBALANCE_BUDGET = 0.01
#: How many passes nearest in time a contact moved aside by a fairness swap may try.
_REBALANCE_PASSES = 12
#: How many passes of starved tenants the fairness swaps look at, at most.
_REBALANCE_ATTEMPTS = 3000
#: Refresh every tenant's deficit weight when the total value has grown by this fraction.
_REFRESH_GROWTH = 0.02
#: Shortest contact a request without a minimum duration gets, seconds.
_SHORTEST_CONTACT_S = 1.0


def greedy_schedule(
    instance: Instance,
    *,
    order_value: Mapping[int, float] | None = None,
    fairness: bool = True,
    keep: Sequence[ScheduledContact] = (),
    index: IndexedInstance | None = None,
) -> tuple[ScheduledContact, ...]:
    """A valid schedule for ``instance`` by the greedy of the module docstring.

    Args:
        order_value: a score per opportunity id, higher first (missing: 0);
            replaces the value-per-antenna-second score.
        fairness: queue per tenant and favour tenants below their fair value.
        keep: contacts to place first and keep where still valid (fixed ones
            are taken from the instance, not from here).
        index: ``index_instance(instance)`` when the caller has it already.

    Returns:
        The contacts, fixed ones included (``fixed=True``), by start time.
    """
    planner = Planner(instance, index)
    planner.place_fixed()
    planner.place_kept(keep)
    planner.complete(order_value=order_value, fairness=fairness)
    return planner.contacts()


class Planner:
    """One run of the greedy: a :class:`.Timeline` plus what each request and tenant has got.

    Repair drives it step by step (:mod:`.repair`); :func:`greedy_schedule`
    runs it start to finish.
    """

    def __init__(self, instance: Instance, index: IndexedInstance | None = None) -> None:
        self.instance = instance
        self.index = index or index_instance(instance)
        self.timeline = Timeline(self.index)
        count = len(instance.requests)
        self.served = [0.0] * count
        self.contact_count = [0] * count
        self.exhausted = [False] * count
        self.open_request = [True] * count  # may still take a contact: see wants_more
        # The most each request may be served, in its demand unit (repair lowers it).
        self.ceiling = [r.demand for r in instance.requests]
        self.used_opportunities: set[int] = set()
        self.frozen: set[int] = set()  # placement keys that stay as they are
        self.tenant_value: dict[str, float] = {r.tenant: 0.0 for r in instance.requests}
        self.total_value = 0.0  # the sum of tenant_value, kept as it changes
        # Usable opportunities by request (built on first use): positions grouped by request and
        # where each request's run starts; then each request's by start, once asked for.
        self._usable_grouped: tuple[np.ndarray, list[int]] | None = None
        self._usable_by_request: dict[int, tuple[list[float], list[int]]] = {}
        self._rule: FairnessRule | None = None

    @property
    def rule(self) -> FairnessRule:
        """The instance's fairness rule, built on first use (fill and rebalance share it)."""
        if self._rule is None:
            self._rule = FairnessRule(self.instance, self.index)
        return self._rule

    # --- bookkeeping -------------------------------------------------------------------------

    @staticmethod
    def linear_value(request: Request, served: float) -> float:
        """What ``served`` (demand unit) of ``request`` is worth, ignoring ``min_served``."""
        return request.weight * min(served, request.demand) / request.demand

    def add(self, contact: ScheduledContact, *, frozen: bool = False) -> int:
        """Place ``contact`` (already checked) and count what it serves; returns its key."""
        placement = self.timeline.add(contact)
        if frozen:
            self.frozen.add(placement.key)
        if contact.request:
            self._count(contact, 1)
        if not contact.fixed:
            self.used_opportunities.add(contact.opportunity)
        return placement.key

    def remove(self, key: int) -> ScheduledContact:
        """Take the contact placed under ``key`` out again; returns it."""
        contact = self.timeline.remove(key)
        self.frozen.discard(key)
        if contact.request:
            self._count(contact, -1)
        if not contact.fixed:
            self.used_opportunities.discard(contact.opportunity)
        return contact

    def _count(self, contact: ScheduledContact, sign: int) -> None:
        """Count what ``contact`` serves to its request and tenant (``sign`` 1), or uncount (-1)."""
        index = self.index
        r = index.request_index[contact.request]
        request = self.instance.requests[r]
        rate = index.rate_of(contact.opportunity) if request.demand_kind is DemandKind.BYTES else 0
        before = self.linear_value(request, self.served[r])
        self.served[r] += sign * amount_of(request, contact.duration_s, rate)
        self.contact_count[r] += sign
        self.open_request[r] = self.wants_more(r)
        change = self.linear_value(request, self.served[r]) - before
        self.tenant_value[request.tenant] += change
        self.total_value += change

    def contacts(self) -> tuple[ScheduledContact, ...]:
        """Every placed contact, by start time."""
        contacts = [p.contact for p in self.timeline.placements.values()]
        # By (start, resources, request): stable sorts from the last key, no tuple per contact.
        for field in ("request", "resources", "start_s"):
            contacts.sort(key=attrgetter(field))
        return tuple(contacts)

    def wants_more(self, r: int) -> bool:
        """Whether request ``r`` may still take a contact."""
        request = self.instance.requests[r]
        if self.exhausted[r] or self.served[r] >= self.ceiling[r] - 1e-9 * request.demand:
            return False
        return request.max_contacts is None or self.contact_count[r] < request.max_contacts

    # --- the first two steps -----------------------------------------------------------------

    def place_fixed(self) -> None:
        """Place the instance's fixed contacts, as they are."""
        for contact in fixed_contacts(self.instance):
            self.add(contact, frozen=True)

    def valid_alone(self, contact: ScheduledContact) -> Opportunity | None:
        """The opportunity of ``contact`` if the contact keeps every rule of its own.

        Its opportunity, resources, time window, durations and the static
        rules; not the timeline (see :meth:`.Timeline.fits`).
        """
        if contact.fixed or contact.request not in self.index.request_index:
            return None
        opportunity = self.index.opportunity(contact.opportunity)
        if opportunity is None or opportunity.request != contact.request:
            return None
        if sorted(opportunity.resources) != sorted(contact.resources):
            return None
        if opportunity.id in self.used_opportunities:
            return None
        request = self.index.request(contact.request)
        tolerance = TIME_TOLERANCE_S
        inside = (
            opportunity.start_s - tolerance <= contact.start_s < contact.end_s
            and contact.end_s <= opportunity.end_s + tolerance
            and request.earliest_s - tolerance <= contact.start_s
            and contact.end_s <= request.latest_s + tolerance
            and request.min_duration_s - tolerance
            <= contact.duration_s
            <= request.max_duration_s + tolerance
        )
        if not inside:
            return None
        if self.index.usability[self.index.opportunity_index[opportunity.id]] != Usability.USABLE:
            return None
        return opportunity

    def place_kept(self, keep: Sequence[ScheduledContact]) -> list[ScheduledContact]:
        """Place the contacts of ``keep`` that are still valid, most important first.

        Returns those placed (a contact that conflicts with a more important
        one, or no longer fits its opportunity, is left out).
        """
        kept = []
        for contact in sorted(keep, key=self.importance):
            if self.valid_alone(contact) is None:
                continue
            r = self.index.request_index[contact.request]
            request = self.instance.requests[r]
            if request.max_contacts is not None and self.contact_count[r] >= request.max_contacts:
                continue
            if self.timeline.fits(contact):
                self.add(contact, frozen=True)
                kept.append(contact)
        return kept

    def importance(self, contact: ScheduledContact) -> tuple[int, float, str]:
        """Sort key: most important request first (priority), then earliest."""
        r = self.index.request_index.get(contact.request)
        priority = 6 if r is None else self.instance.requests[r].priority
        return priority, contact.start_s, contact.request

    # --- lengths and scores ------------------------------------------------------------------

    def lengths(
        self, r: int, opportunity: Opportunity, window_s: float
    ) -> tuple[float, float, float]:
        """(wanted, shortest, longest) contact length for request ``r`` now, seconds."""
        request = self.instance.requests[r]
        shortest = max(request.min_duration_s, _SHORTEST_CONTACT_S)
        longest = min(request.max_duration_s, window_s)
        remaining = request.demand - self.served[r]
        if request.demand_kind is DemandKind.CONTACTS:
            wanted = request.min_duration_s if request.min_duration_s > 0 else longest
        elif request.demand_kind is DemandKind.SECONDS:
            wanted = remaining
        else:
            rate = opportunity.rate_bytes_s
            wanted = remaining / rate if rate > 0 else longest
        last_contact = (
            request.max_contacts is not None and self.contact_count[r] == request.max_contacts - 1
        )
        if last_contact and request.min_served > self.served[r]:
            missing = request.min_served - self.served[r]
            if request.demand_kind is DemandKind.SECONDS:
                shortest = max(shortest, missing)
            elif request.demand_kind is DemandKind.BYTES and opportunity.rate_bytes_s > 0:
                shortest = max(shortest, missing / opportunity.rate_bytes_s)
        wanted = min(max(wanted, shortest), longest)
        return wanted, shortest, longest

    def _static_scores(
        self, candidates: np.ndarray, order_value: Mapping[int, float] | None
    ) -> np.ndarray:
        """Score of every candidate opportunity before anything is placed (see the docstring)."""
        instance, index = self.instance, self.index
        requests = instance.requests
        req = index.opportunity_request[candidates]
        if order_value is not None:
            ids = [instance.opportunities[i].id for i in candidates.tolist()]
            return np.array([order_value.get(i, 0.0) for i in ids], dtype=np.float64)
        weight = np.array([r.weight for r in requests])[req]
        demand = np.array([r.demand for r in requests])[req]
        remaining = np.maximum(demand - np.array(self.served)[req], 0.0)
        min_d = np.array([r.min_duration_s for r in requests])[req]
        max_d = np.array([r.max_duration_s for r in requests])[req]
        hold_extra = np.array([r.setup_s + r.teardown_s for r in requests])[req]
        kind = np.array(
            [
                {DemandKind.CONTACTS: 0, DemandKind.SECONDS: 1, DemandKind.BYTES: 2}[r.demand_kind]
                for r in requests
            ]
        )[req]
        window = index.window_end_s[candidates] - index.window_start_s[candidates]
        rate = index.rate_bytes_s[candidates]
        resources = [index.resources(on) for on in index.resource_sets]
        antenna_count = np.array([len(on) for on in resources], dtype=np.float64)
        turnaround = np.array([sum(a.turnaround_s for a in on) for on in resources])
        sets = index.resource_set[candidates]
        antenna_count, turnaround = antenna_count[sets], turnaround[sets]
        longest = np.minimum(window, max_d)
        with np.errstate(divide="ignore", invalid="ignore"):
            bytes_length = np.where(rate > 0, remaining / rate, longest)
            length = np.where(
                kind == 0,
                np.where(min_d > 0, min_d, longest),
                np.where(kind == 1, remaining, bytes_length),
            )
            length = np.minimum(np.maximum(length, np.maximum(min_d, _SHORTEST_CONTACT_S)), longest)
            served = np.where(kind == 0, 1.0, np.where(kind == 1, length, length * rate))
            gain = weight * np.minimum(served, np.maximum(remaining, 0.0)) / demand
            held = (length + hold_extra) * antenna_count + turnaround
            score = gain / np.maximum(held, 1e-9)
        score = np.where(np.isfinite(score), score, 0.0)
        return score / (1.0 + _contention(index, candidates)) ** CONTENTION_EXPONENT

    # --- the fill ----------------------------------------------------------------------------

    def fill(
        self,
        *,
        order_value: Mapping[int, float] | None = None,
        fairness: bool = True,
        deadline: float = math.inf,
        target_value: float = math.inf,
    ) -> list[int]:
        """Step 3 and 4 of the module docstring; returns the keys of the contacts added.

        Stops early at ``deadline`` (``time.monotonic()``) or as soon as the
        schedule is worth ``target_value``.
        """
        instance, index = self.instance, self.index
        if self.total_value >= target_value:
            return []
        wanting = np.array(self.open_request, dtype=bool)
        usable = index.usability == Usability.USABLE
        candidates = np.nonzero(usable & wanting[index.opportunity_request])[0]
        if self.used_opportunities:
            taken = np.array(
                [instance.opportunities[i].id in self.used_opportunities for i in candidates]
            )
            candidates = candidates[~taken] if len(taken) else candidates
        if not len(candidates):
            return []
        static = self._static_scores(candidates, order_value)
        keep = static > 0 if order_value is None else np.ones(len(candidates), dtype=bool)
        candidates, static = candidates[keep], static[keep]

        # Each request's passes, best score first, among equals the pass that ends first: one run
        # of the flat lists below per request, walked from position[r] to stop[r]. They are laid
        # out in the order the loop reads them: the loop is bound by memory access, not sums.
        request_of_candidate = index.opportunity_request[candidates]
        order = np.lexsort((index.window_end_s[candidates], -static, request_of_candidate))
        candidates, request_of_candidate = candidates[order], request_of_candidate[order]
        passes = candidates.tolist()
        negative_scores = (-static[order]).tolist()
        window_starts = index.window_start_s[candidates].tolist()
        window_ends = index.window_end_s[candidates].tolist()
        # What the quick test (Timeline.first_with_room) needs and the fill never changes: each
        # pass's first antenna; each request's spacecraft, setup, teardown and the shortest
        # contact it may take (its last contact may need a longer one: lengths() has the rest).
        first_antenna = [index.resource_index[on[0]] for on in index.resource_sets]
        antennas = np.array(first_antenna, dtype=np.int64)[index.resource_set[candidates]].tolist()
        requests = instance.requests
        crafts = [q.spacecraft for q in requests]
        setups = [q.setup_s for q in requests]
        teardowns = [q.teardown_s for q in requests]
        shortest_of = [max(q.min_duration_s, _SHORTEST_CONTACT_S) for q in requests]
        runs = np.searchsorted(request_of_candidate, np.arange(len(requests) + 1)).tolist()
        position, stop = runs[:-1], runs[1:]

        # Requests queue per tenant (fairness) or all together: (-score, pass end, request).
        tenants = sorted({r.tenant for r in instance.requests}) if fairness else ["*"]
        tenant_number = {tenant: g for g, tenant in enumerate(tenants)}
        tenant_queues: list[list[tuple[float, float, int]]] = [[] for _ in tenants]
        for r, request in enumerate(requests):
            k = position[r]
            if k < stop[r]:
                g = tenant_number.get(request.tenant, 0) if fairness else 0
                tenant_queues[g].append((negative_scores[k], window_ends[k], r))
        for tenant_queue in tenant_queues:
            heapq.heapify(tenant_queue)

        rule = self.rule if fairness else None
        fair: dict[str, float] = rule.fair_values(self.tenant_value) if rule else {}
        refreshed_at = self.total_value

        def boost(g: int) -> float:
            if rule is None:
                return 1.0
            tenant = tenants[g]
            target = fair.get(tenant, 0.0)
            if target <= 0:
                return 1.0
            return 1.0 + DEFICIT_BOOST * max(
                0.0, 1.0 - self.tenant_value[tenant] / (FAIR_TARGET * target)
            )

        # The tenants, best key first: (-best score x deficit weight, version, tenant). A
        # tenant's entry is current only while its version is; older ones are skipped.
        heap: list[tuple[float, int, int]] = []
        versions = [0] * len(tenants)
        open_request = self.open_request

        def push(g: int) -> None:
            versions[g] += 1
            tenant_queue = tenant_queues[g]
            while tenant_queue and not open_request[tenant_queue[0][2]]:
                heapq.heappop(tenant_queue)  # requests that need nothing more
            if tenant_queue:
                heapq.heappush(heap, (tenant_queue[0][0] * boost(g), versions[g], g))

        for g in range(len(tenants)):
            push(g)
        added: list[int] = []
        has_room, first_with_room = self.timeline.has_room, self.timeline.first_with_room
        looks = 0
        while heap:
            _, version, g = heapq.heappop(heap)
            if version != versions[g]:
                continue
            tenant_queue = tenant_queues[g]
            weight = boost(g)
            # Serve this tenant while it stays the best; hand over when another one leads.
            while tenant_queue:
                negative_score, _, r = tenant_queue[0]
                if not open_request[r]:
                    heapq.heappop(tenant_queue)
                    continue
                if heap and negative_score * weight > heap[0][0]:
                    break  # another tenant leads now
                k = position[r]
                looks += 1
                if looks % 256 == 0 and time.monotonic() > deadline:
                    return added
                # Each candidate is looked at once and none was used when the fill began.
                start_s, end_s = window_starts[k], window_ends[k]
                if has_room(
                    antennas[k], crafts[r], start_s, end_s, shortest_of[r], setups[r], teardowns[r]
                ):
                    key = self._place_in(r, passes[k], start_s, end_s, screened=True)
                    if key is not None:
                        added.append(key)
                        if self.total_value >= target_value:
                            return added
                        if rule is not None:
                            total = self.total_value
                            if total > refreshed_at * (1 + _REFRESH_GROWTH):
                                # Everybody's fair value moved: every tenant's key is redone.
                                fair = rule.fair_values(self.tenant_value)
                                refreshed_at = total
                                for other in range(len(tenants)):
                                    if other != g:
                                        push(other)
                            weight = boost(g)
                if open_request[r]:
                    # Passes with no room now will have none later either (the fill only adds):
                    # they are skipped here, and the queues never see them.
                    k = first_with_room(
                        antennas,
                        window_starts,
                        window_ends,
                        k + 1,
                        stop[r],
                        crafts[r],
                        shortest_of[r],
                        setups[r],
                        teardowns[r],
                    )
                    position[r] = k
                if open_request[r] and k < stop[r]:
                    heapq.heapreplace(tenant_queue, (negative_scores[k], window_ends[k], r))
                else:
                    heapq.heappop(tenant_queue)
            push(g)
        return added

    def _place_in(
        self, r: int, i: int, window_start_s: float, window_end_s: float, *, screened: bool = False
    ) -> int | None:
        """Give request ``r`` a contact in the best free part of opportunity ``i`` (a position).

        The window is the pass clipped to the request's time window;
        ``screened`` as for :meth:`.Timeline.best_window`. Returns the new
        contact's key, or ``None`` when none fits.
        """
        request = self.instance.requests[r]
        opportunity = self.instance.opportunities[i]
        wanted, shortest, longest = self.lengths(r, opportunity, window_end_s - window_start_s)
        if shortest > longest + TIME_TOLERANCE_S:
            return None
        found = self.timeline.best_window(
            opportunity,
            request,
            window_start_s,
            window_end_s,
            wanted,
            shortest,
            longest,
            screened=screened,
        )
        if found is None:
            return None
        return self.add(ScheduledContact(request.id, opportunity.id, opportunity.resources, *found))

    # --- step 5 ------------------------------------------------------------------------------

    def drop_worthless(self) -> bool:
        """Take out the contacts of requests below their ``min_served``; whether any went."""
        below = {
            request.id
            for r, request in enumerate(self.instance.requests)
            if request.min_served > 0 and 0 < self.served[r] < request.min_served - 1e-6
        }
        if not below:
            return False
        dropped = False
        for key, placement in list(self.timeline.placements.items()):
            if placement.contact.request in below and key not in self.frozen:
                self.remove(key)
                dropped = True
        for request_id in below:
            r = self.index.request_index[request_id]
            self.exhausted[r] = True
            self.open_request[r] = False
        return dropped

    def lengthen(self, keys: Sequence[int] | None = None) -> None:
        """Lengthen contact-count contacts into the free time around them (module docstring)."""
        placements = self.timeline.placements
        chosen = list(placements) if keys is None else [k for k in keys if k in placements]
        index = self.index
        todo = []
        for key in chosen:
            placement = placements[key]
            contact = placement.contact
            if key in self.frozen or contact.fixed:
                continue
            request = index.request(contact.request)
            if request.demand_kind is not DemandKind.CONTACTS:
                continue
            if contact.duration_s >= request.max_duration_s - TIME_TOLERANCE_S:
                continue
            todo.append((request.priority, contact.start_s, key))
        for _, _, key in sorted(todo):
            contact = self.timeline.placements[key].contact
            request = index.request(contact.request)
            position = index.opportunity_index[contact.opportunity]
            opportunity = self.instance.opportunities[position]
            window = (float(index.window_start_s[position]), float(index.window_end_s[position]))
            wider = self.timeline.widest_window(
                opportunity,
                request,
                *window,
                (contact.start_s, contact.end_s),
                max_s=request.max_duration_s,
                ignore=key,
            )
            if wider is not None:
                self.timeline.remove(key)
                self.timeline.add(
                    ScheduledContact(
                        contact.request, contact.opportunity, contact.resources, *wider
                    ),
                    key=key,
                )

    # --- step 6: fairness by moving contacts -------------------------------------------------

    def nearest_window(
        self,
        contact: ScheduledContact,
        *,
        first: int | None = None,
        max_passes: int | None = None,
    ) -> ScheduledContact | None:
        """A valid new contact for ``contact``'s request, starting as near its start as possible.

        Tries the opportunity at position ``first`` first (a small shift in
        its own pass), then the request's other usable passes by distance in
        time, at most ``max_passes`` of them; the same length where it fits.
        ``None`` if none has room or the request needs nothing more.
        """
        index = self.index
        r = index.request_index.get(contact.request)
        if r is None or not self.open_request[r]:
            return None
        request = self.instance.requests[r]
        opportunities = self.instance.opportunities
        starts, positions = self._usable_passes(r)

        def distance(i: int) -> float:
            o = opportunities[i]
            return max(o.start_s - contact.start_s, contact.start_s - o.end_s, 0.0)

        # The passes nearest the contact's start (at most max_passes either side, by start).
        split = bisect.bisect_right(starts, contact.start_s)
        reach = len(positions) if max_passes is None else max_passes
        before, after = positions[max(0, split - reach) : split], positions[split : split + reach]
        ordered = sorted(before + after, key=distance)
        if first is not None and index.usability[first] == Usability.USABLE:
            ordered = [first] + [i for i in ordered if i != first]
        if max_passes is not None:
            ordered = ordered[:max_passes]
        best: ScheduledContact | None = None
        best_shift = math.inf
        for i in ordered:
            if distance(i) >= best_shift:
                break
            opportunity = opportunities[i]
            if opportunity.id in self.used_opportunities:
                continue
            start_s, end_s = float(index.window_start_s[i]), float(index.window_end_s[i])
            _, shortest, longest = self.lengths(r, opportunity, end_s - start_s)
            if shortest > longest + TIME_TOLERANCE_S:
                continue
            wanted = min(max(contact.duration_s, shortest), longest)
            found = self.timeline.best_window(
                opportunity,
                request,
                start_s,
                end_s,
                wanted,
                shortest,
                longest,
                prefer_s=contact.start_s,
            )
            if found is None:
                continue
            shift = abs(found[0] - contact.start_s)
            same_place = sorted(opportunity.resources) == sorted(contact.resources)
            if shift < best_shift or (shift == best_shift and same_place):
                best = ScheduledContact(request.id, opportunity.id, opportunity.resources, *found)
                best_shift = shift
        return best

    def _usable_passes(self, r: int) -> tuple[list[float], list[int]]:
        """Request ``r``'s usable opportunities by start: (window starts, positions)."""
        found = self._usable_by_request.get(r)
        if found is not None:
            return found
        index = self.index
        if self._usable_grouped is None:
            usable = np.nonzero(index.usability == Usability.USABLE)[0]
            grouped = usable[np.argsort(index.opportunity_request[usable], kind="stable")]
            runs = np.searchsorted(
                index.opportunity_request[grouped], np.arange(len(self.instance.requests) + 1)
            )
            self._usable_grouped = grouped, runs.tolist()
        passes, bounds = self._usable_grouped
        mine = passes[bounds[r] : bounds[r + 1]]
        starts = index.window_start_s[mine]
        by_start = np.argsort(starts, kind="stable")
        found = self._usable_by_request[r] = (starts[by_start].tolist(), mine[by_start].tolist())
        return found

    def rebalance(self, *, budget: float, deadline: float = math.inf) -> None:
        """Give tenants below 85% of their fair value passes held by tenants above it.

        For the most starved tenant first: an unused pass of one of its
        requests whose antennas are held only by contacts of tenants above
        85% of their fair value gets a contact; those contacts move to their
        nearest free window, or are dropped if none is left. A swap is
        undone if it costs more value than is left of ``budget`` or pushes a
        giving tenant below 85% of its own fair value.
        """
        rule = self.rule
        index = self.index
        requests, opportunities = self.instance.requests, self.instance.opportunities
        # Each tenant's passes, those of its requests worth most per unit of demand first; each
        # is tried once, so a tenant's list is walked from where it was left.
        tenants = sorted(self.tenant_value)
        if not tenants:
            return
        number = {tenant: g for g, tenant in enumerate(tenants)}
        tenant_of = np.array([number[q.tenant] for q in requests], dtype=np.int64)
        worth = np.array([q.weight / q.demand for q in requests])
        # Each request's rank by (tenant, -worth), equal pairs equal; then passes stably by rank.
        _, rank = np.unique(np.column_stack((tenant_of, -worth)), axis=0, return_inverse=True)
        usable = np.nonzero(index.usability == Usability.USABLE)[0]
        ordered = usable[
            np.argsort(rank.reshape(-1)[index.opportunity_request[usable]], kind="stable")
        ]
        owner = tenant_of[index.opportunity_request[ordered]]
        cuts = np.searchsorted(owner, np.arange(1, len(tenants)))
        by_tenant = dict(zip(tenants, np.split(ordered, cuts), strict=True))
        tried = dict.fromkeys(tenants, 0)
        attempts = 0
        while budget > 0 and attempts < _REBALANCE_ATTEMPTS and time.monotonic() < deadline:
            fair = rule.fair_values(self.tenant_value)
            ratio = {t: self.tenant_value[t] / f if f > 0 else math.inf for t, f in fair.items()}
            needy = sorted((t for t in fair if ratio[t] < FAIR_TARGET), key=ratio.__getitem__)
            progress = False
            for tenant in needy:
                passes = by_tenant[tenant]
                while tried[tenant] < len(passes):
                    i = int(passes[tried[tenant]])
                    tried[tenant] += 1
                    r = int(index.opportunity_request[i])
                    if not self.open_request[r] or opportunities[i].id in self.used_opportunities:
                        continue
                    attempts += 1
                    cost = self._swap_in(i, r, fair, ratio, budget)
                    if cost is not None:
                        budget -= cost
                        progress = True
                        break
                if progress:
                    break
            if not progress:
                return

    def _swap_in(
        self, i: int, r: int, fair: dict[str, float], ratio: dict[str, float], budget: float
    ) -> float | None:
        """Serve pass ``i`` of request ``r`` by moving its holders; the value lost, or None."""
        index, timeline = self.index, self.timeline
        request = self.instance.requests[r]
        opportunity = self.instance.opportunities[i]
        start_s, end_s = float(index.window_start_s[i]), float(index.window_end_s[i])
        holders = timeline.holders_near(opportunity, request, start_s, end_s)
        if not holders:
            return None
        for placement in holders:
            holder = placement.contact
            if placement.key in self.frozen or not holder.request:
                return None
            if ratio[self.index.request(holder.request).tenant] <= FAIR_TARGET:
                return None
        before = self.total_value
        removed = [self.remove(p.key) for p in holders]
        key = self._place_in(r, i, start_s, end_s)
        added = [] if key is None else [key]
        if key is not None:
            for contact in removed:
                moved = self.nearest_window(contact, max_passes=_REBALANCE_PASSES)
                if moved is not None:
                    added.append(self.add(moved))
        cost = before - self.total_value
        givers = {self.index.request(c.request).tenant for c in removed}
        below = any(self.tenant_value[t] < FAIR_TARGET * fair[t] for t in givers)
        if key is None or cost > budget or below:
            for placed in added:
                self.remove(placed)
            for contact in removed:
                self.add(contact)
            return None
        return max(cost, 0.0)

    def complete(
        self,
        *,
        order_value: Mapping[int, float] | None = None,
        fairness: bool = True,
        deadline: float = math.inf,
        target_value: float = math.inf,
        rebalance: bool = True,
    ) -> list[int]:
        """Steps 3-7: fill, give back what is worth nothing, rebalance, lengthen.

        The fill stops at ``target_value`` (see :meth:`fill`); ``rebalance``
        off skips step 6 (repair: swaps would change more contacts). Returns
        the keys of the contacts placed (every placement not fixed or kept).
        """
        self.fill(
            order_value=order_value, fairness=fairness, deadline=deadline, target_value=target_value
        )
        for _ in range(3):
            if not self.drop_worthless():
                break
            self.fill(
                order_value=order_value,
                fairness=fairness,
                deadline=deadline,
                target_value=target_value,
            )
        if fairness and rebalance:
            self.rebalance(budget=REBALANCE_BUDGET * self.total_value, deadline=deadline)
        added = [k for k in self.timeline.placements if k not in self.frozen]
        self.lengthen(added)
        return added


def _contention(index: IndexedInstance, candidates: np.ndarray) -> np.ndarray:
    """How many other candidate windows overlap each one on its (first) antenna."""
    first = np.array([index.resource_index[on[0]] for on in index.resource_sets], dtype=np.int64)
    antenna = first[index.resource_set[candidates]]
    start = index.window_start_s[candidates]
    end = index.window_end_s[candidates]
    count = np.zeros(len(candidates))
    by_antenna = np.argsort(antenna, kind="stable")
    cuts = np.flatnonzero(np.diff(antenna[by_antenna])) + 1
    for mine in np.split(by_antenna, cuts):
        starts = np.sort(start[mine])
        ends = np.sort(end[mine])
        # Windows that start before this one ends, less those that ended by its start, less itself.
        count[mine] = (
            np.searchsorted(starts, end[mine], side="left")
            - np.searchsorted(ends, start[mine], side="right")
            - 1
        )
    return np.maximum(count, 0.0)
