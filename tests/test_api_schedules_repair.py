"""``POST /v1/schedules`` with ``"mode": "repair"``: re-plan booked contacts after maintenance.

The repair is checked from the outside, against what the database holds:
the previous plan is exactly the contacts booked in the window, the contacts
kept are exactly those the maintenance window does not touch, no contact of
the repaired plan overlaps the window or conflicts with another, a dry run
changes nothing, and committing leaves exactly the repaired plan booked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from api_fixtures import Api, api_for
from groundlink.contacts.conflicts import find_antenna_conflicts, iso_z
from test_api_available import END, START, XBAND, _spacecraft
from test_api_schedules import _plan

TURNAROUND_S = 60.0


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


@pytest.fixture
def station(api: Api) -> dict[str, Any]:
    """A station of its own for each test: two antennas that hear the same passes."""
    dish = {"g_over_t_db_k": 31.0, "bands": [XBAND], "turnaround_s": TURNAROUND_S}
    return api.station(antennas=[{"name": "dish-1", **dish}, {"name": "dish-2", **dish}])


def _one_antenna_station(api: Api) -> dict[str, Any]:
    dish = {"g_over_t_db_k": 31.0, "bands": [XBAND], "turnaround_s": TURNAROUND_S}
    return api.station(antennas=[{"name": "dish-1", **dish}])


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _active(api: Api, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = api.client.get("/v1/contacts", params={"max_results": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return [c for c in response.json()["items"] if c["status"] == "SCHEDULED"]


def _booked_plan(
    api: Api, headers: dict[str, str], station: dict[str, Any], requests: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Plan ``requests`` on ``station`` and book the plan; the contacts booked."""
    job = _plan(api, headers, requests=requests, station_ids=[station["id"]], commit=True)
    assert job["commit"]["refused"] == []
    return _active(api, headers)


def _maintenance(
    api: Api, station: dict[str, Any], antenna_id: str, start: datetime, end: datetime
) -> list[str]:
    """Add a maintenance window; the ids of the contacts it says are affected."""
    response = api.client.post(
        f"/v1/ground-stations/{station['id']}/maintenance",
        json={"antenna_id": antenna_id, "start": iso_z(start), "end": iso_z(end)},
        headers=api.admin,
    )
    assert response.status_code == 201, response.text
    return [c["id"] for c in response.json()["affected_contacts"]]


def _reserved(contact: dict[str, Any]) -> tuple[datetime, datetime]:
    """The span a booked contact (or a planned one, by its pre/post-pass) holds its antenna."""
    if "reserved_start" in contact:
        return _t(contact["reserved_start"]), _t(contact["reserved_end"])
    return (
        _t(contact["aos"]) - timedelta(seconds=contact["prepass_s"]),
        _t(contact["los"]) + timedelta(seconds=contact["postpass_s"]),
    )


def _outside(contact: dict[str, Any], antenna_id: str, start: datetime, end: datetime) -> bool:
    """True if ``contact``'s reserved span stays clear of ``[start, end)`` on ``antenna_id``."""
    reserved_start, reserved_end = _reserved(contact)
    return contact["antenna_id"] != antenna_id or reserved_end <= start or end <= reserved_start


def _no_conflicts(contacts: list[dict[str, Any]]) -> None:
    spans = [_reserved(c) for c in contacts]
    starts = [start.timestamp() for start, _end in spans]
    ends = [end.timestamp() for _start, end in spans]
    antennas = [c["antenna_id"] for c in contacts]
    assert find_antenna_conflicts(starts, ends, antennas, TURNAROUND_S).shape[0] == 0


def _spans(contacts: list[dict[str, Any]]) -> list[tuple[str, datetime, datetime]]:
    return sorted((c["antenna_id"], _t(c["aos"]), _t(c["los"])) for c in contacts)


