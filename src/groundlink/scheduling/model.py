"""The network-scheduling problem: who wants what, which antennas exist, when each can see whom.

An :class:`Instance` is everything a solver needs and nothing else: no
database rows, no files, no clock. It is built by adapters (the platform from
its spacecraft, antennas and the pass engine; :mod:`groundlink.scheduling.satnet`
from a SatNet week; the JSON instance format) and handed to the solvers in
this package, which return a :class:`Schedule`.

Time inside the core is **seconds since** :attr:`Instance.epoch` (float64);
datetimes appear only at the edges (:meth:`Instance.at`). Durations are
seconds, angles degrees, slew rates degrees per second, data volumes bytes.

The words:

* A **resource** is one antenna, with the bands it serves, its turnaround
  (fixed setup seconds between two contacts), its slew rates and its
  maintenance windows (times it takes no contact).
* A **request** is what a tenant asks for one spacecraft: an amount of
  service over the instance's horizon (a number of contacts, seconds of
  contact, or bytes downlinked), with a minimum and maximum duration per
  contact, a priority 1-5 (1 is the most important), an earliest/latest
  time, and its own setup/teardown seconds (held on the antenna before and
  after the contact, as DSN tracks have).
* An **opportunity** is one window in which a request may be served on a
  set of resources (one antenna, or several at once for an arrayed DSN
  track): a pass of the spacecraft over a station (AOS to LOS), or a SatNet
  view period. A contact may use any part ``[start, end]`` of it whose length
  is within the request's minimum and maximum duration.
* A **fixed contact** holds resources over a span that solvers must leave
  as it is (already booked contacts; never moved unless the caller allows).

The **value** of a schedule is the priority-weighted share of demand served,
summed over requests: a request whose demand is fully met adds its priority
weight (:data:`PRIORITY_WEIGHT`), a request half served half of it (per
contact for a contact-count demand, per second or per byte otherwise; never
more than the demand). Being unit-free, it adds requests for contacts,
seconds and bytes on one scale; :func:`request_value` is the one definition.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from groundlink.errors import InvalidInput

#: Value of a fully served request, by priority (1 is the most important).
PRIORITY_WEIGHT: Mapping[int, float] = {1: 16.0, 2: 8.0, 3: 4.0, 4: 2.0, 5: 1.0}


class DemandKind(StrEnum):
    """What a request counts: contacts, seconds of contact, or bytes downlinked."""

    CONTACTS = "contacts"
    SECONDS = "seconds"
    BYTES = "bytes"


def _require(condition: bool, field_name: str, value: object, expected: str) -> None:
    if not condition:
        raise InvalidInput(field_name, value, expected)


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True, slots=True)
class Interval:
    """A span ``[start_s, end_s)`` in seconds since the instance epoch."""

    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        _require(_finite(self.start_s), "start_s", self.start_s, "finite seconds")
        _require(
            _finite(self.end_s) and self.end_s > self.start_s,
            "end_s",
            self.end_s,
            f"finite seconds after start_s ({self.start_s})",
        )

    @property
    def duration_s(self) -> float:
        """Length of the span in seconds."""
        return self.end_s - self.start_s

    def overlaps(self, other: Interval) -> bool:
        """Whether the two half-open spans share any instant."""
        return self.start_s < other.end_s and other.start_s < self.end_s


@dataclass(frozen=True, slots=True)
class Resource:
    """One antenna the scheduler may assign.

    ``turnaround_s`` is the fixed setup time between two contacts; the slew
    rates (deg/s) add the time to move from one contact's end pointing to the
    next one's start pointing, by the rule of
    :mod:`groundlink.contacts.conflicts`. ``None`` rates: slew is not counted.
    """

    id: str
    station: str = ""
    bands: tuple[str, ...] = ()
    turnaround_s: float = 0.0
    max_az_rate_deg_s: float | None = None
    max_el_rate_deg_s: float | None = None
    maintenance: tuple[Interval, ...] = ()

    def __post_init__(self) -> None:
        _require(bool(self.id), "resource.id", self.id, "a non-empty id")
        _require(
            _finite(self.turnaround_s) and self.turnaround_s >= 0,
            f"resources[{self.id}].turnaround_s",
            self.turnaround_s,
            "non-negative seconds",
        )
        for name in ("max_az_rate_deg_s", "max_el_rate_deg_s"):
            rate = getattr(self, name)
            _require(
                rate is None or (_finite(rate) and rate > 0),
                f"resources[{self.id}].{name}",
                rate,
                "a positive rate in deg/s, or null",
            )


@dataclass(frozen=True, slots=True)
class Request:
    """What a tenant asks for one spacecraft over the instance's horizon.

    ``demand`` is in the unit of ``demand_kind`` (contacts, seconds or bytes).
    ``setup_s``/``teardown_s`` are held on the resources before and after the
    contact itself (DSN style; 0 for most LEO missions, whose pre/post-pass
    is usually part of the antenna's turnaround). ``stations``, if given,
    limits the request to those stations; ``excluded_stations`` removes some.

    Three optional rules, for networks such as the DSN (defaults: off):
    ``max_contacts`` caps how many contacts the request may get (1: one
    track, never split); ``min_served`` is the least total service, in the
    demand unit, that counts at all (below it the request's contacts are
    worth nothing: SatNet's minimum duration of a request split into several
    tracks); ``value_weight``, if set, replaces the priority weight as the
    value of serving the request fully (SatNet sets the requested hours, so
    that the value is hours allocated).
    """

    id: str
    tenant: str
    spacecraft: str
    demand: float
    demand_kind: DemandKind = DemandKind.CONTACTS
    min_duration_s: float = 0.0
    max_duration_s: float = math.inf
    priority: int = 3
    earliest_s: float = -math.inf
    latest_s: float = math.inf
    bands: tuple[str, ...] = ()
    stations: tuple[str, ...] = ()
    excluded_stations: tuple[str, ...] = ()
    setup_s: float = 0.0
    teardown_s: float = 0.0
    max_contacts: int | None = None
    min_served: float = 0.0
    value_weight: float | None = None

    def __post_init__(self) -> None:
        where = f"requests[{self.id}]"
        _require(bool(self.id), "request.id", self.id, "a non-empty id")
        _require(
            _finite(self.demand) and self.demand > 0,
            f"{where}.demand",
            self.demand,
            "a positive amount",
        )
        _require(
            self.priority in PRIORITY_WEIGHT,
            f"{where}.priority",
            self.priority,
            "an integer 1-5 (1 is the most important)",
        )
        _require(
            _finite(self.min_duration_s) and self.min_duration_s >= 0,
            f"{where}.min_duration_s",
            self.min_duration_s,
            "non-negative seconds",
        )
        _require(
            self.max_duration_s >= max(self.min_duration_s, 1e-9),
            f"{where}.max_duration_s",
            self.max_duration_s,
            f"positive seconds, at least min_duration_s ({self.min_duration_s})",
        )
        _require(
            self.latest_s > self.earliest_s,
            f"{where}.latest_s",
            self.latest_s,
            f"after earliest_s ({self.earliest_s})",
        )
        for name in ("setup_s", "teardown_s"):
            seconds = getattr(self, name)
            _require(
                _finite(seconds) and seconds >= 0,
                f"{where}.{name}",
                seconds,
                "non-negative seconds",
            )
        _require(
            self.max_contacts is None
            or (isinstance(self.max_contacts, int) and self.max_contacts >= 1),
            f"{where}.max_contacts",
            self.max_contacts,
            "an integer >= 1, or null for no limit",
        )
        _require(
            _finite(self.min_served) and 0 <= self.min_served <= self.demand,
            f"{where}.min_served",
            self.min_served,
            f"an amount in [0, demand ({self.demand})]",
        )
        _require(
            self.value_weight is None or (_finite(self.value_weight) and self.value_weight > 0),
            f"{where}.value_weight",
            self.value_weight,
            "a positive number, or null for the priority weight",
        )

    @property
    def weight(self) -> float:
        """Value of serving this request fully: ``value_weight``, else :data:`PRIORITY_WEIGHT`."""
        if self.value_weight is not None:
            return self.value_weight
        return PRIORITY_WEIGHT[self.priority]


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A window in which ``request`` may be served on all of ``resources`` at once.

    ``start_s``/``end_s`` bound the contact itself (AOS/LOS or a SatNet view
    period's TRX ON/OFF); setup and teardown may fall outside it.
    ``rate_bytes_s`` is the mean downlink rate the link budget expects over
    the window (used by a bytes demand). Pointing at the window's edges
    (degrees; NaN when unknown) feeds the slew part of the turnaround.
    """

    id: int
    request: str
    resources: tuple[str, ...]
    start_s: float
    end_s: float
    rate_bytes_s: float = 0.0
    start_azimuth_deg: float = math.nan
    start_elevation_deg: float = math.nan
    end_azimuth_deg: float = math.nan
    end_elevation_deg: float = math.nan

    @property
    def duration_s(self) -> float:
        """Length of the window in seconds."""
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class FixedContact:
    """A contact that holds ``resources`` over ``[start_s, end_s)`` and that solvers keep.

    ``request`` names the request it serves (its service counts towards that
    request's demand), or is empty for time held by something outside the
    instance.
    """

    id: str
    resources: tuple[str, ...]
    start_s: float
    end_s: float
    request: str = ""


@dataclass(frozen=True)
class Instance:
    """A whole scheduling problem; see the module docstring for the words.

    ``tenant_weights`` sets each tenant's weight in the fairness rule
    (default 1 for every tenant). ``max_simultaneous`` caps the contacts a
    spacecraft may be in at once (default 1, by spacecraft id).
    """

    epoch: datetime
    horizon_s: float
    resources: tuple[Resource, ...]
    requests: tuple[Request, ...]
    opportunities: tuple[Opportunity, ...]
    fixed: tuple[FixedContact, ...] = ()
    tenant_weights: Mapping[str, float] = field(default_factory=dict)
    max_simultaneous: Mapping[str, int] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        _require(
            self.epoch.utcoffset() is not None, "epoch", self.epoch, "a timezone-aware UTC time"
        )
        _require(
            _finite(self.horizon_s) and self.horizon_s > 0,
            "horizon_s",
            self.horizon_s,
            "positive seconds",
        )
        _unique("resources", [r.id for r in self.resources])
        _unique("requests", [r.id for r in self.requests])
        _unique("opportunities", [o.id for o in self.opportunities])
        resource_ids = {r.id for r in self.resources}
        request_ids = {r.id for r in self.requests}
        for opportunity in self.opportunities:
            where = f"opportunities[{opportunity.id}]"
            _require(
                opportunity.request in request_ids,
                f"{where}.request",
                opportunity.request,
                "the id of a request of the instance",
            )
            _check_resources(where, opportunity.resources, resource_ids)
            _require(
                _finite(opportunity.start_s)
                and _finite(opportunity.end_s)
                and opportunity.end_s > opportunity.start_s,
                f"{where}.end_s",
                opportunity.end_s,
                f"finite seconds after start_s ({opportunity.start_s})",
            )
        for fixed in self.fixed:
            _check_resources(f"fixed[{fixed.id}]", fixed.resources, resource_ids)
            _require(
                not fixed.request or fixed.request in request_ids,
                f"fixed[{fixed.id}].request",
                fixed.request,
                "empty or the id of a request of the instance",
            )
        for tenant, weight in self.tenant_weights.items():
            _require(
                _finite(weight) and weight > 0,
                f"tenant_weights[{tenant}]",
                weight,
                "a positive weight",
            )
        for spacecraft, limit in self.max_simultaneous.items():
            _require(
                isinstance(limit, int) and limit >= 1,
                f"max_simultaneous[{spacecraft}]",
                limit,
                "an integer >= 1",
            )

    def at(self, seconds: float) -> datetime:
        """The UTC datetime ``seconds`` after the epoch."""
        return self.epoch + timedelta(seconds=seconds)

    def seconds(self, moment: datetime) -> float:
        """Seconds from the epoch to ``moment`` (timezone-aware)."""
        return (moment - self.epoch).total_seconds()

    def tenant_weight(self, tenant: str) -> float:
        """The tenant's weight in the fairness rule (1 unless set)."""
        return self.tenant_weights.get(tenant, 1.0)

    def spacecraft_limit(self, spacecraft: str) -> int:
        """How many contacts ``spacecraft`` may be in at once (1 unless set)."""
        return self.max_simultaneous.get(spacecraft, 1)


def _unique(name: str, ids: Sequence[object]) -> None:
    seen: set[object] = set()
    for value in ids:
        _require(value not in seen, f"{name}.id", value, "ids that appear once")
        seen.add(value)


def _check_resources(where: str, resources: tuple[str, ...], known: set[str]) -> None:
    _require(bool(resources), f"{where}.resources", resources, "at least one resource id")
    for resource in resources:
        _require(
            resource in known, f"{where}.resources", resource, "ids of resources of the instance"
        )


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScheduledContact:
    """One contact a solver chose: ``request`` on ``resources`` over ``[start_s, end_s)``.

    The span is the contact itself; the resources are also held for the
    request's setup before and teardown after it. ``opportunity`` is the id
    of the window it lies in; ``fixed`` marks a fixed contact carried over.
    """

    request: str
    opportunity: int
    resources: tuple[str, ...]
    start_s: float
    end_s: float
    fixed: bool = False

    @property
    def duration_s(self) -> float:
        """Length of the contact in seconds."""
        return self.end_s - self.start_s


UnservedReason = Literal[
    "no_opportunity",
    "band_mismatch",
    "excluded_stations",
    "too_short",
    "maintenance",
    "busy_higher_priority",
    "busy_same_or_lower_priority",
    "spacecraft_limit",
    "fairness",
    "unused_capacity",  # a usable window is still free: the solver stopped before using it
]


@dataclass(frozen=True, slots=True)
class Unserved:
    """A request not fully served: how much was served, of how much, and why.

    ``served`` and ``demand`` are in the request's demand unit; ``reason`` is
    the main cause (see :data:`UnservedReason`), ``detail`` a sentence for
    people.
    """

    request: str
    served: float
    demand: float
    reason: UnservedReason
    detail: str


@dataclass(frozen=True, slots=True)
class TenantShare:
    """How well one tenant was served: value over the value it asked for (0-1).

    ``fair_share`` is what the fairness rule entitles it to (see
    :mod:`groundlink.scheduling.fairness`), ``ratio`` = ``share / fair_share``.
    """

    tenant: str
    value: float
    requested_value: float
    share: float
    fair_share: float
    ratio: float


@dataclass(frozen=True)
class Schedule:
    """A solver's answer: the contacts, their value, how far from optimal, and who got what.

    ``bound`` is an upper bound on the value of any feasible schedule (the
    LP relaxation unless ``bound_method`` says otherwise) and ``gap`` =
    ``(bound - value) / bound`` (0 when bound is 0). ``solve_s`` is wall
    seconds. ``status`` says whether the optimiser proved optimality, stopped
    at its time limit, or is a heuristic answer. ``fairness_loss`` is the
    share of value (0-1) given up for the fairness floor, against the best
    schedule found without it in the same run (None when fairness was off).
    """

    contacts: tuple[ScheduledContact, ...]
    value: float
    bound: float
    bound_method: str
    solver: str
    solve_s: float
    status: Literal["optimal", "feasible", "heuristic"]
    shares: tuple[TenantShare, ...] = ()
    unserved: tuple[Unserved, ...] = ()
    fairness_loss: float | None = None

    @property
    def gap(self) -> float:
        """Relative distance to the bound, 0-1."""
        if self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.value) / self.bound)


def served_amount(
    request: Request, contacts: Sequence[ScheduledContact], rate_bytes_s: Mapping[int, float]
) -> float:
    """How much of ``request``'s demand ``contacts`` (its own) serve, in its demand unit.

    Contacts shorter than the request's minimum duration serve nothing.
    ``rate_bytes_s`` maps an opportunity id to its downlink rate (bytes/s).
    The result is not capped at the demand.
    """
    useful = [c for c in contacts if c.duration_s >= request.min_duration_s - 1e-6]
    if request.demand_kind is DemandKind.CONTACTS:
        return float(len(useful))
    if request.demand_kind is DemandKind.SECONDS:
        return sum(c.duration_s for c in useful)
    return sum(c.duration_s * rate_bytes_s.get(c.opportunity, 0.0) for c in useful)


def request_value(request: Request, served: float) -> float:
    """Value of serving ``served`` (request's unit) of ``request``: weight x share, capped.

    Service below the request's ``min_served`` is worth nothing.
    """
    if served < request.min_served - 1e-6:
        return 0.0
    return request.weight * min(served, request.demand) / request.demand
