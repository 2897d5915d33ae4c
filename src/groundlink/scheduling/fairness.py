"""The fairness rule between tenants: a weighted max-min share of antenna time, capped at demand.

**The rule.** The network's resource is antenna time, so the rule shares
antenna time; priorities decide *what* is served inside and beyond every
tenant's share (the value), not how large the share is. Every tenant ``t``
has

* a *requested value* ``R_t``: the value of serving all its requests fully
  (the sum of their weights, :attr:`~.model.Request.weight`), and a
  *reachable value* ``C_t <= R_t``: the most its requests could get at all
  from their own usable opportunities and fixed contacts if no other tenant
  existed (:func:`reachable_value`; an upper bound that ignores everybody
  else);
* a *requested antenna time* ``D_t``: the antenna seconds its requests
  need to be served fully, at the average cost of their own passes
  (:func:`requested_seconds`);
* a *tenant weight* ``w_t`` (:meth:`~.model.Instance.tenant_weight`, 1
  unless set).

A tenant's **share** ``s_t = value_t / R_t`` is the fraction of its request
it got, counted in its own priority-weighted value. A schedule serves
``H = sum_t s_t D_t`` antenna seconds of requests; the tenants' **fair
shares** ``phi_t`` split that same ``H`` by weighted max-min (water-filling):
``phi_t D_t = min((C_t / R_t) D_t, lambda x w_t)``, ``lambda`` chosen so that
``sum_t phi_t D_t = H`` (or every tenant sits at its cap). With equal
weights: a tenant that asks for less than an equal slice of the time served
is entitled to all it asked for (as far as its passes reach); the others
share the rest equally in antenna seconds, whatever their priorities. Its
**fair value** is ``F_t = phi_t R_t``, its **ratio** ``s_t / phi_t`` (1
when its fair share is 0): a ratio of 0.8 means it got 80% of what the rule
entitles it to. :func:`min_ratio` is the worst tenant's ratio;
:func:`jain_index` is Jain's fairness index **over the ratios** (1 when
every tenant gets exactly its fair share, down to ``1/n`` when one tenant
gets everything); over the ratios rather than the raw shares, because with
unequal weights or caps equal shares are not what the rule calls fair.

**Why antenna time, not value.** The first rule shared the *value* in
proportion to ``w_t R_t``: every tenant was entitled to the same fraction
of its requested value. But a request's value is its weight however much it
asks for, so a tenant whose few spacecraft ask for many contacts earns
little value per antenna second, and that rule gave it the same fraction of
its (large) request as everybody else: on the benchmark's 300 x 20 day the
two starved priority-4 tenants ask for 47 and 49 antenna hours, worth 24
and 26 of 2,102. Priced with the network's served antenna time as a
fungible budget (an LP: maximise value subject to ``sum_r D_r f_r <= H``
and the floors, with ``H`` the 326 h the plain greedy serves), 0.8 of the
value rule costs 7.8% of the value, 0.8 of this rule 0.25%; the optimiser
lost 10-14% trying to meet the value rule. The LP relaxations of the
schedule itself (:mod:`.bound`'s, and one over the optimiser's candidate
contacts with a clique row per antenna overlap) serve every request fully
on that day, so they price any floor at 0 and cannot tell the rules apart.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from groundlink.scheduling.feasibility import (
    IndexedInstance,
    Usability,
    amount_of,
    fixed_contacts,
    index_instance,
)
from groundlink.scheduling.model import (
    DemandKind,
    Instance,
    ScheduledContact,
    TenantShare,
    request_value,
)
from groundlink.scheduling.validate import served_by_request


def requested_value(instance: Instance) -> dict[str, float]:
    """``R_t``: the value of serving all of each tenant's requests fully."""
    requested: dict[str, float] = defaultdict(float)
    for request in instance.requests:
        requested[request.tenant] += request.weight
    return dict(requested)


