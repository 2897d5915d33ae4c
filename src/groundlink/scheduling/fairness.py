"""The fairness rule between tenants: weighted proportional share with water-filling.

**The rule.** Let ``V`` be the value a schedule achieves (as
:func:`~.validate.schedule_value` counts it). Every tenant ``t`` has

* a *requested value* ``R_t``: the value of serving all its requests fully
  (the sum of their weights, :attr:`~.model.Request.weight`);
* a *reachable value* ``C_t <= R_t``: the most its requests could get at all
  from their own usable opportunities and fixed contacts if no other tenant
  existed (:func:`reachable_value`; an upper bound that ignores everybody
  else);
* a *tenant weight* ``w_t`` (:meth:`~.model.Instance.tenant_weight`, 1 unless
  set).

Its **fair value** ``F_t`` is its share of ``V`` in proportion to
``w_t x R_t``, capped at ``C_t``, with whatever the caps leave over shared
again among the others in the same proportion (water-filling):
``F_t = min(C_t, lambda x w_t x R_t)``, with ``lambda`` chosen so that the
``F_t`` add up to ``V`` (or every tenant sits at its cap). With equal
tenant weights, every tenant that could get more is entitled to the same
fraction of what it asked for; priorities act *inside* a tenant's request
value, so a tenant asking only for priority-5 work is entitled to the same
fraction of its (smaller) requested value as one asking for priority-1.

A tenant's **share** is ``value_t / R_t``, its **fair share**
``F_t / R_t``, and its **ratio** ``share / fair share`` (1 when its fair
value is 0): a ratio of 0.8 means it got 80% of what the rule entitles it
to. :func:`min_ratio` is the worst tenant's ratio; :func:`jain_index` is
Jain's fairness index **over the ratios** (1 when every tenant gets exactly
its fair value, down to ``1/n`` when one tenant gets everything); over the
ratios rather than the raw shares, because with unequal weights or caps equal
shares are not what the rule calls fair.
"""

from __future__ import annotations

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
    """The rule's fixed parts for one instance, to evaluate fair values for many totals.

    ``fair_values(total)`` is :func:`fair_shares` without recomputing the
    tenants' requested and reachable values each time (the greedy asks it
    as its total grows).
    """

    def __init__(self, instance: Instance, index: IndexedInstance | None = None) -> None:
        self.requested = requested_value(instance)
        reachable = reachable_value(instance, index)
        self.caps = {t: min(self.requested[t], reachable.get(t, 0.0)) for t in self.requested}
        self.entitlement = {t: instance.tenant_weight(t) * v for t, v in self.requested.items()}
        self._order = sorted(self.entitlement, key=lambda t: self.caps[t] / self.entitlement[t])
        # Prefix sums in cap order make one evaluation O(log tenants + tenants).
        self._levels = [self.caps[t] / self.entitlement[t] for t in self._order]
        self._cap_before = [0.0]
        self._weight_after = [sum(self.entitlement.values())]
        for t in self._order:
            self._cap_before.append(self._cap_before[-1] + self.caps[t])
            self._weight_after.append(self._weight_after[-1] - self.entitlement[t])

    def level(self, total: float) -> float:
        """``lambda`` of the rule for ``total``: fair value per unit of entitlement, uncapped."""
        # Find how many tenants are capped: those whose cap level is below the water level.
        low, high = 0, len(self._order)
        while low < high:
            middle = (low + high) // 2
            weight = self._weight_after[middle + 1]
            rest = total - self._cap_before[middle + 1]
            if (rest >= 0) if weight <= 0 else self._levels[middle] * weight <= rest:
                low = middle + 1
            else:
                high = middle
        weight = self._weight_after[low]
        if weight <= 0:
            return float("inf")
        return max(0.0, (total - self._cap_before[low]) / weight)

    def fair_values(self, total: float) -> dict[str, float]:
        """``F_t`` for a schedule of value ``total``."""
        level = self.level(total)
        return {t: min(self.caps[t], level * self.entitlement[t]) for t in self.entitlement}


def fair_shares(instance: Instance, total_value: float) -> dict[str, float]:
    """The rule: each tenant's fair **value** ``F_t`` for a schedule worth ``total_value``.

    In the units of :func:`~.validate.schedule_value` (divide by
    :func:`requested_value` for the fair *share*).
    """
    rule = FairnessRule(instance)
    return water_fill(rule.entitlement, rule.caps, total_value)


def tenant_shares(
    instance: Instance, contacts: Sequence[ScheduledContact]
) -> tuple[TenantShare, ...]:
    """Every tenant's value, requested value, share, fair share and ratio, by tenant id."""
    served = served_by_request(instance, contacts)
    value: dict[str, float] = defaultdict(float)
    for request in instance.requests:
        value[request.tenant] += request_value(request, served[request.id])
    rule = FairnessRule(instance)
    fair = water_fill(rule.entitlement, rule.caps, sum(value.values()))
    shares = []
    for tenant in sorted(rule.requested):
        requested = rule.requested[tenant]
        share = value[tenant] / requested
        fair_share = fair[tenant] / requested
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
    "requested_value",
    "tenant_shares",
    "water_fill",
]
