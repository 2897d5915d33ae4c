"""The shared network over the API: everyone reads it, only admins add to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api_fixtures import Api, api_for

XBAND = {"name": "X", "min_hz": 8_025_000_000, "max_hz": 8_400_000_000, "direction": "downlink"}


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


def test_admins_add_stations_and_everyone_reads_them(api: Api) -> None:
    station = api.station(antennas=[{"name": "dish", "bands": [XBAND], "g_over_t_db_k": 31.5}])
    assert station["id"].startswith("gs-")
    [antenna] = station["antennas"]
    assert antenna["id"].startswith("ant-")
    assert antenna["bands"] == [XBAND]

    reader = api.tenant(("read",))
    listed = api.client.get("/v1/ground-stations", headers=reader).json()
    assert station in listed
    one = api.client.get(f"/v1/ground-stations/{station['id']}", headers=reader)
    assert one.json() == station
    missing = api.client.get("/v1/ground-stations/gs-nope", headers=reader)
    assert missing.status_code == 404


def test_operators_cannot_add_stations(api: Api) -> None:
    operator = api.tenant(("read", "book"))
    body = {"name": "mine", "latitude_deg": 0, "longitude_deg": 0, "antennas": [{"name": "a"}]}
    response = api.client.post("/v1/ground-stations", json=body, headers=operator)
    assert response.status_code == 403
    assert response.json()["error"]["required_scope"] == "admin"


@pytest.mark.parametrize(
    "fields, loc",
    [
        ({"latitude_deg": 91}, ["body", "latitude_deg"]),
        ({"longitude_deg": -180.5}, ["body", "longitude_deg"]),
        ({"antennas": []}, ["body", "antennas"]),
        ({"antennas": [{"name": "a", "min_elevation_deg": 95}]}, None),
        ({"id": "gs-mine"}, ["body", "id"]),
    ],
)
def test_bad_stations_are_422_naming_the_field(
    api: Api, fields: dict[str, Any], loc: list[str] | None
) -> None:
    body = {"name": "bad", "latitude_deg": 10, "longitude_deg": 10, "antennas": [{"name": "a"}]}
    response = api.client.post("/v1/ground-stations", json={**body, **fields}, headers=api.admin)
    assert response.status_code == 422
    item = response.json()["detail"][0]
    if loc is not None:
        assert item["loc"] == loc
        assert loc[-1] in item["msg"]


def test_latitude_91_names_field_value_and_range(api: Api) -> None:
    body = {"name": "n", "latitude_deg": 91, "longitude_deg": 0, "antennas": [{"name": "a"}]}
    response = api.client.post("/v1/ground-stations", json=body, headers=api.admin)
    [item] = response.json()["detail"]
    assert item["msg"] == "latitude_deg: got 91, expected less than or equal to 90"


def test_duplicate_names_are_refused(api: Api) -> None:
    station = api.station()
    body = {
        "name": station["name"],
        "latitude_deg": 0,
        "longitude_deg": 0,
        "antennas": [{"name": "a"}],
    }
    response = api.client.post("/v1/ground-stations", json=body, headers=api.admin)
    assert response.status_code == 409
    twins = {**body, "name": "twins", "antennas": [{"name": "a"}, {"name": "a"}]}
    response = api.client.post("/v1/ground-stations", json=twins, headers=api.admin)
    assert response.status_code == 422
    inverted = {
        **body,
        "name": "inverted",
        "antennas": [
            {
                "name": "a",
                "bands": [{**XBAND, "min_hz": XBAND["max_hz"], "max_hz": XBAND["min_hz"]}],
            }
        ],
    }
    response = api.client.post("/v1/ground-stations", json=inverted, headers=api.admin)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "antennas.0.bands.0.max_hz"