def test_an_outage_is_repaired_keeping_every_contact_it_does_not_touch(
    api: Api, station: dict[str, Any]
) -> None:
    headers = api.tenant()
    crafts = [_spacecraft(api, headers, i) for i in range(2)]
    requests = [
        {"spacecraft_id": c["id"], "contacts_per_day": 3, "min_duration_s": 120} for c in crafts
    ]
    booked = _booked_plan(api, headers, station, requests)
    assert len(booked) == 6
    hit = booked[2]
    down_from = _t(hit["reserved_start"]) - timedelta(minutes=20)
    down_to = _t(hit["reserved_end"]) + timedelta(minutes=20)
    affected = _maintenance(api, station, hit["antenna_id"], down_from, down_to)
    assert hit["id"] in affected

    job = _plan(api, headers, requests=requests, station_ids=[station["id"]], mode="repair")
    plan, repair = job["plan"], job["plan"]["repair"]
    assert plan["solver"] == "repair"
    kept = {c["contact_id"] for c in repair["kept"]}
    moved = {m["before"]["contact_id"] for m in repair["moved"]}
    dropped = {c["contact_id"] for c in repair["dropped"]}
    # The previous plan is every contact booked, and only what the outage touches changes.
    assert kept | moved | dropped == {c["id"] for c in booked}
    assert kept == {c["id"] for c in booked} - set(affected)
    assert moved | dropped == set(affected)
    assert repair["untouched"] == []
    assert repair["changed"] == len(moved) + len(dropped) + len(repair["added"])
    # The other antenna hears the same pass: the contact moves rather than being dropped.
    assert moved == set(affected) and not repair["added"]
    for contact in plan["contacts"]:
        assert _outside(contact, hit["antenna_id"], down_from, down_to), contact
    _no_conflicts(plan["contacts"])
    planned_ids = {c["contact_id"] for c in plan["contacts"]}
    assert planned_ids == kept | moved

    # A dry run: nothing changed yet.
    assert _spans(_active(api, headers)) == _spans(booked)

    committed = api.client.post(f"/v1/schedules/{job['id']}/commit", headers=headers)
    assert committed.status_code == 200, committed.text
    changes = committed.json()["commit"]["changes"]
    assert [c["done"] for c in changes] == [True] * len(moved)
    after = _active(api, headers)
    assert _spans(after) == _spans(plan["contacts"])
    assert all(_outside(c, hit["antenna_id"], down_from, down_to) for c in after)
    # A move to the other antenna is a new reservation: the old contact is cancelled.
    assert {c["id"] for c in after} == kept | {c["new_contact_id"] for c in changes}

    again = _plan(api, headers, requests=requests, station_ids=[station["id"]], mode="repair")
    assert again["plan"]["repair"]["changed"] == 0
    assert len(again["plan"]["repair"]["kept"]) == len(after)
    # Passes found again over another window move by milliseconds: still all kept.
    shifted = _plan(
        api,
        headers,
        requests=requests,
        station_ids=[station["id"]],
        mode="repair",
        start=iso_z(START - timedelta(minutes=37)),
    )
    assert len(shifted["plan"]["repair"]["kept"]) == len(after)


def test_a_move_on_its_own_antenna_keeps_the_contact_id(api: Api) -> None:
    station = _one_antenna_station(api)
    headers = api.tenant()
    craft = _spacecraft(api, headers, 2)
    requests = [{"spacecraft_id": craft["id"], "contacts_per_day": 1, "min_duration_s": 120}]
    (booked,) = _booked_plan(api, headers, station, requests)
    # The start of its pass goes down: the contact moves later in the same pass.
    maintenance_end = _t(booked["aos"]) + timedelta(seconds=30)
    _maintenance(api, station, booked["antenna_id"], _t(booked["reserved_start"]), maintenance_end)
    job = _plan(api, headers, requests=requests, station_ids=[station["id"]], mode="repair")
    repair = job["plan"]["repair"]
    (move,) = repair["moved"]
    after = move["after"]
    assert move["before"]["contact_id"] == booked["id"]
    assert after["antenna_id"] == booked["antenna_id"]
    assert _t(after["aos"]) - timedelta(seconds=after["prepass_s"]) >= maintenance_end
    commit = api.client.post(f"/v1/schedules/{job['id']}/commit", headers=headers).json()
    (change,) = commit["commit"]["changes"]
    assert change["done"], change
    (now_booked,) = _active(api, headers)
    assert (now_booked["antenna_id"], now_booked["aos"], now_booked["los"]) == (
        after["antenna_id"],
        after["aos"],
        after["los"],
    )
    in_place = after["antenna_id"] == booked["antenna_id"] and after["tca"] is not None
    assert (now_booked["id"] == booked["id"]) == in_place
    assert change["new_contact_id"] == (None if in_place else now_booked["id"])


