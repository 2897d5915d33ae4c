"""The API's frame: OpenAPI, versioning, authentication, and the shapes of errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api_fixtures import Api, api_for


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


def test_openapi_lists_the_v1_routes(api: Api) -> None:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/v1/keys",
        "/v1/keys/{key_id}",
        "/v1/spacecraft",
        "/v1/spacecraft/{spacecraft_id}",
        "/v1/spacecraft/{spacecraft_id}/ephemerides",
        "/v1/ground-stations",
        "/v1/contacts",
        "/v1/contacts/{contact_id}",
    ):
        assert path in paths
    assert all(path.startswith("/v1/") for path in paths)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer nonsense", "Bearer gl_abc", "Bearer gl_000000000000_wrong", "Basic abc"],
)
def test_requests_without_a_working_key_get_401_in_the_envelope(
    api: Api, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = api.client.get("/v1/spacecraft", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_wrong_secret_with_a_real_prefix_is_refused(api: Api) -> None:
    key = api.tenant()["Authorization"].removeprefix("Bearer ")
    forged = key[: key.rindex("_") + 1] + "x" * 43
    response = api.client.get("/v1/spacecraft", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_unknown_routes_are_404_in_the_envelope(api: Api) -> None:
    response = api.client.get("/v1/nothing-here", headers=api.admin)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_validation_errors_keep_fastapis_shape_and_name_field_value_expected(api: Api) -> None:
    body = {"name": "x", "max_simultaneous_contacts": 0}
    response = api.client.post("/v1/spacecraft", json=body, headers=api.admin)
    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["body", "max_simultaneous_contacts"]
    assert "max_simultaneous_contacts" in item["msg"]
    assert "0" in item["msg"]
    assert item["msg"] == ("max_simultaneous_contacts: got 0, expected greater than or equal to 1")


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "{", ""])
def test_malformed_bodies_are_422_not_500(api: Api, body: str) -> None:
    response = api.client.post(
        "/v1/spacecraft",
        content=body,
        headers={**api.admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/spacecraft", {"name": "nul\u0000byte"}),
        ("/v1/spacecraft", {"name": "x", "norad_id": 2**40}),
        (
            "/v1/contacts",
            {"spacecraft_id": "sc-x", "antenna_id": "ant-x", "aos": "9999-12-31T23:59:00Z"},
        ),
    ],
)
def test_values_the_database_or_datetime_cannot_hold_are_422(
    api: Api, path: str, body: dict[str, object]
) -> None:
    response = api.client.post(path, json={**body}, headers=api.admin)
    assert response.status_code == 422, response.text
