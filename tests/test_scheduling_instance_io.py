"""The JSON instance format and the result object: read, write, round trip, errors."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from groundlink.errors import InvalidInput
from groundlink.scheduling.instance_io import (
    INSTANCE_FORMAT,
    dumps_instance,
    instance_to_json,
    loads_instance,
    loads_schedule_contacts,
    schedule_to_json,
)
from groundlink.scheduling.model import (
    DemandKind,
    Instance,
    Interval,
    Opportunity,
    Request,
    Resource,
    Schedule,
    ScheduledContact,
    TenantShare,
    Unserved,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "schedule_instance.json"


def _utc(text: str) -> datetime:
    """An ISO-8601 'Z' time parsed by the standard library alone (the outside reading)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def example() -> Instance:
    return loads_instance(EXAMPLE.read_text(encoding="utf-8"), source=str(EXAMPLE))


# --- the documented example ---------------------------------------------------------------------


def test_the_example_reads_as_its_raw_json_says(raw: dict[str, Any], example: Instance) -> None:
    epoch = _utc(raw["start"])
    assert example.epoch == epoch
    assert example.horizon_s == (_utc(raw["end"]) - epoch).total_seconds() == 6 * 3600
    assert [r.id for r in example.resources] == [r["id"] for r in raw["resources"]]
    assert [q.id for q in example.requests] == [q["id"] for q in raw["requests"]]
    assert len(example.opportunities) == len(raw["opportunities"])
    assert len(example.fixed) == len(raw["fixed"])
    for item, opportunity in zip(raw["opportunities"], example.opportunities, strict=True):
        assert opportunity.id == item["id"]
        assert opportunity.resources == tuple(item["resources"])
        assert opportunity.start_s == (_utc(item["start"]) - epoch).total_seconds()
        assert opportunity.end_s == (_utc(item["end"]) - epoch).total_seconds()
        for name in ("start_azimuth_deg", "end_azimuth_deg", "start_elevation_deg"):
            if name in item:
                assert getattr(opportunity, name) == item[name]
            else:
                assert math.isnan(getattr(opportunity, name))
    assert dict(example.tenant_weights) == raw["tenant_weights"]
    assert dict(example.max_simultaneous) == raw["max_simultaneous"]


def test_the_example_uses_every_kind_of_field(example: Instance) -> None:
    """Durations in seconds or ISO-8601, every demand kind, arrays, fixed contacts, limits."""
    awarua = example.resources[2]
    assert awarua.turnaround_s == 120.0  # "PT2M"
    assert awarua.maintenance == (Interval(7200.0, 10800.0),)
    assert awarua.max_az_rate_deg_s is None
    kinds = {q.demand_kind for q in example.requests}
    assert kinds == {DemandKind.CONTACTS, DemandKind.SECONDS, DemandKind.BYTES}
    volume = example.requests[1]
    assert (volume.earliest_s, volume.latest_s) == (0.0, 4 * 3600.0)
    assert (volume.setup_s, volume.teardown_s) == (120.0, 60.0)
    contacts = example.requests[0]
    assert math.isinf(contacts.earliest_s) and math.isinf(contacts.latest_s)
    deep = example.requests[3]
    assert (deep.min_served, deep.value_weight, deep.max_contacts) == (3600.0, 1.5, None)
    assert example.requests[2].max_contacts == 2
    assert any(len(o.resources) == 2 for o in example.opportunities)
    assert {f.request for f in example.fixed} == {"eo1-contacts", ""}


# --- writing and the round trip -----------------------------------------------------------------


def test_writing_the_example_and_reading_it_back_gives_the_same_instance(
    example: Instance,
) -> None:
    text = dumps_instance(example)
    again = loads_instance(text)
    assert dumps_instance(again) == text
    assert again.requests == example.requests
    assert again.resources == example.resources
    assert again.fixed == example.fixed
    for before, after in zip(example.opportunities, again.opportunities, strict=True):
        assert _same_opportunity(before, after, 0.0)


