"""The JSON instance format, and a schedule as JSON: how problems and answers leave the core.

An instance file lets anyone run the scheduler on their own problem and
compare it with another solver on exactly the same input; the result object
lets an outside checker verify every contact without reading our code. Both
are documented field by field in ``docs/scheduling.md`` (with a complete
example, ``docs/examples/schedule_instance.json``).

The format, ``"format": "groundlink-schedule-instance/1"``:

* times are ISO-8601 UTC strings (``2024-06-01T00:00:00Z``; an offset is
  converted to UTC, no zone means UTC), written to the millisecond;
* durations are seconds (``*_s``; an ISO-8601 duration such as ``"PT5M"`` is
  accepted on input), angles degrees, rates deg/s or bytes/s;
* ``null`` (or leaving a field out) means "no limit" for the optional
  bounds and "unknown" for pointing.

Types are checked by pydantic (the wire models below, which reject unknown
fields so that a misspelt key is an error, not a silent default); ranges and
cross-references by :class:`~groundlink.scheduling.model.Instance` itself.
Either way the error is an :class:`~groundlink.errors.InvalidInput` naming the
field's path (``requests[3].priority``), the value and what was expected.

Pure functions on text and objects: reading and writing files is the
caller's job (the CLI's).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError

from groundlink.errors import InvalidInput
from groundlink.orbits.elements import parse_utc
from groundlink.scheduling.model import (
    DemandKind,
    FixedContact,
    Instance,
    Interval,
    Opportunity,
    Request,
    Resource,
    Schedule,
    ScheduledContact,
)

#: The ``format`` value of an instance file this module reads and writes.
INSTANCE_FORMAT = "groundlink-schedule-instance/1"
#: The ``format`` value of a schedule result object.
RESULT_FORMAT = "groundlink-schedule-result/1"

_DURATION = TypeAdapter(timedelta)
#: Writes seconds since the instance epoch as an ISO-8601 UTC string.
_At = Callable[[float], str]
_TIME_EXPECTED = "an ISO-8601 UTC time such as 2024-06-01T00:00:00Z"


# --- wire models: the JSON's shape and types ---------------------------------------------------


def _utc_time(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(_TIME_EXPECTED)
    try:
        return parse_utc(value)
    except InvalidInput:
        raise ValueError(_TIME_EXPECTED) from None


def _seconds(value: object) -> object:
    if isinstance(value, str):
        try:
            return _DURATION.validate_python(value).total_seconds()
        except ValidationError:
            raise ValueError("seconds, or an ISO-8601 duration such as PT5M") from None
    return value


UtcTime = Annotated[datetime, BeforeValidator(_utc_time)]
Seconds = Annotated[float, BeforeValidator(_seconds)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _SpanWire(_Wire):
    start: UtcTime
    end: UtcTime


class _ResourceWire(_Wire):
    id: str
    station: str = ""
    bands: list[str] = []
    turnaround_s: Seconds = 0.0
    max_az_rate_deg_s: float | None = None
    max_el_rate_deg_s: float | None = None
    maintenance: list[_SpanWire] = []


class _RequestWire(_Wire):
    id: str
    tenant: str
    spacecraft: str
    demand: float
    demand_kind: DemandKind = DemandKind.CONTACTS
    min_duration_s: Seconds = 0.0
    max_duration_s: Seconds | None = None
    priority: int = 3
    earliest: UtcTime | None = None
    latest: UtcTime | None = None
    bands: list[str] = []
    stations: list[str] = []
    excluded_stations: list[str] = []
    setup_s: Seconds = 0.0
    teardown_s: Seconds = 0.0
    max_contacts: int | None = None
    min_served: float = 0.0
    value_weight: float | None = None


class _OpportunityWire(_Wire):
    id: int
    request: str
    resources: list[str]
    start: UtcTime
    end: UtcTime
    rate_bytes_s: float = 0.0
    start_azimuth_deg: float | None = None
    start_elevation_deg: float | None = None
    end_azimuth_deg: float | None = None
    end_elevation_deg: float | None = None


class _FixedWire(_Wire):
    id: str
    resources: list[str]
    start: UtcTime
    end: UtcTime
    request: str = ""


class _InstanceWire(_Wire):
    format: Literal["groundlink-schedule-instance/1"]
    name: str = ""
    start: UtcTime
    end: UtcTime
    resources: list[_ResourceWire]
    requests: list[_RequestWire]
    opportunities: list[_OpportunityWire] = []
    fixed: list[_FixedWire] = []
    tenant_weights: dict[str, float] = {}
    max_simultaneous: dict[str, int] = {}


# --- reading -----------------------------------------------------------------------------------


def loads_instance(text: str | bytes, *, source: str | None = None) -> Instance:
    """The :class:`Instance` described by the JSON ``text`` of an instance file.

    ``source`` (a file name) is put in front of error messages.

    Raises:
        InvalidInput: naming the field path, the value and what was expected,
            for invalid JSON, a wrong ``format``, a missing, unknown or
            mistyped field, or a value the model rejects (a negative
            duration, an opportunity of an unknown request, ...).
    """
    try:
        wire = _InstanceWire.model_validate_json(text)
    except ValidationError as error:
        raise invalid_input_from(error).located(source=source) from None
    try:
        return _instance_from_wire(wire)
    except InvalidInput as error:
        raise error.located(source=source) from None


def invalid_input_from(error: ValidationError, *, prefix: str = "") -> InvalidInput:
    """The first pydantic error as an :class:`InvalidInput` with a ``a[3].b`` path.

    ``prefix`` goes in front of the path (``W10_2018`` gives ``W10_2018[3].duration``).
    """
    first = error.errors(include_url=False)[0]
    path = _path([prefix, *first["loc"]] if prefix else first["loc"])
    kind = first["type"]
    if kind == "json_invalid":
        return InvalidInput("(document)", first["ctx"].get("error", ""), "valid JSON")
    if kind == "missing":
        return InvalidInput(path, "(missing)", "this required field (see docs/scheduling.md)")
    if kind == "extra_forbidden":
        return InvalidInput(path, first["input"], "no such field: see docs/scheduling.md")
    if kind == "literal_error" and path == "format":
        return InvalidInput(path, first["input"], f'"{INSTANCE_FORMAT}"')
    if kind == "value_error":
        return InvalidInput(path, first["input"], str(first["ctx"]["error"]))
    expected = first["msg"].removeprefix("Input should be ")
    return InvalidInput(path or "(document)", first["input"], expected)


def _path(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _instance_from_wire(wire: _InstanceWire) -> Instance:
    epoch = wire.start

    def seconds(moment: datetime) -> float:
        return (moment - epoch).total_seconds()

    if not wire.end > wire.start:
        raise InvalidInput("end", _iso(wire.end), f"a time after start ({_iso(wire.start)})")
    resources = tuple(
        Resource(
            id=r.id,
            station=r.station,
            bands=tuple(r.bands),
            turnaround_s=r.turnaround_s,
            max_az_rate_deg_s=r.max_az_rate_deg_s,
            max_el_rate_deg_s=r.max_el_rate_deg_s,
            maintenance=tuple(
                _interval(f"resources[{i}].maintenance[{j}]", m.start, m.end, epoch)
                for j, m in enumerate(r.maintenance)
            ),
        )
        for i, r in enumerate(wire.resources)
    )
    requests = tuple(
        Request(
            id=q.id,
            tenant=q.tenant,
            spacecraft=q.spacecraft,
            demand=q.demand,
            demand_kind=q.demand_kind,
            min_duration_s=q.min_duration_s,
            max_duration_s=math.inf if q.max_duration_s is None else q.max_duration_s,
            priority=q.priority,
            earliest_s=-math.inf if q.earliest is None else seconds(q.earliest),
            latest_s=math.inf if q.latest is None else seconds(q.latest),
            bands=tuple(q.bands),
            stations=tuple(q.stations),
            excluded_stations=tuple(q.excluded_stations),
            setup_s=q.setup_s,
            teardown_s=q.teardown_s,
            max_contacts=q.max_contacts,
            min_served=q.min_served,
            value_weight=q.value_weight,
        )
        for q in wire.requests
    )
    opportunities = tuple(
        Opportunity(
            id=o.id,
            request=o.request,
            resources=tuple(o.resources),
            start_s=seconds(o.start),
            end_s=seconds(o.end),
            rate_bytes_s=o.rate_bytes_s,
            start_azimuth_deg=_nan_if_none(o.start_azimuth_deg),
            start_elevation_deg=_nan_if_none(o.start_elevation_deg),
            end_azimuth_deg=_nan_if_none(o.end_azimuth_deg),
            end_elevation_deg=_nan_if_none(o.end_elevation_deg),
        )
        for o in wire.opportunities
    )
    for i, fixed in enumerate(wire.fixed):
        _interval(f"fixed[{i}]", fixed.start, fixed.end, epoch)
    fixed_contacts = tuple(
        FixedContact(
            id=f.id,
            resources=tuple(f.resources),
            start_s=seconds(f.start),
            end_s=seconds(f.end),
            request=f.request,
        )
        for f in wire.fixed
    )
    return Instance(
        epoch=epoch,
        horizon_s=seconds(wire.end),
        resources=resources,
        requests=requests,
        opportunities=opportunities,
        fixed=fixed_contacts,
        tenant_weights=dict(wire.tenant_weights),
        max_simultaneous=dict(wire.max_simultaneous),
        name=wire.name,
    )


def _interval(where: str, start: datetime, end: datetime, epoch: datetime) -> Interval:
    if not end > start:
        raise InvalidInput(f"{where}.end", _iso(end), f"a time after {where}.start ({_iso(start)})")
    return Interval((start - epoch).total_seconds(), (end - epoch).total_seconds())


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else value


# --- writing -----------------------------------------------------------------------------------


def instance_to_json(instance: Instance) -> dict[str, Any]:
    """The instance as a JSON-ready dict in the instance format (:func:`loads_instance` reads it).

    Times are written to the millisecond; unbounded limits and unknown
    pointing are left out.
    """

    def at(seconds: float) -> str:
        return _iso_at(instance.epoch, seconds)

    document: dict[str, Any] = {
        "format": INSTANCE_FORMAT,
        "name": instance.name,
        "start": at(0.0),
        "end": at(instance.horizon_s),
        "resources": [_resource_json(r, at) for r in instance.resources],
        "requests": [_request_json(q, at) for q in instance.requests],
        "opportunities": [_opportunity_json(o, at) for o in instance.opportunities],
        "fixed": [
            {
                "id": f.id,
                "resources": list(f.resources),
                "start": at(f.start_s),
                "end": at(f.end_s),
                "request": f.request,
            }
            for f in instance.fixed
        ],
        "tenant_weights": dict(instance.tenant_weights),
        "max_simultaneous": dict(instance.max_simultaneous),
    }
    return document


def dumps_instance(instance: Instance, *, indent: int | None = 1) -> str:
    """The instance file's text (JSON, ``indent`` spaces per level; None: one line)."""
    return json.dumps(instance_to_json(instance), indent=indent, allow_nan=False) + "\n"