def reachable_amounts(index: IndexedInstance) -> dict[str, float]:
    """The most each request could be served from its usable opportunities, in its unit.

    An upper bound that ignores other requests, maintenance and turnaround.
    The request's usable windows are grouped into clusters of overlapping
    windows (a spacecraft seen by several antennas at once); with ``k``
    contacts at a time (:meth:`~.model.Instance.spacecraft_limit`) a cluster
    of length ``L`` holding ``n`` windows gives at most ``min(n, k x
    floor(L / min_duration))`` contacts, at most ``k x L`` seconds and at
    most ``k x L x`` its best rate bytes, and no window more than the
    maximum duration. Fixed contacts add what they serve; a request with
    ``max_contacts`` counts only its best windows; the result never exceeds
    the demand. Vectorised over all opportunities (numpy): it runs on every
    fairness evaluation of instances with hundreds of thousands of passes.
    """
    instance = index.instance
    requests = instance.requests
    usable = np.nonzero(index.usability == Usability.USABLE)[0]
    request_of = index.opportunity_request[usable]
    start = index.window_start_s[usable]
    end = index.window_end_s[usable]
    rate = index.rate_bytes_s[usable]
    max_d = np.array([r.max_duration_s for r in requests], dtype=np.float64)
    min_d = np.array([r.min_duration_s for r in requests], dtype=np.float64)
    kind = np.array([_KIND_CODE[r.demand_kind] for r in requests], dtype=np.int64)
    limit = np.array([instance.spacecraft_limit(r.spacecraft) for r in requests], np.float64)
    amount_by_request = np.zeros(len(requests))
    if len(usable):
        # Sort by (request, start) and shift each request's times apart, so that one running
        # maximum over the whole array finds the clusters of overlapping windows per request.
        span = float(end.max() - start.min()) + 1.0
        offset = request_of * span * 2 - float(start.min())
        order = np.lexsort((start, request_of))
        request_of, rate = request_of[order], rate[order]
        start, end = start[order] + offset[order], end[order] + offset[order]
        window = np.minimum(end - start, max_d[request_of])
        running_end = np.maximum.accumulate(end)
        new_cluster = np.ones(len(start), dtype=bool)
        new_cluster[1:] = start[1:] > running_end[:-1]
        first = np.nonzero(new_cluster)[0]
        last = np.append(first[1:], len(start)) - 1
        cluster_request = request_of[first]
        cluster_length = running_end[last] - start[first]
        cluster_windows = np.diff(np.append(first, len(start)))
        cluster_k = limit[cluster_request]
        cluster_kind = kind[cluster_request]
        with np.errstate(divide="ignore", invalid="ignore"):
            fit = np.where(
                min_d[cluster_request] > 0,
                np.floor(cluster_length / min_d[cluster_request] + 1e-9) * cluster_k,
                np.inf,
            )
        contacts = np.minimum(cluster_windows, fit)
        seconds = np.minimum(np.add.reduceat(window, first), cluster_length * cluster_k)
        volume = np.minimum(
            np.add.reduceat(window * rate, first),
            cluster_length * cluster_k * np.maximum.reduceat(rate, first),
        )
        per_cluster = np.where(
            cluster_kind == 0, contacts, np.where(cluster_kind == 1, seconds, volume)
        )
        np.add.at(amount_by_request, cluster_request, per_cluster)
        # With max_contacts, only the best windows count: redo those few requests one by one.
        for r, request in enumerate(requests):
            if request.max_contacts is not None:
                own = request_of == r
                best = np.sort(
                    window[own]
                    if request.demand_kind is not DemandKind.BYTES
                    else window[own] * rate[own]
                )[::-1]
                if request.demand_kind is DemandKind.CONTACTS:
                    capped = min(amount_by_request[r], float(request.max_contacts))
                else:
                    capped = min(amount_by_request[r], float(best[: request.max_contacts].sum()))
                amount_by_request[r] = capped
    for contact in fixed_contacts(instance):
        if contact.request:
            r = index.request_index[contact.request]
            amount_by_request[r] += amount_of(
                requests[r], contact.duration_s, index.rate_of(contact.opportunity)
            )
    return {
        request.id: min(float(amount_by_request[r]), request.demand)
        for r, request in enumerate(requests)
    }


_KIND_CODE = {DemandKind.CONTACTS: 0, DemandKind.SECONDS: 1, DemandKind.BYTES: 2}


def reachable_value(instance: Instance, index: IndexedInstance | None = None) -> dict[str, float]:
    """``C_t``: the value each tenant could get at all (:func:`reachable_amounts`, valued)."""
    index = index or index_instance(instance)
    amounts = reachable_amounts(index)
    reachable: dict[str, float] = defaultdict(float)
    for request in instance.requests:
        reachable[request.tenant] += request_value(request, amounts[request.id])
    return dict(reachable)


