"""The broker goes away mid-stream: the worker holds events and loses none."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from tests.support.capture import Capture
from tests.support.sse_server import Script, ScriptedSSEServer, particle_event
from tests.support.tcp_proxy import OutageProxy
from tests.worker.conftest import StartWorker


def numbered(n: int) -> bytes:
    return particle_event("photo", str(n), f"2026-12-04T10:00:{n:02d}.000Z")


@pytest.fixture
async def proxy(rabbitmq_url: str) -> AsyncIterator[OutageProxy]:
    target = urlsplit(rabbitmq_url)
    proxy = OutageProxy(target.hostname or "127.0.0.1", target.port or 5672)
    await proxy.start()
    yield proxy
    await proxy.stop()


async def wait_until(predicate, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def test_worker_publishes_held_events_after_broker_returns(
    proxy: OutageProxy,
    sse_server: ScriptedSSEServer,
    capture: Capture,
    start_worker: StartWorker,
) -> None:
    sse_server.scripts = [Script(chunks=[b":ok\n\n", *map(numbered, range(5))])]
    running = start_worker(broker_url=proxy.url)
    assert len(await capture.take(5)) == 5

    await proxy.cut()
    for n in range(5, 30):
        sse_server.push(numbered(n))
    await wait_until(lambda: running.worker.stats.received == 30)
    await asyncio.sleep(0.5)
    await proxy.restore()
    await wait_until(lambda: running.worker.stats.published == 30, timeout=40)
    after = await capture.take(25)

    in_order = list(dict.fromkeys(int(c.json()["data"]) for c in after))
    assert in_order == list(range(5, 30))


async def test_worker_drops_oldest_when_buffer_overflows(
    proxy: OutageProxy,
    sse_server: ScriptedSSEServer,
    capture: Capture,
    start_worker: StartWorker,
) -> None:
    sse_server.scripts = [Script(chunks=[b":ok\n\n", numbered(0)])]
    running = start_worker(broker_url=proxy.url, worker_buffer_size=5)
    await capture.take(1)

    await proxy.cut()
    for n in range(1, 11):
        sse_server.push(numbered(n))
    await wait_until(lambda: running.worker.stats.received == 11)
    await proxy.restore()
    await wait_until(lambda: running.worker.stats.published == 6, timeout=40)
    after = await capture.take(5)
    await asyncio.sleep(0.3)

    assert [int(c.json()["data"]) for c in after] == [6, 7, 8, 9, 10]
    assert running.worker.buffer.dropped == 5
    assert capture.events.empty()


async def test_worker_holds_events_while_broker_is_silent(
    proxy: OutageProxy,
    sse_server: ScriptedSSEServer,
    capture: Capture,
    start_worker: StartWorker,
) -> None:
    sse_server.scripts = [Script(chunks=[b":ok\n\n", numbered(0)])]
    running = start_worker(broker_url=proxy.url, publish_timeout=1.0)
    await capture.take(1)

    proxy.stall()
    for n in range(1, 6):
        sse_server.push(numbered(n))
    await wait_until(lambda: running.worker.stats.received == 6)
    await asyncio.sleep(1.5)
    proxy.resume()
    await wait_until(lambda: running.worker.stats.published == 6, timeout=40)
    after = await capture.take(5)

    assert list(dict.fromkeys(int(c.json()["data"]) for c in after)) == [1, 2, 3, 4, 5]
