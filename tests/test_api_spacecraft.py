"""Spacecraft, RF links and ephemerides over the API; tenant isolation; mass assignment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from api_fixtures import Api, api_for
from groundlink.orbits.tle import parse_tle

ISS = (
    "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927",
    "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537",
)

XBAND = {
    "direction": "downlink",
    "center_frequency_hz": 8_212_500_000,
    "bandwidth_hz": 15_000_000,
    "polarization": "RIGHT_HAND",
    "eirp_dbw": 12.5,
    "data_rate_bps": 150e6,
}


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


def test_create_get_list_update_delete(api: Api) -> None:
    headers = api.tenant()
    created = api.spacecraft(headers, name="eo-1", norad_id=25544, rf_links=[XBAND])
    assert created["id"].startswith("sc-")
    assert created["created_at"] == "2030-01-01T00:00:00Z"
    [link] = created["rf_links"]
    assert link["center_frequency_hz"] == 8_212_500_000
    assert {k: v for k, v in link.items() if k != "id"} == XBAND

    path = f"/v1/spacecraft/{created['id']}"
    assert api.client.get(path, headers=headers).json() == created
    listed = api.client.get("/v1/spacecraft", headers=headers).json()
    assert [s["id"] for s in listed] == [created["id"]]

    uhf = {**XBAND, "center_frequency_hz": 437_000_000, "polarization": "NONE"}
    response = api.client.patch(path, json={"name": "eo-1b", "rf_links": [uhf]}, headers=headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "eo-1b"
    assert updated["norad_id"] == 25544
    assert [link["center_frequency_hz"] for link in updated["rf_links"]] == [437_000_000]

    assert api.client.delete(path, headers=headers).status_code == 204
    assert api.client.get(path, headers=headers).status_code == 404
    assert api.client.get("/v1/spacecraft", headers=headers).json() == []


def test_another_tenants_spacecraft_is_404_everywhere(api: Api) -> None:
    mine, theirs = api.tenant(), api.tenant()
    foreign = api.spacecraft(theirs, name="theirs")
    path = f"/v1/spacecraft/{foreign['id']}"
    responses = [
        api.client.get(path, headers=mine),
        api.client.patch(path, json={"name": "stolen"}, headers=mine),
        api.client.delete(path, headers=mine),
        api.client.get(f"{path}/ephemerides", headers=mine),
        api.client.post(f"{path}/ephemerides", json={"text": "\n".join(ISS)}, headers=mine),
    ]
    for response in responses:
        assert response.status_code == 404, response.text
        error = response.json()["error"]
        assert error["code"] == "not_found"
        assert "theirs" not in response.text
    assert api.client.get("/v1/spacecraft", headers=mine).json() == []
    assert api.client.get(path, headers=theirs).json()["name"] == "theirs"


@pytest.mark.parametrize(
    "field, value",
    [
        ("id", "sc-mine"),
        ("tenant_id", "tn-other"),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("updated_at", "2020-01-01T00:00:00Z"),
        ("status", "ACTIVE"),
    ],
)
def test_server_owned_fields_are_rejected_not_ignored(api: Api, field: str, value: str) -> None:
    headers = api.tenant()
    response = api.client.post("/v1/spacecraft", json={"name": "x", field: value}, headers=headers)
    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["body", field]
    assert item["type"] == "extra_forbidden"
    assert field in item["msg"]
    assert api.client.get("/v1/spacecraft", headers=headers).json() == []

    created = api.spacecraft(headers)
    response = api.client.patch(
        f"/v1/spacecraft/{created['id']}", json={field: value}, headers=headers
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "link, field",
    [
        ({**XBAND, "polarization": "RHCP"}, "polarization"),
        ({**XBAND, "direction": "sideways"}, "direction"),
        ({**XBAND, "center_frequency_hz": 8.2125e9 + 0.5}, "center_frequency_hz"),
        ({**XBAND, "bandwidth_hz": -1}, "bandwidth_hz"),
        ({**XBAND, "id": "rf-1"}, "id"),
    ],
)
def test_bad_rf_links_are_422_naming_the_field(api: Api, link: dict[str, Any], field: str) -> None:
    response = api.client.post(
        "/v1/spacecraft", json={"name": "x", "rf_links": [link]}, headers=api.admin
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


def test_patch_cannot_null_a_required_field(api: Api) -> None:
    headers = api.tenant()
    created = api.spacecraft(headers)
    response = api.client.patch(
        f"/v1/spacecraft/{created['id']}", json={"name": None}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "name"


def test_ephemerides_are_versioned_from_tle_and_omm(api: Api) -> None:
    headers = api.tenant()
    craft = api.spacecraft(headers, norad_id=25544)
    path = f"/v1/spacecraft/{craft['id']}/ephemerides"

    response = api.client.post(path, json={"text": "\n".join(ISS), "priority": 2}, headers=headers)
    assert response.status_code == 201, response.text
    first = response.json()
    assert first["version"] == 1
    assert first["source_format"] == "tle"
    assert first["epoch"] == "2008-09-20T12:25:40.104Z"
    assert first["omm"]["NORAD_CAT_ID"] == 25544
    assert first["expires_at"] is None

    omm = json.dumps([parse_tle(*ISS, name="ISS (ZARYA)").to_omm()])
    body = {"text": omm, "enabled": False, "expires_at": "2030-02-01T00:00:00+01:00"}
    response = api.client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    second = response.json()
    assert (second["version"], second["source_format"], second["enabled"]) == (2, "omm", False)
    assert second["expires_at"] == "2030-01-31T23:00:00Z"

    listed = api.client.get(path, headers=headers).json()
    assert [e["version"] for e in listed] == [2, 1]


def test_a_bad_tle_checksum_is_422_naming_the_line(api: Api) -> None:
    headers = api.tenant()
    craft = api.spacecraft(headers)
    bad = ISS[0][:-1] + "0"
    response = api.client.post(
        f"/v1/spacecraft/{craft['id']}/ephemerides",
        json={"text": f"{bad}\n{ISS[1]}"},
        headers=headers,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["line"] == 1
    assert "checksum" in error["field"] or "checksum" in error["expected"]
    assert response.json()["detail"][0]["msg"].startswith("text:1: ")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"text": "hello"}, "format"),
        ({"text": "\n".join(ISS), "expires_at": "2029-01-01T00:00:00Z"}, "expires_at"),
        ({"text": "\n".join(ISS), "expires_at": "2031-01-01T00:00:00"}, "expires_at"),
        ({"text": "\n".join(ISS), "version": 7}, "version"),
    ],
)
def test_bad_ephemeris_uploads_are_422(api: Api, body: dict[str, Any], field: str) -> None:
    headers = api.tenant()
    craft = api.spacecraft(headers)
    response = api.client.post(
        f"/v1/spacecraft/{craft['id']}/ephemerides", json=body, headers=headers
    )
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"][0]["msg"]


def test_an_ephemeris_of_another_object_is_refused(api: Api) -> None:
    headers = api.tenant()
    craft = api.spacecraft(headers, norad_id=99999)
    response = api.client.post(
        f"/v1/spacecraft/{craft['id']}/ephemerides",
        json={"text": "\n".join(ISS)},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "NORAD_CAT_ID"