def _resource_json(resource: Resource, at: _At) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": resource.id,
        "station": resource.station,
        "bands": list(resource.bands),
        "turnaround_s": resource.turnaround_s,
    }
    if resource.max_az_rate_deg_s is not None:
        item["max_az_rate_deg_s"] = resource.max_az_rate_deg_s
    if resource.max_el_rate_deg_s is not None:
        item["max_el_rate_deg_s"] = resource.max_el_rate_deg_s
    item["maintenance"] = [
        {"start": at(m.start_s), "end": at(m.end_s)} for m in resource.maintenance
    ]
    return item


def _request_json(request: Request, at: _At) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": request.id,
        "tenant": request.tenant,
        "spacecraft": request.spacecraft,
        "demand": request.demand,
        "demand_kind": request.demand_kind.value,
        "min_duration_s": request.min_duration_s,
    }
    if math.isfinite(request.max_duration_s):
        item["max_duration_s"] = request.max_duration_s
    item["priority"] = request.priority
    if math.isfinite(request.earliest_s):
        item["earliest"] = at(request.earliest_s)
    if math.isfinite(request.latest_s):
        item["latest"] = at(request.latest_s)
    item["bands"] = list(request.bands)
    item["stations"] = list(request.stations)
    item["excluded_stations"] = list(request.excluded_stations)
    item["setup_s"] = request.setup_s
    item["teardown_s"] = request.teardown_s
    if request.max_contacts is not None:
        item["max_contacts"] = request.max_contacts
    if request.min_served:
        item["min_served"] = request.min_served
    if request.value_weight is not None:
        item["value_weight"] = request.value_weight
    return item


