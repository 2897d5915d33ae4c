"""Mission profiles over the API: CRUD, ranges, tenant isolation, idempotency, mass assignment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api_fixtures import Api, api_for

PROFILE: dict[str, Any] = {
    "name": "x-band",
    "min_elevation_deg": 10.0,
    "min_viable_contact_duration_s": 180,
    "prepass_s": 300,
    "postpass_s": 120,
    "tracking_config": {"autotrack": "REQUIRED"},
    "links": [{"direction": "downlink", "band_name": "X"}],
    "dataflow_endpoint": {"name": "archive", "url": "s3://bucket/prefix"},
}


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


def _create(api: Api, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = api.client.post("/v1/mission-profiles", json={**PROFILE, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_create_get_list_update_delete(api: Api) -> None:
    headers = api.tenant()
    created = _create(api, headers)
    assert created["id"].startswith("mp-")
    assert created["created_at"] == "2030-01-01T00:00:00Z"
    assert {k: created[k] for k in PROFILE} == {**PROFILE, "min_viable_contact_duration_s": 180.0}
    url = f"/v1/mission-profiles/{created['id']}"
    assert api.client.get(url, headers=headers).json() == created
    assert api.client.get("/v1/mission-profiles", headers=headers).json() == [created]

    response = api.client.patch(url, json={"prepass_s": 0, "links": []}, headers=headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["prepass_s"], updated["links"], updated["postpass_s"]) == (0, [], 120)

    assert api.client.delete(url, headers=headers).status_code == 204
    assert api.client.get(url, headers=headers).status_code == 404


def test_defaults_fill_what_is_left_out(api: Api) -> None:
    response = api.client.post(
        "/v1/mission-profiles", json={"name": "minimal"}, headers=api.tenant()
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["prepass_s"], body["postpass_s"], body["min_elevation_deg"]) == (120, 60, 0.0)
    assert body["tracking_config"] == {"autotrack": "PREFERRED"}
    assert (body["links"], body["dataflow_endpoint"]) == ([], None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prepass_s", 21_601),
        ("postpass_s", -1),
        ("min_elevation_deg", 91),
        ("min_viable_contact_duration_s", -5),
        ("tracking_config", {"autotrack": "SOMETIMES"}),
    ],
)
def test_out_of_range_is_a_422_naming_the_field(api: Api, field: str, value: Any) -> None:
    response = api.client.post(
        "/v1/mission-profiles", json={**PROFILE, field: value}, headers=api.tenant()
    )
    assert response.status_code == 422
    assert field in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("field", ["id", "tenant_id", "created_at"])
def test_server_owned_fields_are_rejected(api: Api, field: str) -> None:
    response = api.client.post(
        "/v1/mission-profiles", json={**PROFILE, field: "x"}, headers=api.tenant()
    )
    assert response.status_code == 422
    assert "not settable" in response.json()["detail"][0]["msg"]


def test_null_for_a_required_field_in_a_patch_is_a_422(api: Api) -> None:
    headers = api.tenant()
    created = _create(api, headers)
    response = api.client.patch(
        f"/v1/mission-profiles/{created['id']}", json={"prepass_s": None}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "prepass_s"


def test_another_tenants_profile_is_a_404(api: Api) -> None:
    created = _create(api, api.tenant())
    other = api.tenant()
    url = f"/v1/mission-profiles/{created['id']}"
    assert api.client.get(url, headers=other).status_code == 404
    assert api.client.patch(url, json={"prepass_s": 1}, headers=other).status_code == 404
    assert api.client.delete(url, headers=other).status_code == 404
    assert api.client.get("/v1/mission-profiles", headers=other).json() == []


def test_names_are_unique_per_tenant(api: Api) -> None:
    headers = api.tenant()
    _create(api, headers)
    response = api.client.post("/v1/mission-profiles", json=PROFILE, headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "name_taken"
    _create(api, api.tenant())  # another tenant may use the name


def test_idempotency_key_returns_the_first_result(api: Api) -> None:
    headers = {**api.tenant(), "Idempotency-Key": "profile-1"}
    first = _create(api, headers)
    again = api.client.post("/v1/mission-profiles", json=PROFILE, headers=headers)
    assert again.status_code == 201
    assert again.json() == first
    other = api.client.post("/v1/mission-profiles", json={"name": "other"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["field"] == "Idempotency-Key"


def test_read_scope_cannot_create(api: Api) -> None:
    response = api.client.post("/v1/mission-profiles", json=PROFILE, headers=api.tenant(("read",)))
    assert response.status_code == 403
