"""Per-key rate limits and a request body size limit, as one pure ASGI middleware.

One tenant must not starve another: every caller gets a token bucket
(``rate_per_s`` tokens a second, at most ``burst`` saved up), kept in memory
per process. A caller is its bearer token (hashed: no key text is kept), or
its client address when it sends none. A request that finds the bucket empty
gets a 429 in the error envelope (code ``rate_limited``) with ``Retry-After``:
the whole seconds until a token is back. The bucket table holds at most
``max_callers`` callers, forgetting the least recently seen first, so random
keys cannot grow it without bound.

A request body longer than ``max_body_bytes`` gets a 413 (code
``payload_too_large``), whether it says so in ``Content-Length`` or streams
past the limit. The body is read here, at most ``max_body_bytes`` of it, and
handed to the app unchanged.

Configuration: :class:`Limits` (given to :func:`install_limits`), or the
environment, read by :meth:`Limits.from_env`:

==================================  ==========  ===============================
variable                            default     meaning
==================================  ==========  ===============================
``GROUNDLINK_RATE_LIMIT_PER_S``     50          tokens added per second per key
``GROUNDLINK_RATE_LIMIT_BURST``     100         bucket size
``GROUNDLINK_MAX_BODY_BYTES``       1048576     largest request body (1 MiB)
==================================  ==========  ===============================

The installed :class:`Limits` is ``app.state.limits``; its fields may be
changed while the app runs (tests raise or lower them).
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from groundlink.api.errors import envelope

DEFAULT_RATE_PER_S = 50.0
DEFAULT_BURST = 100.0
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_CALLERS = 100_000

ENV_RATE = "GROUNDLINK_RATE_LIMIT_PER_S"
ENV_BURST = "GROUNDLINK_RATE_LIMIT_BURST"
ENV_MAX_BODY = "GROUNDLINK_MAX_BODY_BYTES"


def _positive(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}={text!r}: expected a positive number")
    return value


@dataclass
class Limits:
    """The limits of one app, and its callers' token buckets.

    ``clock`` is a monotonic clock in seconds (tests pass a fake one).
    """

    rate_per_s: float = DEFAULT_RATE_PER_S
    burst: float = DEFAULT_BURST
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_callers: int = DEFAULT_MAX_CALLERS
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, tuple[float, float]] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The limits named in the environment (``GROUNDLINK_*``), defaults elsewhere."""
        env = os.environ if environ is None else environ
        return cls(
            rate_per_s=_positive(env, ENV_RATE, DEFAULT_RATE_PER_S),
            burst=_positive(env, ENV_BURST, DEFAULT_BURST),
            max_body_bytes=int(_positive(env, ENV_MAX_BODY, DEFAULT_MAX_BODY_BYTES)),
        )

    def take(self, caller: str) -> float:
        """Spend a token of ``caller``: 0.0 if there was one, else seconds until one is back."""
        with self._lock:
            now = self.clock()
            tokens, seen = self._buckets.pop(caller, (self.burst, now))
            tokens = min(self.burst, tokens + max(0.0, now - seen) * self.rate_per_s)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate_per_s
            self._buckets[caller] = (tokens, now)
            while len(self._buckets) > self.max_callers:
                self._buckets.popitem(last=False)
            return wait

    def reset(self) -> None:
        """Forget every caller (all buckets full again)."""
        with self._lock:
            self._buckets.clear()


def caller_of(scope: Scope) -> str:
    """Who is calling, for the rate limit: the bearer token's hash, else the client address."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return "key:" + hashlib.sha256(value.strip()).hexdigest()
    client = scope.get("client")
    return f"addr:{client[0] if client else '?'}"


class _TooLarge(Exception):
    pass


class LimitsMiddleware:
    """ASGI middleware enforcing :class:`Limits` on every HTTP request."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.limits
        wait = limits.take(caller_of(scope))
        if wait > 0.0:
            retry = max(1, math.ceil(wait))
            response = envelope(
                429,
                "rate_limited",
                f"too many requests for this API key; retry in {retry} s",
                {"Retry-After": str(retry)},
                retry_after_s=retry,
                rate_per_s=limits.rate_per_s,
                burst=limits.burst,
            )
            await response(scope, receive, send)
            return
        try:
            body_receive = await self._read_body(scope, receive)
        except _TooLarge:
            response = envelope(
                413,
                "payload_too_large",
                f"request body larger than {limits.max_body_bytes} bytes",
                max_body_bytes=limits.max_body_bytes,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, body_receive, send)

    async def _read_body(self, scope: Scope, receive: Receive) -> Receive:
        limit = self.limits.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: let the app see that as it would have.
                return _replay([], message, receive)
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return _replay(chunks, None, receive)


def _replay(chunks: list[bytes], pending: Message | None, receive: Receive) -> Receive:
    first: list[Message] = []
    if pending is not None:
        first.append(pending)
    else:
        first.append({"type": "http.request", "body": b"".join(chunks), "more_body": False})

    async def replayed() -> Message:
        if first:
            return first.pop()
        return await receive()

    return replayed


def install_limits(app: FastAPI, limits: Limits | None = None) -> Limits:
    """Enforce ``limits`` (default: from the environment) on ``app``, as ``app.state.limits``."""
    chosen = Limits.from_env() if limits is None else limits
    app.state.limits = chosen
    app.add_middleware(LimitsMiddleware, limits=chosen)
    return chosen


__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_RATE_PER_S",
    "Limits",
    "LimitsMiddleware",
    "caller_of",
    "install_limits",
]
