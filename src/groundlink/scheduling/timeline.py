"""Who holds each antenna when, and where one more contact still fits.

The greedy, repair and the explanations all ask one question thousands of
times: *given the contacts placed so far, which part of this opportunity can
still take a contact, and is this exact contact allowed?* A
:class:`Timeline` answers it with sorted lists per antenna and per
spacecraft and binary search (``bisect``), so that each answer looks only at
the few contacts near the window: no pass over all contacts, no O(n²).

The rules are those of :mod:`.validate` (and so of
:mod:`groundlink.contacts.conflicts`): a contact holds its antennas over
``[start - setup, end + teardown)``; two holds on one antenna need the
antenna's turnaround plus the slew between them; maintenance windows take
no hold; a spacecraft is in at most ``k`` contacts at once. The slew time is
the conflict rule's, computed here on scalars because the array version
costs more per call than a whole placement: azimuth the short way round,
elevation the plain difference, each at its rate, the larger of the two; an
unknown azimuth counts as 180°, an unknown elevation as no move.

Every window :meth:`Timeline.best_window` proposes is then checked by
:meth:`Timeline.fits` against the exact rule, so a rounding slip can only
lose a window, never produce an invalid schedule. Proposed times are
snapped to whole milliseconds (away from the neighbour that bounds them),
except at a pass's own edges, so that a schedule written to JSON with
millisecond times stays valid.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from groundlink.scheduling.feasibility import (
    TIME_TOLERANCE_S,
    IndexedInstance,
    edge_pointing_deg,
)
from groundlink.scheduling.model import Opportunity, Request, ScheduledContact

#: Largest azimuth move, degrees (the conflict rule's worst case for an unknown pointing).
_WORST_AZIMUTH_MOVE_DEG = 180.0
#: Margin kept from a neighbour's bound, seconds: far above float rounding, far below a millisecond.
_MARGIN_S = 2e-6

# A hold on an antenna: (start_s, end_s, start_az, start_el, end_az, end_el, key).
Hold = tuple[float, float, float, float, float, float, int]


def _ceil_ms(seconds: float) -> float:
    if not math.isfinite(seconds):
        return seconds
    return math.ceil(seconds * 1000.0) / 1000.0


def _floor_ms(seconds: float) -> float:
    if not math.isfinite(seconds):
        return seconds
    return math.floor(seconds * 1000.0) / 1000.0


@dataclass(slots=True)
class _Antenna:
    turnaround_s: float
    az_rate: float | None  # None: slew not counted
    el_rate: float
    reach_s: float  # turnaround + the largest slew, and room for rounding: how far a hold matters
    unknown_slew_s: float  # slew to or from an unknown pointing
    maintenance_starts: list[float]
    maintenance_ends: list[float]
    starts: list[float]
    holds: list[Hold]
    # Each hold widened by the slew a neighbour needs at least: the worst azimuth move beside an
    # edge of unknown pointing (the conflict rule's 180 deg, whatever the neighbour's pointing).
    clear: list[tuple[float, float]]
    longest_hold_s: float = 0.0

    def slew_s(self, from_az: float, from_el: float, to_az: float, to_el: float) -> float:
        """Slew between two pointings by the conflict rule (NaN azimuth: 180°, NaN el: 0)."""
        if self.az_rate is None:
            return 0.0
        azimuth = abs((to_az - from_az + 180.0) % 360.0 - 180.0)
        if azimuth != azimuth:  # NaN
            azimuth = _WORST_AZIMUTH_MOVE_DEG
        elevation = abs(to_el - from_el)
        if elevation != elevation:
            elevation = 0.0
        return max(azimuth / self.az_rate, elevation / self.el_rate)


@dataclass(slots=True)
class _Spacecraft:
    limit: int
    starts: list[float]
    spans: list[tuple[float, float, int]]
    longest_s: float = 0.0


@dataclass(slots=True)
class Placement:
    """A contact the timeline holds, with what it needs to take it out again (read-only).

    Not frozen: a frozen dataclass costs four times as much to build, and
    the greedy builds one per contact it places or lengthens.
    """

    key: int
    contact: ScheduledContact
    resources: tuple[int, ...]
    spacecraft: str
    hold_start_s: float
    hold_end_s: float
    pointing: tuple[float, float, float, float]


class Timeline:
    """The antennas' holds and the spacecraft's contacts so far, for one instance.

    Build it with :meth:`for_instance`, add contacts with :meth:`add` (fixed
    ones too), and ask :meth:`fits` and :meth:`best_window`.
    """

    def __init__(self, index: IndexedInstance) -> None:
        self.index = index
        instance = index.instance
        self.antennas: list[_Antenna] = []
        for resource in instance.resources:
            windows = sorted((w.start_s, w.end_s) for w in resource.maintenance)
            merged: list[tuple[float, float]] = []
            for start, end in windows:
                if merged and start <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], end))
                else:
                    merged.append((start, end))
            slew = resource.max_az_rate_deg_s is not None and resource.max_el_rate_deg_s is not None
            az_rate = resource.max_az_rate_deg_s if slew else None
            el_rate = resource.max_el_rate_deg_s if slew else None
            worst = 0.0
            unknown = 0.0
            if az_rate is not None and el_rate is not None:
                worst = max(_WORST_AZIMUTH_MOVE_DEG / az_rate, 180.0 / el_rate)
                unknown = _WORST_AZIMUTH_MOVE_DEG / az_rate
            self.antennas.append(
                _Antenna(
                    turnaround_s=resource.turnaround_s,
                    az_rate=az_rate,
                    el_rate=el_rate or 1.0,
                    reach_s=(resource.turnaround_s + worst) * (1 + 1e-9) + 1e-6,
                    unknown_slew_s=unknown,
                    maintenance_starts=[m[0] for m in merged],
                    maintenance_ends=[m[1] for m in merged],
                    starts=[],
                    holds=[],
                    clear=[],
                )
            )
        self.spacecraft: dict[str, _Spacecraft] = {}
        self.placements: dict[int, Placement] = {}
        self._next_key = 0
        self._numbers: dict[tuple[str, ...], tuple[int, ...]] = {}
        #: Whether :meth:`fits` and :meth:`best_window` count the spacecraft limit (explanations
        #: turn it off to tell a busy spacecraft from busy antennas).
        self.count_spacecraft = True

    # --- holding and releasing ---------------------------------------------------------------

    def _spacecraft_of(self, spacecraft: str) -> _Spacecraft:
        found = self.spacecraft.get(spacecraft)
        if found is None:
            limit = self.index.instance.spacecraft_limit(spacecraft)
            found = self.spacecraft[spacecraft] = _Spacecraft(limit, [], [])
        return found

    def _resource_numbers(self, resources: tuple[str, ...]) -> tuple[int, ...]:
        """Positions in the instance's resources of the antennas named ``resources``."""
        numbers = self._numbers.get(resources)
        if numbers is None:
            resource_index = self.index.resource_index
            numbers = self._numbers[resources] = tuple(resource_index[r] for r in resources)
        return numbers

    def _describe(
        self, contact: ScheduledContact
    ) -> tuple[tuple[int, ...], str, float, float, tuple[float, float, float, float]]:
        index = self.index
        resources = self._resource_numbers(contact.resources)
        request: Request | None = None
        if contact.request:
            request = index.instance.requests[index.request_index[contact.request]]
        setup = request.setup_s if request else 0.0
        teardown = request.teardown_s if request else 0.0
        opportunity = None if contact.fixed else index.opportunity(contact.opportunity)
        if opportunity is None:
            pointing = (math.nan, math.nan, math.nan, math.nan)
        else:
            pointing = edge_pointing_deg(opportunity, contact.start_s, contact.end_s)
        spacecraft = request.spacecraft if request else ""
        return resources, spacecraft, contact.start_s - setup, contact.end_s + teardown, pointing

    def add(self, contact: ScheduledContact, *, key: int | None = None) -> Placement:
        """Hold ``contact``'s antennas and count it for its spacecraft; see :meth:`fits` first.

        ``key`` puts a contact back under the key it had (see :meth:`remove`).
        """
        resources, spacecraft, hold_start, hold_end, pointing = self._describe(contact)
        if key is None:
            key = self._next_key
            self._next_key += 1
        placement = Placement(key, contact, resources, spacecraft, hold_start, hold_end, pointing)
        hold: Hold = (hold_start, hold_end, *pointing, key)
        start_unknown, end_unknown = math.isnan(pointing[0]), math.isnan(pointing[2])
        for r in resources:
            antenna = self.antennas[r]
            at = bisect.bisect_right(antenna.starts, hold_start)
            antenna.starts.insert(at, hold_start)
            antenna.holds.insert(at, hold)
            slew = antenna.unknown_slew_s
            antenna.clear.insert(
                at,
                (
                    hold_start - slew if start_unknown else hold_start,
                    hold_end + slew if end_unknown else hold_end,
                ),
            )
            antenna.longest_hold_s = max(antenna.longest_hold_s, hold_end - hold_start)
        if spacecraft:
            craft = self._spacecraft_of(spacecraft)
            at = bisect.bisect_right(craft.starts, contact.start_s)
            craft.starts.insert(at, contact.start_s)
            craft.spans.insert(at, (contact.start_s, contact.end_s, key))
            craft.longest_s = max(craft.longest_s, contact.end_s - contact.start_s)
        self.placements[key] = placement
        return placement

    def remove(self, key: int) -> ScheduledContact:
        """Release the contact added under ``key``; returns it."""
        placement = self.placements.pop(key)
        for r in placement.resources:
            antenna = self.antennas[r]
            at = bisect.bisect_left(antenna.starts, placement.hold_start_s)
            while antenna.holds[at][6] != key:
                at += 1
            del antenna.starts[at]
            del antenna.holds[at]
            del antenna.clear[at]
        if placement.spacecraft:
            craft = self.spacecraft[placement.spacecraft]
            at = bisect.bisect_left(craft.starts, placement.contact.start_s)
            while craft.spans[at][2] != key:
                at += 1
            del craft.starts[at]
            del craft.spans[at]
        return placement.contact

    def holders_near(
        self,
        opportunity: Opportunity,
        request: Request,
        window_start_s: float,
        window_end_s: float,
    ) -> list[Placement]:
        """Contacts holding the opportunity's antennas close enough to the window to matter."""
        keys: set[int] = set()
        for name in opportunity.resources:
            antenna = self.antennas[self.index.resource_index[name]]
            reach = antenna.reach_s
            low_time = window_start_s - request.setup_s - reach
            low = bisect.bisect_left(antenna.starts, low_time - antenna.longest_hold_s)
            high = bisect.bisect_right(antenna.starts, window_end_s + request.teardown_s + reach)
            keys.update(hold[6] for hold in antenna.holds[low:high] if hold[1] > low_time)
        return [self.placements[key] for key in sorted(keys)]

    def spacecraft_contacts_near(
        self, spacecraft: str, window_start_s: float, window_end_s: float
    ) -> list[Placement]:
        """Contacts of ``spacecraft`` that overlap ``[window_start_s, window_end_s)``."""
        craft = self.spacecraft.get(spacecraft)
        if craft is None:
            return []
        low = bisect.bisect_left(craft.starts, window_start_s - craft.longest_s)
        high = bisect.bisect_left(craft.starts, window_end_s)
        return [self.placements[k] for s, e, k in craft.spans[low:high] if e > window_start_s]

    # --- the exact check ---------------------------------------------------------------------

    def fits(self, contact: ScheduledContact, *, ignore: int | None = None) -> bool:
        """Whether ``contact`` can be added to what is held now, by the exact rule.

        Only the timeline is checked (antennas, maintenance, spacecraft
        limit); the contact's own rules (opportunity, durations, time
        window) are the caller's. ``ignore`` is the key of a placement to
        leave out (the contact being moved).
        """
        resources, spacecraft, hold_start, hold_end, pointing = self._describe(contact)
        return self._free(
            resources,
            spacecraft,
            contact.start_s,
            contact.end_s,
            hold_start,
            hold_end,
            pointing,
            ignore,
        )

    def _free(
        self,
        resources: Sequence[int],
        spacecraft: str,
        start_s: float,
        end_s: float,
        hold_start: float,
        hold_end: float,
        pointing: tuple[float, float, float, float],
        ignore: int | None = None,
    ) -> bool:
        """The exact rule of :meth:`fits` for a contact already described."""
        start_az, start_el, end_az, end_el = pointing
        for r in resources:
            antenna = self.antennas[r]
            at = bisect.bisect_left(antenna.maintenance_starts, hold_end) - 1
            if at >= 0 and antenna.maintenance_ends[at] > hold_start:
                return False
            reach = antenna.reach_s
            low = bisect.bisect_left(antenna.starts, hold_start - reach - antenna.longest_hold_s)
            high = bisect.bisect_right(antenna.starts, hold_end + reach)
            for other in antenna.holds[low:high]:
                if other[6] == ignore:
                    continue
                if other[0] <= hold_start:  # the rule's "first": the hold that starts first
                    gap = hold_start - other[1]
                    if gap < reach and gap < antenna.turnaround_s + antenna.slew_s(
                        other[4], other[5], start_az, start_el
                    ):
                        return False
                else:
                    gap = other[0] - hold_end
                    if gap < reach and gap < antenna.turnaround_s + antenna.slew_s(
                        end_az, end_el, other[2], other[3]
                    ):
                        return False
        if spacecraft and self.count_spacecraft:
            craft = self._spacecraft_of(spacecraft)
            low = bisect.bisect_left(craft.starts, start_s - craft.longest_s)
            high = bisect.bisect_left(craft.starts, end_s)
            overlapping = [
                (s, e) for s, e, key in craft.spans[low:high] if key != ignore and e > start_s
            ]
            if (
                len(overlapping) >= craft.limit
                and _max_overlap(overlapping, start_s, end_s) >= craft.limit
            ):
                return False
        return True

    # --- where a contact can go --------------------------------------------------------------

    def best_window(
        self,
        opportunity: Opportunity,
        request: Request,
        window_start_s: float,
        window_end_s: float,
        want_s: float,
        min_s: float,
        max_s: float,
        *,
        prefer_s: float | None = None,
        screened: bool = False,
    ) -> tuple[float, float] | None:
        """The best free part of ``opportunity`` for one contact, or ``None`` if none is left.

        The contact lies in ``[window_start_s, window_end_s]`` (the pass
        clipped to the request's time window), lasts at least ``min_s`` and
        at most ``max_s`` seconds, and as close to ``want_s`` as the free
        time allows; among equally long choices the earliest wins, or with
        ``prefer_s`` the one starting nearest to it. ``screened``: the caller
        has passed :meth:`has_room` for this window already. Returns
        ``(start_s, end_s)``, checked by :meth:`fits`.
        """
        if not screened and not self.has_room(
            self.index.resource_index[opportunity.resources[0]],
            request.spacecraft,
            window_start_s,
            window_end_s,
            min_s,
            request.setup_s,
            request.teardown_s,
        ):
            return None
        best: tuple[float, float] | None = None
        best_rank = (-math.inf, -math.inf)
        enough = min(want_s, max_s) - TIME_TOLERANCE_S
        for bounds in self._gaps(opportunity, request, window_start_s, window_end_s, min_s):
            found = self._in_gap(
                opportunity, window_start_s, window_end_s, *bounds, want_s, min_s, max_s
            )
            if found is None:
                continue
            options = [found]
            if prefer_s is not None and prefer_s > found[0]:
                options.insert(0, self._shifted(opportunity, window_end_s, bounds, found, prefer_s))
            for option in options:
                length = min(option[1] - option[0], want_s)
                closeness = -option[0] if prefer_s is None else -abs(option[0] - prefer_s)
                rank = (round(length, 6), closeness)
                if rank > best_rank and self._fits_window(opportunity, request, *option):
                    best, best_rank = option, rank
                    break
            if prefer_s is None and best is not None and best_rank[0] >= enough:
                break  # the earliest window that is long enough
        return best

    def has_room(
        self,
        resource: int,
        spacecraft: str,
        window_start_s: float,
        window_end_s: float,
        min_s: float,
        setup_s: float,
        teardown_s: float,
    ) -> bool:
        """A quick necessary test: ``min_s`` free on antenna ``resource`` and for the spacecraft.

        ``resource`` is an index into the instance's resources (the first
        of the opportunity's), ``setup_s`` and ``teardown_s`` the request's.
        Returns ``False`` only when no contact of ``min_s`` can fit; ``True``
        says nothing for sure. See :meth:`first_with_room`.
        """
        found = self.first_with_room(
            (resource,),
            (window_start_s,),
            (window_end_s,),
            0,
            1,
            spacecraft,
            min_s,
            setup_s,
            teardown_s,
        )
        return found == 0

    def first_with_room(
        self,
        resources: Sequence[int],
        window_starts: Sequence[float],
        window_ends: Sequence[float],
        first: int,
        stop: int,
        spacecraft: str,
        min_s: float,
        setup_s: float,
        teardown_s: float,
    ) -> int:
        """The first ``k`` in ``[first, stop)`` whose window may still take a contact, or ``stop``.

        Window ``k`` is ``[window_starts[k], window_ends[k]]`` on antenna
        ``resources[k]`` (an index into the instance's resources: the first
        of the opportunity's), all for one request: its ``spacecraft``, its
        shortest contact ``min_s``, its ``setup_s`` and ``teardown_s``.

        The test is quick and necessary: ``min_s`` free on the antenna, and
        for the spacecraft, each tested alone; the antenna with its
        turnaround and only the slew that does not depend on the new
        contact's pointing (beside a hold's edge of unknown pointing), so a
        window that fails it has no room by the exact rule either, now or
        after more contacts are added. Most opportunities a busy network
        rejects end here, before any slew is computed.
        """
        shortest = min_s - TIME_TOLERANCE_S
        craft = self.spacecraft.get(spacecraft) if self.count_spacecraft else None
        if craft is not None and not craft.spans:
            craft = None
        antennas = self.antennas
        for k in range(first, stop):
            start_s, end_s = window_starts[k], window_ends[k]
            antenna = antennas[resources[k]]
            before = antenna.turnaround_s + teardown_s  # free before a hold
            after = antenna.turnaround_s + setup_s  # and after it
            slew = antenna.unknown_slew_s
            starts = antenna.starts
            low = bisect.bisect_left(starts, start_s - after - slew - antenna.longest_hold_s)
            high = bisect.bisect_right(starts, end_s + before + slew)
            if not _has_gap(antenna.clear[low:high], start_s, end_s, shortest, before, after):
                continue
            if craft is None:
                return k
            if craft.limit == 1:  # the busy time is its contacts (those ending before do no harm)
                low = bisect.bisect_left(craft.starts, start_s - craft.longest_s)
                high = bisect.bisect_left(craft.starts, end_s)
                busy: Sequence[tuple[float, ...]] = craft.spans[low:high]
            else:
                busy = _saturated(craft, start_s, end_s)
            if _has_gap(busy, start_s, end_s, shortest, 0.0, 0.0):
                return k
        return stop

    def widest_window(
        self,
        opportunity: Opportunity,
        request: Request,
        window_start_s: float,
        window_end_s: float,
        around_s: tuple[float, float],
        *,
        max_s: float,
        ignore: int | None = None,
    ) -> tuple[float, float] | None:
        """The longest contact (up to ``max_s``) in the free gap holding ``around_s``, centred.

        Used to lengthen a contact already placed (``ignore``: its key, or
        take it out of the timeline first): the new span stays in the same
        free gap and is centred on the pass's middle where the gap allows.
        ``None`` if the gap cannot be found or gives nothing longer.
        """
        middle = (opportunity.start_s + opportunity.end_s) / 2
        for known_lo, unknown_lo, known_hi, unknown_hi in self._gaps(
            opportunity, request, window_start_s, window_end_s, 0.0, ignore
        ):
            lo = self._start_bound(opportunity, window_start_s, known_lo, unknown_lo)
            hi = self._end_bound(opportunity, window_end_s, known_hi, unknown_hi)
            if not (lo <= around_s[0] + 1e-9 and around_s[1] <= hi + 1e-9):
                continue
            length = min(max_s, hi - lo)
            start = min(max(middle - length / 2, lo), hi - length)
            if start - lo < 1e-3:
                start = lo
            else:  # a trimmed start: its pointing is unknown
                start = max(_ceil_ms(start), _ceil_ms(unknown_lo + _MARGIN_S))
            end = min(start + length, hi)
            if end < hi:  # a trimmed end
                end = min(end, _floor_ms(unknown_hi - _MARGIN_S))
            for candidate in ((start, end), (lo, min(hi, lo + length))):
                longer = candidate[1] - candidate[0] > around_s[1] - around_s[0] + 1e-6
                if longer and self._fits_window(opportunity, request, *candidate, ignore):
                    return candidate
            return None
        return None

    def _shifted(
        self,
        opportunity: Opportunity,
        window_end_s: float,
        bounds: tuple[float, float, float, float],
        found: tuple[float, float],
        prefer_s: float,
    ) -> tuple[float, float]:
        """``found`` moved later in its gap, towards a start at ``prefer_s``, same length."""
        _, unknown_lo, _, unknown_hi = bounds
        length = found[1] - found[0]
        latest_end = min(window_end_s, unknown_hi - _MARGIN_S, opportunity.end_s - 2 * _MARGIN_S)
        start = _ceil_ms(max(prefer_s, unknown_lo + _MARGIN_S, opportunity.start_s + 2 * _MARGIN_S))
        start = min(start, _floor_ms(latest_end - length))
        if start <= found[0]:
            return found
        return start, start + length

    def _fits_window(
        self,
        opportunity: Opportunity,
        request: Request,
        start_s: float,
        end_s: float,
        ignore: int | None = None,
    ) -> bool:
        """:meth:`fits` for a contact of ``request`` in ``opportunity``, ``[start_s, end_s)``."""
        return self._free(
            self._resource_numbers(opportunity.resources),
            request.spacecraft,
            start_s,
            end_s,
            start_s - request.setup_s,
            end_s + request.teardown_s,
            edge_pointing_deg(opportunity, start_s, end_s),
            ignore,
        )

    def _constraints(
        self,
        opportunity: Opportunity,
        request: Request,
        window_start_s: float,
        window_end_s: float,
        ignore: int | None = None,
    ) -> list[tuple[float, float, float, float, float]]:
        """What bounds a contact in the window: every hold, maintenance and busy spacecraft time.

        Holds and contacts placed under the key ``ignore`` do not count.

        Each one either ends before the contact (a lower bound on its start)
        or starts after it (an upper bound on its end). Returns them sorted
        by their start as ``(start, start bound with the pass's own start
        pointing, start bound with an unknown (trimmed) pointing, end bound
        with the pass's own end pointing, end bound trimmed)``.
        """
        setup, teardown = request.setup_s, request.teardown_s
        o_saz, o_sel = opportunity.start_azimuth_deg, opportunity.start_elevation_deg
        o_eaz, o_eel = opportunity.end_azimuth_deg, opportunity.end_elevation_deg
        items: list[tuple[float, float, float, float, float]] = []
        sources = 0
        resource_index = self.index.resource_index
        for name in opportunity.resources:
            antenna = self.antennas[resource_index[name]]
            turnaround = antenna.turnaround_s
            reach = antenna.reach_s
            low_time = window_start_s - setup - reach
            starts = antenna.starts
            low = bisect.bisect_left(starts, low_time - antenna.longest_hold_s)
            high = bisect.bisect_right(starts, window_end_s + teardown + reach)
            if high > low:
                sources += 1
                az_rate, el_rate = antenna.az_rate, antenna.el_rate
                if az_rate is None:
                    for hold in antenna.holds[low:high]:
                        if hold[1] > low_time and hold[6] != ignore:
                            lo = hold[1] + turnaround + setup
                            hi = hold[0] - turnaround - teardown
                            items.append((hold[0], lo, lo, hi, hi))
                else:
                    unknown = antenna.unknown_slew_s
                    for h_start, h_end, h_saz, h_sel, h_eaz, h_eel, key in antenna.holds[low:high]:
                        if h_end <= low_time or key == ignore:
                            continue
                        # The conflict rule's slew, inlined (this loop is the greedy's hot path):
                        # azimuth the short way (NaN: 180 deg), elevation (NaN: no move).
                        az = abs((o_saz - h_eaz + 180.0) % 360.0 - 180.0)
                        el = abs(o_sel - h_eel)
                        after_hold = max(
                            (az if az == az else 180.0) / az_rate,
                            (el if el == el else 0.0) / el_rate,
                        )
                        az = abs((h_saz - o_eaz + 180.0) % 360.0 - 180.0)
                        el = abs(h_sel - o_eel)
                        before_hold = max(
                            (az if az == az else 180.0) / az_rate,
                            (el if el == el else 0.0) / el_rate,
                        )
                        items.append(
                            (
                                h_start,
                                h_end + turnaround + after_hold + setup,
                                h_end + turnaround + unknown + setup,
                                h_start - turnaround - before_hold - teardown,
                                h_start - turnaround - unknown - teardown,
                            )
                        )
            m_starts = antenna.maintenance_starts
            if m_starts:
                m_low = bisect.bisect_right(antenna.maintenance_ends, window_start_s - setup)
                m_high = bisect.bisect_left(m_starts, window_end_s + teardown)
                if m_high > m_low:
                    sources += 2
                for m in range(m_low, m_high):
                    lo = antenna.maintenance_ends[m] + setup
                    hi = m_starts[m] - teardown
                    items.append((m_starts[m], lo, lo, hi, hi))
        craft = self.spacecraft.get(request.spacecraft) if self.count_spacecraft else None
        if craft is not None and craft.spans:
            for busy_start, busy_end in _saturated(craft, window_start_s, window_end_s, ignore):
                sources += 2
                items.append((busy_start, busy_end, busy_end, busy_start, busy_start))
        if sources > 1:
            items.sort()  # one antenna's holds come sorted already
        return items

    def _gaps(
        self,
        opportunity: Opportunity,
        request: Request,
        window_start_s: float,
        window_end_s: float,
        min_s: float,
        ignore: int | None = None,
    ) -> Iterator[tuple[float, float, float, float]]:
        """The free gaps a contact of at least ``min_s`` might fit in, earliest first.

        The constraints before the contact are a prefix of
        :meth:`_constraints`: gap ``g`` has the first ``g`` before it and the
        rest after. Yields ``(start bound with the pass's start pointing,
        start bound trimmed, end bound with the pass's end pointing, end bound
        trimmed)``; gaps too short even at best are skipped. ``ignore`` as
        for :meth:`_constraints`.
        """
        inf = math.inf
        items = self._constraints(opportunity, request, window_start_s, window_end_s, ignore)
        count = len(items)
        if not count:
            yield (-inf, -inf, inf, inf)
            return
        known_his = [inf] * (count + 1)
        unknown_his = [inf] * (count + 1)
        known_hi = unknown_hi = inf
        for i in range(count - 1, -1, -1):
            item = items[i]
            if item[3] < known_hi:
                known_hi = item[3]
            if item[4] < unknown_hi:
                unknown_hi = item[4]
            known_his[i] = known_hi
            unknown_his[i] = unknown_hi
        shortest = min_s - TIME_TOLERANCE_S
        known_lo = unknown_lo = -inf
        for g in range(count + 1):
            if g:
                item = items[g - 1]
                if item[1] > known_lo:
                    known_lo = item[1]
                if item[2] > unknown_lo:
                    unknown_lo = item[2]
            earliest = max(window_start_s, min(known_lo, unknown_lo))
            if earliest > window_end_s - shortest:
                return  # the start bounds only grow from here
            latest = min(window_end_s, max(known_his[g], unknown_his[g]))
            if latest - earliest >= shortest:
                yield known_lo, unknown_lo, known_his[g], unknown_his[g]

    @staticmethod
    def _start_bound(
        opportunity: Opportunity, window_start_s: float, known_lo: float, unknown_lo: float
    ) -> float:
        """Earliest start in the gap: the pass's own start if free, else a trimmed start."""
        if (
            window_start_s <= opportunity.start_s + TIME_TOLERANCE_S
            and known_lo + _MARGIN_S <= opportunity.start_s
        ):
            return opportunity.start_s
        earliest = max(window_start_s, unknown_lo + _MARGIN_S, opportunity.start_s + 2 * _MARGIN_S)
        return _ceil_ms(earliest)

    @staticmethod
    def _end_bound(
        opportunity: Opportunity, window_end_s: float, known_hi: float, unknown_hi: float
    ) -> float:
        """Latest end in the gap: the pass's own end if free, else a trimmed end."""
        if (
            window_end_s >= opportunity.end_s - TIME_TOLERANCE_S
            and known_hi - _MARGIN_S >= opportunity.end_s
        ):
            return opportunity.end_s
        latest = min(window_end_s, unknown_hi - _MARGIN_S, opportunity.end_s - 2 * _MARGIN_S)
        return _floor_ms(latest)

    def _in_gap(
        self,
        opportunity: Opportunity,
        window_start_s: float,
        window_end_s: float,
        known_lo: float,
        unknown_lo: float,
        known_hi: float,
        unknown_hi: float,
        want_s: float,
        min_s: float,
        max_s: float,
    ) -> tuple[float, float] | None:
        """The contact to propose in one gap: earliest start, length nearest ``want_s``."""
        start = self._start_bound(opportunity, window_start_s, known_lo, unknown_lo)
        shortest = min_s - TIME_TOLERANCE_S
        # Two ends to choose from: a trimmed one (the wanted length if the gap has room for it,
        # else as long as it allows), and the pass's own end when that is free.
        trimmed = min(window_end_s, unknown_hi - _MARGIN_S, opportunity.end_s - 2 * _MARGIN_S)
        target = start + min(max(want_s, min_s), max_s)
        cut = target if target <= trimmed else _floor_ms(trimmed)
        ends = [cut] if cut - start >= shortest and cut > start else []
        own = opportunity.end_s
        if (
            window_end_s >= own - TIME_TOLERANCE_S
            and known_hi - _MARGIN_S >= own
            and shortest <= own - start <= max_s + TIME_TOLERANCE_S
            and own > start
        ):
            ends.append(own)
        if len(ends) < 2:
            return (start, ends[0]) if ends else None
        # The shorter if it reaches the wanted length, else the longer.
        shorter, longer = min(ends), max(ends)
        return start, shorter if shorter - start >= min(
            want_s, max_s
        ) - TIME_TOLERANCE_S else longer


