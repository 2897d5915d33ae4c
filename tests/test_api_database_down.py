"""When the database cannot be reached, the API says so with a 503 and Retry-After, not a 500."""

from __future__ import annotations

from fastapi.testclient import TestClient

from groundlink.api import create_app

#: Nothing listens on port 1 of the loopback interface: every connection is refused at once.
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/groundlink"


def test_an_unreachable_database_is_a_503_with_retry_after() -> None:
    app = create_app(UNREACHABLE, status_interval_s=None)
    with TestClient(app, raise_server_exceptions=False) as client:
        key = {"Authorization": "Bearer gl_0123456789ab_secret"}
        listing = client.get("/v1/spacecraft", headers=key)
        booking = client.post(
            "/v1/contacts",
            headers=key,
            json={
                "spacecraft_id": "sc-x",
                "antenna_id": "an-x",
                "aos": "2030-01-02T00:00:00Z",
                "los": "2030-01-02T00:10:00Z",
            },
        )
    for response in (listing, booking):
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "1"
        error = response.json()["error"]
        assert error["code"] == "database_unavailable"
        assert error["retry_after_s"] == 1