def test_a_cancelled_contact_stays_cancelled_and_a_move_taken_meanwhile_is_refused(
    api: Api, station: dict[str, Any]
) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 3)
    requests = [{"spacecraft_id": craft["id"], "contacts_per_day": 3, "min_duration_s": 120}]
    booked = _booked_plan(api, headers, station, requests)
    assert len(booked) == 3
    cancelled = api.client.delete(f"/v1/contacts/{booked[0]['id']}", headers=headers)
    assert cancelled.status_code == 200, cancelled.text

    # A repair replaces what a change of the network took away, not what the operator
    # cancelled: with no outage, it changes nothing.
    job = _plan(api, headers, requests=requests, station_ids=[station["id"]], mode="repair")
    repair = job["plan"]["repair"]
    assert {c["contact_id"] for c in repair["kept"]} == {c["id"] for c in booked[1:]}
    assert (repair["changed"], repair["added"]) == (0, [])

    # An outage over the second contact moves it to the other antenna; a rival books
    # that slot before the commit.
    hit = booked[1]
    _maintenance(api, station, hit["antenna_id"], _t(hit["reserved_start"]), _t(hit["los"]))
    job = _plan(api, headers, requests=requests, station_ids=[station["id"]], mode="repair")
    (move,) = job["plan"]["repair"]["moved"]
    target = move["after"]
    assert target["antenna_id"] != hit["antenna_id"]
    rival = api.tenant()
    rival_craft = _spacecraft(api, rival, 4)
    taken = api.client.post(
        "/v1/contacts",
        json={
            "spacecraft_id": rival_craft["id"],
            "antenna_id": target["antenna_id"],
            "aos": target["aos"],
            "los": target["los"],
        },
        headers=rival,
    )
    assert taken.status_code == 201, taken.text
    commit = api.client.post(f"/v1/schedules/{job['id']}/commit", headers=headers).json()
    (change,) = commit["commit"]["changes"]
    assert (change["action"], change["done"], change["code"]) == ("move", False, "ContactConflict")
    assert "antenna conflict" in change["message"]
    assert commit["commit"]["booked"] == []
    # Refused, so nothing was cancelled: the contact in the outage is still booked.
    assert {c["id"] for c in _active(api, headers)} == {c["id"] for c in booked[1:]}


def test_contacts_the_repair_cannot_change_are_untouched_and_still_hold_their_antenna(
    api: Api, station: dict[str, Any]
) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 5)
    requests = [{"spacecraft_id": craft["id"], "contacts_per_day": 2, "min_duration_s": 120}]
    booked = _booked_plan(api, headers, station, requests)
    # Booked by hand without pre/post-pass: the plan's contacts hold 120/60 s.
    first = booked[0]
    api.client.delete(f"/v1/contacts/{first['id']}", headers=headers)
    by_hand = api.client.post(
        "/v1/contacts",
        json={
            "spacecraft_id": craft["id"],
            "antenna_id": first["antenna_id"],
            "aos": first["aos"],
            "los": first["los"],
            "prepass_s": 0,
            "postpass_s": 0,
        },
        headers=headers,
    )
    assert by_hand.status_code == 201, by_hand.text
    _maintenance(
        api, station, first["antenna_id"], _t(first["aos"]), _t(first["los"]) + timedelta(hours=1)
    )
    job = _plan(api, headers, requests=requests, station_ids=[station["id"]], mode="repair")
    repair = job["plan"]["repair"]
    (untouched,) = repair["untouched"]
    assert untouched["contact"]["contact_id"] == by_hand.json()["id"]
    assert "pre-pass/post-pass (0/0 s)" in untouched["reason"]
    _no_conflicts(job["plan"]["contacts"] + [by_hand.json()])