def _has_gap(
    spans: Sequence[tuple[float, ...]],
    start_s: float,
    end_s: float,
    shortest_s: float,
    before_s: float,
    after_s: float,
) -> bool:
    """Whether ``[start_s, end_s]`` has ``shortest_s`` free around ``spans`` (sorted by start).

    A span ``(s, e, ...)`` keeps ``before_s`` free before it and ``after_s``
    after it.
    """
    earliest = start_s
    for span in spans:
        latest = span[0] - before_s
        if (latest if latest < end_s else end_s) - earliest >= shortest_s:
            return True
        after = span[1] + after_s
        if after > earliest:
            earliest = after
    return end_s - earliest >= shortest_s


def _saturated(
    craft: _Spacecraft, start_s: float, end_s: float, ignore: int | None = None
) -> list[tuple[float, float]]:
    """Spans inside ``[start_s, end_s)`` where the spacecraft already has ``limit`` contacts.

    The contact placed under the key ``ignore`` does not count.
    """
    low = bisect.bisect_left(craft.starts, start_s - craft.longest_s)
    high = bisect.bisect_left(craft.starts, end_s)
    spans = [(s, e) for s, e, key in craft.spans[low:high] if e > start_s and key != ignore]
    if craft.limit == 1 or not spans:
        return spans
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    busy: list[tuple[float, float]] = []
    count = 0
    since = 0.0
    for time, step in events:
        before = count
        count += step
        if before < craft.limit <= count:
            since = time
        elif count < craft.limit <= before and time > since:
            busy.append((since, time))
    return busy


def _max_overlap(spans: Sequence[tuple[float, float]], start_s: float, end_s: float) -> int:
    """Most of ``spans`` in progress at once within ``[start_s, end_s)`` (half-open)."""
    events = []
    for s, e in spans:
        s, e = max(s, start_s), min(e, end_s)
        if e > s:
            events.append((s, 1))
            events.append((e, -1))
    events.sort()  # at equal times the end (-1) comes first: half-open spans
    count = best = 0
    for _, step in events:
        count += step
        best = max(best, count)
    return best
