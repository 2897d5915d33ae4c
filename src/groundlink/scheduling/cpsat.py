"""The optimiser: OR-Tools CP-SAT on optional contacts, whole or by blocks.

:func:`optimise` improves a valid schedule (the greedy's, usually) within a
time limit and returns the best valid schedule it has found, never a worse
one than its hint.

**The model** (one per call, or one per block, see below). Every
usable opportunity may hold one contact (a *presence literal*); its value
is linear in what it serves up to the request's demand, as
:func:`~.model.request_value` says:

* ``v_r <= served_r`` and ``v_r <= demand_r``, in *value units* (``2^20``
  per unit of the largest request weight, so that a contact, a millisecond
  and a millionth of a bytes demand are all valued at the same resolution;
  a search may choose a coarser unit, :class:`BlockProblem`);
  the objective is ``sum_r v_r``. ``min_served`` adds a literal ``z_r``
  (``served_r >= min_served z_r``, ``v_r = 0`` without it);
  ``max_contacts`` caps the literals of a request.
* **Antennas.** Each contact holds its resources over ``[start - setup,
  end + teardown)``; the *padded* hold ``[.., end + teardown +
  turnaround)`` goes into one ``AddNoOverlap`` per resource, which is
  exactly the conflict rule when there is no slew. Maintenance windows and
  fixed contacts are fixed intervals in the same constraint.
* **Spacecraft.** Contact spans ``[start, end)`` per spacecraft:
  ``AddNoOverlap`` for at most one contact at once (the default), else
  ``AddCumulative`` with capacity ``k``; fixed contacts count.

**Two ways to place a contact**, chosen by the instance:

* *Flexible* (no antenna has slew rates, e.g. SatNet's DSN weeks): one
  interval per opportunity whose start and length are variables (integer
  seconds, or milliseconds if the data are not whole seconds), anywhere
  inside the window. With integral data this model is exact, so a proven
  optimum is *the* optimum and CP-SAT's bound is a valid bound.
* *Candidates* (slew counts): the slew between two contacts depends on
  both contacts' edges (known at a pass's AOS/LOS, the worst case where a
  contact is trimmed: :mod:`.feasibility`), which ``AddNoOverlap`` cannot
  express. So each opportunity offers a few fixed contacts (the whole pass
  when allowed; contacts of the minimum, or the longest useful, length, and
  for a seconds or bytes demand the length that serves what it still
  lacks, aligned on AOS and on LOS, and *packed*: starting as soon as the
  rule allows after a held contact on its antenna, or ending as late as it
  allows before one; and the hint's own contact) and the conflict
  rule itself (:func:`~groundlink.contacts.conflicts.find_antenna_conflicts`)
  decides every pair: ``AddNoOverlap`` over the turnaround-padded holds
  (endpoints replaced by their ranks, which keeps every overlap exactly)
  plus one clause per pair that conflicts only through slew (pairs are
  found by a search near each hold and each is handed to the rule). A
  variable-start model would need either the worst-case slew between every
  two contacts (60 s at 3 deg/s, where the real slew of two untrimmed edges
  is often half that) or an ordering literal per neighbouring pair.

**Blocks.** Up to :data:`FULL_MODEL_OPPORTUNITIES` usable opportunities
the whole instance is one model. Above that, a large-neighbourhood search:
about :data:`BLOCK_OPPORTUNITIES` opportunities are freed (their contacts
become the hint), everything else stays as it is (kept contacts act like
fixed ones: they block antennas and spacecraft and count towards demand),
the block is re-optimised for :data:`BLOCK_MIN_S` and the result is kept
when the whole schedule is better. The blocks (:mod:`.lns`) are *request
chains*: a request short of its demand, the requests holding the antennas
over its windows, the requests holding theirs, and so on, each whole, so
that contacts can shift along the chain to passes hours away.
``workers`` blocks run at once, one CP-SAT thread each; a
block solved against an older incumbent is merged into the newer one where
its new contacts meet none of those added since. Each improvement is reported to
``on_improvement(value, elapsed_s)``. Measured on the 300 x 20 benchmark
day (fairness off, from the greedy's 2,056, per CPU second of a shared
machine): time and antenna blocks reached 2,059 after 14 CPU s; request
chains with packed candidates 2,068 after 20 CPU s and 2,072 after 29
(:mod:`.lns` has the figures of the chains as they are now).

**Fairness** (``fair_floor``): schedules are compared by their value less
:data:`FAIRNESS_PRICE` times what the tenants lack, together, to reach that
share of their fair value; in the model a tenant's shortfall costs the same
and may not grow.

OR-Tools 9.15's presolve step "constraint inclusion" returned an
"optimal" objective below a known feasible one on these models; it is
switched off (``presolve_inclusion_work_limit = 0``), after which results
agree with presolve disabled entirely. The search's blocks run with no
presolve at all: on the 300 x 20 day a block of 300 is solved in 22 ms on
average instead of 32 (the median halves, from 23 to 11 ms), to the same
optima, so a 60 s search runs a fifth more blocks.

No I/O, no global state; CP-SAT runs on ``workers`` threads.
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_left, bisect_right
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from groundlink.contacts.conflicts import (
    MAX_AZIMUTH_MOVE_DEG,
    MAX_ELEVATION_MOVE_DEG,
    find_antenna_conflicts,
)
from groundlink.scheduling.fairness import FairnessRule
from groundlink.scheduling.feasibility import (
    TIME_TOLERANCE_S,
    IndexedInstance,
    Usability,
    amount_of,
    edge_pointing_deg,
    fixed_contacts,
    index_instance,
)
from groundlink.scheduling.lns import ContactHolds, Neighbourhoods
from groundlink.scheduling.model import (
    DemandKind,
    Instance,
    Opportunity,
    Request,
    Resource,
    ScheduledContact,
    request_value,
)
from groundlink.scheduling.validate import check_schedule, merged_maintenance

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ImprovementCallback = Callable[[float, float], None]
T = TypeVar("T")

#: Largest instance (usable opportunities) solved as one model; larger ones go by blocks.
FULL_MODEL_OPPORTUNITIES = 3_500
#: Usable opportunities freed per block of the large-neighbourhood search (measured on
#: 300 x 20: 300 gains more value per CPU second than 200 or 450; with the chains of
#: session 5, 60 s runs averaged 2,082.6 with 220 and 2,083.5 with 400, as with 300).
BLOCK_OPPORTUNITIES = 300
#: Resolution of a bytes demand in the model: millionths of the demand.
BYTES_STEPS = 1_000_000
#: Time given to one block, seconds (most blocks of 300 are solved to optimality in it).
BLOCK_MIN_S = 0.4
#: Objective price of a value unit of a tenant's shortfall from its fairness floor.
FAIRNESS_PRICE = 10
#: Schedules whose served amounts, holds and held-contact tables are remembered (:class:`_Memo`):
#: the search's incumbent, the schedules compared with it and their kinds of result.
_MEMO_ENTRIES = 8
#: Facts of contacts no longer in the incumbent kept per fact of one still in it, at most.
_FACTS_SLACK = 4
#: Widening of the near-pair searches, seconds (far above float rounding of times).
_SEARCH_SLACK_S = 1e-6
#: Value units per unit of the largest request weight (the objective's resolution).
VALUE_RESOLUTION = 1 << 20


@dataclass(frozen=True)
class CpSatResult:
    """What :func:`optimise_in_detail` found.

    ``contacts``: the best valid schedule (fixed contacts included), sorted by
    start. ``status``: ``"optimal"`` when an exact model of the whole instance
    was solved to proven optimality, else ``"feasible"``. ``bound``: an upper
    bound on the value of *any* valid schedule, from CP-SAT's objective bound,
    when the whole instance was one exact model (else None).
    """

    contacts: tuple[ScheduledContact, ...]
    status: str
    bound: float | None


def optimise(
    instance: Instance,
    *,
    time_limit_s: float,
    hint: Sequence[ScheduledContact] = (),
    workers: int = 2,
    on_improvement: ImprovementCallback | None = None,
) -> tuple[tuple[ScheduledContact, ...], str]:
    """The best valid schedule found within ``time_limit_s`` (module docstring), and a status.

    Args:
        hint: a valid schedule to start from (fixed contacts may be in it or
            not); an invalid hint is ignored. The result is never worth
            less than the hint.
        workers: CP-SAT threads.
        on_improvement: called as ``on_improvement(value, elapsed_s)`` for
            every better schedule found.

    Returns:
        The contacts (fixed ones included, ``fixed=True``), sorted by start,
        and ``"optimal"`` when an exact model was solved to proven
        optimality, else ``"feasible"``.
    """
    result = optimise_in_detail(
        instance,
        time_limit_s=time_limit_s,
        hint=hint,
        workers=workers,
        on_improvement=on_improvement,
    )
    return result.contacts, result.status


def optimise_in_detail(
    instance: Instance,
    *,
    time_limit_s: float,
    hint: Sequence[ScheduledContact] = (),
    workers: int = 2,
    on_improvement: ImprovementCallback | None = None,
    fair_floor: float | None = None,
) -> CpSatResult:
    """:func:`optimise`, with CP-SAT's bound when it is valid, and an optional fairness floor.

    ``fair_floor``: if set, schedules are compared by their value less
    :data:`FAIRNESS_PRICE` times the value the tenants lack, together, to
    reach that share of their fair value (:func:`~.fairness.fair_shares`):
    the search lifts starved tenants where that costs less than the price.
    """
    began = time.perf_counter()
    problem = BlockProblem(instance, fair_floor)
    incumbent = problem.start_from(hint)
    value = problem.value(incumbent)

    best = [value]

    def report(new_value: float) -> None:
        if new_value > best[0] + 1e-9:
            best[0] = new_value
            if on_improvement is not None:
                on_improvement(new_value, time.perf_counter() - began)

    usable = problem.usable_opportunities()
    if len(usable) == 0:
        return CpSatResult(
            problem.finish(incumbent), "optimal" if problem.exact else "feasible", None
        )
    if len(usable) <= FULL_MODEL_OPPORTUNITIES:
        outcome = problem.solve_block(
            usable,
            incumbent,
            time_limit_s=max(0.05, time_limit_s - _since(began)),
            workers=workers,
            on_solution=report,
        )
        if outcome.contacts is not None and not problem.better(incumbent, outcome.contacts):
            incumbent = outcome.contacts
        exact = problem.exact and problem.fair_floor is None
        status = "optimal" if outcome.proven and exact else "feasible"
        return CpSatResult(problem.finish(incumbent), status, outcome.bound if exact else None)
    searched = _large_neighbourhood_search(
        problem, usable, incumbent, began, time_limit_s, workers, report
    )
    return CpSatResult(problem.finish(searched), "feasible", None)


def _since(began: float) -> float:
    return time.perf_counter() - began


def _large_neighbourhood_search(
    problem: BlockProblem,
    usable: IntArray,
    start: Sequence[ScheduledContact],
    began: float,
    time_limit_s: float,
    workers: int,
    report: Callable[[float], None],
) -> tuple[ScheduledContact, ...]:
    """Re-optimise neighbourhoods (:mod:`.lns`) until the time is up (module docstring).

    Request chains (:mod:`.lns`) are solved ``workers`` at once, on one
    CP-SAT thread each (a block of 300 gains as much per CPU second on
    one thread as on two). A block solved against an older incumbent is
    merged into the current one when :meth:`BlockProblem.merge` finds it still
    valid there. Seeded, but which blocks overlap depends on timing. The
    incumbent is a tuple, so that what it serves is computed once
    (:class:`_Memo`). It stops early when every request is fully served.
    """
    incumbent = tuple(start)
    index = problem.index
    needs = np.zeros((len(usable), len(problem.resources)), dtype=bool)
    for row, position in enumerate(usable.tolist()):
        for resource_id in problem.instance.opportunities[position].resources:
            needs[row, index.resource_index[resource_id]] = True
    choose = Neighbourhoods(
        usable,
        index.opportunity_request[usable],
        len(problem.requests),
        index.window_start_s[usable],
        index.window_end_s[usable],
        needs,
        BLOCK_OPPORTUNITIES,
        np.random.default_rng(0),
    )
    running: dict[Future[_Outcome], tuple[IntArray, tuple[ScheduledContact, ...]]] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while True:
            while len(running) < max(1, workers) and _since(began) < time_limit_s - 0.05:
                free = _neighbourhood(choose, problem, incumbent)
                if not len(free):
                    break  # no request is short: nothing left to gain
                task = pool.submit(
                    problem.solve_block,
                    free,
                    incumbent,
                    time_limit_s=min(time_limit_s - _since(began), BLOCK_MIN_S),
                    workers=1,
                    on_solution=None,
                    presolve=False,
                )
                running[task] = (free, incumbent)
            if not running:
                return incumbent
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for task in finished:
                free, base = running.pop(task)
                merged = problem.merge(task.result(), free, base, incumbent)
                if merged is not None and problem.better(merged, incumbent):
                    incumbent = merged
                    report(problem.value(incumbent))


def _neighbourhood(
    choose: Neighbourhoods, problem: BlockProblem, incumbent: Sequence[ScheduledContact]
) -> IntArray:
    """The next request chain (:mod:`.lns`) around ``incumbent``; empty if no request is short.

    Short requests are drawn in proportion to what serving them would add to
    the objective: the value they lack, times ``1 + FAIRNESS_PRICE`` for the
    requests of tenants below their fairness floor.
    """
    lost = problem.lost_value(incumbent)
    below_floor = {tenant for tenant, lack in problem.deficits(incumbent).items() if lack > 0}
    if below_floor:
        starved = np.array([r.tenant in below_floor for r in problem.requests])
        lost = np.where(starved, lost * (1 + FAIRNESS_PRICE), lost)
    return choose.request_chain(lost, problem.holds(incumbent))


@dataclass(frozen=True, slots=True)
class _Fact:
    """One contact as the models see it: its opportunity's position (-1 for none), request
    position (-1 for none), what it serves (the request's unit), its spacecraft's position in
    :attr:`BlockProblem.spacecraft_names` ("" for none), and its holds on the antennas
    (setup and teardown included, seconds) as rows of :meth:`_Holds.of`: owner -1, antenna
    position, start, end and the edge pointing (NaN where trimmed or unknown)."""

    opportunity: int
    request: int
    served: float
    spacecraft: int
    hold_rows: FloatArray


@dataclass(frozen=True)
class _Held:
    """The fixed contacts and an incumbent's, as arrays: what every block keeps or frees.

    One row per contact, fixed ones first: ``contacts``, ``opportunity``
    (position in ``instance.opportunities``, -1 for none), ``request`` (-1
    for none), ``served`` (the request's unit), ``start_s``/``end_s`` (the
    contact itself), ``spacecraft`` (position in
    :attr:`BlockProblem.spacecraft_names`). ``holds``: one row per (contact,
    antenna), ``hold_contact`` its contact's row. Built once per incumbent
    (:meth:`BlockProblem.held`): a block then selects the rows it keeps with
    numpy instead of walking some 3,000 contacts in Python several times (on
    the 300 x 20 day a block's build fell from 24-30 to 18-22 ms of CPU).
    """

    contacts: tuple[ScheduledContact, ...]
    opportunity: IntArray
    request: IntArray
    served: FloatArray
    start_s: FloatArray
    end_s: FloatArray
    spacecraft: IntArray
    holds: _Holds
    hold_contact: IntArray

    @staticmethod
    def of(
        contacts: tuple[ScheduledContact, ...], facts: list[_Fact], resources: Sequence[Resource]
    ) -> _Held:
        columns = np.array(
            [
                (f.opportunity, f.request, f.served, c.start_s, c.end_s, f.spacecraft)
                for c, f in zip(contacts, facts, strict=True)
            ],
            dtype=np.float64,
        ).reshape(-1, 6)
        holds = _Holds.of(
            np.concatenate([f.hold_rows for f in facts]) if facts else np.zeros((0, 8)), resources
        )
        per_contact = [len(f.hold_rows) for f in facts]
        return _Held(
            contacts,
            columns[:, 0].astype(np.int64),
            columns[:, 1].astype(np.int64),
            columns[:, 2],
            columns[:, 3],
            columns[:, 4],
            columns[:, 5].astype(np.int64),
            holds,
            np.repeat(np.arange(len(facts), dtype=np.int64), per_contact),
        )


@dataclass
class _Outcome:
    """A block's result: the whole schedule (kept + new) or None, and whether proven optimal.

    ``bound``: an upper bound on the value of any schedule that keeps the
    block's kept contacts, from CP-SAT's objective bound, when the objective
    was scaled exactly (else None).
    """

    contacts: list[ScheduledContact] | None
    proven: bool
    bound: float | None = None


class _Memo:
    """Results computed from a schedule, remembered while the schedule is one of the last few.

    Only tuples are remembered (a tuple of contacts cannot change), by
    identity; the tuple is kept with its result, so its id is not reused
    while the entry lives. The search keeps its incumbent as a tuple and
    asks for its served amounts and holds several times per block (each a
    walk over some 3,000 contacts on the 300 x 20 day, 1-2 ms of Python).
    Thread-safe.
    """

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[int, str], tuple[object, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, schedule: Sequence[ScheduledContact], kind: str, compute: Callable[[], T]) -> T:
        """``compute()``, or what it returned for this same tuple before."""
        if not isinstance(schedule, tuple):
            return compute()
        key = (id(schedule), kind)
        with self._lock:
            known = self._entries.get(key)
        if known is not None and known[0] is schedule:
            return known[1]  # type: ignore[return-value]
        result = compute()
        with self._lock:
            self._entries[key] = (schedule, result)
            while len(self._entries) > _MEMO_ENTRIES:
                self._entries.popitem(last=False)
        return result


class BlockProblem:
    """The instance with what every block needs: lookups, units, maintenance, fixed contacts.

    Shared by the neighbourhood searches: this module's, and the SatNet
    window search of :mod:`.satnet_search`.

    ``value_step``: the value one unit of a block's objective is worth. By
    default ``1 / 2^20`` of the block's largest request weight, fine enough
    that a block's objective bound is tight (:meth:`_Block.solve`). A search
    that only wants good schedules may count coarser: CP-SAT then treats
    schedules that differ by less than a step as ties instead of chasing
    each small gain, which on SatNet's weeks found far better schedules in
    the same time (:mod:`.satnet_search`). The blocks' results are compared
    at full precision all the same (:meth:`better`).
    """

    def __init__(
        self,
        instance: Instance,
        fair_floor: float | None = None,
        *,
        value_step: float | None = None,
    ) -> None:
        self.instance = instance
        self.value_step = value_step
        self.index: IndexedInstance = index_instance(instance)
        self.fair_floor = fair_floor
        self.rule = FairnessRule(instance, self.index) if fair_floor is not None else None
        self.requests = instance.requests
        self.resources = instance.resources
        self.fixed = list(fixed_contacts(instance))
        self.maintenance = merged_maintenance(instance)
        self.flexible = not any(
            r.max_az_rate_deg_s is not None and r.max_el_rate_deg_s is not None
            for r in instance.resources
        )
        self.unit_s = 1.0 if self._integral() else 0.001
        # Bytes are counted in whole millionths of the demand, rounded down: not exact.
        self.exact = (
            self.flexible
            and self.unit_s == 1.0
            and all(r.demand_kind is not DemandKind.BYTES for r in self.requests)
        )
        # By id(): hashing a contact costs more than the lookup saves. The contact is kept
        # with its fact, so its id is never reused while the entry lives.
        self._facts: dict[int, tuple[ScheduledContact, _Fact]] = {}
        # Taken to add a fact and to forget old ones: blocks in other threads add facts, and a
        # dict that grows while it is copied raises. Reads need no lock.
        self._facts_lock = threading.Lock()
        # The spacecraft ("" for none) by position, as the tables of :class:`_Held` name them.
        self.spacecraft_names = sorted({"", *(r.spacecraft for r in self.requests)})
        self.spacecraft_index = {name: k for k, name in enumerate(self.spacecraft_names)}
        self._memo = _Memo()
        # Per request, for lost_value (asked for every block of the search).
        self._demands = np.array([r.demand for r in self.requests])
        self._weights = np.array([r.weight for r in self.requests])

    def _integral(self) -> bool:
        """Whether every time and duration of the instance is a whole number of seconds."""
        values: list[float] = []
        for o in self.instance.opportunities:
            values += [o.start_s, o.end_s]
        for r in self.requests:
            values += [r.setup_s, r.teardown_s, r.min_duration_s]
            values += [v for v in (r.max_duration_s, r.earliest_s, r.latest_s) if math.isfinite(v)]
            if r.demand_kind is DemandKind.SECONDS:
                values += [r.demand, r.min_served]
        for resource in self.resources:
            values.append(resource.turnaround_s)
            for w in resource.maintenance:
                values += [w.start_s, w.end_s]
        for f in self.instance.fixed:
            values += [f.start_s, f.end_s]
        array = np.array(values, dtype=np.float64)
        return bool(np.all(np.abs(array - np.round(array)) < 1e-9))

    # --- schedules ---------------------------------------------------------------------------

    def usable_opportunities(self) -> IntArray:
        """Positions (in ``instance.opportunities``) of the usable opportunities."""
        found: IntArray = np.nonzero(self.index.usability == Usability.USABLE)[0].astype(np.int64)
        return found

    def start_from(self, hint: Sequence[ScheduledContact]) -> list[ScheduledContact]:
        """The hint's non-fixed contacts if the hint (with the fixed contacts) is valid, else []."""
        own = [c for c in hint if not c.fixed]
        if own and check_schedule(self.instance, [*self.fixed, *own], index=self.index):
            return []
        return own

    def fact(self, contact: ScheduledContact) -> _Fact:
        """What the models need to know of a contact (computed once per contact)."""
        known = self._facts.get(id(contact))
        if known is not None:
            return known[1]
        request, served, spacecraft = -1, 0.0, ""
        hold_start, hold_end = contact.start_s, contact.end_s
        if contact.request:
            request = self.index.request_index[contact.request]
            details = self.requests[request]
            served = amount_of(details, contact.duration_s, self.index.rate_of(contact.opportunity))
            hold_start -= details.setup_s
            hold_end += details.teardown_s
            spacecraft = details.spacecraft
        opportunity = None if contact.fixed else self.index.opportunity(contact.opportunity)
        pointing = (
            (math.nan,) * 4
            if opportunity is None
            else edge_pointing_deg(opportunity, contact.start_s, contact.end_s)
        )
        resources = [self.index.resource_index[r] for r in contact.resources]
        fact = _Fact(
            -1 if opportunity is None else self.index.opportunity_index[contact.opportunity],
            request,
            served,
            self.spacecraft_index[spacecraft],
            np.array([(-1, k, hold_start, hold_end, *pointing) for k in resources]).reshape(-1, 8),
        )
        with self._facts_lock:
            self._facts[id(contact)] = (contact, fact)
        return fact

    def _forget_old_facts(self, incumbent: Sequence[ScheduledContact]) -> None:
        """Keep only the facts of ``incumbent`` and the fixed contacts once the others
        outnumber them :data:`_FACTS_SLACK` to one: every block's solution makes new contacts,
        so the table would otherwise grow with the length of the search."""
        kept = len(incumbent) + len(self.fixed)
        if len(self._facts) > (_FACTS_SLACK + 1) * kept + 100:
            alive = {id(c) for c in (*self.fixed, *incumbent)}
            # A new dict rather than deletions, so that a block reading the old one in another
            # thread meets no missing key halfway (a forgotten fact is computed again).
            with self._facts_lock:
                self._facts = {k: v for k, v in self._facts.items() if k in alive}

    def held(self, incumbent: Sequence[ScheduledContact]) -> _Held:
        """The fixed contacts and ``incumbent``'s as arrays (:class:`_Held`).

        Read-only: a tuple's result is remembered (:class:`_Memo`).
        """
        return self._memo.get(incumbent, "held", lambda: self._held(incumbent))

    def _held(self, incumbent: Sequence[ScheduledContact]) -> _Held:
        contacts = (*self.fixed, *incumbent)
        return _Held.of(contacts, [self.fact(c) for c in contacts], self.resources)

    def served(self, contacts: Sequence[ScheduledContact]) -> FloatArray:
        """Per request, what the schedule serves (fixed contacts added), in its demand's unit.

        Read-only: a tuple's result is remembered (:class:`_Memo`).
        """
        return self._memo.get(contacts, "served", lambda: self._served(contacts))

    def _served(self, contacts: Sequence[ScheduledContact]) -> FloatArray:
        served = np.zeros(len(self.requests))
        for contact in [*self.fixed, *contacts]:
            fact = self.fact(contact)
            if fact.request >= 0:
                served[fact.request] += fact.served
        served.flags.writeable = False
        return served

    def value(self, contacts: Sequence[ScheduledContact]) -> float:
        """The schedule's value (fixed contacts added), as :func:`~.validate.schedule_value`."""
        served = self.served(contacts).tolist()
        return sum(request_value(r, s) for r, s in zip(self.requests, served, strict=True))

    def tenant_values(self, contacts: Sequence[ScheduledContact]) -> dict[str, float]:
        """Each tenant's value in the schedule (fixed contacts added)."""
        values: dict[str, float] = defaultdict(float)
        for request, amount in zip(self.requests, self.served(contacts).tolist(), strict=True):
            values[request.tenant] += request_value(request, amount)
        return values

    def lost_value(self, contacts: Sequence[ScheduledContact]) -> FloatArray:
        """Per request: the value it lacks to be fully served (its weight x missing share)."""
        served = self.served(contacts)
        lost: FloatArray = self._weights * np.clip(1 - served / self._demands, 0.0, 1.0)
        return lost

    def holds(self, contacts: Sequence[ScheduledContact]) -> ContactHolds:
        """The antenna holds of ``contacts`` as arrays, one row per (contact, antenna).

        Read-only: a tuple's result is remembered (:class:`_Memo`).
        """
        return self._memo.get(contacts, "holds", lambda: self._holds(contacts))

    def _holds(self, contacts: Sequence[ScheduledContact]) -> ContactHolds:
        table = self.held(contacts)
        own = table.hold_contact >= len(self.fixed)
        return ContactHolds(
            table.request[table.hold_contact[own]],
            table.holds.resource[own],
            table.holds.start[own],
            table.holds.end[own],
        )

    def deficits(self, contacts: Sequence[ScheduledContact]) -> dict[str, float]:
        """Per tenant, how much value it lacks to reach the floor x its fair value (>= 0)."""
        if self.fair_floor is None or self.rule is None:
            return {}
        values = self.tenant_values(contacts)
        fair = self.rule.fair_values(values)
        return {t: max(0.0, self.fair_floor * f - values[t]) for t, f in fair.items()}

    def better(self, new: Sequence[ScheduledContact], old: Sequence[ScheduledContact]) -> bool:
        """Whether ``new`` is worth more, less :data:`FAIRNESS_PRICE` x what the floor misses."""
        gain = self.value(new) - self.value(old)
        if self.fair_floor is None:
            return gain > 1e-9
        missing = sum(self.deficits(new).values()) - sum(self.deficits(old).values())
        return gain - FAIRNESS_PRICE * missing > 1e-9

    def fair_targets(self, incumbent: Sequence[ScheduledContact]) -> dict[str, float]:
        """Per tenant, the floor x its fair value at the incumbent's total (empty if no floor)."""
        if self.fair_floor is None or self.rule is None:
            return {}
        values = self.tenant_values(incumbent)
        fair = self.rule.fair_values(values)
        return {t: self.fair_floor * f for t, f in fair.items()}

    def merge(
        self,
        outcome: _Outcome,
        free: IntArray,
        base: Sequence[ScheduledContact],
        current: Sequence[ScheduledContact],
    ) -> tuple[ScheduledContact, ...] | None:
        """A block's result carried over to ``current``, or None where that may be invalid.

        The block re-solved the opportunities ``free`` of ``base``; ``current``
        has since taken other blocks' results. Carried over when ``current``
        still has ``base``'s contacts on ``free`` and the block's new contacts
        meet none of the contacts added since ``base``: not on an antenna by
        the conflict rule, not on a spacecraft in time, not on a request with
        a ``max_contacts``. Removed contacts only free room. Everything else
        was checked by the block's own model.
        """
        if outcome.contacts is None:
            return None
        if current is base:
            return tuple(outcome.contacts)
        free_ids = {self.instance.opportunities[i].id for i in free.tolist()}
        before = {id(c) for c in base if c.opportunity in free_ids}
        if {id(c) for c in current if c.opportunity in free_ids} != before:
            return None
        in_base = {id(c) for c in base}
        added = [c for c in current if id(c) not in in_base]
        new = [c for c in outcome.contacts if c.opportunity in free_ids]
        if added and new and self._interfere(new, added):
            return None
        return (*[c for c in current if c.opportunity not in free_ids], *new)

    def _interfere(self, first: list[ScheduledContact], second: list[ScheduledContact]) -> bool:
        """Whether a contact of ``first`` and one of ``second`` might not both be kept."""
        facts = [self.fact(c) for c in first], [self.fact(c) for c in second]
        capped = {f.request for f in facts[0] if self.requests[f.request].max_contacts is not None}
        if capped & {f.request for f in facts[1]}:
            return True
        for a, fa in zip(first, facts[0], strict=True):
            for b, fb in zip(second, facts[1], strict=True):
                if fa.spacecraft == fb.spacecraft and a.start_s < b.end_s and b.start_s < a.end_s:
                    return True
        holds = [
            _Holds.of(np.concatenate([f.hold_rows for f in group]), self.resources)
            for group in facts
        ]
        mine, theirs = _near(holds[0], holds[1], both_ways=True)
        return bool(np.any(_breaks_rule(holds[0], mine, holds[1], theirs)))

    def finish(self, contacts: Sequence[ScheduledContact]) -> tuple[ScheduledContact, ...]:
        """Fixed contacts plus ``contacts``, sorted by start."""
        return tuple(sorted([*self.fixed, *contacts], key=lambda c: (c.start_s, c.resources)))

    # --- one block -----------------------------------------------------------------------------

    def solve_block(
        self,
        free: IntArray,
        incumbent: Sequence[ScheduledContact],
        *,
        time_limit_s: float,
        workers: int,
        on_solution: Callable[[float], None] | None,
        presolve: bool = True,
    ) -> _Outcome:
        """Re-optimise the opportunities ``free`` with the rest of ``incumbent`` kept.

        ``presolve=False`` skips CP-SAT's presolve: faster on small blocks
        solved many times (module docstring).
        """
        self._forget_old_facts(incumbent)
        block = _Block(self, free, incumbent, self.fair_targets(incumbent))
        return block.solve(time_limit_s, workers, on_solution, presolve)


class _Block:
    """One CP-SAT model: the free opportunities' contacts, with ``kept`` contacts held."""

    def __init__(
        self,
        problem: BlockProblem,
        free: IntArray,
        incumbent: Sequence[ScheduledContact],
        fair_targets: dict[str, float],
    ) -> None:
        self.problem = problem
        self.fair_targets = fair_targets
        self.incumbent = incumbent
        self.model = cp_model.CpModel()
        self.opportunities = [problem.instance.opportunities[i] for i in free.tolist()]
        # The incumbent's contacts on the free opportunities are the hint; the others and the
        # fixed contacts are held. The extra last entry of ``freed`` (never set) is what a
        # contact without an opportunity (-1) looks up.
        table = problem.held(incumbent)
        freed = np.zeros(len(problem.instance.opportunities) + 1, dtype=bool)
        freed[free] = True
        in_block = freed[table.opportunity]
        self.table = table
        self.held_rows = ~in_block
        self.hint = [table.contacts[row] for row in np.flatnonzero(in_block).tolist()]
        own = np.flatnonzero(self.held_rows[len(problem.fixed) :]) + len(problem.fixed)
        self.kept = [table.contacts[row] for row in own.tolist()]
        self.held_holds = table.holds.select(self.held_rows[table.hold_contact])
        # Service and contacts the held contacts already give each request.
        count = len(problem.requests)
        serving = self.held_rows & (table.request >= 0)
        self.kept_served: list[float] = np.bincount(
            table.request[serving], weights=table.served[serving], minlength=count
        ).tolist()
        self.kept_contacts: list[int] = np.bincount(
            table.request[serving], minlength=count
        ).tolist()
        # Each candidate: (opportunity position in self.opportunities, request position, variables).
        self.literals: list[cp_model.IntVar] = []
        self.cand_opportunity: list[int] = []
        self.cand_request: list[int] = []
        self.cand_hint_served: list[int] = []
        self.cand_amount: list[cp_model.LinearExprT] = []
        self.decode: list[Callable[[cp_model.CpSolver], ScheduledContact]] = []
        if problem.flexible:
            self._flexible_candidates()
        else:
            self._fixed_candidates()
        self._requests()

    # --- flexible contacts ---------------------------------------------------------------------

    def _ticks(self, seconds: float, *, up: bool) -> int:
        value = seconds / self.problem.unit_s
        nearest = round(value)
        if abs(value - nearest) < 1e-6:
            return int(nearest)
        return math.ceil(value) if up else math.floor(value)

    def _flexible_candidates(self) -> None:
        problem, model = self.problem, self.model
        index = problem.index
        hint_by_opportunity = {c.opportunity: c for c in self.hint}
        holds: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        spans: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        for position, opportunity in enumerate(self.opportunities):
            r = index.request_index[opportunity.request]
            request = problem.requests[r]
            ticks_from = max(opportunity.start_s, request.earliest_s)
            ticks_to = min(opportunity.end_s, request.latest_s)
            low = self._ticks(ticks_from, up=True)
            high = self._ticks(ticks_to, up=False)
            shortest = max(1, self._ticks(request.min_duration_s, up=True))
            longest = self._ticks(min(request.max_duration_s, ticks_to - ticks_from), up=False)
            longest = min(longest, high - low)
            if longest < shortest:
                continue
            present = model.new_bool_var(f"x{opportunity.id}")
            start = model.new_int_var(low, high - shortest, f"s{opportunity.id}")
            length = model.new_int_var(shortest, longest, f"d{opportunity.id}")
            end = model.new_int_var(low + shortest, high, f"e{opportunity.id}")
            model.add(start + length == end)
            setup = self._ticks(request.setup_s, up=True)
            teardown = self._ticks(request.teardown_s, up=True)
            span = model.new_optional_interval_var(start, length, end, present, "")
            spans[request.spacecraft].append(span)
            for resource_id in opportunity.resources:
                resource = problem.resources[index.resource_index[resource_id]]
                padding = setup + teardown + self._ticks(resource.turnaround_s, up=True)
                holds[resource_id].append(
                    model.new_optional_interval_var(
                        start - setup, length + padding, end + padding - setup, present, ""
                    )
                )
            served = self._served_by_length(
                request, opportunity.rate_bytes_s, length, present, longest
            )
            decode = self._flexible_decoder(opportunity, start, end)
            hinted = hint_by_opportunity.get(opportunity.id)
            hint_start = hint_end = 0
            if hinted is not None:
                hint_start = self._ticks(hinted.start_s, up=True)
                hint_end = self._ticks(hinted.end_s, up=False)
            if low <= hint_start and hint_end <= high and shortest <= hint_end - hint_start:
                model.add_hint(present, 1)
                model.add_hint(start, hint_start)
                model.add_hint(length, hint_end - hint_start)
                model.add_hint(end, hint_end)
                if request.demand_kind is DemandKind.CONTACTS:
                    hint_served = 1
                else:
                    hint_served = self._per_tick(request, opportunity.rate_bytes_s) * (
                        hint_end - hint_start
                    )
                    model.add_hint(served, hint_served)
            else:
                model.add_hint(present, 0)
                model.add_hint(start, low)
                model.add_hint(length, shortest)
                model.add_hint(end, low + shortest)
                hint_served = 0
                if request.demand_kind is not DemandKind.CONTACTS:
                    model.add_hint(served, 0)
            self._add_candidate(position, r, present, served, decode, hint_served)
        for resource_id, intervals in holds.items():
            intervals += self._blocked_intervals(resource_id)
            model.add_no_overlap(intervals)
        self._spacecraft_constraints(spans)

    def _served_by_length(
        self,
        request: Request,
        rate_bytes_s: float,
        length: cp_model.IntVar,
        present: cp_model.IntVar,
        longest: int,
    ) -> cp_model.IntVar:
        """What one flexible contact serves, in the model's unit of the request."""
        if request.demand_kind is DemandKind.CONTACTS:
            return present
        per_tick = self._per_tick(request, rate_bytes_s)
        served = self.model.new_int_var(0, longest * per_tick, "")
        self.model.add(served <= per_tick * length)
        self.model.add(served <= longest * per_tick * present)
        return served

    def _per_tick(self, request: Request, rate_bytes_s: float) -> int:
        """Model units served per tick of contact (seconds demand: 1; bytes: floor, >= 0)."""
        if request.demand_kind is DemandKind.SECONDS:
            return 1
        return math.floor(rate_bytes_s * self.problem.unit_s * BYTES_STEPS / request.demand)

    def _flexible_decoder(
        self, opportunity: Opportunity, start: cp_model.IntVar, end: cp_model.IntVar
    ) -> Callable[[cp_model.CpSolver], ScheduledContact]:
        unit = self.problem.unit_s

        def decode(solver: cp_model.CpSolver) -> ScheduledContact:
            return ScheduledContact(
                opportunity.request,
                opportunity.id,
                opportunity.resources,
                solver.value(start) * unit,
                solver.value(end) * unit,
            )

        return decode

    def _blocked_intervals(self, resource_id: str) -> list[cp_model.IntervalVar]:
        """Maintenance and held contacts as fixed intervals of the padded-hold no-overlap."""
        problem, model = self.problem, self.model
        resource = problem.resources[problem.index.resource_index[resource_id]]
        turnaround = resource.turnaround_s
        blocked: list[tuple[float, float]] = []
        for start, end in problem.maintenance[resource_id]:
            # A padded hold may run its turnaround into maintenance, never its hold.
            if end - start > turnaround:
                blocked.append((start + turnaround, end))
            else:
                blocked.append((start, end + turnaround))
        held = self.held_holds
        mine = held.resource == problem.index.resource_index[resource_id]
        for start, end in zip(held.start[mine].tolist(), held.end[mine].tolist(), strict=True):
            blocked.append((start, end + turnaround))
        intervals = []
        for start, end in blocked:
            low = self._ticks(start, up=False)
            high = self._ticks(end, up=True)
            if high > low:
                intervals.append(model.new_fixed_size_interval_var(low, high - low, ""))
        return intervals

    # --- fixed candidate contacts --------------------------------------------------------------

    def _fixed_candidates(self) -> None:
        problem = self.problem
        index = problem.index
        spans_of: list[tuple[int, int, float, float]] = []  # (opportunity position, r, start, end)
        hint_keys: set[tuple[int, float, float]] = set()
        by_id = {o.id: position for position, o in enumerate(self.opportunities)}
        for contact in self.hint:
            position = by_id.get(contact.opportunity)
            if position is not None:
                r = index.request_index[contact.request]
                spans_of.append((position, r, contact.start_s, contact.end_s))
                hint_keys.add((position, contact.start_s, contact.end_s))
        for position, opportunity in enumerate(self.opportunities):
            r = index.request_index[opportunity.request]
            needed = self._needed_s(r, opportunity)
            for start, end in _candidate_spans(problem.requests[r], opportunity, needed):
                if (position, start, end) not in hint_keys:
                    spans_of.append((position, r, start, end))
        spans_of += [c for c in self._packed_spans() if (c[0], c[2], c[3]) not in hint_keys]
        if not spans_of:
            return
        holds = self._candidate_holds(spans_of)
        keep = self._not_blocked(spans_of, holds)
        candidates = [c for c, k in zip(spans_of, keep.tolist(), strict=True) if k]
        self._fixed_model(candidates, hint_keys, holds.select(keep[holds.owner]))

    def _needed_s(self, r: int, opportunity: Opportunity) -> float:
        """Seconds of contact in ``opportunity`` that serve what request ``r`` still lacks
        beyond the held contacts (infinite for a contacts demand or a zero rate)."""
        request = self.problem.requests[r]
        lacking = max(0.0, request.demand - self.kept_served[r])
        if request.demand_kind is DemandKind.SECONDS:
            return lacking
        if request.demand_kind is DemandKind.BYTES and opportunity.rate_bytes_s > 0:
            return lacking / opportunity.rate_bytes_s
        return math.inf

    def _packed_spans(self) -> list[tuple[int, int, float, float]]:
        """Contacts packed against a held contact on a one-antenna opportunity: starting as
        soon as the conflict rule allows after a held hold, or ending as late as it allows
        before one (the worst-case slew, as the trimmed edge's pointing is unknown)."""
        problem = self.problem
        index = problem.index
        single = [o.resources[0] for o in self.opportunities if len(o.resources) == 1]
        used = {index.resource_index[resource_id] for resource_id in single}
        held = self.held_holds
        # Per antenna: the held holds' starts and ends, each sorted, and the least gap the
        # rule leaves after a hold (turnaround + worst slew).
        antennas = {}
        for where in used:
            mine = held.resource == where
            if not mine.any():
                continue
            resource = problem.resources[where]
            slew = np.nan_to_num(
                max(
                    MAX_AZIMUTH_MOVE_DEG / _rate(resource.max_az_rate_deg_s, resource),
                    MAX_ELEVATION_MOVE_DEG / _rate(resource.max_el_rate_deg_s, resource),
                ),
                nan=0.0,
            )
            gap = resource.turnaround_s + float(slew)
            # Sorted lists, searched with bisect: a numpy search per scalar costs ten times more.
            antennas[where] = (
                np.sort(held.start[mine]).tolist(),
                np.sort(held.end[mine]).tolist(),
                gap,
            )
        spans: list[tuple[int, int, float, float]] = []
        for position, opportunity in enumerate(self.opportunities):
            if len(opportunity.resources) != 1:
                continue
            found = antennas.get(index.resource_index[opportunity.resources[0]])
            if found is None:
                continue
            hold_starts, hold_ends, gap = found
            r = index.request_index[opportunity.request]
            request = problem.requests[r]
            low = max(opportunity.start_s, request.earliest_s)
            high = min(opportunity.end_s, request.latest_s)
            shortest = max(request.min_duration_s, 1.0)
            if request.demand_kind is DemandKind.CONTACTS:
                length = shortest
            else:
                length = min(request.max_duration_s, high - low)
                needed = self._needed_s(r, opportunity)
                if shortest <= needed < length:
                    length = math.ceil(needed)
            if length < shortest or high - low < shortest:
                continue
            # Starts just after a hold that ends inside the window.
            first = bisect_right(hold_ends, low - gap - request.setup_s)
            last = bisect_left(hold_ends, high - shortest - gap - request.setup_s)
            for hold_end in hold_ends[first:last]:
                start = math.ceil((hold_end + gap + request.setup_s) * 1000.0) / 1000.0
                end = min(high, start + length)
                if end - start >= shortest and end - start <= request.max_duration_s:
                    spans.append((position, r, start, end))
            # Ends just before a hold that starts inside the window.
            first = bisect_left(hold_starts, low + shortest + gap + request.teardown_s)
            last = bisect_right(hold_starts, high + gap + request.teardown_s)
            for hold_start in hold_starts[first:last]:
                end = math.floor((hold_start - gap - request.teardown_s) * 1000.0) / 1000.0
                start = max(low, end - length)
                if end - start >= shortest and end - start <= request.max_duration_s:
                    spans.append((position, r, start, end))
        return spans

    def _candidate_holds(self, candidates: list[tuple[int, int, float, float]]) -> _Holds:
        """One row per (candidate, resource): its hold and its edge pointing."""
        problem = self.problem
        rows = []
        for number, (position, r, start, end) in enumerate(candidates):
            opportunity = self.opportunities[position]
            request = problem.requests[r]
            pointing = edge_pointing_deg(opportunity, start, end)
            for resource_id in opportunity.resources:
                rows.append(
                    (
                        number,
                        problem.index.resource_index[resource_id],
                        start - request.setup_s,
                        end + request.teardown_s,
                        *pointing,
                    )
                )
        return _Holds.of(rows, problem.resources)

    def _held_holds(self, low_s: float, high_s: float) -> _Holds:
        """Rows of the held contacts whose holds come near ``[low_s, high_s)``."""
        held = self.held_holds
        return held.select((held.end >= low_s) & (held.start <= high_s))

    def _not_blocked(
        self, candidates: list[tuple[int, int, float, float]], holds: _Holds
    ) -> npt.NDArray[np.bool_]:
        """Per candidate: its holds meet no maintenance and no held contact (the rule decides)."""
        problem = self.problem
        keep = np.ones(len(candidates), dtype=bool)
        for position in np.unique(holds.resource).tolist():
            mine = holds.resource == position
            for m_start, m_end in problem.maintenance[problem.resources[position].id]:
                keep[holds.owner[mine & (holds.start < m_end) & (m_start < holds.end)]] = False
        reach = float(np.max(holds.turnaround + holds.worst_slew))
        held = self._held_holds(float(holds.start.min()) - reach, float(holds.end.max()) + reach)
        if len(held.owner):
            mine, theirs = _near(holds, held, both_ways=True)
            clash = _breaks_rule(holds, mine, held, theirs)
            keep[holds.owner[mine[clash]]] = False
        return keep

    def _fixed_model(
        self,
        candidates: list[tuple[int, int, float, float]],
        hint_keys: set[tuple[int, float, float]],
        holds: _Holds,
    ) -> None:
        problem, model = self.problem, self.model
        renumber = np.full(int(holds.owner.max()) + 1 if len(holds.owner) else 0, -1)
        kept_numbers = np.unique(holds.owner)
        renumber[kept_numbers] = np.arange(len(kept_numbers))
        holds = holds.with_owner(renumber[holds.owner])
        literals = [model.new_bool_var("") for _ in candidates]
        per_opportunity: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for (position, r, start, end), literal in zip(candidates, literals, strict=True):
            per_opportunity[position].append(literal)
            opportunity = self.opportunities[position]
            request = problem.requests[r]
            served = self._fixed_served(request, opportunity.rate_bytes_s, end - start)
            contact = ScheduledContact(
                opportunity.request, opportunity.id, opportunity.resources, start, end
            )
            hinted = (position, start, end) in hint_keys
            model.add_hint(literal, hinted)
            self._add_candidate(
                position, r, literal, served * literal, _constant(contact), served if hinted else 0
            )
        for group in per_opportunity.values():
            if len(group) > 1:
                model.add_at_most_one(group)
        # Antennas: no-overlap of turnaround-padded holds (endpoints as ranks: exact overlaps),
        # plus a clause for each pair the rule forbids although their padded holds do not meet.
        owner = holds.owner.tolist()
        for resource in np.unique(holds.resource).tolist():
            members = np.nonzero(holds.resource == resource)[0]
            first, last = _ranks(holds.start[members], holds.padded_end[members])
            model.add_no_overlap(
                [
                    model.new_optional_fixed_size_interval_var(
                        int(a), int(b - a), literals[owner[m]], ""
                    )
                    for m, a, b in zip(members.tolist(), first.tolist(), last.tolist(), strict=True)
                ]
            )
        before, after = _near(holds, holds, both_ways=False)
        clash = _breaks_rule(holds, before, holds, after)
        for i, j in zip(before[clash].tolist(), after[clash].tolist(), strict=True):
            if owner[i] != owner[j]:
                model.add_bool_or([literals[owner[i]].Not(), literals[owner[j]].Not()])
        # Spacecraft.
        spans: dict[str, list[tuple[float, float, cp_model.IntVar | None]]] = defaultdict(list)
        for (_, r, start, end), literal in zip(candidates, literals, strict=True):
            spans[problem.requests[r].spacecraft].append((start, end, literal))
        self._fixed_spacecraft(spans)

    def _fixed_served(self, request: Request, rate_bytes_s: float, duration_s: float) -> int:
        """What one fixed contact serves, in the model's unit of the request (rounded down)."""
        if request.demand_kind is DemandKind.CONTACTS:
            return 1 if duration_s >= request.min_duration_s - TIME_TOLERANCE_S else 0
        if duration_s < request.min_duration_s - TIME_TOLERANCE_S:
            return 0
        if request.demand_kind is DemandKind.SECONDS:
            return math.floor(duration_s / self.problem.unit_s + 1e-6)
        return math.floor(duration_s * rate_bytes_s * BYTES_STEPS / request.demand)

    def _fixed_spacecraft(
        self, spans: dict[str, list[tuple[float, float, cp_model.IntVar | None]]]
    ) -> None:
        """At most k contacts at once per spacecraft, held contacts included, on ranks."""
        problem, model = self.problem, self.model
        held_spans = self._held_spans(spans.keys())
        for spacecraft, own in spans.items():
            lo = min(s for s, _, _ in own)
            hi = max(e for _, e, _ in own)
            own = own + [
                (s, e, None) for s, e in held_spans.get(spacecraft, []) if s < hi and lo < e
            ]
            starts = np.array([s for s, _, _ in own])
            ends = np.array([e for _, e, _ in own])
            first, last = _ranks(starts, ends)
            intervals = []
            for k, (_, _, literal) in enumerate(own):
                size = int(last[k] - first[k])
                if literal is None:
                    intervals.append(model.new_fixed_size_interval_var(int(first[k]), size, ""))
                else:
                    intervals.append(
                        model.new_optional_fixed_size_interval_var(int(first[k]), size, literal, "")
                    )
            limit = problem.instance.spacecraft_limit(spacecraft)
            if limit == 1:
                model.add_no_overlap(intervals)
            else:
                model.add_cumulative(intervals, [1] * len(intervals), limit)

    def _held_spans(self, spacecraft: Collection[str]) -> dict[str, list[tuple[float, float]]]:
        """The held contacts' passes, ``(start_s, end_s)``, of each of ``spacecraft``."""
        table = self.table
        wanted = np.zeros(len(self.problem.spacecraft_index), dtype=bool)
        wanted[[self.problem.spacecraft_index[name] for name in spacecraft]] = True
        rows = np.flatnonzero(self.held_rows & wanted[table.spacecraft])
        held: dict[str, list[tuple[float, float]]] = defaultdict(list)
        names = self.problem.spacecraft_names
        for code, start, end in zip(
            table.spacecraft[rows].tolist(),
            table.start_s[rows].tolist(),
            table.end_s[rows].tolist(),
            strict=True,
        ):
            held[names[code]].append((start, end))
        return held

    def _spacecraft_constraints(self, spans: dict[str, list[cp_model.IntervalVar]]) -> None:
        """Flexible model: at most k contacts at once per spacecraft, held contacts as fixed."""
        problem, model = self.problem, self.model
        held_spans = self._held_spans(spans.keys())
        for spacecraft, intervals in spans.items():
            for start, end in held_spans.get(spacecraft, []):
                low = self._ticks(start, up=False)
                high = self._ticks(end, up=True)
                intervals.append(model.new_fixed_size_interval_var(low, high - low, ""))
            limit = problem.instance.spacecraft_limit(spacecraft)
            if limit == 1:
                model.add_no_overlap(intervals)
            else:
                model.add_cumulative(intervals, [1] * len(intervals), limit)

    # --- requests and objective ----------------------------------------------------------------

    def _add_candidate(
        self,
        position: int,
        request: int,
        literal: cp_model.IntVar,
        served: cp_model.LinearExprT,
        decode: Callable[[cp_model.CpSolver], ScheduledContact],
        hint_served: int,
    ) -> None:
        self.literals.append(literal)
        self.cand_opportunity.append(position)
        self.cand_request.append(request)
        self.cand_amount.append(served)
        self.cand_hint_served.append(hint_served)
        self.decode.append(decode)

    def _requests(self) -> None:
        """Value per request in integer *value units* (1/Q of a weight unit), and the objective.

        ``v_r x demand <= round(w_r Q) x served`` and ``v_r <= round(w_r Q) x
        room / demand``, in the model's units of the request, so that every
        request is valued at the same resolution whatever its unit (a
        contact, a millisecond, a millionth of a bytes demand); ``min_served``
        and ``max_contacts`` as in the module docstring. The objective is
        ``sum_r v_r``: the value times Q, rounded down per request.

        A request whose held contacts fall short of its ``min_served`` is
        valued whole (``served`` counts the held contacts too, and ``room``
        the whole demand): its held contacts are worth nothing unless the
        block's reach the minimum with them, and a block that drops its free
        contacts loses their value as well.
        """
        problem, model = self.problem, self.model
        # Requests whose v_r counts their held contacts too (so not in kept_value).
        valued_whole: set[int] = set()
        by_request: dict[int, list[int]] = defaultdict(list)
        for number, r in enumerate(self.cand_request):
            by_request[r].append(number)
        if problem.value_step is not None:
            self.value_scale = 1.0 / problem.value_step
        else:
            largest = max((problem.requests[r].weight for r in by_request), default=1.0)
            self.value_scale = VALUE_RESOLUTION / largest
        values: list[cp_model.IntVar] = []
        by_value: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        smallest_weight_units = math.inf
        for r, members in by_request.items():
            request = problem.requests[r]
            demand = self._units(request, request.demand)
            kept = self._units(request, self.kept_served[r])
            room = demand - kept
            if request.max_contacts is not None:
                # Also where the kept contacts serve the whole demand: contacts beyond the
                # limit are invalid even when they add nothing.
                left = request.max_contacts - self.kept_contacts[r]
                model.add(sum(self.literals[m] for m in members) <= max(0, left))
            if room <= 0:
                continue
            weight_units = max(1, round(request.weight * self.value_scale))
            smallest_weight_units = min(smallest_weight_units, weight_units)
            served = sum(self.cand_amount[m] for m in members)
            needed = self._units(request, request.min_served) - kept
            # Held contacts short of min_served are worth something only together with the
            # block's: then v_r values the whole request, held contacts included.
            counted = kept if needed > 0 else 0
            if counted > 0:
                valued_whole.add(r)
            most = weight_units * (room + counted) // demand
            value = model.new_int_var(0, most, f"v{request.id}")
            model.add(value * demand <= weight_units * (served + counted))
            hint_served = sum(self.cand_hint_served[m] for m in members)
            hint_value = min(most, weight_units * (hint_served + counted) // demand)
            if needed > 0:
                enough = model.new_bool_var("")
                model.add(served >= needed).only_enforce_if(enough)
                model.add(value == 0).only_enforce_if(enough.Not())
                model.add_hint(enough, bool(hint_served >= needed))
                if hint_served < needed:
                    hint_value = 0
            model.add_hint(value, hint_value)
            by_value[request.tenant].append(value)
            values.append(value)
        shortfalls = self._fairness(by_value)
        if values:
            model.maximize(sum(values) - FAIRNESS_PRICE * sum(shortfalls))
        # What the held contacts are worth apart from the v_r, counted as if min_served did not
        # apply (an upper bound), and how far the rounding of weights to value units can reach.
        self.kept_value = sum(
            request.weight * min(self.kept_served[r], request.demand) / request.demand
            for r, request in enumerate(problem.requests)
            if r not in valued_whole
        )
        self.objective_terms = len(values)
        self.weight_rounding = 0.5 / smallest_weight_units if values else 0.0

    def _fairness(self, by_value: dict[str, list[cp_model.IntVar]]) -> list[cp_model.IntVar]:
        """Per tenant a shortfall from its floor target, never above the incumbent's.

        ``sum of its v_r + shortfall >= target - kept`` (in value units,
        rounded in the shortfall's favour); returns the shortfall variables,
        which the objective charges :data:`FAIRNESS_PRICE` times their value.
        """
        shortfalls: list[cp_model.IntVar] = []
        if not self.fair_targets:
            return shortfalls
        kept: dict[str, float] = defaultdict(float)
        for r, request in enumerate(self.problem.requests):
            kept[request.tenant] += request_value(request, self.kept_served[r])
        now = self.problem.tenant_values(self.incumbent)
        for tenant, target in self.fair_targets.items():
            own = by_value.get(tenant)
            if not own:
                continue
            slack = len(own) + 1
            need = math.floor((target - kept[tenant]) * self.value_scale) - slack
            lacking = max(0.0, target - now.get(tenant, 0.0))
            most = math.ceil(lacking * self.value_scale) + 2 * slack
            if need <= 0:
                continue
            shortfall = self.model.new_int_var(0, max(0, most), "")
            self.model.add(sum(own) + shortfall >= need)
            self.model.add_hint(shortfall, min(max(0, most), max(0, need - self._hint_sum(own))))
            shortfalls.append(shortfall)
        return shortfalls

    def _hint_sum(self, variables: list[cp_model.IntVar]) -> int:
        hints = {
            index: value
            for index, value in zip(
                self.model.proto.solution_hint.vars,
                self.model.proto.solution_hint.values,
                strict=True,
            )
        }
        return sum(int(hints.get(v.index, 0)) for v in variables)

    def _units(self, request: Request, amount: float) -> int:
        """An amount of the request's unit in the model's units (rounded up for demand-like)."""
        if request.demand_kind is DemandKind.CONTACTS:
            return math.ceil(amount - 1e-9)
        if request.demand_kind is DemandKind.SECONDS:
            return math.ceil(amount / self.problem.unit_s - 1e-6)
        return math.ceil(amount * BYTES_STEPS / request.demand - 1e-6)

    # --- solving -----------------------------------------------------------------------------

    def solve(
        self,
        time_limit_s: float,
        workers: int,
        on_solution: Callable[[float], None] | None,
        presolve: bool,
    ) -> _Outcome:
        """Solve; the best solution found decoded to a whole schedule (kept contacts included)."""
        if not self.literals:
            return _Outcome(None, True)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.01, time_limit_s)
        solver.parameters.num_workers = max(1, workers)
        # OR-Tools 9.15: the presolve's constraint-inclusion step returned "optimal" values
        # below a known feasible solution on these models (measured on 300 x 20 blocks);
        # without it the answers agree with presolve off.
        solver.parameters.presolve_inclusion_work_limit = 0
        solver.parameters.cp_model_presolve = presolve
        collector = _Collector(self, on_solution, self.incumbent)
        if on_solution is None and self.problem.fair_floor is None:
            # Nothing to report or compare on the way: decode only the best solution, at the end.
            status = solver.solve(self.model)
        else:
            status = solver.solve(self.model, collector)
        if collector.best is None and status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            collector.take(solver)
        if collector.best is None:
            return _Outcome(None, False)
        proven = status == cp_model.OPTIMAL
        # Any schedule's free value is at most (floor(w Q served / D) + 1) / Q per request,
        # with w Q rounded by at most half a unit: so this bounds it from the objective bound.
        free = (solver.best_objective_bound + self.objective_terms) / self.value_scale
        bound = (self.kept_value + free * (1 + self.weight_rounding)) * (1 + 1e-9) + 1e-9
        return _Outcome(collector.best, proven, bound)


class _Collector(cp_model.CpSolverSolutionCallback):
    """Keeps the latest (best) solution as a schedule and reports its value."""

    def __init__(
        self,
        block: _Block,
        on_solution: Callable[[float], None] | None,
        incumbent: Sequence[ScheduledContact],
    ) -> None:
        super().__init__()
        self.block = block
        self.on_solution = on_solution
        self.incumbent = incumbent
        self.best: list[ScheduledContact] | None = None

    def on_solution_callback(self) -> None:
        self.take(self)

    def take(self, source: object) -> None:
        """Decode the current solution of ``source`` (this callback, or a solver)."""
        block = self.block
        value_of = source.boolean_value  # type: ignore[attr-defined]
        contacts = list(block.kept)
        for literal, decode in zip(block.literals, block.decode, strict=True):
            if value_of(literal):
                contacts.append(decode(source))  # type: ignore[arg-type]
        reference = self.incumbent if self.best is None else self.best
        if block.problem.fair_floor is not None and not block.problem.better(contacts, reference):
            return
        self.best = contacts
        if self.on_solution is not None:
            self.on_solution(block.problem.value(contacts))


def _constant(contact: ScheduledContact) -> Callable[[cp_model.CpSolver], ScheduledContact]:
    def decode(solver: cp_model.CpSolver) -> ScheduledContact:
        del solver
        return contact

    return decode


def _candidate_spans(
    request: Request, opportunity: Opportunity, needed_s: float
) -> list[tuple[float, float]]:
    """The fixed contacts one opportunity offers (module docstring), ``[start_s, end_s]``.

    ``needed_s``: for a seconds or bytes demand, the contact length that serves
    what the request still lacks (the length offered besides the longest and half).
    """
    start = max(opportunity.start_s, request.earliest_s)
    end = min(opportunity.end_s, request.latest_s)
    window = end - start
    shortest = max(request.min_duration_s, min(window, 1.0))
    longest = min(request.max_duration_s, window)
    if longest < shortest - TIME_TOLERANCE_S:
        return []
    spans: set[tuple[float, float]] = set()
    if window <= request.max_duration_s + TIME_TOLERANCE_S:
        spans.add((start, end))
    if request.demand_kind is DemandKind.CONTACTS:
        lengths = [shortest]
    else:
        lengths = [longest, max(shortest, longest / 2)]
        if shortest <= needed_s < longest:
            lengths.append(math.ceil(needed_s))
    for length in lengths:
        if length >= window - TIME_TOLERANCE_S:
            continue
        # Trimmed edges on whole milliseconds (as the greedy's), if the duration rule allows.
        for trimmed_end in _on_millisecond(start + length, start, end, request):
            spans.add((start, trimmed_end))
            break
        for trimmed_start in _on_millisecond(end - length, end, start, request):
            spans.add((trimmed_start, end))
            break
    return sorted(spans)


def _on_millisecond(edge_s: float, fixed_s: float, limit_s: float, request: Request) -> list[float]:
    """Whole-millisecond times near ``edge_s`` (then ``edge_s`` itself) that keep the contact
    between ``fixed_s`` and ``edge_s`` inside the window (up to ``limit_s``) and its length
    within the request's minimum and maximum."""
    found = []
    for moment in (
        math.ceil(edge_s * 1000.0) / 1000.0,
        math.floor(edge_s * 1000.0) / 1000.0,
        edge_s,
    ):
        length = abs(moment - fixed_s)
        inside = min(fixed_s, limit_s) <= moment <= max(fixed_s, limit_s)
        if (
            inside
            and request.min_duration_s - TIME_TOLERANCE_S <= length
            and length <= request.max_duration_s + TIME_TOLERANCE_S
        ):
            found.append(moment)
    return found


def _ranks(starts: FloatArray, ends: FloatArray) -> tuple[IntArray, IntArray]:
    """Endpoints replaced by their rank among all endpoints: overlaps are kept exactly."""
    points, inverse = np.unique(np.concatenate([starts, ends]), return_inverse=True)
    del points
    inverse = inverse.reshape(-1).astype(np.int64)
    return inverse[: len(starts)], inverse[len(starts) :]


@dataclass(frozen=True)
class _Holds:
    """Antenna holds as arrays: one row per (contact, resource).

    ``owner``: the candidate number (-1 for a held contact); ``resource``:
    index in ``instance.resources``; ``start``/``end``: the hold;
    ``padded_end``: end + turnaround; pointing at the edges (NaN where
    trimmed or unknown); ``az_rate``/``el_rate``: the antenna's slew rates
    (NaN if it does not slew); ``worst_slew``: the most slew the rule can
    ask for on that antenna.
    """

    owner: IntArray
    resource: IntArray
    start: FloatArray
    end: FloatArray
    turnaround: FloatArray
    pointing: FloatArray  # (n, 4): start az, start el, end az, end el
    az_rate: FloatArray
    el_rate: FloatArray

    @staticmethod
    def of(rows: Sequence[Sequence[float]] | FloatArray, resources: Sequence[Resource]) -> _Holds:
        table = np.array(rows, dtype=np.float64).reshape(-1, 8)
        resource = table[:, 1].astype(np.int64)
        turnaround = np.array([r.turnaround_s for r in resources], dtype=np.float64)
        az = np.array([_rate(r.max_az_rate_deg_s, r) for r in resources], dtype=np.float64)
        el = np.array([_rate(r.max_el_rate_deg_s, r) for r in resources], dtype=np.float64)
        return _Holds(
            owner=table[:, 0].astype(np.int64),
            resource=resource,
            start=table[:, 2],
            end=table[:, 3],
            turnaround=turnaround[resource] if len(resources) else np.zeros(0),
            pointing=table[:, 4:8],
            az_rate=az[resource] if len(resources) else np.zeros(0),
            el_rate=el[resource] if len(resources) else np.zeros(0),
        )

    @property
    def padded_end(self) -> FloatArray:
        padded: FloatArray = self.end + self.turnaround
        return padded

    @property
    def worst_slew(self) -> FloatArray:
        worst: FloatArray = np.nan_to_num(
            np.maximum(MAX_AZIMUTH_MOVE_DEG / self.az_rate, MAX_ELEVATION_MOVE_DEG / self.el_rate),
            nan=0.0,
        )
        return worst

    def select(self, mask: npt.NDArray[np.bool_]) -> _Holds:
        return _Holds(
            self.owner[mask],
            self.resource[mask],
            self.start[mask],
            self.end[mask],
            self.turnaround[mask],
            self.pointing[mask],
            self.az_rate[mask],
            self.el_rate[mask],
        )

    def with_owner(self, owner: IntArray) -> _Holds:
        return _Holds(
            owner,
            self.resource,
            self.start,
            self.end,
            self.turnaround,
            self.pointing,
            self.az_rate,
            self.el_rate,
        )


def _rate(rate: float | None, resource: Resource) -> float:
    """A slew rate, NaN when the antenna's slew is not counted (one of its rates is None)."""
    if resource.max_az_rate_deg_s is None or resource.max_el_rate_deg_s is None or rate is None:
        return math.nan
    return rate


def _near(first: _Holds, second: _Holds, *, both_ways: bool) -> tuple[IntArray, IntArray]:
    """Pairs (i in first, j in second) on one resource that the conflict rule must look at.

    With ``both_ways``: every pair whose holds come within turnaround + the
    worst slew of each other, overlaps included (candidates against held
    contacts). Without it (candidates among themselves): pairs where ``j``'s
    hold starts from ``i``'s padded end to the worst slew after it;
    overlapping padded holds are the no-overlap's job. Windows are widened
    by a microsecond so that rounding never drops a pair.
    """
    order = np.lexsort((second.start, second.resource))
    reach = first.padded_end + first.worst_slew + _SEARCH_SLACK_S
    if both_ways:
        # A hold j that reaches i starts at most its own longest padded span before i.
        longest = float(np.max(second.padded_end - second.start + second.worst_slew))
        low_start = first.start - longest - _SEARCH_SLACK_S
    else:
        low_start = first.padded_end - _SEARCH_SLACK_S
    low, high = _search(second, order, first.resource, low_start, reach)
    counts = np.maximum(high - low, 0)
    i = np.repeat(np.arange(len(first.start)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    j = order[np.repeat(low, counts) + offsets]
    if both_ways:
        touches = second.padded_end[j] + second.worst_slew[j] + _SEARCH_SLACK_S > first.start[i]
        i, j = i[touches], j[touches]
    else:
        distinct = first.owner[i] != second.owner[j]
        i, j = i[distinct], j[distinct]
    return i.astype(np.int64), j.astype(np.int64)


def _search(
    rows: _Holds, order: IntArray, resource: IntArray, low_s: FloatArray, high_s: FloatArray
) -> tuple[IntArray, IntArray]:
    """For each query, the range of ``rows`` (sorted by ``order``: resource, start) on
    ``resource`` whose start lies in ``[low_s, high_s]``."""
    sorted_resource = rows.resource[order]
    sorted_start = rows.start[order]
    low = np.zeros(len(resource), dtype=np.int64)
    high = np.zeros(len(resource), dtype=np.int64)
    for code in np.unique(resource).tolist():
        first = int(np.searchsorted(sorted_resource, code, side="left"))
        last = int(np.searchsorted(sorted_resource, code, side="right"))
        starts = sorted_start[first:last]
        mine = resource == code
        low[mine] = first + np.searchsorted(starts, low_s[mine], side="left")
        high[mine] = first + np.searchsorted(starts, high_s[mine], side="right")
    return low, high


def _breaks_rule(first: _Holds, i: IntArray, second: _Holds, j: IntArray) -> npt.NDArray[np.bool_]:
    """For each pair (first[i], second[j]), whether the conflict rule forbids it.

    Each pair is handed to :func:`~groundlink.contacts.conflicts.find_antenna_conflicts`
    as two contacts on an antenna of its own, so the rule itself decides.
    """
    clash = np.zeros(len(i), dtype=bool)
    if len(i) == 0:
        return clash
    slewing = ~np.isnan(first.az_rate[i])
    for with_slew in (True, False):
        pick = np.nonzero(slewing == with_slew)[0]
        if len(pick) == 0:
            continue
        a, b = i[pick], j[pick]
        count = len(pick)
        pair = np.concatenate([np.arange(count), np.arange(count)])
        found = find_antenna_conflicts(
            np.concatenate([first.start[a], second.start[b]]),
            np.concatenate([first.end[a], second.end[b]]),
            pair,
            np.concatenate([first.turnaround[a], second.turnaround[b]]),
            start_azimuth_deg=np.concatenate([first.pointing[a, 0], second.pointing[b, 0]]),
            start_elevation_deg=np.concatenate([first.pointing[a, 1], second.pointing[b, 1]]),
            end_azimuth_deg=np.concatenate([first.pointing[a, 2], second.pointing[b, 2]]),
            end_elevation_deg=np.concatenate([first.pointing[a, 3], second.pointing[b, 3]]),
            max_az_rate_deg_s=(
                np.concatenate([first.az_rate[a], second.az_rate[b]]) if with_slew else None
            ),
            max_el_rate_deg_s=(
                np.concatenate([first.el_rate[a], second.el_rate[b]]) if with_slew else None
            ),
        )
        clash[pick[found[:, 0] % count]] = True
    return clash