def test_a_network_administrator_repairs_two_tenants_each_keeping_its_own(
    api: Api, station: dict[str, Any]
) -> None:
    first, second = api.tenant(), api.tenant()
    craft_a, craft_b = _spacecraft(api, first, 6), _spacecraft(api, second, 7)
    requests = [
        {"spacecraft_id": craft_a["id"], "contacts_per_day": 2, "min_duration_s": 120},
        {"spacecraft_id": craft_b["id"], "contacts_per_day": 2, "min_duration_s": 120},
    ]
    job = _plan(api, api.admin, requests=requests, station_ids=[station["id"]], commit=True)
    assert job["commit"]["refused"] == []
    booked = _active(api, first) + _active(api, second)
    assert len(booked) == 4
    antenna_id = booked[0]["antenna_id"]
    affected = _maintenance(api, station, antenna_id, START, END)
    assert affected

    # A tenant cannot repair the other's contacts.
    refused = api.client.post(
        "/v1/schedules",
        json={"start": iso_z(START), "end": iso_z(END), "requests": requests, "mode": "repair"},
        headers=first,
    )
    assert refused.status_code == 404
    job = _plan(
        api, api.admin, requests=requests, station_ids=[station["id"]], mode="repair", commit=True
    )
    repair = job["plan"]["repair"]
    assert {c["contact_id"] for c in repair["kept"]} == {c["id"] for c in booked} - set(affected)
    assert all(change["done"] for change in job["commit"]["changes"])
    for headers, craft in ((first, craft_a), (second, craft_b)):
        mine = _active(api, headers)
        assert {c["spacecraft_id"] for c in mine} == {craft["id"]}
        assert all(c["antenna_id"] != antenna_id for c in mine)
    assert _spans(_active(api, first) + _active(api, second)) == _spans(job["plan"]["contacts"])


def test_explanations_name_the_platforms_ids(api: Api) -> None:
    station = _one_antenna_station(api)
    headers = api.tenant()
    crafts = [_spacecraft(api, headers, i) for i in range(8)]
    requests = [
        {
            "spacecraft_id": craft["id"],
            "seconds_per_day": 20_000,
            "min_duration_s": 300,
            "priority": 1 + i % 5,
        }
        for i, craft in enumerate(crafts)
    ]
    job = _plan(api, headers, requests=requests, station_ids=[station["id"]])
    unserved = job["plan"]["unserved"]
    (antenna,) = station["antennas"]
    examples = 0
    for item in unserved:
        detail = item["detail"]
        assert not re.search(r"\br\d+\b", detail), detail
        for index, craft_id in re.findall(r"request (\d+) of (sc-\w+)", detail):
            assert requests[int(index)]["spacecraft_id"] == craft_id
            assert f"on {antenna['id']} at" in detail
            examples += 1
    # One antenna for eight spacecraft: some passes go to others, named as examples.
    assert examples


def test_a_repair_names_fairness_as_a_reason_only_when_the_job_applies_fairness(
    api: Api,
) -> None:
    # Four spacecraft of one tenant and one of another share one antenna: the plan gives
    # the second tenant passes the first wanted, and says "fairness" for them.
    station = _one_antenna_station(api)
    first, second = api.tenant(), api.tenant()
    crafts = [_spacecraft(api, first, i) for i in range(4)] + [_spacecraft(api, second, 4)]
    requests = [
        {"spacecraft_id": c["id"], "seconds_per_day": 20_000, "min_duration_s": 120} for c in crafts
    ]
    job = _plan(api, api.admin, requests=requests, station_ids=[station["id"]], commit=True)
    assert "fairness" in {u["reason"] for u in job["plan"]["unserved"]}
    booked = _active(api, first) + _active(api, second)
    hit = booked[len(booked) // 2]
    _maintenance(api, station, hit["antenna_id"], *_reserved(hit))

    repaired = {
        fairness: _plan(
            api,
            api.admin,
            requests=requests,
            station_ids=[station["id"]],
            mode="repair",
            fairness=fairness,
        )["plan"]
        for fairness in (True, False)
    }
    # The repair itself has no fairness rule: the same contacts either way; only the
    # reasons differ, and "fairness" is never given when the job does not apply it.
    assert _spans(repaired[True]["contacts"]) == _spans(repaired[False]["contacts"])
    reasons = {f: [u["reason"] for u in plan["unserved"]] for f, plan in repaired.items()}
    assert "fairness" in reasons[True]
    assert "fairness" not in reasons[False]
    assert len(reasons[True]) == len(reasons[False])
