"""The one entry point of network scheduling: :func:`solve`.

The CLI (``groundlink schedule solve``), the API's schedule jobs and the
benchmarks all call :func:`solve`. Within ``time_limit_s`` in all it runs,
keeping the best valid schedule at every step:

1. **greedy** (:func:`~.greedy.greedy_schedule`): sub-second, always valid;
   the fallback and the warm start;
2. **bound** (:func:`~.bound.lp_bound`): the dual-certified LP relaxation,
   so that the result says how far from optimal it can be at most;
3. **LP-ordered greedy**: the greedy again, taking opportunities in the
   order of the relaxation's values; kept if better;
4. **CP-SAT polish** (:func:`~.cpsat.optimise`) on the rest of the time,
   from the best schedule so far.

**SatNet-like weeks** (no slew, no turnaround, tracks of minutes to hours:
:func:`~.satnet_search.applies`) add, after step 3, the whole-track
Lagrangian bound of :mod:`.satnet_bound` (at most 15% of the time; the
smaller bound is reported), and replace step 4 by the window search of
:mod:`.satnet_search` (exact CP-SAT blocks over windows of 8 or 24 hours).

``method="greedy"`` stops after step 2, ``"cpsat"`` skips step 3,
``"auto"`` runs all four. The result's ``status`` is ``"optimal"`` when
CP-SAT proved an exact model optimal or the value reaches the bound,
``"feasible"`` when CP-SAT ran, else ``"heuristic"``. Its ``bound`` is the
smaller of the LP bound and, when CP-SAT solved an exact model of the whole
instance (integral times, no slew: SatNet), CP-SAT's proven bound; ``gap``
is ``(bound - value) / bound``.

**Fairness** (``fairness=True``, the default) is a floor on the rule of
:mod:`.fairness` (a weighted max-min share of antenna time): every tenant
should get at least :data:`FAIR_FLOOR` of its fair value
(:func:`~.fairness.fair_shares`). Schedules are compared by their value
less :data:`~.cpsat.FAIRNESS_PRICE` (10) times the value the tenants lack,
together, to reach their floors, here and inside CP-SAT alike: the greedy
favours starved tenants, CP-SAT lifts them further where that costs less
than the price, and a tenant stays below its floor only where lifting it
would cost more than 10 units of value for each unit it lacks. The
searches aim :data:`SEARCH_FLOOR_MARGIN` above the floor, so that a run
stopped by its time limit part-way through lifting a tenant still meets
it. (Comparing
the shortfall first, at any cost, let a schedule that met the floor at 12%
less value beat one that missed it by 0.1 unit of value.) The value given
up for it, against the plain greedy's schedule without the floor in the
same run, is reported as ``fairness_loss``.

``progress(stage, fraction)`` is called with the stage name and the
fraction of the time budget used (0-1), for a progress bar.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Literal

from groundlink.errors import InvalidInput
from groundlink.scheduling.bound import LpBound, lp_bound
from groundlink.scheduling.cpsat import FAIRNESS_PRICE, optimise_in_detail
from groundlink.scheduling.explain import explain_unserved
from groundlink.scheduling.fairness import FairnessRule, tenant_shares
from groundlink.scheduling.feasibility import index_instance
from groundlink.scheduling.greedy import greedy_schedule
from groundlink.scheduling.model import Instance, Schedule, ScheduledContact
from groundlink.scheduling.satnet_bound import track_bound
from groundlink.scheduling.satnet_search import applies as satnet_like
from groundlink.scheduling.satnet_search import improve as search_windows
from groundlink.scheduling.validate import check_schedule, schedule_value

Method = Literal["auto", "greedy", "cpsat"]
ProgressCallback = Callable[[str, float], None]

#: Least share of its fair value every tenant gets under ``fairness=True``.
FAIR_FLOOR = 0.8
#: How far above :data:`FAIR_FLOOR` the CP-SAT searches aim. On the 300 x 20 benchmark day
#: at 10 s, aiming at the floor itself left the worst tenant at 0.7996-0.8045 of its fair
#: share (7 runs); aiming a point above, at 0.8104-0.8109 (4 runs), for the same value.
SEARCH_FLOOR_MARGIN = 0.01
#: Share of the time budget the bound may take at most.
_BOUND_SHARE = 0.4
#: SatNet-like instances: share of the time budget for the whole-track bound (at most).
_TRACK_BOUND_SHARE = 0.15
#: Values this close (relative) count as equal to the bound: proven optimal.
_OPTIMAL_GAP = 1e-9
#: A bound this close to the value (relative, at least in absolute value units) is the value.
_SAME_VALUE = 1e-7


def solve(
    instance: Instance,
    *,
    time_limit_s: float = 10.0,
    method: Method = "auto",
    fairness: bool = True,
    progress: ProgressCallback | None = None,
) -> Schedule:
    """The best valid schedule found within ``time_limit_s`` seconds (module docstring).

    Raises:
        InvalidInput: for a time limit that is not a positive number of
            seconds, or an unknown method.
    """
    if not (isinstance(time_limit_s, int | float) and math.isfinite(time_limit_s)):
        raise InvalidInput("time_limit_s", time_limit_s, "a positive number of seconds")
    if time_limit_s <= 0:
        raise InvalidInput("time_limit_s", time_limit_s, "a positive number of seconds")
    if method not in ("auto", "greedy", "cpsat"):
        raise InvalidInput("method", method, "one of auto, greedy, cpsat")
    run = _Run(instance, time_limit_s, fairness, progress)
    return run.go(method)


class _Run:
    """One call of :func:`solve`: the clock, the best schedule so far and how it was found."""

    def __init__(
        self,
        instance: Instance,
        time_limit_s: float,
        fairness: bool,
        progress: ProgressCallback | None,
    ) -> None:
        self.began = time.perf_counter()
        self.instance = instance
        # Indexed once for every stage: at 1,000 x 60 an index costs 0.1 s, the rule 0.04 s.
        self.index = index_instance(instance)
        self.rule = FairnessRule(instance, self.index)
        self.time_limit_s = time_limit_s
        self.fairness = fairness
        self.progress = progress
        self.best: tuple[ScheduledContact, ...] = ()
        self.best_value = -math.inf
        self.best_shortfall = 0.0
        self.solver = "greedy"
        self.status: Literal["optimal", "feasible", "heuristic"] = "heuristic"
        self.unfair_value: float | None = None
        # DSN-like weeks (no slew, tracks of hours): window search and the whole-track bound.
        self.satnet_like = satnet_like(instance)

    def elapsed(self) -> float:
        return time.perf_counter() - self.began

    def left(self) -> float:
        return self.time_limit_s - self.elapsed()

    def tell(self, stage: str) -> None:
        if self.progress is not None:
            self.progress(stage, min(1.0, max(0.0, self.elapsed() / self.time_limit_s)))

    def offer(self, contacts: Sequence[ScheduledContact], solver: str) -> bool:
        """Keep ``contacts`` if valid and better than the best so far.

        Better: more value less :data:`~.cpsat.FAIRNESS_PRICE` times the value
        missing from the tenants' floors (with fairness; that value is 0
        without).
        """
        value = schedule_value(self.instance, contacts)
        shortfall = self._shortfall(contacts) if self.fairness else 0.0
        if value - FAIRNESS_PRICE * shortfall <= (
            self.best_value - FAIRNESS_PRICE * self.best_shortfall + 1e-9
        ):
            return False
        if check_schedule(self.instance, contacts, index=self.index):
            return False
        self.best, self.best_value, self.solver = tuple(contacts), value, solver
        self.best_shortfall = shortfall
        return True

    def _shortfall(self, contacts: Sequence[ScheduledContact]) -> float:
        """Value the tenants lack, together, to reach :data:`FAIR_FLOOR` of their fair value."""
        return sum(
            max(0.0, FAIR_FLOOR * s.fair_share - s.share) * s.requested_value
            for s in tenant_shares(self.instance, contacts, rule=self.rule)
        )

    def go(self, method: Method) -> Schedule:
        self.tell("greedy")
        fair = greedy_schedule(self.instance, fairness=self.fairness, index=self.index)
        self.offer(fair, "greedy")
        if self.fairness:
            unfair = greedy_schedule(self.instance, fairness=False, index=self.index)
            self.unfair_value = schedule_value(self.instance, unfair)
            self.offer(unfair, "greedy without the floor")
        self.tell("bound")
        bound = lp_bound(self.instance, time_limit_s=max(0.1, _BOUND_SHARE * self.left()))
        bound_value, bound_method = bound.value, bound.method
        if method == "auto" and self.left() > 0 and bound.opportunity_values:
            self.tell("LP-ordered greedy")
            ordered = greedy_schedule(
                self.instance,
                order_value=bound.opportunity_values,
                fairness=self.fairness,
                index=self.index,
            )
            self.offer(ordered, "greedy ordered by LP values")
        if self.satnet_like:
            # Before the search, which then has all the time the bound leaves.
            bound_value, bound_method = self._whole_track_bound(bound_value, bound_method)
        at_bound = self.best_value >= bound_value * (1 - _OPTIMAL_GAP) - 1e-12
        if method != "greedy" and self.left() > 0.05 and not at_bound:
            if self.satnet_like:
                self._search_windows()
            else:
                bound_value, bound_method = self._polish(bound)
        self.tell("explaining")
        return self._schedule(bound_value, bound_method)

    def _polish(self, bound: LpBound) -> tuple[float, str]:
        """CP-SAT on the rest of the time; returns the bound to report."""
        result = optimise_in_detail(
            self.instance,
            time_limit_s=max(0.05, self.left() - self._reserve()),
            hint=self.best,
            on_improvement=self._cpsat_started(),
            fair_floor=self._search_floor(),
        )
        self.status = "feasible"
        if not self.offer(result.contacts, f"{self.solver} + CP-SAT"):
            self.solver = f"{self.solver} (CP-SAT found nothing better)"
        proven = schedule_value(self.instance, result.contacts)
        if result.status == "optimal" and self.best_value >= proven - 1e-9:
            self.status = "optimal"
        if result.bound is not None and result.bound < bound.value:
            return result.bound, "CP-SAT (exact model, proven bound)"
        return bound.value, bound.method

    def _search_floor(self) -> float | None:
        """The fairness floor the CP-SAT searches aim at (None without fairness)."""
        return FAIR_FLOOR + SEARCH_FLOOR_MARGIN if self.fairness else None

    def _reserve(self) -> float:
        """Time to leave for the explanations and shares at the end (1.5 s at 1,000 x 60)."""
        return min(0.25 * self.time_limit_s, 0.05 + 1e-5 * len(self.instance.opportunities))

    def _cpsat_started(self) -> Callable[[float, float], None]:
        """Say the CP-SAT stage began; the callback that reports its progress by time."""
        self.tell("CP-SAT")
        base = self.elapsed()

        def improved(value: float, at_s: float) -> None:
            del value
            if self.progress is not None:
                self.progress("CP-SAT", min(1.0, (base + at_s) / self.time_limit_s))

        return improved

    def _search_windows(self) -> None:
        """SatNet-like: CP-SAT blocks over time windows (:mod:`.satnet_search`) on the time
        left, less a reserve for the explanations (as :meth:`_polish`)."""
        contacts = search_windows(
            self.instance,
            self.best,
            time_limit_s=max(0.05, self.left() - self._reserve()),
            fair_floor=self._search_floor(),
            on_improvement=self._cpsat_started(),
        )
        self.status = "feasible"
        if not self.offer(contacts, f"{self.solver} + CP-SAT windows"):
            self.solver = f"{self.solver} (CP-SAT windows found nothing better)"

    def _whole_track_bound(self, bound_value: float, bound_method: str) -> tuple[float, str]:
        """SatNet-like: the smaller of the bound so far and the whole-track Lagrangian."""
        self.tell("bound (whole tracks)")
        found = track_bound(
            self.instance,
            time_limit_s=max(0.1, min(self.left(), _TRACK_BOUND_SHARE * self.time_limit_s)),
            best_known=self.best_value,
            index=self.index,
        )
        if found is not None and found.value < bound_value:
            grid = f"{found.grid_s / 60:g}-minute grid"
            return found.value, f"lagrangian, whole tracks per request on a {grid}"
        return bound_value, bound_method

    def _schedule(self, bound_value: float, bound_method: str) -> Schedule:
        value = self.best_value
        if bound_value - value <= _SAME_VALUE * max(1.0, bound_value):
            # The bound's safety margins only (1e-9): the schedule is optimal.
            bound_value = value
            self.status = "optimal"
        loss = None
        if self.fairness and self.unfair_value is not None and self.unfair_value > 0:
            loss = max(0.0, (self.unfair_value - value) / self.unfair_value)
        schedule = Schedule(
            contacts=self.best,
            value=value,
            bound=bound_value,
            bound_method=bound_method,
            solver=self.solver,
            solve_s=self.elapsed(),
            status=self.status,
            shares=tenant_shares(self.instance, self.best, rule=self.rule),
            unserved=explain_unserved(
                self.instance, self.best, index=self.index, rule=self.rule, fairness=self.fairness
            ),
            fairness_loss=loss,
        )
        self.tell("done")
        return schedule
