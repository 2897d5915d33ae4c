"""Neighbourhoods of the optimiser's large-neighbourhood search (:mod:`.cpsat`).

Above :data:`~.cpsat.FULL_MODEL_OPPORTUNITIES` usable opportunities the
optimiser re-solves one *neighbourhood* at a time: a set of opportunities
whose contacts are freed while every other contact stays as it is. This
module chooses them; each choice is a sorted array of positions in
``instance.opportunities``, about ``size`` long. Two kinds:

* :meth:`Neighbourhoods.request_chain`: a request still short of its demand
  (drawn in proportion to the value it lacks), then the requests whose
  contacts hold the antennas over its windows (drawn in proportion to how
  many of its windows they block), every usable opportunity of each over
  the whole horizon, until ``size`` or :data:`CHAIN_REQUESTS` requests'
  worth of opportunities, whichever is more. The block can then move a blocker to
  another of its passes, far in time, and give the short request the pass
  it left: the exchange that a time block cannot see. On the 300 x 20
  benchmark day it gains about three times more per CPU second than time
  blocks (and than time spans over a quarter of the antennas, which gained
  no more than time blocks and were dropped).
* :meth:`Neighbourhoods.time_block`: every opportunity inside a time span
  over all antennas, centred on a window of a short request (drawn in
  proportion to the value it lacks): local repacking.

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
        self.first = float(window_start_s.min())
        self.span = float(window_end_s.max()) - self.first
        self.mean_window = float(np.mean(window_end_s - window_start_s))
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
        """A short request and the requests that block it, whole (module docstring).

        ``lost``: per request, the value it lacks; ``holds``: the incumbent's holds.
        Empty when no request is short.
        """
        short = self._short_request(lost)
        if short is None:
            return self.usable[:0]
        rows = self.rows_of[short]
        others = holds.request != short
        held = holds.request[others]
        # Which holds come within BLOCKING_REACH_S of one of its windows, on its antennas.
        on_antenna = self.needs[rows][:, holds.resource[others]]
        near = (self.starts[rows, None] < holds.end[others] + BLOCKING_REACH_S) & (
            self.ends[rows, None] > holds.start[others] - BLOCKING_REACH_S
        )
        blocking = np.sum(on_antenna & near, axis=0)
        counts = np.bincount(held[held >= 0], weights=blocking[held >= 0], minlength=len(lost))
        chosen = [short]
        total = len(rows)
        blockers = np.nonzero(counts > 0)[0]
        if len(blockers):
            order = self.rng.choice(
                blockers,
                size=len(blockers),
                replace=False,
                p=counts[blockers] / counts[blockers].sum(),
            )
            for request in order.tolist():
                if total >= self.chain_size:
                    break
                chosen.append(request)
                total += len(self.rows_of[request])
        picked = np.concatenate([self.rows_of[r] for r in chosen])
        return np.sort(self.usable[picked])

    def time_block(self, lost: FloatArray) -> IntArray:
        """Every usable opportunity in a time span holding about ``size`` of them, over all
        antennas, centred on a window of a short request (module docstring)."""
        width = max(3 * self.mean_window, self.span * self.size / len(self.usable))
        weights = lost[self.request_of]
        if weights.sum() > 0:
            pick = int(self.rng.choice(len(self.usable), p=weights / weights.sum()))
            origin = float(self.starts[pick] + self.ends[pick]) / 2 - width / 2
        else:
            origin = float(self.rng.uniform(self.first - width / 2, self.first + self.span))
        inside = (self.starts >= origin) & (self.ends <= origin + width)
        return self.usable[inside]