def requested_seconds(index: IndexedInstance) -> dict[str, float]:
    """``D_r``: the antenna seconds each request needs to be served fully, by request id.

    Its demand times the antenna seconds per unit of demand over its usable
    opportunities together (their held seconds summed over their summed
    service): each contact is the least that serves a contact-count request
    (its minimum duration; the usable window up to the maximum when it sets
    no minimum) or the longest allowed one for seconds and bytes, held with
    setup and teardown plus the antenna's turnaround, on every antenna of
    the opportunity. 0 for a request with no usable opportunity.
    """
    instance = index.instance
    requests = instance.requests
    usable = np.nonzero(index.usability == Usability.USABLE)[0]
    request_of = index.opportunity_request[usable]
    turnaround = {r.id: r.turnaround_s for r in instance.resources}
    set_size = np.array([len(s) for s in index.resource_sets], dtype=np.float64)
    set_turnaround = np.array([sum(turnaround[r] for r in s) for s in index.resource_sets])
    min_d = np.array([r.min_duration_s for r in requests], dtype=np.float64)[request_of]
    max_d = np.array([r.max_duration_s for r in requests], dtype=np.float64)[request_of]
    pad = np.array([r.setup_s + r.teardown_s for r in requests], dtype=np.float64)[request_of]
    kind = np.array([_KIND_CODE[r.demand_kind] for r in requests], dtype=np.int64)[request_of]
    longest = np.minimum(index.window_end_s[usable] - index.window_start_s[usable], max_d)
    length = np.where((kind == 0) & (min_d > 0), min_d, longest)
    served = np.where(
        kind == 0, 1.0, np.where(kind == 1, length, length * index.rate_bytes_s[usable])
    )
    resource_set = index.resource_set[usable]
    held = (length + pad) * set_size[resource_set] + set_turnaround[resource_set]
    held_sum = np.bincount(request_of, weights=held, minlength=len(requests))
    served_sum = np.bincount(request_of, weights=served, minlength=len(requests))
    return {
        request.id: request.demand * float(held_sum[r] / served_sum[r])
        if served_sum[r] > 0
        else 0.0
        for r, request in enumerate(requests)
    }


def water_fill(
    entitlement: Mapping[str, float], caps: Mapping[str, float], total: float
) -> dict[str, float]:
    """Share ``total`` in proportion to ``entitlement``, each part capped, the excess shared again.

    Returns the part of every key of ``entitlement``; the parts add up to
    ``min(total, sum of caps)``. Keys with zero entitlement get nothing.
    """
    parts = {key: 0.0 for key in entitlement}
    active = [k for k in entitlement if entitlement[k] > 0 and caps.get(k, 0.0) > 0]
    # Tenants hit their cap in the order of cap / entitlement.
    active.sort(key=lambda k: caps[k] / entitlement[k])
    remaining = max(0.0, total)
    weight = sum(entitlement[k] for k in active)
    for position, key in enumerate(active):
        level = remaining / weight if weight > 0 else 0.0
        if caps[key] <= level * entitlement[key]:
            parts[key] = caps[key]
            remaining -= caps[key]
            weight -= entitlement[key]
            continue
        for other in active[position:]:
            parts[other] = level * entitlement[other]
        break
    return parts


