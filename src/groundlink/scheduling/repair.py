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
5. **adds** contacts greedily (:mod:`.greedy`) in the capacity that is left.

Kept and moved contacts are never touched again by step 5, so the changes
are exactly ``moved + dropped + added``. A 6-hour outage of the busiest
antenna of the benchmark's day of 300 spacecraft on 20 antennas is repaired
in about 0.15 s, changing 1.5% of the contacts; ``time_limit_s`` caps
step 5.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from groundlink.scheduling.greedy import Planner
from groundlink.scheduling.model import Instance, Opportunity, ScheduledContact


@dataclass(frozen=True)
class RepairResult:
    """The repaired schedule and what changed.

    ``kept``: previous contacts unchanged in time and resources (their
    ``opportunity`` may be renumbered); ``moved``: ``(before, after)`` pairs;
    ``dropped``: previous contacts with no place left; ``added``: new
    contacts in the capacity left over. Fixed contacts are in ``contacts``
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
) -> RepairResult:
    """Repair ``previous`` for the changed ``instance`` (see the module docstring).

    ``previous`` is the schedule made for the instance before the change;
    its fixed contacts are ignored (the new instance's are used).
    """
    deadline = time.monotonic() + time_limit_s
    planner = Planner(instance)
    planner.place_fixed()
    matcher = _Matcher(planner)
    index = planner.index

    kept: list[ScheduledContact] = []
    stranded: list[tuple[ScheduledContact, Opportunity | None]] = []
    for contact in sorted((c for c in previous if not c.fixed), key=planner.importance):
        if contact.request not in index.request_index:
            stranded.append((contact, None))
            continue
        opportunity = matcher.match(contact)
        if opportunity is None:
            stranded.append((contact, None))
            continue
        same = ScheduledContact(
            contact.request, opportunity.id, contact.resources, contact.start_s, contact.end_s
        )
        r = index.request_index[contact.request]
        request = instance.requests[r]
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

    added_keys = planner.complete(deadline=deadline)
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
    """Finds, in the new instance, the pass a previous contact was in."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        index = planner.index
        # Passes grouped by (request, set of resources in any order), by start time.
        self.resource_set_number: dict[tuple[str, ...], int] = {}
        canonical = np.array(
            [
                self.resource_set_number.setdefault(
                    tuple(sorted(on)), len(self.resource_set_number)
                )
                for on in index.resource_sets
            ],
            dtype=np.int64,
        )
        n = len(index.instance.opportunities)
        start = np.array([o.start_s for o in index.instance.opportunities]).reshape(n)
        resource_set = canonical[index.resource_set] if n else np.zeros(0, np.int64)
        order = np.lexsort((start, resource_set, index.opportunity_request))
        keys = np.stack([index.opportunity_request[order], resource_set[order]], axis=1)
        cuts = np.flatnonzero(np.any(np.diff(keys, axis=0) != 0, axis=1)) + 1
        self.by_pass: dict[tuple[int, int], tuple[list[float], list[int]]] = {}
        for part in np.split(order, cuts):
            if len(part):
                key = (int(index.opportunity_request[part[0]]), int(resource_set[part[0]]))
                self.by_pass[key] = (start[part].tolist(), part.tolist())
        self.longest_s = max((o.duration_s for o in index.instance.opportunities), default=0.0)

    def match(self, contact: ScheduledContact) -> Opportunity | None:
        """The new opportunity of ``contact``: same id if it still fits the bill, else overlap."""
        index = self.planner.index
        same = index.opportunity(contact.opportunity)
        resources = tuple(sorted(contact.resources))
        if (
            same is not None
            and same.request == contact.request
            and tuple(sorted(same.resources)) == resources
            and same.start_s < contact.end_s
            and contact.start_s < same.end_s
        ):
            return same
        r = index.request_index[contact.request]
        number = self.resource_set_number.get(resources)
        starts, positions = self.by_pass.get((r, -1 if number is None else number), ([], []))
        low = bisect.bisect_left(starts, contact.start_s - self.longest_s)
        high = bisect.bisect_left(starts, contact.end_s)
        best, best_overlap = None, 0.0
        for i in positions[low:high]:
            opportunity = index.instance.opportunities[i]
            overlap = min(opportunity.end_s, contact.end_s) - max(
                opportunity.start_s, contact.start_s
            )
            if overlap > best_overlap:
                best, best_overlap = opportunity, overlap
        return best
