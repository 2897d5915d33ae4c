"""Why a request was not fully served: one main reason and a sentence, for every such request.

:func:`explain_unserved` looks at every opportunity of a request that the
schedule does not use and asks, in this order, what stands in its way (the
first answer is that opportunity's verdict):

1. ``no_opportunity``: the pass lies outside the request's time window;
2. ``band_mismatch``: its antennas do not serve the request's bands;
3. ``excluded_stations``: its station is excluded (or not among those listed);
4. ``too_short``: the part inside the time window is shorter than the
   request's minimum duration;
5. ``maintenance``: maintenance leaves no free part long enough, on an
   otherwise empty network;
6. ``spacecraft_limit``: the antennas have room, but the spacecraft is
   already in as many contacts as it may be at once;
7. ``busy_higher_priority``: the antennas are held by contacts of which at
   least one serves a more important request (or is a fixed contact
   serving none); else ``busy_same_or_lower_priority``; or ``fairness``
   when the request's tenant already has at least its fair share
   (:mod:`.fairness`) and the antennas went to tenants below theirs;
8. ``unused_capacity``: the pass still has room for a contact (the solver
   stopped before using it).

The request's **main reason** is the commonest verdict among its passes
that could have served it (6-8) if there is any, since those are what
kept it from more service; otherwise the commonest among 1-5 (ties go to
the earlier in the list). A request whose usable passes are all used is
short of passes: ``no_opportunity`` when it has no other, else the
commonest verdict of the others. A request held back by its own
``max_contacts``, or whose passes could not give its ``min_served`` even
with the network to itself (:func:`~.fairness.reachable_amounts`), gets
``too_short``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from groundlink.contacts.conflicts import iso_z
from groundlink.scheduling.fairness import FairnessRule, reachable_amounts, tenant_shares
from groundlink.scheduling.feasibility import (
    TIME_TOLERANCE_S,
    IndexedInstance,
    Usability,
    index_instance,
)
from groundlink.scheduling.model import (
    DemandKind,
    Instance,
    Opportunity,
    Request,
    ScheduledContact,
    Unserved,
    UnservedReason,
)
from groundlink.scheduling.timeline import Placement, Timeline
from groundlink.scheduling.validate import served_by_request

_STATIC_REASON: dict[int, UnservedReason] = {
    Usability.OUTSIDE_WINDOW: "no_opportunity",
    Usability.BAND_MISMATCH: "band_mismatch",
    Usability.EXCLUDED_STATION: "excluded_stations",
    Usability.TOO_SHORT: "too_short",
}
#: Tie-break order among verdicts: the earlier wins.
_ORDER: tuple[UnservedReason, ...] = (
    "busy_higher_priority",
    "spacecraft_limit",
    "busy_same_or_lower_priority",
    "fairness",
    "unused_capacity",
    "no_opportunity",
    "band_mismatch",
    "excluded_stations",
    "too_short",
    "maintenance",
)
_BLOCKED = {
    "busy_higher_priority",
    "spacecraft_limit",
    "busy_same_or_lower_priority",
    "fairness",
    "unused_capacity",
}
_SHORTEST_CONTACT_S = 1.0


def explain_unserved(
    instance: Instance,
    contacts: Sequence[ScheduledContact],
    *,
    index: IndexedInstance | None = None,
    rule: FairnessRule | None = None,
    fairness: bool = True,
) -> tuple[Unserved, ...]:
    """One :class:`~.model.Unserved` per request served less than its demand, in request order.

    ``served`` counts what ``contacts`` serve (its unit); the reason and
    its sentence follow the rules of the module docstring. ``index`` and
    ``rule`` are the instance's index and fairness rule when the caller has
    them already. ``fairness=False``: the schedule was made without the
    fairness floor, so ``fairness`` is never the reason given.
    """
    index = index or index_instance(instance)
    served = served_by_request(instance, contacts)
    short = [r for r in instance.requests if served[r.id] < r.demand * (1 - 1e-9)]
    if not short:
        return ()
    full = Timeline(index)
    for contact in contacts:
        full.add(contact)
    maintenance_only = Timeline(index)
    rule = rule or FairnessRule(instance, index)
    shares = (
        {s.tenant: s.ratio for s in tenant_shares(instance, contacts, rule=rule)}
        if fairness
        else {}  # every tenant counts as at its fair share: no verdict "fairness"
    )
    reachable = reachable_amounts(index)
    used = {c.opportunity for c in contacts if not c.fixed}
    own_counts = Counter(c.request for c in contacts if c.request)
    by_request: dict[int, list[int]] = {}
    for i, r in enumerate(index.opportunity_request.tolist()):
        by_request.setdefault(r, []).append(i)
    explained = []
    for request in short:
        r = index.request_index[request.id]
        explainer = _Explainer(index, full, maintenance_only, shares, request)
        verdicts: list[_Verdict] = []
        for i in by_request.get(r, []):
            opportunity = instance.opportunities[i]
            if opportunity.id in used:
                continue
            verdict = explainer.verdict(i, opportunity)
            verdicts.append(verdict)
        total = len(by_request.get(r, []))
        reason, detail = _main_reason(
            request, verdicts, total, own_counts[request.id], served[request.id], reachable
        )
        explained.append(
            Unserved(
                request=request.id,
                served=float(served[request.id]),
                demand=float(request.demand),
                reason=reason,
                detail=detail,
            )
        )
    return tuple(explained)


class _Explainer:
    """The verdict on one unused opportunity of one request (rules 1-8 of the docstring)."""

    def __init__(
        self,
        index: IndexedInstance,
        full: Timeline,
        maintenance_only: Timeline,
        ratios: dict[str, float],
        request: Request,
    ) -> None:
        self.index = index
        self.full = full
        self.maintenance_only = maintenance_only
        self.ratios = ratios
        self.request = request
        self.at = index.instance.at

    def verdict(self, i: int, opportunity: Opportunity) -> _Verdict:
        """(reason, example, priority of the most important holder) for opportunity ``i``."""
        index, request = self.index, self.request
        where = f"{'+'.join(opportunity.resources)} at {iso_z(self.at(opportunity.start_s))}"
        static = int(index.usability[i])
        if static != Usability.USABLE:
            return _STATIC_REASON[static], where, None
        start_s, end_s = float(index.window_start_s[i]), float(index.window_end_s[i])
        shortest = max(request.min_duration_s, _SHORTEST_CONTACT_S)
        longest = min(request.max_duration_s, end_s - start_s)
        if shortest > longest + TIME_TOLERANCE_S:
            return "too_short", where, None

        def room(timeline: Timeline) -> bool:
            found = timeline.best_window(
                opportunity, request, start_s, end_s, shortest, shortest, longest
            )
            return found is not None

        if not room(self.maintenance_only):
            return "maintenance", where, None
        if room(self.full):
            return "unused_capacity", where, None
        self.full.count_spacecraft = False
        try:
            antennas_free = room(self.full)
        finally:
            self.full.count_spacecraft = True
        if antennas_free:
            others = self.full.spacecraft_contacts_near(request.spacecraft, start_s, end_s)
            return "spacecraft_limit", _example(self.index, others[:1]) or where, None
        holders = self.full.holders_near(opportunity, request, start_s, end_s)
        if not holders:  # pragma: no cover - a window with no room has something in the way
            return "busy_same_or_lower_priority", where, None
        holders.sort(key=self._priority)
        top = self._priority(holders[0])
        return self._busy(holders, top), _example(self.index, holders[:1]), top

    def _priority(self, placement: Placement) -> int:
        """Priority of the request a contact serves; 0 for a fixed block that serves none."""
        contact = placement.contact
        return self.index.request(contact.request).priority if contact.request else 0

    def _busy(self, holders: list[Placement], top_priority: int) -> UnservedReason:
        request = self.request
        if top_priority < request.priority:
            return "busy_higher_priority"
        tenants = {
            self.index.request(p.contact.request).tenant for p in holders if p.contact.request
        } - {request.tenant}
        own_ratio = self.ratios.get(request.tenant, 1.0)
        if own_ratio >= 1 - 1e-9 and any(self.ratios.get(t, 1.0) < own_ratio for t in tenants):
            return "fairness"
        return "busy_same_or_lower_priority"


_Verdict = tuple[UnservedReason, str, int | None]


def _example(index: IndexedInstance, placements: list[Placement]) -> str:
    if not placements:
        return ""
    contact = placements[0].contact
    who = contact.request or "a fixed block"
    if contact.request:
        who += f" (priority {index.request(contact.request).priority})"
    when = iso_z(index.instance.at(contact.start_s))
    return f"{who} on {'+'.join(contact.resources)} at {when}"


_WHAT: dict[UnservedReason, str] = {
    "no_opportunity": "lie outside its time window",
    "band_mismatch": "are on antennas that do not serve its bands",
    "excluded_stations": "are at stations it excludes or does not list",
    "too_short": "are shorter than its minimum duration inside its time window",
    "maintenance": "fall in maintenance",
    "busy_higher_priority": "are taken by more important requests",
    "busy_same_or_lower_priority": "are taken by requests of the same or lower priority",
    "spacecraft_limit": "overlap other contacts of its spacecraft",
    "fairness": "went to tenants below their fair share (its tenant has at least its own)",
    "unused_capacity": "still have room the solver did not use",
}


def _amount(request: Request, amount: float, *, unit: bool = True) -> str:
    """An amount in the request's unit for people: contacts, seconds or GB."""
    if request.demand_kind is DemandKind.CONTACTS:
        return f"{amount:g}" + (" contacts" if unit else "")
    if request.demand_kind is DemandKind.SECONDS:
        return f"{amount:,.0f}" + (" s" if unit else "")
    return f"{amount / 1e9:,.3g}" + (" GB" if unit else "")