class FairnessRule:
    """The rule's fixed parts for one instance, to evaluate fair values for many schedules.

    By tenant: ``requested`` (``R_t``, value), ``caps`` (``min(R_t, C_t)``,
    value), ``requested_s`` (``D_t``, antenna seconds), ``entitlement``
    (``w_t``) and ``caps_s`` (the most antenna seconds it may be entitled
    to: ``D_t x caps / R_t``). ``fair_values(values)`` is
    :func:`fair_shares` without recomputing them each time (the greedy asks
    it as its tenants' values grow).
    """

    def __init__(self, instance: Instance, index: IndexedInstance | None = None) -> None:
        index = index or index_instance(instance)
        self.requested = requested_value(instance)
        reachable = reachable_value(instance, index)
        self.caps = {t: min(self.requested[t], reachable.get(t, 0.0)) for t in self.requested}
        seconds = requested_seconds(index)
        self.requested_s: dict[str, float] = {t: 0.0 for t in self.requested}
        for request in instance.requests:
            self.requested_s[request.tenant] += seconds[request.id]
        # Antenna seconds per unit of value, to count a tenant's value as time served.
        self._seconds_per_value = {
            t: self.requested_s[t] / v if v > 0 else 0.0 for t, v in self.requested.items()
        }
        self.caps_s = {t: self._seconds_per_value[t] * c for t, c in self.caps.items()}
        self.entitlement = {t: instance.tenant_weight(t) for t in self.requested}
        live = [t for t in self.requested if self.entitlement[t] > 0 and self.caps_s[t] > 0]
        self._order = sorted(live, key=lambda t: self.caps_s[t] / self.entitlement[t])
        # Prefix sums in cap order make one evaluation O(log tenants + tenants).
        self._levels = [self.caps_s[t] / self.entitlement[t] for t in self._order]
        self._cap_before = [0.0]
        self._weight_after = [sum(self.entitlement[t] for t in self._order)]
        for t in self._order:
            self._cap_before.append(self._cap_before[-1] + self.caps_s[t])
            self._weight_after.append(self._weight_after[-1] - self.entitlement[t])

    def served_seconds(self, values: Mapping[str, float]) -> float:
        """``H``: the antenna seconds of requests a schedule with these tenant values serves."""
        return sum(self._seconds_per_value.get(t, 0.0) * v for t, v in values.items())

    def level(self, served_s: float) -> float:
        """``lambda`` of the rule for ``served_s``: fair antenna seconds per unit of weight."""
        # Find how many tenants are capped: those whose cap level is below the water level.
        low, high = 0, len(self._order)
        while low < high:
            middle = (low + high) // 2
            weight = self._weight_after[middle + 1]
            rest = served_s - self._cap_before[middle + 1]
            if (rest >= 0) if weight <= 0 else self._levels[middle] * weight <= rest:
                low = middle + 1
            else:
                high = middle
        weight = self._weight_after[low]
        if weight <= 0:
            return math.inf
        return max(0.0, (served_s - self._cap_before[low]) / weight)

    def fair_values(self, values: Mapping[str, float]) -> dict[str, float]:
        """``F_t`` (value units) for a schedule in which each tenant has the value in ``values``."""
        level = self.level(self.served_seconds(values))
        return {
            t: min(self.caps_s[t], level * self.entitlement[t]) / self._seconds_per_value[t]
            if self.caps_s[t] > 0
            else 0.0
            for t in self.requested
        }


def fair_shares(instance: Instance, values: Mapping[str, float]) -> dict[str, float]:
    """The rule: each tenant's fair **value** ``F_t`` for a schedule with these tenant values.

    ``values`` maps tenants to the value they have (as
    :func:`~.validate.schedule_value` counts it; absent tenants have 0). In
    the units of :func:`~.validate.schedule_value` (divide by
    :func:`requested_value` for the fair *share*). The rule's water-filling
    of antenna seconds, done here with :func:`water_fill`.
    """
    rule = FairnessRule(instance)
    fair_s = water_fill(rule.entitlement, rule.caps_s, rule.served_seconds(values))
    return {
        t: fair_s[t] * rule.requested[t] / rule.requested_s[t] if rule.requested_s[t] > 0 else 0.0
        for t in rule.requested
    }


def tenant_shares(
    instance: Instance,
    contacts: Sequence[ScheduledContact],
    *,
    rule: FairnessRule | None = None,
) -> tuple[TenantShare, ...]:
    """Every tenant's value, requested value, share, fair share and ratio, by tenant id.

    ``rule`` is ``FairnessRule(instance)`` when the caller has it already.
    """
    served = served_by_request(instance, contacts)
    value: dict[str, float] = defaultdict(float)
    for request in instance.requests:
        value[request.tenant] += request_value(request, served[request.id])
    rule = rule or FairnessRule(instance)
    fair = rule.fair_values(value)
    shares = []
    for tenant in sorted(rule.requested):
        requested = rule.requested[tenant]
        share = value[tenant] / requested if requested > 0 else 1.0
        fair_share = fair[tenant] / requested if requested > 0 else 0.0
        ratio = share / fair_share if fair_share > 0 else 1.0
        shares.append(
            TenantShare(
                tenant,
                float(value[tenant]),
                float(requested),
                float(share),
                float(fair_share),
                float(ratio),
            )
        )
    return tuple(shares)


def min_ratio(shares: Sequence[TenantShare]) -> float:
    """The worst-served tenant's ratio of share to fair share (1 with no tenants)."""
    return min((s.ratio for s in shares), default=1.0)


def jain_index(shares: Sequence[TenantShare]) -> float:
    """Jain's fairness index over the tenants' ratios: ``(sum r)^2 / (n x sum r^2)``, in (0, 1]."""
    ratios = [s.ratio for s in shares]
    squares = sum(r * r for r in ratios)
    if not ratios or squares == 0:
        return 1.0
    return sum(ratios) ** 2 / (len(ratios) * squares)


__all__ = [
    "FairnessRule",
    "fair_shares",
    "jain_index",
    "min_ratio",
    "reachable_amounts",
    "reachable_value",
    "requested_seconds",
    "requested_value",
    "tenant_shares",
    "water_fill",
]
