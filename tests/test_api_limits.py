"""Rate limits per API key (429 + Retry-After) and the request body size limit (413)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from api_fixtures import bearer
from db_fixtures import NOW
from groundlink.adapters.db import session_factory
from groundlink.api import create_app, create_tenant_with_key
from groundlink.api.limits import (
    DEFAULT_BURST,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_RATE_PER_S,
    Limits,
    LimitsMiddleware,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path: Path = tmp_path_factory.mktemp("limits") / "groundlink.db"
    app = create_app(f"sqlite:///{path}", clock=lambda: NOW, migrate=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def limits(client: TestClient) -> Iterator[Limits]:
    """The app's limits, with a frozen clock; put back as they were afterwards."""
    installed: Limits = client.app.state.limits  # type: ignore[attr-defined]
    saved = (installed.rate_per_s, installed.burst, installed.max_body_bytes, installed.clock)
    installed.clock = FakeClock()
    installed.reset()
    yield installed
    installed.rate_per_s, installed.burst, installed.max_body_bytes, installed.clock = saved
    installed.reset()


def new_key(client: TestClient) -> dict[str, str]:
    sessions = session_factory(client.app.state.engine)  # type: ignore[attr-defined]
    with sessions() as session:
        _tenant, key = create_tenant_with_key(session, f"limits-{secrets.token_hex(6)}", now=NOW)
    return bearer(key)


def test_defaults_are_generous(limits: Limits) -> None:
    assert (DEFAULT_RATE_PER_S, DEFAULT_BURST, DEFAULT_MAX_BODY_BYTES) == (50, 100, 1 << 20)
    fresh = Limits.from_env({})
    assert (fresh.rate_per_s, fresh.burst, fresh.max_body_bytes) == (50, 100, 1 << 20)


def test_limits_from_env() -> None:
    env = {
        "GROUNDLINK_RATE_LIMIT_PER_S": "2.5",
        "GROUNDLINK_RATE_LIMIT_BURST": "7",
        "GROUNDLINK_MAX_BODY_BYTES": "4096",
    }
    limits = Limits.from_env(env)
    assert (limits.rate_per_s, limits.burst, limits.max_body_bytes) == (2.5, 7, 4096)
    for bad in ("0", "-1", "fast", "nan", "inf"):
        with pytest.raises(ValueError, match="GROUNDLINK_RATE_LIMIT_PER_S"):
            Limits.from_env({"GROUNDLINK_RATE_LIMIT_PER_S": bad})


def test_burst_over_the_limit_is_429_for_that_key_only(client: TestClient, limits: Limits) -> None:
    limits.rate_per_s, limits.burst = 1.0, 5.0
    first, second = new_key(client), new_key(client)
    limits.reset()
    codes = [client.get("/v1/spacecraft", headers=first).status_code for _ in range(5)]
    assert codes == [200] * 5
    refused = client.get("/v1/spacecraft", headers=first)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["retry_after_s"] == 1
    assert "retry in 1 s" in error["message"]
    # Another key is not affected.
    assert client.get("/v1/spacecraft", headers=second).status_code == 200
    # A second later the first key has one token again, and only one.
    assert isinstance(limits.clock, FakeClock)
    limits.clock.now += 1.0
    assert client.get("/v1/spacecraft", headers=first).status_code == 200
    assert client.get("/v1/spacecraft", headers=first).status_code == 429


def test_retry_after_is_whole_seconds_rounded_up(client: TestClient, limits: Limits) -> None:
    limits.rate_per_s, limits.burst = 0.3, 1.0
    headers = new_key(client)
    limits.reset()
    assert client.get("/v1/spacecraft", headers=headers).status_code == 200
    refused = client.get("/v1/spacecraft", headers=headers)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "4"  # 1 token at 0.3/s: 3.33 s


def test_callers_without_a_key_are_limited_by_address(client: TestClient, limits: Limits) -> None:
    limits.rate_per_s, limits.burst = 1.0, 2.0
    codes = [client.get("/v1/spacecraft").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_body_too_large_is_413(client: TestClient, limits: Limits) -> None:
    limits.max_body_bytes = 1000
    headers = new_key(client)
    response = client.post("/v1/spacecraft", json={"name": "x" * 2000}, headers=headers)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["max_body_bytes"] == 1000
    # A body that does not say its length is counted as it arrives.
    chunks = (b'{"name": "' + b"x" * 600, b"x" * 600 + b'"}')
    streamed = client.post(
        "/v1/spacecraft",
        content=iter(chunks),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    # Just under the limit passes through, body intact.
    padded = b'{"name": "' + b"y" * 200 + b'"' + b" " * 788 + b"}"
    assert len(padded) == 1000
    ok = client.post(
        "/v1/spacecraft", content=padded, headers={**headers, "Content-Type": "application/json"}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["name"] == "y" * 200


def test_normal_use_is_unaffected(client: TestClient, limits: Limits) -> None:
    headers = new_key(client)
    for i in range(60):
        response = client.post("/v1/spacecraft", json={"name": f"sat-{i}"}, headers=headers)
        assert response.status_code == 201, response.text
    listed = client.get("/v1/spacecraft", headers=headers, params={"max_results": 100})
    assert listed.status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_bucket_table_is_bounded() -> None:
    limits = Limits(rate_per_s=1.0, burst=1.0, max_callers=3, clock=FakeClock())
    for caller in "abcd":
        assert limits.take(caller) == 0.0
    assert limits.take("d") > 0.0
    assert limits.take("a") == 0.0  # forgotten, so full again


def test_streamed_body_reaches_the_app_whole() -> None:
    seen: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append(body)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def call(parts: list[bytes], limit: int) -> int:
        messages: list[Message] = [
            {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
            for i, part in enumerate(parts)
        ]
        sent: list[Message] = []

        async def receive() -> Message:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        middleware = LimitsMiddleware(app, Limits(max_body_bytes=limit))
        scope: Scope = {"type": "http", "method": "POST", "headers": [], "client": ("a", 1)}
        await middleware(scope, receive, send)
        status: int = sent[0]["status"]
        return status

    assert asyncio.run(call([b"ab", b"cd", b"ef"], 6)) == 204
    assert seen == [b"abcdef"]
    assert asyncio.run(call([b"ab", b"cd", b"efg"], 6)) == 413
    assert seen == [b"abcdef"]
