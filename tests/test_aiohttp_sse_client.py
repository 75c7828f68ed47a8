"""Pin down why the worker does not read the stream with aiohttp-sse-client 0.2.1.

Each test asserts the library's actual behaviour against a real aiohttp server on
127.0.0.1, so it fails (and docs/decisions.md can be revisited) once the library is
fixed. Spec: https://html.spec.whatwg.org/multipage/server-sent-events.html
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Literal

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp_sse_client import client as sse_client

READ_TIMEOUT = 5
TICK_INTERVAL = 0.05


@dataclass
class Connection:
    """What the server does on one request: write ``chunks``, then ``then``."""

    chunks: list[bytes] = field(default_factory=list)
    then: Literal["close", "drop", "hold", "tick"] = "hold"


StartServer = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve_sse() -> AsyncIterator[StartServer]:
    """Start loopback servers that play `Connection` scripts, one per request."""
    release = asyncio.Event()
    servers: list[TestServer] = []

    async def start(*connections: Connection) -> str:
        scripts = iter(connections)

        async def handler(request: web.Request) -> web.StreamResponse:
            script = next(scripts, Connection())
            return await play(request, script, release)

        app = web.Application()
        app.router.add_get("/events", handler)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/events"))

    yield start
    release.set()
    for server in servers:
        await server.close()


async def play(
    request: web.Request, script: Connection, release: asyncio.Event
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for chunk in script.chunks:
        await response.write(chunk)
    if script.then == "drop" and request.transport is not None:
        request.transport.abort()
    elif script.then == "hold":
        await release.wait()
    elif script.then == "tick":
        while not release.is_set():
            await response.write(b"data: tick\n\n")
            await asyncio.sleep(TICK_INTERVAL)
    return response


async def next_event(event_source: sse_client.EventSource) -> sse_client.MessageEvent:
    async with asyncio.timeout(READ_TIMEOUT):
        return await anext(event_source)


async def read_all(source: sse_client.EventSource, into: list[str]) -> None:
    async for event in source:
        into.append(event.data)


def event_source(url: str, **kwargs: object) -> sse_client.EventSource:
    # No wait before its reconnects, so the tests that reconnect stay fast.
    return sse_client.EventSource(url, reconnection_time=timedelta(0), **kwargs)


async def test_event_source_inherits_five_minute_total_timeout(serve_sse):
    """Every stream would be cut after 5 minutes, however healthy it is."""
    url = await serve_sse(Connection([b":ok\n\n"]))

    async with event_source(url) as source:
        timeout = source._session.timeout  # its own session; no public accessor

    assert timeout.total == 300


async def test_event_source_total_timeout_cuts_a_live_stream(serve_sse):
    """The total timeout ends even a stream that delivers events all the time."""
    url = await serve_sse(Connection(then="tick"))
    timeout = aiohttp.ClientTimeout(total=0.5)
    received: list[str] = []

    # The guard sits outside pytest.raises: should the library ever stop timing
    # out, it fails the test instead of satisfying pytest.raises itself.
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        event_source(url, session=session) as source,
        asyncio.timeout(READ_TIMEOUT),
    ):
        with pytest.raises(TimeoutError):
            await read_all(source, into=received)

    assert len(received) > 3  # events kept flowing right up to the cut


async def test_event_source_abrupt_drop_raises_from_iterator(serve_sse):
    """A dropped connection ends our consumer with an error instead of a reconnect."""
    chunks = [b"data: complete\n\n", b"data: ha"]
    url = await serve_sse(Connection(chunks, then="drop"))

    async with event_source(url) as source:
        first = await next_event(source)
        with pytest.raises(aiohttp.ClientPayloadError):
            await next_event(source)

    assert first.data == "complete"


async def test_event_source_non_utf8_byte_raises_from_iterator(serve_sse):
    """One bad byte from the cloud stops the stream instead of becoming U+FFFD."""
    url = await serve_sse(Connection([b"data: caf\xe9\n\n"]))

    async with event_source(url) as source:
        with pytest.raises(UnicodeDecodeError):
            await next_event(source)


async def test_event_source_glues_half_event_onto_next_connection(serve_sse):
    """Half an event from a stream that ended corrupts the next connection's first."""
    url = await serve_sse(
        Connection([b"event: photo\ndata: before the drop\n"], then="close"),
        Connection([b"event: note\ndata: after\n\n"]),
    )

    async with event_source(url) as source:
        event = await next_event(source)

    assert (event.type, event.data) == ("note", "before the drop\nafter")


async def test_event_source_strips_every_leading_space(serve_sse):
    """Data that starts with spaces reaches RabbitMQ altered."""
    url = await serve_sse(Connection([b"data:   indented\n\n"]))

    async with event_source(url) as source:
        event = await next_event(source)

    assert event.data == "indented"  # the spec keeps "  indented"


async def test_event_source_does_not_end_lines_at_lone_cr(serve_sse):
    """A CR-only stream merges fields and events into one garbled event."""
    url = await serve_sse(Connection([b"data: a\r\rdata: b\n\n"]))

    async with event_source(url) as source:
        event = await next_event(source)

    assert event.data == "a\r\rdata: b"  # the spec gives two events, "a" and "b"


async def test_event_source_loses_first_event_after_bom(serve_sse):
    """A leading BOM hides the first field, so the first event never arrives."""
    url = await serve_sse(Connection([b"\xef\xbb\xbfdata: first\n\ndata: second\n\n"]))

    async with event_source(url) as source:
        event = await next_event(source)

    assert event.data == "second"


async def test_event_source_loses_event_name_after_bom(serve_sse):
    """With the name line first, the BOM turns a Particle event into a nameless one."""
    url = await serve_sse(Connection([b"\xef\xbb\xbfevent: photo\ndata: x\n\n"]))

    async with event_source(url) as source:
        event = await next_event(source)

    assert (event.type, event.data) == (None, "x")


async def drop_before_headers(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.abort()
    return web.Response()


async def test_event_source_reconnect_delay_doubles_without_cap_or_jitter(
    monkeypatch: pytest.MonkeyPatch,
):
    """After an outage we would idle up to 21 min, all workers retrying in step."""
    delays: list[float] = []

    async def record_sleep(seconds: float) -> None:
        delays.append(seconds)

    # Only the library's own module sees the fake; the event loop keeps real sleep.
    monkeypatch.setattr(sse_client, "asyncio", SimpleNamespace(sleep=record_sleep))
    app = web.Application()
    app.router.add_get("/events", drop_before_headers)

    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("/events"))
        async with aiohttp.ClientSession() as session:
            source = sse_client.EventSource(url, session=session)
            with pytest.raises(aiohttp.ClientConnectionError):
                await source.connect(retry=8)

    assert delays == [5.0 * 2**attempt for attempt in range(1, 9)]
