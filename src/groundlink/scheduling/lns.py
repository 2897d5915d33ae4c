"""Neighbourhoods of the optimiser's large-neighbourhood search (:mod:`.cpsat`).

Above :data:`~.cpsat.FULL_MODEL_OPPORTUNITIES` usable opportunities the
optimiser re-solves one *neighbourhood* at a time: a set of opportunities
whose contacts are freed while every other contact stays as it is. This
module chooses them; each choice is a sorted array of positions in
``instance.opportunities``, about ``size`` long.

A neighbourhood is a **request chain** (:meth:`Neighbourhoods.request_chain`):
a request still short of its demand (drawn in proportion to the value it
lacks); then the requests whose contacts hold the antennas over its
windows (its *blockers*, at most :data:`CHAIN_FAN` of them, drawn in
proportion to how many of its windows they block); then the blockers of
those blockers, and so on, breadth first, until ``size`` or
:data:`CHAIN_REQUESTS` requests' worth of opportunities, whichever is
more. Every usable opportunity of each chosen request over the whole
horizon is freed, so that the block can shift contacts along the chain: the
short request takes a blocker's pass, the blocker moves to a pass hours
away that its own blocker gives up, and so on. That is the exchange a time
block cannot see, and a chain that reaches blockers of blockers finds more
of them than a short request with all its direct blockers.

Measured on the 300 x 20 benchmark day (60 s, fairness off, 3 runs each):
with one block in four a time span over every antenna (the design until
session 5) the search reached 2,080.9-2,081.2; request chains alone
2,081.9-2,082.4; chains that go on to blockers of blockers, two per
request, 2,083.0-2,083.6. Earlier, request chains gained about three
times more per CPU second than time blocks and time spans over a quarter
of the antennas.

No I/O, no global state: randomness comes from the ``rng`` given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Least requests' worth of opportunities (on average) in a request chain: on 1,000 x 60,
#: where a request has about 190 usable opportunities, chains of 600-900 gain about twice
#: as much per CPU second as chains of 300 (one short request and one blocker).
CHAIN_REQUESTS = 4
#: Blockers drawn per request of a chain (on 300 x 20 at 60 s, fairness off, a mean of
#: 2,083.0 with 1, 2,083.4 with 2 and 2,082.6 with 3, over 2-3 runs each).
CHAIN_FAN = 2
#: A contact this close (seconds) to a short request's window, on one of its antennas,
#: blocks it: turnaround plus a worst-case slew on the benchmark antennas (60 s + 60 s).
BLOCKING_REACH_S = 120.0


@dataclass(frozen=True)
class ContactHolds:
    """The antenna holds of a schedule, one row per (contact, antenna).

    ``request``: position in ``instance.requests`` (-1 for time held for
    nothing); ``resource``: position in ``instance.resources``;
    ``start``/``end``: the hold, setup and teardown included, seconds.
    """

    request: IntArray
    resource: IntArray
    start: FloatArray
    end: FloatArray


class Neighbourhoods:
    """Chooses neighbourhoods among the usable opportunities (module docstring).

    Args:
        usable: positions of the usable opportunities in ``instance.opportunities``.
        request_of: per usable opportunity, its request's position.
        requests: how many requests the instance has.
        window_start_s, window_end_s: per usable opportunity, its window, seconds.
        needs: per usable opportunity and antenna, whether it holds that antenna.
        size: usable opportunities per neighbourhood (about).
        rng: the random generator (seeded by the caller).
    """

    def __init__(
        self,
        usable: IntArray,
        request_of: IntArray,
        requests: int,
        window_start_s: FloatArray,
        window_end_s: FloatArray,
        needs: BoolArray,
        size: int,
        rng: np.random.Generator,
    ) -> None:
        self.usable = usable
        self.request_of = request_of
        self.starts = window_start_s
        self.ends = window_end_s
        self.needs = needs
        self.size = size
        self.rng = rng
        order = np.argsort(request_of, kind="stable")
        bounds = np.searchsorted(request_of[order], np.arange(requests + 1))
        #: Per request, its rows (positions in ``usable``).
        self.rows_of = [order[bounds[r] : bounds[r + 1]] for r in range(requests)]
        self.has_rows = np.diff(bounds) > 0
        per_request = len(usable) / max(1, int(self.has_rows.sum()))
        self.chain_size = max(size, round(CHAIN_REQUESTS * per_request))

    def _short_request(self, lost: FloatArray) -> int | None:
        """A request with usable opportunities, drawn in proportion to the value it lacks."""
        weights = np.where(self.has_rows, lost, 0.0)
        total = float(weights.sum())
        if total <= 0:
            return None
        return int(self.rng.choice(len(weights), p=weights / total))

    def request_chain(self, lost: FloatArray, holds: ContactHolds) -> IntArray:
        """A short request, its blockers, theirs and so on, whole (module docstring).

        ``lost``: per request, the value it lacks; ``holds``: the incumbent's holds.
        Empty when no request is short.
        """
        short = self._short_request(lost)
        if short is None:
            return self.usable[:0]
        chosen = [short]
        total = len(self.rows_of[short])
        frontier = [short]
        while frontier and total < self.chain_size:
            reached = []
            for request in frontier:
                if total >= self.chain_size:
                    break  # full: no need to look for this one's blockers
                counts = self._blocking(request, holds)
                counts[chosen] = 0.0
                blockers = np.nonzero(counts > 0)[0]
                if not len(blockers):
                    continue
                drawn = self.rng.choice(
                    blockers,
                    size=min(CHAIN_FAN, len(blockers)),
                    replace=False,
                    p=counts[blockers] / counts[blockers].sum(),
                )
                for blocker in drawn.tolist():
                    if total >= self.chain_size:
                        break
                    chosen.append(blocker)
                    reached.append(blocker)
                    total += len(self.rows_of[blocker])
            frontier = reached
        picked = np.concatenate([self.rows_of[r] for r in chosen])
        return np.sort(self.usable[picked])

    def _blocking(self, request: int, holds: ContactHolds) -> FloatArray:
        """Per request, how many (window, hold) pairs its holds block ``request`` by.

        A hold blocks a window when it is on one of the window's antennas and
        comes within :data:`BLOCKING_REACH_S` of it; ``request``'s own holds
        do not count.
        """
        rows = self.rows_of[request]
        others = holds.request != request
        held = holds.request[others]
        on_antenna = self.needs[rows][:, holds.resource[others]]
        near = (self.starts[rows, None] < holds.end[others] + BLOCKING_REACH_S) & (
            self.ends[rows, None] > holds.start[others] - BLOCKING_REACH_S
        )
        blocking = np.sum(on_antenna & near, axis=0)
        counts = np.bincount(
            held[held >= 0], weights=blocking[held >= 0], minlength=len(self.rows_of)
        )
        return counts.astype(np.float64)
