"""``GET /v1/contacts/available`` on the database: fleet, ephemeris rule, busy antennas, paging."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from api_fixtures import Api, api_for
from db_fixtures import NOW
from groundlink.adapters.db.models import MaintenanceWindow
from groundlink.contacts.conflicts import iso_z
from groundlink.orbits.ingest import demo_fleet

XBAND_LINK = {
    "direction": "downlink",
    "center_frequency_hz": 8_212_500_000,
    "bandwidth_hz": 15_000_000,
    "polarization": "RIGHT_HAND",
    "eirp_dbw": 12.5,
    "data_rate_bps": 150e6,
}
XBAND = {"name": "X", "min_hz": 8_025_000_000, "max_hz": 8_400_000_000, "direction": "downlink"}
#: The window: a day, starting a day after the tests' clock.
START = NOW + timedelta(days=1)
END = START + timedelta(days=1)


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


def _omm(index: int, epoch_shift: timedelta = timedelta(0)) -> str:
    """A demo-fleet EO satellite's elements, moved to an epoch just before the window."""
    elements = demo_fleet()[index]
    moved = replace(elements, epoch=START - timedelta(hours=6) + epoch_shift)
    return json.dumps(moved.to_omm())


def _station(api: Api) -> dict[str, Any]:
    return api.station(
        antennas=[{"name": "dish-1", "g_over_t_db_k": 31.0, "bands": [XBAND], "turnaround_s": 60}]
    )


def _spacecraft(api: Api, headers: dict[str, str], index: int = 0) -> dict[str, Any]:
    craft = api.spacecraft(headers, rf_links=[XBAND_LINK])
    response = api.client.post(
        f"/v1/spacecraft/{craft['id']}/ephemerides",
        json={"text": _omm(index), "format": "json"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return craft


def _seconds_apart(a: str, b: str) -> float:
    return abs((datetime.fromisoformat(a) - datetime.fromisoformat(b)).total_seconds())


def _available(api: Api, headers: dict[str, str], **params: Any) -> Any:
    query = {"start": iso_z(START), "end": iso_z(END), **params}
    response = api.client.get("/v1/contacts/available", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def station(api: Api) -> dict[str, Any]:
    return _station(api)


def test_lists_the_fleets_contacts_with_their_geometry_and_volume(
    api: Api, station: dict[str, Any]
) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers)
    page = _available(api, headers, station_id=station["id"], max_results=100)
    assert page["skipped"] == []
    assert page["next_token"] is None
    items = page["items"]
    assert len(items) >= 3  # a polar orbit over Svalbard: several passes a day
    first = items[0]
    assert first["spacecraft_id"] == craft["id"]
    assert first["station_id"] == station["id"]
    assert first["station_name"] == station["name"]
    assert first["antenna_id"] == station["antennas"][0]["id"]
    assert first["antenna_name"] == "dish-1"
    assert first["aos"] < first["tca"] < first["los"]
    assert first["aos"].endswith("Z")
    assert 0 <= first["max_elevation_deg"] <= 90
    assert first["volume_bytes"] > 0
    assert first["available_contact_id"].startswith(craft["id"])
    assert [i["aos"] for i in items] == sorted(i["aos"] for i in items)
    assert all(START.isoformat()[:10] <= i["aos"][:10] for i in items)


def test_pages_cover_every_contact_once_and_sort_descending(
    api: Api, station: dict[str, Any]
) -> None:
    headers = api.tenant()
    _spacecraft(api, headers, 0)
    _spacecraft(api, headers, 1)
    everything = _available(api, headers, station_id=station["id"], max_results=100)["items"]
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"station_id": station["id"], "max_results": 3}
        params |= {"sort_by": "volume_bytes", "descending": True}
        if token:
            params["next_token"] = token
        page = _available(api, headers, **params)
        seen += [i["available_contact_id"] for i in page["items"]]
        volumes = [i["volume_bytes"] for i in page["items"]]
        assert volumes == sorted(volumes, reverse=True)
        token = page["next_token"]
        if token is None:
            break
    assert sorted(seen) == sorted(i["available_contact_id"] for i in everything)
    assert len(set(seen)) == len(seen)


def test_a_booked_contact_and_maintenance_take_passes_away(
    api: Api, station: dict[str, Any]
) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 2)
    params = {"station_id": station["id"], "spacecraft_id": craft["id"], "max_results": 100}
    before = _available(api, headers, **params)["items"]
    chosen = before[0]
    body = {
        "spacecraft_id": craft["id"],
        "antenna_id": chosen["antenna_id"],
        "aos": chosen["aos"],
        "tca": chosen["tca"],
        "los": chosen["los"],
    }
    booked = api.client.post("/v1/contacts", json=body, headers=headers)
    assert booked.status_code == 201, booked.text
    after = _available(api, headers, **params)["items"]
    ids = {i["available_contact_id"] for i in after}
    assert chosen["available_contact_id"] not in ids
    assert len(after) == len(before) - 1

    # the contact is cancelled, the antenna goes into maintenance for the whole window
    api.client.delete(f"/v1/contacts/{booked.json()['id']}", headers=headers)
    assert len(_available(api, headers, **params)["items"]) == len(before)
    with api.sessions.begin() as session:
        window = MaintenanceWindow(
            antenna_id=chosen["antenna_id"], start=START, end=END, reason="test"
        )
        session.add(window)
    try:
        assert _available(api, headers, **params)["items"] == []
    finally:
        with api.sessions.begin() as session:
            session.delete(session.get(MaintenanceWindow, window.id))