def _main_reason(
    request: Request,
    verdicts: list[_Verdict],
    total: int,
    contact_count: int,
    served: float,
    reachable: dict[str, float],
) -> tuple[UnservedReason, str]:
    counts = Counter(verdict[0] for verdict in verdicts)
    head = f"served {_amount(request, served, unit=False)} of {_amount(request, request.demand)}"
    limit = request.max_contacts
    if limit is not None and contact_count >= limit:
        return (
            "too_short",
            f"{head}: it has its {limit} contact(s) (max_contacts) and its passes are too "
            "short to give more in that many",
        )
    if request.min_served > 0 and reachable[request.id] < request.min_served - 1e-6:
        return (
            "too_short",
            f"{head}: its passes cannot give the {_amount(request, request.min_served)} "
            "(min_served) below which service counts for nothing",
        )
    if total == 0:
        return "no_opportunity", f"{head}: it has no passes at all"
    blocked = [reason for reason in _ORDER if reason in _BLOCKED and counts[reason]]
    pool = blocked or [reason for reason in _ORDER if counts[reason]]
    if not pool:
        return (
            "no_opportunity",
            f"{head}: all {total} of its passes are used, and it has no more",
        )
    reason = max(pool, key=lambda name: (counts[name], -_ORDER.index(name)))
    mine = [verdict for verdict in verdicts if verdict[0] == reason]
    what = _WHAT[reason]
    if reason == "spacecraft_limit":
        what += f" {request.spacecraft}"
    if reason in ("busy_higher_priority", "busy_same_or_lower_priority", "fairness"):
        by_priority = Counter(v[2] for v in mine if v[2] is not None)
        taken = ", ".join(
            f"{n} by {'fixed blocks' if p == 0 else f'priority-{p} requests'}"
            for p, n in sorted(by_priority.items())
        )
        what = f"are taken ({taken})"
        if reason == "fairness":
            what += ", by tenants below their fair share while its tenant has at least its own"
    if reason == "busy_higher_priority":
        example = next(v[1] for v in mine if v[2] is not None and v[2] < request.priority)
    else:
        example = mine[0][1]
    return reason, f"{head}: {len(mine)} of its {total} passes {what} (e.g. {example})"