def _opportunity_json(opportunity: Opportunity, at: _At) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": opportunity.id,
        "request": opportunity.request,
        "resources": list(opportunity.resources),
        "start": at(opportunity.start_s),
        "end": at(opportunity.end_s),
        "rate_bytes_s": opportunity.rate_bytes_s,
    }
    for name in (
        "start_azimuth_deg",
        "start_elevation_deg",
        "end_azimuth_deg",
        "end_elevation_deg",
    ):
        value = getattr(opportunity, name)
        if math.isfinite(value):
            item[name] = value
    return item


# --- a schedule as JSON ------------------------------------------------------------------------


def schedule_to_json(instance: Instance, schedule: Schedule) -> dict[str, Any]:
    """The result object of ``groundlink schedule solve --output json``.

    One object: ``value``, ``bound`` (an upper bound on the value of any
    schedule), ``gap`` (``(bound - value) / bound``, a fraction 0-1, not a
    percentage), ``solve_s`` and ``contacts``; then ``status``,
    ``bound_method``, ``solver``, ``fairness_loss`` (value given up for the
    fairness floor, 0-1, or null), per-tenant ``shares`` and the
    ``unserved`` requests with their reasons. Each contact names its ``request`` (id),
    ``resource`` (the antenna id; for a contact on several antennas at once
    their ids joined by ``_``, which is SatNet's name for an array),
    ``resources`` (the list), ``start`` and ``end`` (ISO-8601 UTC, the
    contact itself: setup before and teardown after are not included),
    ``tenant``, ``spacecraft``, ``opportunity`` and ``fixed``.
    """
    requests = {request.id: request for request in instance.requests}

    def at(seconds: float) -> str:
        return _iso_at(instance.epoch, seconds)

    contacts = sorted(schedule.contacts, key=lambda c: (c.start_s, c.resources, c.request))
    return {
        "format": RESULT_FORMAT,
        "instance": instance.name,
        "value": schedule.value,
        "bound": schedule.bound,
        "gap": schedule.gap,
        "solve_s": schedule.solve_s,
        "status": schedule.status,
        "bound_method": schedule.bound_method,
        "solver": schedule.solver,
        "fairness_loss": schedule.fairness_loss,
        "contacts": [
            {
                "request": c.request,
                "resource": "_".join(c.resources),
                "resources": list(c.resources),
                "start": at(c.start_s),
                "end": at(c.end_s),
                "tenant": requests[c.request].tenant if c.request in requests else "",
                "spacecraft": requests[c.request].spacecraft if c.request in requests else "",
                "opportunity": c.opportunity,
                "fixed": c.fixed,
            }
            for c in contacts
        ],
        "shares": [
            {
                "tenant": s.tenant,
                "value": s.value,
                "requested_value": s.requested_value,
                "share": s.share,
                "fair_share": s.fair_share,
                "ratio": s.ratio,
            }
            for s in schedule.shares
        ],
        "unserved": [
            {
                "request": u.request,
                "served": u.served,
                "demand": u.demand,
                "reason": u.reason,
                "detail": u.detail,
            }
            for u in schedule.unserved
        ],
    }


