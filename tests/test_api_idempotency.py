"""``Idempotency-Key`` on creates: same key and body → first result; other body → 422."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from api_fixtures import Api, api_for
from db_fixtures import NOW


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


def test_same_key_same_body_returns_the_first_spacecraft(api: Api) -> None:
    headers = api.tenant()
    keyed = {**headers, "Idempotency-Key": "create-eo-1"}
    first = api.client.post("/v1/spacecraft", json={"name": "eo-1"}, headers=keyed)
    again = api.client.post("/v1/spacecraft", json={"name": "eo-1"}, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(api.client.get("/v1/spacecraft", headers=headers).json()) == 1

    other = api.client.post("/v1/spacecraft", json={"name": "eo-2"}, headers=keyed)
    assert other.status_code == 422
    assert other.json()["error"]["field"] == "Idempotency-Key"
    assert len(api.client.get("/v1/spacecraft", headers=headers).json()) == 1


def test_keys_belong_to_one_tenant(api: Api) -> None:
    mine, theirs = api.tenant(), api.tenant()
    for headers in (mine, theirs):
        response = api.client.post(
            "/v1/spacecraft", json={"name": "x"}, headers={**headers, "Idempotency-Key": "k"}
        )
        assert response.status_code == 201
    assert len(api.client.get("/v1/spacecraft", headers=theirs).json()) == 1


def test_a_failed_request_can_be_retried_with_its_key(api: Api) -> None:
    headers = {**api.tenant(), "Idempotency-Key": "retry"}
    bad = api.client.post("/v1/spacecraft", json={"name": ""}, headers=headers)
    assert bad.status_code == 422
    good = api.client.post("/v1/spacecraft", json={"name": "ok"}, headers=headers)
    assert good.status_code == 201


def test_same_key_same_reservation_returns_the_first_contact(api: Api) -> None:
    headers = api.tenant()
    craft = api.spacecraft(headers)["id"]
    antenna = api.station()["antennas"][0]["id"]
    aos = NOW + timedelta(days=1)
    body = {
        "spacecraft_id": craft,
        "antenna_id": antenna,
        "aos": aos.isoformat(),
        "los": (aos + timedelta(minutes=10)).isoformat(),
    }
    keyed = {**headers, "Idempotency-Key": "book-1"}
    first = api.client.post("/v1/contacts", json=body, headers=keyed)
    again = api.client.post("/v1/contacts", json=body, headers=keyed)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    moved = {**body, "aos": (aos + timedelta(hours=1)).isoformat()}
    assert api.client.post("/v1/contacts", json=moved, headers=keyed).status_code == 422
    assert len(api.client.get("/v1/contacts", headers=headers).json()["items"]) == 1


def test_same_key_same_ephemeris_is_one_version(api: Api) -> None:
    headers = api.tenant()
    craft = api.spacecraft(headers)["id"]
    tle = (
        "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927\n"
        "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537"
    )
    keyed = {**headers, "Idempotency-Key": "eph-1"}
    path = f"/v1/spacecraft/{craft}/ephemerides"
    first = api.client.post(path, json={"text": tle}, headers=keyed)
    again = api.client.post(path, json={"text": tle}, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert [e["version"] for e in api.client.get(path, headers=headers).json()] == [1]
