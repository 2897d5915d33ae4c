"""A lean HTTP/1.1 load-generator connection: one keep-alive socket, JSON in, status and text out.

Written by hand because the benchmarks run their clients on the same two
cores as the server and the database, so every millisecond the load
generator spends is taken from what it measures. httpx, the project's HTTP
client, costs about 1.2 ms of CPU per request on the CI-class machine;
dedicated load generators (wrk, oha) are compiled programs that cost a
fraction of that, and none of them can be installed from PyPI. This
connection costs about a fifth of httpx: it sends a pre-built header block
and reads back the status line, the headers up to ``Content-Length`` and
the body, nothing more. It handles only what the API answers with
(HTTP/1.1, keep-alive, ``Content-Length`` bodies): anything else raises
:class:`ProtocolError`, and the caller counts it as a transport error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit


class ProtocolError(Exception):
    """The server answered something this connection does not read (or closed it)."""


class LeanConnection:
    """One keep-alive HTTP/1.1 connection to ``base_url`` sending ``headers`` with every request."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"base_url: got {base_url!r}, expected http://HOST:PORT")
        self.host, self.port = parts.hostname, parts.port
        lines = [f"Host: {self.host}:{self.port}", "Content-Type: application/json"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._fixed_headers = "\r\n".join(lines).encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: Any) -> tuple[int, str]:
        """POST ``body`` as JSON to ``path``; return the status code and the answer's text."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        payload = json.dumps(body, separators=(",", ":")).encode()
        self._writer.write(
            b"POST %s HTTP/1.1\r\n%s\r\nContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self._fixed_headers, len(payload), payload)
        )
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            await self.close()
            raise ProtocolError(f"connection lost: {error!r}") from error
        status, length, closing = _parse_head(head)
        text = (await self._reader.readexactly(length)).decode()
        if closing:
            await self.close()
        return status, text

    async def close(self) -> None:
        """Close the socket (the next request opens a new one)."""
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status code, ``Content-Length`` and whether the server closes, from a response head."""
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    if version != "HTTP/1.1" or not rest[:3].isdigit():
        raise ProtocolError(f"unexpected status line {status_line!r}")
    length: int | None = None
    closing = False
    for line in header_lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            closing = True
        elif name == "transfer-encoding":
            raise ProtocolError(f"unexpected Transfer-Encoding: {value.strip()}")
    if length is None:
        raise ProtocolError(f"no Content-Length in the answer to {status_line!r}")
    return int(rest[:3]), length, closing
