"""A service's ``InvalidInput`` as a 422: ``loc`` says where the field came from.

FastAPI's own validation errors say ``["query", name]``, ``["body", name]``
and so on; the errors a service raises after validation must say the same,
on the real routes (SQLite and PostgreSQL) and on a small app that raises
from each place a request can carry a value.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any

import pytest
from fastapi import Body, FastAPI, Header
from fastapi.testclient import TestClient

from api_fixtures import Api, api_for
from db_fixtures import NOW
from groundlink.api.errors import install_error_handlers
from groundlink.contacts.conflicts import iso_z
from groundlink.errors import InvalidInput

DAY = NOW + timedelta(days=1)


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


def _the_422(response: Any) -> tuple[list[str], dict[str, Any]]:
    """The one ``detail`` item's ``loc`` and the envelope of a 422."""
    assert response.status_code == 422, response.text
    [item] = response.json()["detail"]
    return item["loc"], response.json()["error"]


def test_a_reversed_listing_window_is_a_query_error(api: Api) -> None:
    params = {"start": iso_z(DAY), "end": iso_z(DAY - timedelta(hours=1))}
    loc, error = _the_422(api.client.get("/v1/contacts", params=params, headers=api.admin))
    # The service names the window's end "window_end"; it came in the query string.
    assert loc == ["query", "window_end"] and error["field"] == "window_end"


def test_a_reversed_available_window_is_a_query_error(api: Api) -> None:
    params = {"start": iso_z(DAY), "end": iso_z(DAY - timedelta(hours=1))}
    response = api.client.get("/v1/contacts/available", params=params, headers=api.admin)
    loc, error = _the_422(response)
    assert loc == ["query", "end"] and error["field"] == "end"


def test_a_bad_cursor_is_a_query_error(api: Api) -> None:
    params = {"next_token": "garbage!"}
    loc, _error = _the_422(api.client.get("/v1/contacts", params=params, headers=api.admin))
    assert loc == ["query", "cursor"]


def test_a_reversed_pass_in_a_reservation_is_a_body_error(api: Api) -> None:
    headers = api.tenant()
    craft = api.spacecraft(headers)
    antenna = api.station()["antennas"][0]["id"]
    body = {
        "spacecraft_id": craft["id"],
        "antenna_id": antenna,
        "aos": iso_z(DAY + timedelta(minutes=10)),
        "los": iso_z(DAY),
    }
    loc, error = _the_422(api.client.post("/v1/contacts", json=body, headers=headers))
    assert loc == ["body", "los"] and error["field"] == "los"


def test_a_reused_idempotency_key_is_a_header_error(api: Api) -> None:
    headers = {**api.tenant(), "Idempotency-Key": "errors-key-1"}
    first = api.client.post("/v1/spacecraft", json={"name": "one"}, headers=headers)
    assert first.status_code == 201, first.text
    again = api.client.post("/v1/spacecraft", json={"name": "two"}, headers=headers)
    loc, error = _the_422(again)
    assert loc == ["header", "Idempotency-Key"] and error["field"] == "Idempotency-Key"


@pytest.fixture(scope="module")
def small() -> Iterator[TestClient]:
    """An app whose routes raise ``InvalidInput`` on a path, query, header or body value."""
    app = FastAPI()
    install_error_handlers(app)

    def refuse(field: str, value: object) -> None:
        raise InvalidInput(field, value, "something else")

    @app.get("/items/{item}")
    def get_item(item: str, size: int = 1) -> None:
        refuse("item" if item == "bad" else "size", item if item == "bad" else size)

    @app.get("/headed")
    def headed(x_token: Annotated[str, Header()]) -> None:
        refuse("x-token", x_token)

    @app.post("/items/{item}")
    def post_item(item: str, body: Annotated[dict[str, Any], Body()]) -> None:
        refuse("parts.0", body["parts"][0])

    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    "method, url, kwargs, loc",
    [
        ("GET", "/items/bad", {}, ["path", "item"]),
        ("GET", "/items/good?size=7", {}, ["query", "size"]),
        ("GET", "/headed", {"headers": {"X-Token": "t"}}, ["header", "x-token"]),
        ("POST", "/items/good", {"json": {"parts": [3]}}, ["body", "parts.0"]),
        ("GET", "/items/good", {}, ["query", "size"]),  # defaulted: still the query's
    ],
)
def test_each_place_a_value_comes_from(
    small: TestClient, method: str, url: str, kwargs: dict[str, Any], loc: list[str]
) -> None:
    found, error = _the_422(small.request(method, url, **kwargs))
    assert found == loc
    assert error["code"] == "invalid_input" and error["expected"] == "something else"
