"""The benchmark's Particle stand-in: an SSE server that writes prepared events.

It runs in the benchmark process and writes to the one worker that connects, either
all at once (throughput) or paced to a rate (latency, memory). Each event's data is
its sequence number and the wall-clock time it was written, so a consumer can tell
latency without a shared clock beyond this machine's.
"""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web
from aiohttp.test_utils import TestServer

COREID = "e00fce68a1b2c3d4e5f60718"


def event_bytes(n: int, written_at: float) -> bytes:
    fields = {
        "data": f"{n} {written_at:.6f}",
        "ttl": 60,
        "published_at": f"2026-12-04T10:00:00.{n % 1000:03d}Z",
        "coreid": COREID,
        # Unique per event: the id hashes coreid, name, published_at and data.
        "seq": n,
    }
    return b"event: photo\ndata: " + json.dumps(fields).encode() + b"\n\n"


class BenchSource:
    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self._closing = asyncio.Event()
        self._response: web.StreamResponse | None = None
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
        self._closing.set()
        await asyncio.sleep(0)
        if self._server is not None:
            await self._server.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b":ok\n\n")
        self._response = response
        self.connected.set()
        await self._closing.wait()  # held until the benchmark stops the server
        return response

    async def write_all(self, count: int, batch: int = 2000) -> None:
        """Write `count` events as fast as the connection takes them."""
        assert self._response is not None
        for start in range(0, count, batch):
            now = time.time()
            chunk = b"".join(
                event_bytes(n, now) for n in range(start, min(start + batch, count))
            )
            await self._response.write(chunk)

    async def write_paced(self, count: int, rate: float, start_at: int = 0) -> None:
        """Write `count` events at `rate` per second, each stamped when written."""
        assert self._response is not None
        began = time.monotonic()
        sent = 0
        while sent < count:
            due = min(count, int((time.monotonic() - began) * rate) + 1)
            if due > sent:
                now = time.time()
                chunk = b"".join(
                    event_bytes(start_at + n, now) for n in range(sent, due)
                )
                await self._response.write(chunk)
                sent = due
            await asyncio.sleep(0.001)