def test_ephemeris_rule_and_skipped_spacecraft(api: Api, station: dict[str, Any]) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 0)
    bare = api.spacecraft(headers, rf_links=[XBAND_LINK])
    silent = api.spacecraft(headers)
    response = api.client.post(
        f"/v1/spacecraft/{silent['id']}/ephemerides",
        json={"text": _omm(0), "format": "json"},
        headers=headers,
    )
    assert response.status_code == 201
    page = _available(api, headers, station_id=station["id"])
    skipped = {s["spacecraft_id"]: s["reason"] for s in page["skipped"]}
    assert set(skipped) == {bare["id"], silent["id"]}
    assert "ephemeris" in skipped[bare["id"]]
    assert "downlink" in skipped[silent["id"]]
    assert {i["spacecraft_id"] for i in page["items"]} == {craft["id"]}

    # a disabled version of higher priority is ignored; an enabled one replaces the orbit
    url = f"/v1/spacecraft/{craft['id']}/ephemerides"
    first = [i["aos"] for i in page["items"]]
    disabled = {"text": _omm(3), "format": "json", "priority": 5, "enabled": False}
    assert api.client.post(url, json=disabled, headers=headers).status_code == 201
    again = _available(api, headers, station_id=station["id"], spacecraft_id=craft["id"])
    assert [i["aos"] for i in again["items"]] == first
    enabled = {"text": _omm(3), "format": "json", "priority": 5}
    assert api.client.post(url, json=enabled, headers=headers).status_code == 201
    changed = _available(api, headers, station_id=station["id"], spacecraft_id=craft["id"])
    assert [i["aos"] for i in changed["items"]] != first


def test_the_mission_profile_bands_and_elevation_apply(api: Api, station: dict[str, Any]) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 0)
    params = {"station_id": station["id"], "spacecraft_id": craft["id"], "max_results": 100}
    default = _available(api, headers, **params)["items"]
    high = api.client.post(
        "/v1/mission-profiles",
        json={"name": "high", "min_elevation_deg": 30, "prepass_s": 0, "postpass_s": 0},
        headers=headers,
    ).json()
    filtered = _available(api, headers, mission_profile_id=high["id"], **params)["items"]
    assert 0 < len(filtered) < len(default)
    assert all(i["max_elevation_deg"] >= 30 for i in filtered)
    assert all(i["reserved_start"] == i["aos"] for i in filtered)
    s_band = api.client.post(
        "/v1/mission-profiles",
        json={"name": "s-band", "links": [{"band_name": "S"}]},
        headers=headers,
    ).json()
    assert _available(api, headers, mission_profile_id=s_band["id"], **params)["items"] == []


def test_another_tenants_ids_are_404s(api: Api, station: dict[str, Any]) -> None:
    owner = api.tenant()
    craft = _spacecraft(api, owner, 0)
    profile = api.client.post("/v1/mission-profiles", json={"name": "mine"}, headers=owner).json()
    other = api.tenant()
    query = {"start": iso_z(START), "end": iso_z(END), "station_id": station["id"]}
    for params in ({"spacecraft_id": craft["id"]}, {"mission_profile_id": profile["id"]}):
        response = api.client.get(
            "/v1/contacts/available", params={**query, **params}, headers=other
        )
        assert response.status_code == 404, response.text
    unknown = {**query, "station_id": "gs-nope"}
    response = api.client.get("/v1/contacts/available", params=unknown, headers=other)
    assert response.status_code == 404
    assert _available(api, other, station_id=station["id"]) == {
        "items": [],
        "next_token": None,
        "skipped": [],
    }


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (START, START + timedelta(days=7, seconds=1), "end"),
        (END, START, "end"),
        (START, None, "end"),
        (START.replace(tzinfo=None), END, "start"),
    ],
)
def test_bad_windows_are_422s(api: Api, start: Any, end: Any, field: str) -> None:
    params = {"start": start.isoformat()}
    if end is not None:
        params["end"] = end.isoformat()
    response = api.client.get("/v1/contacts/available", params=params, headers=api.tenant())
    assert response.status_code == 422, response.text
    assert field in json.dumps(response.json()["detail"])


