"""API keys: shown once, stored hashed, scoped, revocable with immediate effect."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from api_fixtures import Api, api_for, bearer
from groundlink.adapters.db.models import ApiKey


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Api]:
    with api_for(database_url) as api:
        yield api


def test_a_created_key_is_shown_once_and_stored_hashed(api: Api) -> None:
    headers = api.tenant()
    response = api.client.post("/v1/keys", json={"name": "ci", "scopes": ["read"]}, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    key = created["key"]
    assert key.startswith(f"gl_{created['prefix']}_")
    assert created["scopes"] == ["read"]
    assert created["created_at"].endswith("Z")

    listed = api.client.get("/v1/keys", headers=headers).json()
    assert {k["name"] for k in listed} == {"bootstrap", "ci"}
    assert created["id"] in {k["id"] for k in listed}
    assert all("key" not in k for k in listed)
    assert key not in str(listed)

    with api.sessions() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.id == created["id"])).one()
    assert row.secret_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (row.prefix, row.secret_sha256, row.name)

    assert api.client.get("/v1/spacecraft", headers=bearer(key)).status_code == 200


def test_revocation_is_effective_immediately(api: Api) -> None:
    headers = api.tenant()
    created = api.client.post(
        "/v1/keys", json={"name": "temp", "scopes": ["read", "book"]}, headers=headers
    ).json()
    temp = bearer(created["key"])
    assert api.client.get("/v1/spacecraft", headers=temp).status_code == 200

    response = api.client.delete(f"/v1/keys/{created['id']}", headers=headers)
    assert response.status_code == 200
    assert response.json()["revoked_at"].endswith("Z")

    refused = api.client.get("/v1/spacecraft", headers=temp)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]
    assert api.client.get("/v1/spacecraft", headers=headers).status_code == 200


def test_a_key_cannot_grant_or_revoke_scopes_it_lacks(api: Api) -> None:
    headers = api.tenant(("read", "book"))
    response = api.client.post(
        "/v1/keys", json={"name": "escalate", "scopes": ["admin"]}, headers=headers
    )
    assert response.status_code == 403
    assert response.json()["error"]["missing_scopes"] == ["admin"]

    reader = api.client.post(
        "/v1/keys", json={"name": "reader", "scopes": ["read"]}, headers=headers
    ).json()
    keys = api.client.get("/v1/keys", headers=headers).json()
    [own_id] = [k["id"] for k in keys if k["name"] == "bootstrap"]
    response = api.client.delete(f"/v1/keys/{own_id}", headers=bearer(reader["key"]))
    assert response.status_code == 403


def test_scopes_are_enforced(api: Api) -> None:
    reader = api.tenant(("read",))
    response = api.client.post("/v1/spacecraft", json={"name": "x"}, headers=reader)
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "forbidden",
        "message": "this API key lacks the 'book' scope",
        "required_scope": "book",
    }


def test_another_tenants_key_is_404(api: Api) -> None:
    mine, theirs = api.tenant(), api.tenant()
    their_key_id = api.client.get("/v1/keys", headers=theirs).json()[0]["id"]
    response = api.client.delete(f"/v1/keys/{their_key_id}", headers=mine)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api.client.get("/v1/spacecraft", headers=theirs).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"name": "k", "scopes": ["root"]},
        {"name": "k", "scopes": []},
        {"name": "k", "scopes": ["read"], "id": "key-1"},
        {"name": "k", "scopes": ["read"], "revoked_at": None},
    ],
)
def test_bad_key_requests_are_422(api: Api, body: dict[str, object]) -> None:
    response = api.client.post("/v1/keys", json=body, headers=api.admin)
    assert response.status_code == 422
