"""``/v1/schedules``: plan a fleet's needs over the network, then book the plan.

The plan is checked from the outside: every planned contact lies inside a
contact that ``GET /v1/contacts/available`` offers, no two planned contacts
conflict by the conflict rule, and committing books exactly the plan.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from api_fixtures import Api, api_for
from db_fixtures import NOW
from groundlink.contacts.conflicts import find_antenna_conflicts, iso_z
from test_api_available import END, START, XBAND, _spacecraft


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


@pytest.fixture(scope="module")
def station(api: Api) -> dict[str, Any]:
    return api.station(
        antennas=[{"name": "dish-1", "g_over_t_db_k": 31.0, "bands": [XBAND], "turnaround_s": 60}]
    )


def _plan(api: Api, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """POST a schedule and wait for the job to end; the job as JSON."""
    response = api.client.post(
        "/v1/schedules",
        json={"start": iso_z(START), "end": iso_z(END), "time_limit_s": 2, **body},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    assert job["status"] == "queued"
    deadline = time.monotonic() + 120
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        job = api.client.get(f"/v1/schedules/{job['id']}", headers=headers).json()
    assert job["status"] == "succeeded", job
    return job


def _t(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _offered(api: Api, headers: dict[str, str], station_id: str) -> list[dict[str, Any]]:
    query = {"start": iso_z(START), "end": iso_z(END), "station_id": station_id}
    response = api.client.get(
        "/v1/contacts/available", params=query | {"max_results": 100}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _assert_valid(plan: dict[str, Any], offered: list[dict[str, Any]]) -> None:
    contacts = plan["contacts"]
    for contact in contacts:
        inside = [
            o
            for o in offered
            if o["spacecraft_id"] == contact["spacecraft_id"]
            and o["antenna_id"] == contact["antenna_id"]
            and _t(o["aos"]) - 1e-3 <= _t(contact["aos"])
            and _t(contact["los"]) <= _t(o["los"]) + 1e-3
        ]
        assert inside, f"{contact} lies in no offered contact"
    if len(contacts) > 1:
        starts = [_t(c["aos"]) - c["prepass_s"] for c in contacts]
        ends = [_t(c["los"]) + c["postpass_s"] for c in contacts]
        antennas = [c["antenna_id"] for c in contacts]
        assert find_antenna_conflicts(starts, ends, antennas, 60.0).shape[0] == 0
    assert plan["value"] <= plan["bound"] + 1e-6
    if plan["bound"] > 0:
        assert plan["gap"] == pytest.approx((plan["bound"] - plan["value"]) / plan["bound"])


def test_plans_a_fleet_and_commits_the_plan(api: Api, station: dict[str, Any]) -> None:
    headers = api.tenant()
    crafts = [_spacecraft(api, headers, i) for i in range(2)]
    requests = [
        {"spacecraft_id": c["id"], "contacts_per_day": 2, "min_duration_s": 120} for c in crafts
    ]
    job = _plan(api, headers, requests=requests, station_ids=[station["id"]])
    plan = job["plan"]
    assert job["progress"] == 1.0
    _assert_valid(plan, _offered(api, headers, station["id"]))
    per_craft = {c["id"]: 0 for c in crafts}
    for contact in plan["contacts"]:
        per_craft[contact["spacecraft_id"]] += 1
        assert _t(contact["los"]) - _t(contact["aos"]) >= 120 - 1e-3
    # Polar orbits over Svalbard pass many times a day: two contacts each fit on one antenna.
    assert all(count == 2 for count in per_craft.values()), per_craft
    assert plan["unserved"] == []
    assert [s["tenant_id"] for s in plan["shares"]] and plan["shares"][0]["share"] == 1.0

    committed = api.client.post(f"/v1/schedules/{job['id']}/commit", headers=headers)
    assert committed.status_code == 200, committed.text
    commit = committed.json()["commit"]
    assert commit["refused"] == []
    assert len(commit["booked"]) == len(plan["contacts"])
    listed = api.client.get("/v1/contacts", headers=headers).json()["items"]
    assert sorted(c["id"] for c in listed) == sorted(commit["booked"])
    assert sorted((c["antenna_id"], c["aos"]) for c in listed) == sorted(
        (c["antenna_id"], c["aos"]) for c in plan["contacts"]
    )
    again = api.client.post(f"/v1/schedules/{job['id']}/commit", headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "schedule_committed"


def test_commit_refuses_a_contact_taken_meanwhile_and_books_the_rest(
    api: Api, station: dict[str, Any]
) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 2)
    job = _plan(
        api,
        headers,
        requests=[{"spacecraft_id": craft["id"], "contacts_per_day": 3}],
        station_ids=[station["id"]],
    )
    planned = job["plan"]["contacts"]
    assert len(planned) >= 2
    rival = api.tenant()
    rival_craft = _spacecraft(api, rival, 3)
    taken = planned[0]
    booked = api.client.post(
        "/v1/contacts",
        json={
            "spacecraft_id": rival_craft["id"],
            "antenna_id": taken["antenna_id"],
            "aos": taken["aos"],
            "los": taken["los"],
        },
        headers=rival,
    )
    assert booked.status_code == 201, booked.text
    commit = api.client.post(f"/v1/schedules/{job['id']}/commit", headers=headers).json()["commit"]
    assert [r["index"] for r in commit["refused"]] == [0]
    assert commit["refused"][0]["code"] == "ContactConflict"
    assert len(commit["booked"]) == len(planned) - 1


def test_reports_why_a_request_is_not_fully_served(api: Api, station: dict[str, Any]) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 4)
    job = _plan(
        api,
        headers,
        requests=[{"spacecraft_id": craft["id"], "contacts_per_day": 40, "priority": 2}],
        station_ids=[station["id"]],
    )
    plan = job["plan"]
    (unserved,) = plan["unserved"]
    assert unserved["request_index"] == 0
    assert unserved["unit"] == "contacts"
    assert unserved["demand"] == pytest.approx(40)
    assert unserved["served"] == len(plan["contacts"]) < 40
    assert unserved["reason"] and unserved["detail"]
    assert plan["value"] < plan["bound"] or plan["bound"] < 16.0


def test_a_network_administrator_plans_two_tenants_and_each_gets_its_own_contacts(
    api: Api, station: dict[str, Any]
) -> None:
    first, second = api.tenant(), api.tenant()
    craft_a, craft_b = _spacecraft(api, first, 5), _spacecraft(api, second, 6)
    requests = [
        {"spacecraft_id": craft_a["id"], "contacts_per_day": 1},
        {"spacecraft_id": craft_b["id"], "contacts_per_day": 1},
    ]
    job = _plan(api, api.admin, requests=requests, station_ids=[station["id"]])
    assert len(job["plan"]["shares"]) == 2
    # Tenants cannot plan for each other.
    refused = api.client.post(
        "/v1/schedules",
        json={"start": iso_z(START), "end": iso_z(END), "requests": requests},
        headers=first,
    )
    assert refused.status_code == 404
    committed = api.client.post(f"/v1/schedules/{job['id']}/commit", headers=api.admin)
    assert committed.status_code == 200, committed.text
    mine = api.client.get("/v1/contacts", headers=first).json()["items"]
    theirs = api.client.get("/v1/contacts", headers=second).json()["items"]
    assert {c["spacecraft_id"] for c in mine} == {craft_a["id"]}
    assert {c["spacecraft_id"] for c in theirs} == {craft_b["id"]}
    assert api.client.get(f"/v1/schedules/{job['id']}", headers=first).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": iso_z(START - timedelta(hours=1))}, "end"),
        ({"end": iso_z(START + timedelta(days=8))}, "end"),
        ({"requests": [{"spacecraft_id": "x", "contacts_per_day": 1, "seconds_per_day": 60}]}, "0"),
        ({"requests": [{"spacecraft_id": "x"}]}, "0"),
        ({"requests": [{"spacecraft_id": "x", "contacts_per_day": 1, "priority": 9}]}, "priority"),
        ({"status": "succeeded"}, "status"),
    ],
)
def test_bad_requests_are_422_naming_the_field(
    api: Api, change: dict[str, Any], field: str
) -> None:
    headers = api.tenant()
    body = {
        "start": iso_z(START),
        "end": iso_z(END),
        "requests": [{"spacecraft_id": "sc-none", "contacts_per_day": 1}],
        **change,
    }
    response = api.client.post("/v1/schedules", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_unknown_ids_are_404(api: Api) -> None:
    headers = api.tenant()
    body = {
        "start": iso_z(START),
        "end": iso_z(END),
        "requests": [{"spacecraft_id": "sc-none", "contacts_per_day": 1}],
    }
    assert api.client.post("/v1/schedules", json=body, headers=headers).status_code == 404
    assert api.client.get("/v1/schedules/sch-none", headers=headers).status_code == 404
    assert api.client.post("/v1/schedules/sch-none/commit", headers=headers).status_code == 404


def test_a_plan_starting_now_leaves_out_contacts_inside_their_lock_time(
    api: Api, station: dict[str, Any]
) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 7)
    job = _plan(
        api,
        headers,
        start=iso_z(NOW),
        end=iso_z(NOW + timedelta(hours=6)),
        requests=[{"spacecraft_id": craft["id"], "contacts_per_day": 20}],
        station_ids=[station["id"]],
    )
    planned = job["plan"]["contacts"]
    assert planned
    lock_s = 15 * 60 + 2 + 60  # lock time, the solver's time limit, a minute (docs)
    assert all(_t(c["aos"]) - c["prepass_s"] >= NOW.timestamp() + lock_s for c in planned)
    commit = api.client.post(f"/v1/schedules/{job['id']}/commit", headers=headers).json()
    assert commit["commit"]["refused"] == []
    assert len(commit["commit"]["booked"]) == len(planned)


def test_commit_in_the_request_books_the_plan_when_it_is_ready(
    api: Api, station: dict[str, Any]
) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 8)
    job = _plan(
        api,
        headers,
        requests=[{"spacecraft_id": craft["id"], "contacts_per_day": 2}],
        station_ids=[station["id"]],
        commit=True,
    )
    planned = job["plan"]["contacts"]
    assert len(planned) == 2
    assert job["committed_at"] is not None
    assert job["commit"]["refused"] == []
    listed = api.client.get("/v1/contacts", headers=headers).json()["items"]
    assert sorted(c["id"] for c in listed) == sorted(job["commit"]["booked"])
    again = api.client.post(f"/v1/schedules/{job['id']}/commit", headers=headers)
    assert again.status_code == 409
