"""Is a schedule valid for its instance, and what is it worth.

:func:`check_schedule` is the referee every solver's output goes through
(and every solver's tests): it returns one sentence per broken rule, and an
empty list when the schedule is valid. :func:`schedule_value` is the value
of :mod:`.model` (:func:`~.model.request_value` summed over requests).

A schedule (a sequence of :class:`~.model.ScheduledContact`) is **valid**
when:

1. **Fixed contacts.** Every fixed contact of the instance appears exactly
   once, with ``fixed=True`` and the same request, resources and span
   (:func:`~.feasibility.fixed_contacts` builds them); no other contact is
   marked fixed.
2. **Each contact on its own.** Its opportunity exists, belongs to its
   request and is on exactly its resources; ``start_s < end_s``; the contact
   lies inside the opportunity and inside the request's
   ``[earliest_s, latest_s]``; its duration is within the request's
   ``[min_duration_s, max_duration_s]``; the opportunity is usable by the
   static rules of :mod:`.feasibility` (bands, stations). One opportunity
   holds at most one contact (a pass gives one contact, whole or in part),
   and a request gets at most ``max_contacts`` contacts.
3. **Antennas.** A contact holds each of its resources over
   ``[start_s - setup_s, end_s + teardown_s)`` (its request's setup and
   teardown; a fixed contact without a request over its span). No hold may
   overlap a maintenance window of the resource (half-open spans). Any two
   holds on one resource obey the conflict rule of
   :mod:`groundlink.contacts.conflicts` (:func:`find_antenna_conflicts`):
   the later one starts at least ``turnaround_s + slew_s`` after the
   earlier one ends, the slew from the earlier contact's end pointing to the
   later one's start pointing, NaN (worst case) at trimmed edges and for
   fixed contacts (:func:`~.feasibility.edge_pointing_deg`).
4. **Spacecraft.** A spacecraft is in at most ``k`` contacts at once
   (:meth:`~.model.Instance.spacecraft_limit`), counted over the contacts
   themselves ``[start_s, end_s)``, fixed contacts of its requests included,
   as :func:`groundlink.contacts.conflicts.spacecraft_conflicts` counts.

Conflicts among fixed contacts alone (two fixed contacts, a fixed contact
in maintenance) are the instance's, not the schedule's, and are not
reported. Containment and durations are compared to
:data:`~.feasibility.TIME_TOLERANCE_S`; the antenna rule is applied
exactly, as booking applies it.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from groundlink.contacts.conflicts import find_antenna_conflicts, iso_z
from groundlink.scheduling.feasibility import (
    TIME_TOLERANCE_S,
    IndexedInstance,
    Usability,
    edge_pointing_deg,
    index_instance,
    usability,
)
from groundlink.scheduling.model import (
    Instance,
    Request,
    ScheduledContact,
    request_value,
    served_amount,
)


def check_schedule(
    instance: Instance,
    contacts: Sequence[ScheduledContact],
    *,
    index: IndexedInstance | None = None,
) -> list[str]:
    """Every rule ``contacts`` break for ``instance`` (see the module docstring), one sentence each.

    Returns an empty list when the schedule is valid. ``index`` is
    ``index_instance(instance)`` when the caller has it already.
    """
    index = index or index_instance(instance)
    problems: list[str] = []
    problems += _check_fixed(index, contacts)
    problems += _check_contacts(index, contacts)
    problems += _check_maintenance(index, contacts)
    problems += _check_antennas(index, contacts)
    problems += _check_spacecraft(index, contacts)
    return problems


def served_by_request(instance: Instance, contacts: Sequence[ScheduledContact]) -> dict[str, float]:
    """How much of each request's demand ``contacts`` serve, in its unit (not capped)."""
    rates = {o.id: o.rate_bytes_s for o in instance.opportunities}
    own: dict[str, list[ScheduledContact]] = defaultdict(list)
    for contact in contacts:
        own[contact.request].append(contact)
    return {r.id: float(served_amount(r, own.get(r.id, []), rates)) for r in instance.requests}


def schedule_value(instance: Instance, contacts: Sequence[ScheduledContact]) -> float:
    """Value of ``contacts``: :func:`~.model.request_value` summed over the instance's requests."""
    served = served_by_request(instance, contacts)
    return float(sum(request_value(r, served[r.id]) for r in instance.requests))


# --- the checks ------------------------------------------------------------------------------


def _label(index: IndexedInstance, position: int, contact: ScheduledContact) -> str:
    at = index.instance.at
    who = contact.request or "fixed block"
    start, end = iso_z(at(contact.start_s)), iso_z(at(contact.end_s))
    return f"contact {position} ({who} on {'+'.join(contact.resources)}, {start} to {end})"