def _same_opportunity(a: Opportunity, b: Opportunity, tolerance_s: float) -> bool:
    def same(x: float, y: float) -> bool:
        return (math.isnan(x) and math.isnan(y)) or x == y

    return (
        (a.id, a.request, a.resources, a.rate_bytes_s)
        == (b.id, b.request, b.resources, b.rate_bytes_s)
        and abs(a.start_s - b.start_s) <= tolerance_s
        and abs(a.end_s - b.end_s) <= tolerance_s
        and all(
            same(getattr(a, n), getattr(b, n))
            for n in (
                "start_azimuth_deg",
                "start_elevation_deg",
                "end_azimuth_deg",
                "end_elevation_deg",
            )
        )
    )


def test_fractional_times_round_trip_to_the_millisecond() -> None:
    epoch = datetime(2024, 6, 1, 0, 0, 0, 250_000, tzinfo=UTC)
    instance = Instance(
        epoch=epoch,
        horizon_s=3600.0,
        resources=(Resource("a", maintenance=(Interval(10.0004, 20.5),)),),
        requests=(
            Request("r", "t", "sc", 1.0, max_duration_s=600.0, earliest_s=1.25, latest_s=3599.5),
        ),
        opportunities=(Opportunity(0, "r", ("a",), 123.4567, 456.789, 1e6, 10.0, 5.0),),
    )
    document = instance_to_json(instance)
    assert document["start"] == "2024-06-01T00:00:00.250Z"
    assert document["opportunities"][0]["start"] == "2024-06-01T00:02:03.707Z"
    again = loads_instance(json.dumps(document))
    assert again.epoch == epoch
    assert _same_opportunity(again.opportunities[0], instance.opportunities[0], 0.0005)
    assert again.requests[0].earliest_s == 1.25 and again.requests[0].latest_s == 3599.5
    assert abs(again.resources[0].maintenance[0].start_s - 10.0004) <= 0.0005
    assert "max_duration_s" in document["requests"][0]


def test_unbounded_limits_and_unknown_pointing_are_left_out() -> None:
    instance = Instance(
        epoch=datetime(2024, 6, 1, tzinfo=UTC),
        horizon_s=600.0,
        resources=(Resource("a"),),
        requests=(Request("r", "t", "sc", 2.0),),
        opportunities=(Opportunity(0, "r", ("a",), 0.0, 300.0),),
    )
    request = instance_to_json(instance)["requests"][0]
    opportunity = instance_to_json(instance)["opportunities"][0]
    assert not {"max_duration_s", "earliest", "latest", "max_contacts", "value_weight"} & set(
        request
    )
    assert "start_azimuth_deg" not in opportunity
    again = loads_instance(dumps_instance(instance, indent=None))
    assert math.isinf(again.requests[0].max_duration_s)
    assert math.isnan(again.opportunities[0].end_elevation_deg)


# --- errors name the field path, the value and what was expected --------------------------------


