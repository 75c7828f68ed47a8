"""A scripted SSE server on loopback: each connection does what the test says.

It stands in for Particle's stream with byte-exact control: the chunks to write,
then close, hold, stall or drop; or a status and body instead of a stream. Events
pushed with `push` go out on the connection that is open at the time.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from aiohttp.test_utils import TestServer

Ending = Literal["close", "hold", "drop"]


@dataclass
class Script:
    """What one connection does: `chunks` then `then`, or a non-200 `status`."""

    chunks: list[bytes] = field(default_factory=lambda: [b":ok\n\n"])
    then: Ending = "hold"
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    keepalive_every: float | None = None

    @classmethod
    def from_case(cls, connection: dict[str, Any]) -> Script:
        chunks = [base64.b64decode(chunk) for chunk in connection["chunks"]]
        return cls(chunks=chunks, then=connection["then"])

    @classmethod
    def error(cls, status: int, body: bytes, **headers: str) -> Script:
        return cls(status=status, body=body, headers=headers, chunks=[])


@dataclass
class SeenRequest:
    path: str
    query: str
    headers: dict[str, str]


class ScriptedSSEServer:
    """Serves `scripts` in order, one per connection; then holds each new one open."""

    def __init__(self, scripts: list[Script] | None = None) -> None:
        self.scripts = list(scripts or [])
        self.requests: list[SeenRequest] = []
        self._pushed: asyncio.Queue[bytes] = asyncio.Queue()
        self._opened = asyncio.Condition()
        self._server: TestServer | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        self.url = str(self._server.make_url("")).rstrip("/")
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()

    def push(self, chunk: bytes) -> None:
        """Write `chunk` on the currently open held connection (or the next one)."""
        self._pushed.put_nowait(chunk)

    async def wait_for_connections(self, count: int, timeout: float = 10) -> None:
        async with self._opened:
            await asyncio.wait_for(
                self._opened.wait_for(lambda: len(self.requests) >= count), timeout
            )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        index = len(self.requests)
        self.requests.append(
            SeenRequest(
                request.rel_url.raw_path, request.query_string, dict(request.headers)
            )
        )
        async with self._opened:
            self._opened.notify_all()
        script = self.scripts[index] if index < len(self.scripts) else Script()
        if script.status != 200:
            return web.Response(
                status=script.status,
                body=script.body,
                headers=script.headers,
                content_type="application/json",
            )
        return await self._stream(request, script)

    async def _stream(self, request: web.Request, script: Script) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        for chunk in script.chunks:
            await response.write(chunk)
        if script.then == "close":
            await response.write_eof()
        elif script.then == "drop":
            assert request.transport is not None
            request.transport.abort()
        else:
            await self._hold(response, script.keepalive_every)
        return response

    async def _hold(
        self, response: web.StreamResponse, keepalive: float | None
    ) -> None:
        while True:
            try:
                chunk = await asyncio.wait_for(self._pushed.get(), keepalive)
            except TimeoutError:
                chunk = b"\n"
            await response.write(chunk)


def particle_event(
    name: str,
    data: str | None,
    published_at: str,
    coreid: str = "e00fce68a1b2c3d4e5f60718",
) -> bytes:
    """The two lines Particle writes for one event, with the blank line after."""
    import json

    payload = {"data": data, "ttl": 60, "published_at": published_at, "coreid": coreid}
    text = json.dumps(payload, separators=(",", ":"))
    return f"event: {name}\ndata: {text}\n\n".encode()