def test_bad_cursor_and_page_size_are_422s(api: Api, station: dict[str, Any]) -> None:
    headers = api.tenant()
    _spacecraft(api, headers, 0)
    query = {"start": iso_z(START), "end": iso_z(END), "station_id": station["id"]}
    for params in ({"next_token": "nonsense"}, {"max_results": 101}, {"sort_by": "name"}):
        response = api.client.get(
            "/v1/contacts/available", params={**query, **params}, headers=headers
        )
        assert response.status_code == 422, response.text


def test_not_shadowed_by_the_contact_route(api: Api) -> None:
    response = api.client.get("/v1/contacts/available", headers=api.tenant())
    assert response.status_code == 422  # missing start/end, not "contact 'available' not found"
    assert api.client.get("/v1/contacts/available").status_code == 401


# --- reserving by available_contact_id ---------------------------------------------------------


def test_reserve_by_available_contact_id(api: Api, station: dict[str, Any]) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 4)
    params = {"station_id": station["id"], "spacecraft_id": craft["id"], "max_results": 100}
    offer = _available(api, headers, **params)["items"][1]
    body = {"spacecraft_id": craft["id"], "available_contact_id": offer["available_contact_id"]}
    booked = api.client.post("/v1/contacts", json=body, headers=headers)
    assert booked.status_code == 201, booked.text
    contact = booked.json()
    assert contact["antenna_id"] == offer["antenna_id"]
    for name in ("aos", "tca", "los"):
        assert _seconds_apart(contact[name], offer[name]) < 0.01
    assert _seconds_apart(contact["reserved_start"], offer["reserved_start"]) < 0.01
    ids = {i["available_contact_id"] for i in _available(api, headers, **params)["items"]}
    assert offer["available_contact_id"] not in ids

    again = api.client.post("/v1/contacts", json=body, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "contact_conflict"
    assert again.json()["error"]["conflicting_contact_id"] == contact["id"]


def test_reserve_by_available_contact_id_with_a_profile(api: Api, station: dict[str, Any]) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 5)
    profile = api.client.post(
        "/v1/mission-profiles",
        json={"name": "p", "prepass_s": 90, "postpass_s": 30},
        headers=headers,
    ).json()
    params = {"station_id": station["id"], "mission_profile_id": profile["id"]}
    offer = _available(api, headers, **params)["items"][0]
    body = {
        "spacecraft_id": craft["id"],
        "available_contact_id": offer["available_contact_id"],
        "mission_profile_id": profile["id"],
    }
    booked = api.client.post("/v1/contacts", json=body, headers=headers)
    assert booked.status_code == 201, booked.text
    contact = booked.json()
    assert contact["mission_profile_id"] == profile["id"]
    assert _seconds_apart(contact["reserved_start"], offer["reserved_start"]) < 0.01
    assert _seconds_apart(contact["reserved_end"], offer["reserved_end"]) < 0.01


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"aos": "2030-01-02T00:00:00Z"}, "aos"),
        ({"antenna_id": "ant-x"}, "antenna_id"),
    ],
)
def test_available_contact_id_excludes_explicit_times(
    api: Api, station: dict[str, Any], extra: dict[str, Any], field: str
) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 0)
    offer = _available(api, headers, station_id=station["id"])["items"][0]
    body = {
        "spacecraft_id": craft["id"],
        "available_contact_id": offer["available_contact_id"],
        **extra,
    }
    response = api.client.post("/v1/contacts", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_bad_available_contact_ids(api: Api, station: dict[str, Any]) -> None:
    headers = api.tenant()
    craft = _spacecraft(api, headers, 0)
    other_craft = _spacecraft(api, headers, 1)
    offer = _available(api, headers, station_id=station["id"], spacecraft_id=other_craft["id"])
    offer_id = offer["items"][0]["available_contact_id"]
    antenna = station["antennas"][0]["id"]
    cases = {
        "nonsense": 422,
        f"{craft['id']}:gs:ant:not-a-time": 422,
        offer_id: 422,  # another spacecraft's contact
        f"{craft['id']}:{station['id']}:{antenna}:2030-01-02T00:00:00.000Z": 409,
    }
    for contact_id, expected in cases.items():
        body = {"spacecraft_id": craft["id"], "available_contact_id": contact_id}
        response = api.client.post("/v1/contacts", json=body, headers=headers)
        assert response.status_code == expected, (contact_id, response.text)
        if expected == 422:
            assert response.json()["error"]["field"] == "available_contact_id"
        else:
            assert response.json()["error"]["code"] == "contact_no_longer_available"
    missing = api.client.post("/v1/contacts", json={"spacecraft_id": craft["id"]}, headers=headers)
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "antenna_id"
    foreign = api.client.post(
        "/v1/contacts",
        json={"spacecraft_id": craft["id"], "available_contact_id": offer_id},
        headers=api.tenant(),
    )
    assert foreign.status_code in (404, 422)