def _check_fixed(index: IndexedInstance, contacts: Sequence[ScheduledContact]) -> list[str]:
    problems = []
    unmatched = list(index.instance.fixed)
    for position, contact in enumerate(contacts):
        if not contact.fixed:
            continue
        match = next(
            (
                f
                for f in unmatched
                if f.request == contact.request
                and sorted(f.resources) == sorted(contact.resources)
                and abs(f.start_s - contact.start_s) <= TIME_TOLERANCE_S
                and abs(f.end_s - contact.end_s) <= TIME_TOLERANCE_S
            ),
            None,
        )
        if match is None:
            problems.append(
                f"{_label(index, position, contact)} is marked fixed but is no fixed contact "
                "of the instance (or appears twice)"
            )
        else:
            unmatched.remove(match)
    for fixed in unmatched:
        problems.append(
            f"fixed contact {fixed.id} on {'+'.join(fixed.resources)} is missing from the schedule"
        )
    return problems


def _check_contacts(index: IndexedInstance, contacts: Sequence[ScheduledContact]) -> list[str]:
    problems = []
    tolerance = TIME_TOLERANCE_S
    used: Counter[int] = Counter()
    per_request: Counter[str] = Counter()
    for position, contact in enumerate(contacts):
        label = _label(index, position, contact)
        if contact.request and contact.request not in index.request_index:
            problems.append(f"{label}: request {contact.request!r} is not in the instance")
            continue
        if contact.request:
            per_request[contact.request] += 1
        if contact.fixed:
            continue
        if not contact.request:
            problems.append(f"{label}: only fixed contacts may serve no request")
            continue
        if not contact.end_s > contact.start_s:
            problems.append(f"{label}: ends at or before its start")
            continue
        request = index.request(contact.request)
        opportunity = index.opportunity(contact.opportunity)
        if opportunity is None:
            problems.append(f"{label}: opportunity {contact.opportunity} is not in the instance")
            continue
        if opportunity.request != contact.request:
            problems.append(
                f"{label}: opportunity {opportunity.id} belongs to request {opportunity.request}"
            )
            continue
        if sorted(opportunity.resources) != sorted(contact.resources):
            problems.append(
                f"{label}: opportunity {opportunity.id} is on "
                f"{'+'.join(opportunity.resources)}, not on {'+'.join(contact.resources)}"
            )
            continue
        used[opportunity.id] += 1
        if used[opportunity.id] == 2:
            problems.append(f"{label}: opportunity {opportunity.id} holds more than one contact")
        if (
            contact.start_s < opportunity.start_s - tolerance
            or contact.end_s > opportunity.end_s + tolerance
        ):
            problems.append(
                f"{label}: lies outside its opportunity {opportunity.id} "
                f"({iso_z(index.instance.at(opportunity.start_s))} to "
                f"{iso_z(index.instance.at(opportunity.end_s))})"
            )
        if contact.start_s < request.earliest_s - tolerance:
            problems.append(f"{label}: starts before the request's earliest time")
        if contact.end_s > request.latest_s + tolerance:
            problems.append(f"{label}: ends after the request's latest time")
        duration = contact.duration_s
        if duration < request.min_duration_s - tolerance:
            problems.append(
                f"{label}: lasts {duration:g} s, less than the request's minimum "
                f"{request.min_duration_s:g} s"
            )
        if duration > request.max_duration_s + tolerance:
            problems.append(
                f"{label}: lasts {duration:g} s, more than the request's maximum "
                f"{request.max_duration_s:g} s"
            )
        verdict = usability(request, opportunity, index.resources(opportunity.resources))
        if verdict is Usability.BAND_MISMATCH:
            problems.append(f"{label}: its antennas do not serve the bands {request.bands}")
        elif verdict is Usability.EXCLUDED_STATION:
            problems.append(f"{label}: its station is not allowed for this request")
    for request_id, count in per_request.items():
        limit = index.request(request_id).max_contacts
        if limit is not None and count > limit:
            problems.append(
                f"request {request_id} has {count} contacts, more than its max_contacts {limit}"
            )
    return problems


def _hold_s(index: IndexedInstance, contact: ScheduledContact) -> tuple[float, float]:
    """The span ``contact`` holds its resources: setup and teardown of its request included."""
    if not contact.request or contact.request not in index.request_index:
        return contact.start_s, contact.end_s
    request: Request = index.request(contact.request)
    return contact.start_s - request.setup_s, contact.end_s + request.teardown_s


def merged_maintenance(instance: Instance) -> dict[str, list[tuple[float, float]]]:
    """Each resource's maintenance windows merged into disjoint ``[start_s, end_s)``, sorted."""
    merged: dict[str, list[tuple[float, float]]] = {}
    for resource in instance.resources:
        spans: list[tuple[float, float]] = []
        for window in sorted(resource.maintenance, key=lambda w: w.start_s):
            if spans and window.start_s <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], window.end_s))
            else:
                spans.append((window.start_s, window.end_s))
        merged[resource.id] = spans
    return merged


