"""Re-plan after an outage or an ephemeris update, changing as few contacts as possible.

:func:`repair` takes the **changed** instance (an antenna down for a time
range is a new maintenance window on its resource; an ephemeris update is
a new set of opportunities, with passes moved by seconds or minutes) and
the previous schedule, and:

1. places the instance's fixed contacts;
2. **keeps** every previous contact that is still valid, unchanged in time
   and resources, most important request first. A contact finds its
   opportunity in the new instance by id when that opportunity still
   belongs to the same request on the same resources, else by the largest
   time overlap among the request's opportunities on the same resources
   (an ephemeris update may renumber passes);
3. **moves** each contact that no longer fits to the free window nearest in
   time to where it was (same length where possible), preferring its own
   pass and resources, then any other usable pass of its request;
4. **drops** the rest;
5. **adds** contacts greedily (:mod:`.greedy`), only to replace what was
   lost: first for the requests that now get less than in the previous
   plan, up to what they had; then for any request, only while the plan is
   worth less than ``1 - value_tolerance`` (default 0.5%) of the previous
   plan's value. A repair restores the plan; it does not re-optimise it
   (contacts that would merely improve on the previous plan are changes an
   operator did not ask for; a fresh solve finds those).

Kept and moved contacts are never touched again by step 5, so the changes
are exactly ``moved + dropped + added``. A 6-hour outage of the busiest
antenna of the benchmark's days (a 10 s plan): 0.10 s of CPU and 1.9% of
the contacts changed for 300 spacecraft on 20 antennas, 0.57 s and 0.5% for
1,000 on 60, each within 0.5% of the previous plan's value.
``time_limit_s`` caps step 5.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from groundlink.scheduling.feasibility import IndexedInstance, amount_of
from groundlink.scheduling.greedy import Planner
from groundlink.scheduling.model import Instance, Opportunity, ScheduledContact

#: Share of the previous plan's value a repair may give up before it adds contacts for
#: requests that lost nothing.
VALUE_TOLERANCE = 0.005


@dataclass(frozen=True)
class RepairResult:
    """The repaired schedule and what changed.

    ``kept``: previous contacts unchanged in time and resources (their
    ``opportunity`` may be renumbered); ``moved``: ``(before, after)`` pairs;
    ``dropped``: previous contacts with no place left; ``added``: new
    contacts that replace value the change took away. Fixed contacts are in ``contacts``
    but in none of the lists.
    """

    contacts: tuple[ScheduledContact, ...]
    kept: tuple[ScheduledContact, ...]
    moved: tuple[tuple[ScheduledContact, ScheduledContact], ...]
    dropped: tuple[ScheduledContact, ...]
    added: tuple[ScheduledContact, ...]

    @property
    def changed(self) -> int:
        """How many contacts changed: moved + dropped + added."""
        return len(self.moved) + len(self.dropped) + len(self.added)

    @property
    def changed_fraction(self) -> float:
        """``changed`` over the number of previous (non-fixed) contacts, 0-1 or more."""
        before = len(self.kept) + len(self.moved) + len(self.dropped)
        return self.changed / before if before else float(self.changed > 0)


def repair(
    instance: Instance,
    previous: Sequence[ScheduledContact],
    *,
    time_limit_s: float = 1.0,
    value_tolerance: float = VALUE_TOLERANCE,
) -> RepairResult:
    """Repair ``previous`` for the changed ``instance`` (see the module docstring).

    ``previous`` is the schedule made for the instance before the change;
    its fixed contacts are ignored (the new instance's are used).
    ``value_tolerance`` is the fraction of the previous plan's value (as
    the previous contacts serve the new instance's requests, up to their
    demand, ignoring ``min_served``) the repair may give up before it adds
    contacts for requests that lost nothing: 0 adds until the plan is worth
    the previous one again (or nothing more fits).
    """
    deadline = time.monotonic() + time_limit_s
    planner = Planner(instance)
    planner.place_fixed()
    matcher = _Matcher(planner)
    index = planner.index
    requests = instance.requests

    # What each request had in the previous plan (fixed contacts included), in its demand unit.
    before = list(planner.served)
    kept: list[ScheduledContact] = []
    stranded: list[tuple[ScheduledContact, Opportunity | None]] = []
    for contact in sorted((c for c in previous if not c.fixed), key=planner.importance):
        if contact.request not in index.request_index:
            stranded.append((contact, None))
            continue
        opportunity = matcher.match(contact)
        r = index.request_index[contact.request]
        request = requests[r]
        rate = 0.0 if opportunity is None else opportunity.rate_bytes_s
        before[r] += amount_of(request, contact.duration_s, rate)
        if opportunity is None:
            stranded.append((contact, None))
            continue
        same = ScheduledContact(
            contact.request, opportunity.id, contact.resources, contact.start_s, contact.end_s
        )
        room = request.max_contacts is None or planner.contact_count[r] < request.max_contacts
        if room and planner.valid_alone(same) is not None and planner.timeline.fits(same):
            planner.add(same, frozen=True)
            kept.append(same)
        else:
            stranded.append((contact, opportunity))

    moved: list[tuple[ScheduledContact, ScheduledContact]] = []
    dropped: list[ScheduledContact] = []
    for contact, opportunity in stranded:
        first = None if opportunity is None else index.opportunity_index[opportunity.id]
        replacement = planner.nearest_window(contact, first=first)
        if replacement is None:
            dropped.append(contact)
        else:
            planner.add(replacement, frozen=True)
            moved.append((contact, replacement))

    # Step 5: first for the requests that lost service, up to what they had; then for any
    # request, until the plan is worth what the previous one was.
    served = planner.served
    for r, request in enumerate(requests):
        planner.ceiling[r] = min(request.demand, max(before[r], served[r]))
        planner.open_request[r] = planner.wants_more(r)
    planner.fill(deadline=deadline)
    for r, request in enumerate(requests):
        planner.ceiling[r] = request.demand
        planner.open_request[r] = planner.wants_more(r)
    previous_value = sum(planner.linear_value(q, before[r]) for r, q in enumerate(requests))
    target = (1 - value_tolerance) * previous_value
    added_keys = planner.complete(deadline=deadline, target_value=target, rebalance=False)
    placements = planner.timeline.placements
    added = tuple(placements[key].contact for key in added_keys)
    return RepairResult(
        contacts=planner.contacts(),
        kept=tuple(kept),
        moved=tuple(moved),
        dropped=tuple(dropped),
        added=added,
    )


class _Matcher:
    """Finds, in the new instance, the pass a previous contact was in.

    By id first. Only when some contact's id no longer fits (an ephemeris
    update) are the passes sorted by (request, set of resources in any
    order, start), to be searched by binary search.
    """

    def __init__(self, planner: Planner) -> None:
        self.index = planner.index
        self._by_pass: _PassesByStart | None = None

    def match(self, contact: ScheduledContact) -> Opportunity | None:
        """The new opportunity of ``contact``: same id if it still fits the bill, else overlap."""
        same = self.index.opportunity(contact.opportunity)
        resources = tuple(sorted(contact.resources))
        if (
            same is not None
            and same.request == contact.request
            and tuple(sorted(same.resources)) == resources
            and same.start_s < contact.end_s
            and contact.start_s < same.end_s
        ):
            return same
        if self._by_pass is None:
            self._by_pass = _PassesByStart(self.index)
        return self._by_pass.most_overlapping(contact, resources)


class _PassesByStart:
    """Every opportunity sorted by (request, set of resources, start)."""

    def __init__(self, index: IndexedInstance) -> None:
        self.index = index
        opportunities = index.instance.opportunities
        self.numbers: dict[tuple[str, ...], int] = {}
        canonical = np.array(
            [
                self.numbers.setdefault(tuple(sorted(on)), len(self.numbers))
                for on in index.resource_sets
            ],
            dtype=np.int64,
        )
        start = np.array([o.start_s for o in opportunities], dtype=np.float64)
        end = np.array([o.end_s for o in opportunities], dtype=np.float64)
        group = index.opportunity_request * len(self.numbers) + canonical[index.resource_set]
        self.order = np.lexsort((start, group))
        self.group = group[self.order]
        self.start = start[self.order]
        self.longest_s = float((end - start).max()) if len(opportunities) else 0.0

    def most_overlapping(
        self, contact: ScheduledContact, resources: tuple[str, ...]
    ) -> Opportunity | None:
        """The opportunity of ``contact``'s request on ``resources`` that overlaps it most."""
        number = self.numbers.get(resources)
        if number is None:
            return None
        key = self.index.request_index[contact.request] * len(self.numbers) + number
        low = int(np.searchsorted(self.group, key, side="left"))
        high = int(np.searchsorted(self.group, key, side="right"))
        starts = self.start[low:high]
        first = low + int(np.searchsorted(starts, contact.start_s - self.longest_s, side="left"))
        last = low + int(np.searchsorted(starts, contact.end_s, side="left"))
        best, best_overlap = None, 0.0
        for i in self.order[first:last].tolist():
            opportunity = self.index.instance.opportunities[i]
            overlap = min(opportunity.end_s, contact.end_s) - max(
                opportunity.start_s, contact.start_s
            )
            if overlap > best_overlap:
                best, best_overlap = opportunity, overlap
        return best
