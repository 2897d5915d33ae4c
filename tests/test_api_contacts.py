"""Contacts over the API: reserve, describe, list, cancel; 409 on conflicts; tenant isolation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from api_fixtures import Api, api_for
from db_fixtures import NOW

DAY = NOW + timedelta(days=1)


def at(minutes: float) -> str:
    """``minutes`` after the start of the test day, as the API writes times."""
    moment: datetime = DAY + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


class Setup:
    """A tenant with two spacecraft and a fresh station with two antennas."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.headers = api.tenant()
        self.spacecraft = [api.spacecraft(self.headers)["id"] for _ in range(2)]
        self.station = api.station(turnaround_s=60)
        self.antennas = [a["id"] for a in self.station["antennas"]]

    def reserve(
        self, aos_min: float, los_min: float, *, spacecraft: int = 0, antenna: int = 0, **extra: Any
    ) -> Any:
        body = {
            "spacecraft_id": self.spacecraft[spacecraft],
            "antenna_id": self.antennas[antenna],
            "aos": at(aos_min),
            "los": at(los_min),
            "prepass_s": 120,
            "postpass_s": 60,
            **extra,
        }
        return self.api.client.post("/v1/contacts", json=body, headers=self.headers)


@pytest.fixture
def setup(api: Api) -> Setup:
    return Setup(api)


def test_reserve_get_list_cancel(setup: Setup) -> None:
    api, headers = setup.api, setup.headers
    response = setup.reserve(10, 20, tca=at(15), max_elevation_deg=42.0)
    assert response.status_code == 201, response.text
    contact = response.json()
    assert contact["id"].startswith("ct-")
    assert contact["status"] == "SCHEDULED"
    assert (contact["aos"], contact["tca"], contact["los"]) == (at(10), at(15), at(20))
    assert contact["reserved_start"] == at(8)
    assert contact["reserved_end"] == at(21)
    assert contact["created_at"] == "2030-01-01T00:00:00Z"

    path = f"/v1/contacts/{contact['id']}"
    assert api.client.get(path, headers=headers).json() == contact
    listed = api.client.get("/v1/contacts", headers=headers).json()
    assert listed == {"items": [contact], "next_token": None}

    response = api.client.delete(path, headers=headers)
    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    again = api.client.delete(path, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"
    assert setup.reserve(10, 20).status_code == 201


def test_a_conflict_is_409_naming_the_contact_and_the_ranges(setup: Setup) -> None:
    first = setup.reserve(10, 20).json()
    response = setup.reserve(21, 30, spacecraft=1)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "contact_conflict"
    assert error["kind"] == "antenna"
    assert error["conflicting_contact_id"] == first["id"]
    assert error["conflicting"] == {"start": at(8), "end": at(22)}
    assert error["requested"] == {"start": at(19), "end": at(32)}
    assert first["id"] in error["message"]
    assert setup.reserve(21, 30, spacecraft=1, antenna=1).status_code == 201


def test_another_tenants_conflict_hides_its_id(api: Api, setup: Setup) -> None:
    theirs = setup.reserve(10, 20).json()
    other = api.tenant()
    craft = api.spacecraft(other)["id"]
    body = {
        "spacecraft_id": craft,
        "antenna_id": setup.antennas[0],
        "aos": at(12),
        "los": at(18),
    }
    response = api.client.post("/v1/contacts", json=body, headers=other)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["conflicting_contact_id"] is None
    assert theirs["id"] not in response.text
    for method in ("get", "delete"):
        response = api.client.request(method, f"/v1/contacts/{theirs['id']}", headers=other)
        assert response.status_code == 404
    assert api.client.get("/v1/contacts", headers=other).json()["items"] == []


def test_booking_another_tenants_spacecraft_is_404(api: Api, setup: Setup) -> None:
    other = api.tenant()
    body = {
        "spacecraft_id": setup.spacecraft[0],
        "antenna_id": setup.antennas[0],
        "aos": at(10),
        "los": at(20),
    }
    response = api.client.post("/v1/contacts", json=body, headers=other)
    assert response.status_code == 404
    assert response.json()["error"]["object_type"] == "spacecraft"


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"los": at(5)}, "los"),
        ({"aos": "2030-01-02T00:10:00"}, "aos"),
        ({"tca": at(30)}, "tca"),
        ({"prepass_s": 99_999}, "prepass_s"),
        ({"status": "SCHEDULED"}, "status"),
        ({"id": "ct-mine"}, "id"),
    ],
)
def test_bad_reservations_are_422_naming_the_field(
    setup: Setup, extra: dict[str, Any], field: str
) -> None:
    response = setup.reserve(10, 20, **extra)
    assert response.status_code == 422, response.text
    item = response.json()["detail"][0]
    assert item["loc"][-1] == field
    assert field in item["msg"]


def test_a_reservation_inside_the_lock_time_is_refused(api: Api, setup: Setup) -> None:
    body = {
        "spacecraft_id": setup.spacecraft[0],
        "antenna_id": setup.antennas[0],
        "aos": "2030-01-01T00:05:00Z",
        "los": "2030-01-01T00:15:00Z",
    }
    response = api.client.post("/v1/contacts", json=body, headers=setup.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_listing_filters_and_pages(api: Api, setup: Setup) -> None:
    ids = []
    for i in range(5):
        response = setup.reserve(30 * i, 30 * i + 10, spacecraft=i % 2)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    cancelled = api.client.delete(f"/v1/contacts/{ids[4]}", headers=setup.headers).json()

    def listed(**params: Any) -> list[str]:
        seen: list[str] = []
        token = None
        while True:
            query = {**params, **({"next_token": token} if token else {})}
            response = api.client.get("/v1/contacts", params=query, headers=setup.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["items"]) <= params.get("max_results", 50)
            seen += [c["id"] for c in page["items"]]
            token = page["next_token"]
            if token is None:
                return seen

    assert listed(max_results=2) == ids
    assert listed(spacecraft_id=setup.spacecraft[1]) == [ids[1], ids[3]]
    assert listed(status="CANCELLED") == [cancelled["id"]]
    assert listed(status=["SCHEDULED", "CANCELLED"], max_results=3) == ids
    assert listed(station_id=setup.station["id"], start=at(35), end=at(95)) == ids[1:4]
    assert listed(station_id="gs-elsewhere") == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"max_results": 101}, "max_results"),
        ({"max_results": 0}, "max_results"),
        ({"status": "BOOKED"}, "status"),
        ({"next_token": "garbage!"}, "cursor"),
        ({"start": at(10), "end": at(5)}, "window_end"),
        ({"start": "2030-01-02T00:00:00"}, "start"),
    ],
)
def test_bad_listing_queries_are_422(api: Api, params: dict[str, Any], field: str) -> None:
    response = api.client.get("/v1/contacts", params=params, headers=api.admin)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"][0]["msg"]