class _ContactWire(_Wire):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)
    request: str
    resources: list[str]
    start: UtcTime
    end: UtcTime
    opportunity: int = -1
    fixed: bool = False


class _ResultWire(_Wire):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)
    contacts: list[_ContactWire]


def loads_schedule_contacts(
    text: str | bytes, instance: Instance, *, source: str | None = None
) -> tuple[ScheduledContact, ...]:
    """The contacts of a result object (:func:`schedule_to_json`), in ``instance``'s seconds.

    Only ``contacts[].request``, ``resources``, ``start``, ``end`` and, if
    present, ``opportunity`` and ``fixed`` are read.

    Raises:
        InvalidInput: naming the field path for invalid JSON or a contact
            without those fields.
    """
    try:
        wire = _ResultWire.model_validate_json(text)
    except ValidationError as error:
        raise invalid_input_from(error).located(source=source) from None
    contacts = []
    for i, c in enumerate(wire.contacts):
        start_s, end_s = instance.seconds(c.start), instance.seconds(c.end)
        if not end_s > start_s:
            raise InvalidInput(
                f"contacts[{i}].end", _iso(c.end), "a time after start", source=source
            )
        contacts.append(
            ScheduledContact(c.request, c.opportunity, tuple(c.resources), start_s, end_s, c.fixed)
        )
    return tuple(contacts)


# --- times -------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    """ISO-8601 UTC with ``Z``: whole seconds, or milliseconds when there are any."""
    utc = moment.astimezone(UTC)
    if utc.microsecond == 0:
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _iso_at(epoch: datetime, seconds: float) -> str:
    """The instant ``seconds`` after ``epoch``, rounded to the millisecond, as :func:`_iso`.

    Rounding is monotone, so a contact inside its window stays inside it
    once both are written.
    """
    milliseconds = round((epoch.timestamp() + seconds) * 1000.0)
    return _iso(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=milliseconds))