def _check_maintenance(index: IndexedInstance, contacts: Sequence[ScheduledContact]) -> list[str]:
    problems = []
    windows = merged_maintenance(index.instance)
    starts = {resource: [w[0] for w in spans] for resource, spans in windows.items()}
    for position, contact in enumerate(contacts):
        if contact.fixed:
            continue
        hold_start, hold_end = _hold_s(index, contact)
        for resource in contact.resources:
            if resource not in windows:
                continue
            # The disjoint windows starting before the hold ends: only the last can reach it.
            last = bisect.bisect_left(starts[resource], hold_end) - 1
            if last >= 0 and windows[resource][last][1] > hold_start:
                window_start, window_end = windows[resource][last]
                problems.append(
                    f"{_label(index, position, contact)}: holds {resource} during its "
                    f"maintenance ({iso_z(index.instance.at(window_start))} to "
                    f"{iso_z(index.instance.at(window_end))})"
                )
    return problems


def _check_antennas(index: IndexedInstance, contacts: Sequence[ScheduledContact]) -> list[str]:
    """The conflict rule on every resource, through :func:`find_antenna_conflicts`."""
    rows: dict[bool, list[tuple[int, str, float, float, float, float, float, float]]] = {
        True: [],
        False: [],
    }
    for position, contact in enumerate(contacts):
        hold_start, hold_end = _hold_s(index, contact)
        if not hold_end > hold_start:
            continue  # reported by the per-contact checks
        opportunity = None if contact.fixed else index.opportunity(contact.opportunity)
        if opportunity is None:
            pointing = (math.nan,) * 4
        else:
            pointing = edge_pointing_deg(opportunity, contact.start_s, contact.end_s)
        for resource_id in contact.resources:
            if resource_id not in index.resource_index:
                continue
            resource = index.resources([resource_id])[0]
            with_slew = (
                resource.max_az_rate_deg_s is not None and resource.max_el_rate_deg_s is not None
            )
            rows[with_slew].append((position, resource_id, hold_start, hold_end, *pointing))
    problems = []
    for with_slew, group in rows.items():
        if len(group) < 2:
            continue
        resources = index.resources([row[1] for row in group])
        columns = list(zip(*group, strict=True))
        pairs = find_antenna_conflicts(
            np.array(columns[2], dtype=np.float64),
            np.array(columns[3], dtype=np.float64),
            np.array(columns[1], dtype=object),
            np.array([r.turnaround_s for r in resources], dtype=np.float64),
            start_azimuth_deg=np.array(columns[4], dtype=np.float64),
            start_elevation_deg=np.array(columns[5], dtype=np.float64),
            end_azimuth_deg=np.array(columns[6], dtype=np.float64),
            end_elevation_deg=np.array(columns[7], dtype=np.float64),
            max_az_rate_deg_s=(
                np.array([r.max_az_rate_deg_s for r in resources], dtype=np.float64)
                if with_slew
                else None
            ),
            max_el_rate_deg_s=(
                np.array([r.max_el_rate_deg_s for r in resources], dtype=np.float64)
                if with_slew
                else None
            ),
        )
        for i, j in pairs.tolist():
            if contacts[group[i][0]].fixed and contacts[group[j][0]].fixed:
                continue
            first, second = sorted((group[i], group[j]), key=lambda row: row[2])
            labels = (
                f"{_label(index, first[0], contacts[first[0]])} and "
                f"{_label(index, second[0], contacts[second[0]])}"
            )
            gap_s = second[2] - first[3]
            if gap_s < 0:
                problems.append(f"{labels} overlap on antenna {first[1]}")
            else:
                problems.append(
                    f"{labels} conflict on antenna {first[1]}: {gap_s:g} s between them, less "
                    f"than its turnaround ({resources[i].turnaround_s:g} s) plus slew"
                )
    return problems


def _check_spacecraft(index: IndexedInstance, contacts: Sequence[ScheduledContact]) -> list[str]:
    """At most k contacts per spacecraft at once, by the sweep of ``spacecraft_conflicts``."""
    by_spacecraft: dict[str, list[int]] = defaultdict(list)
    for position, contact in enumerate(contacts):
        if contact.request in index.request_index and contact.end_s > contact.start_s:
            by_spacecraft[index.request(contact.request).spacecraft].append(position)
    problems = []
    for spacecraft, positions in by_spacecraft.items():
        limit = index.instance.spacecraft_limit(spacecraft)
        positions.sort(key=lambda p: (contacts[p].start_s, p))
        active: list[tuple[float, int]] = []
        for position in positions:
            contact = contacts[position]
            while active and active[0][0] <= contact.start_s:  # half-open: ended by now
                heapq.heappop(active)
            if len(active) >= limit and not (
                contact.fixed and all(contacts[p].fixed for _, p in active)
            ):
                others = ", ".join(str(p) for _, p in sorted(active, key=lambda item: item[1]))
                problems.append(
                    f"{_label(index, position, contact)}: spacecraft {spacecraft} is already "
                    f"in {len(active)} contact(s) ({others}) at its start; at most {limit} "
                    "at once"
                )
            heapq.heappush(active, (contact.end_s, position))
    return problems