def _mutated(raw: dict[str, Any], path: list[str | int], value: object) -> str:
    document = json.loads(json.dumps(raw))
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(document)


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field", "expected"),
    [
        (["format"], "groundlink-schedule-instance/2", "format", INSTANCE_FORMAT),
        (["requests", 1, "tenant"], _DELETE, "requests[1].tenant", "required"),
        (["requests", 0, "prioriy"], 1, "requests[0].prioriy", "no such field"),
        (["requests", 0, "priority"], "high", "requests[0].priority", "integer"),
        (["requests", 0, "priority"], 7, "requests[eo1-contacts].priority", "1-5"),
        (["requests", 0, "demand_kind"], "hours", "requests[0].demand_kind", "'contacts'"),
        (["opportunities", 2, "start"], "yesterday", "opportunities[2].start", "ISO-8601"),
        (["resources", 0, "turnaround_s"], "5 min", "resources[0].turnaround_s", "PT5M"),
        (["resources", 0, "turnaround_s"], -1, "resources[sva-1].turnaround_s", "non-negative"),
        (["opportunities", 0, "request"], "nope", "opportunities[0].request", "id of a request"),
        (["opportunities", 0, "resources"], ["sva-9"], "opportunities[0].resources", "resources"),
        (
            ["resources", 2, "maintenance", 0, "end"],
            "2024-06-01T01:00:00Z",
            "resources[2].maintenance[0].end",
            "after",
        ),
        (["end"], "2024-05-31T00:00:00Z", "end", "after start"),
    ],
)
def test_a_bad_field_is_named_with_its_value_and_what_was_expected(
    raw: dict[str, Any], path: list[str | int], value: object, field: str, expected: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        loads_instance(_mutated(raw, path, value), source="mine.json")
    error = caught.value
    assert error.field == field
    assert expected in error.expected
    assert error.source == "mine.json"
    assert error.message.startswith(f"mine.json: {field}: got ")
    if value is not _DELETE:
        assert str(value if not isinstance(value, list) else value[0]) in error.value


def test_invalid_json_says_where() -> None:
    with pytest.raises(InvalidInput) as caught:
        loads_instance('{\n "format": "groundlink-schedule-instance/1",\n "name": }', source="x")
    assert caught.value.expected == "valid JSON"
    assert "line 3" in caught.value.value


# --- the result object --------------------------------------------------------------------------


def _schedule(example: Instance) -> Schedule:
    contacts = (
        ScheduledContact("eo1-contacts", 0, ("sva-1",), 600.0, 1080.0),
        ScheduledContact("ds1-track", 9, ("sva-1", "sva-2"), 11400.0, 16800.0),
        ScheduledContact("eo1-contacts", -1, ("awa-1",), 15000.0, 15480.0, fixed=True),
        ScheduledContact("iot7-time", 7, ("sva-1",), 1800.0, 2280.5),
    )
    return Schedule(
        contacts=contacts,
        value=8642.0,
        bound=9494.0,
        bound_method="lp",
        solver="greedy+cpsat",
        solve_s=10.02,
        status="feasible",
        shares=(TenantShare("polar-eo", 10.0, 20.0, 0.5, 0.6, 0.5 / 0.6),),
        unserved=(Unserved("eo2-volume", 0.0, 4e9, "busy_higher_priority", "sva-1 busy"),),
    )


def test_the_result_object_has_the_documented_fields(example: Instance) -> None:
    schedule = _schedule(example)
    document = json.loads(json.dumps(schedule_to_json(example, schedule), allow_nan=False))
    assert {"value", "bound", "gap", "solve_s", "contacts"} <= set(document)
    assert document["gap"] == pytest.approx((9494 - 8642) / 9494)
    assert 0 <= document["gap"] <= 1
    assert (document["status"], document["bound_method"]) == ("feasible", "lp")
    starts = [_utc(c["start"]) for c in document["contacts"]]
    assert starts == sorted(starts)
    array = next(c for c in document["contacts"] if c["request"] == "ds1-track")
    assert array["resource"] == "sva-1_sva-2" and array["resources"] == ["sva-1", "sva-2"]
    assert _utc(array["start"]) == _utc("2024-06-01T03:10:00Z")
    assert _utc(array["end"]) == _utc("2024-06-01T04:40:00Z")
    assert (array["tenant"], array["spacecraft"]) == ("deep-space", "DS-1")
    iot = next(c for c in document["contacts"] if c["request"] == "iot7-time")
    assert iot["end"] == "2024-06-01T00:38:00.500Z"
    assert [c["fixed"] for c in document["contacts"]].count(True) == 1
    assert document["shares"][0]["tenant"] == "polar-eo"
    assert document["unserved"][0]["reason"] == "busy_higher_priority"


def test_the_contacts_of_a_result_read_back(example: Instance) -> None:
    schedule = _schedule(example)
    text = json.dumps(schedule_to_json(example, schedule))
    contacts = loads_schedule_contacts(text, example)
    assert sorted(contacts, key=lambda c: c.start_s) == sorted(
        schedule.contacts, key=lambda c: c.start_s
    )
    with pytest.raises(InvalidInput) as caught:
        loads_schedule_contacts('{"contacts": [{"request": "x"}]}', example, source="r.json")
    assert caught.value.field == "contacts[0].resources"
