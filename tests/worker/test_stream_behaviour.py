"""How the worker rides out what Particle's stream does: drops, stalls, errors."""

from __future__ import annotations

import asyncio
import json
import time

import aio_pika
from structlog.testing import capture_logs

from shared.settings import Settings
from shared.topology import declare_topology, unrouted_name
from tests.support.capture import Capture
from tests.support.sse_server import Script, ScriptedSSEServer, particle_event
from tests.worker.conftest import TEST_TOKEN, StartWorker
from worker.app import EXIT_CRASHED, EXIT_STREAM_REJECTED, Worker

FIRST = particle_event("photo", "first", "2026-12-04T10:00:00.000Z")
SECOND = particle_event("photo", "second", "2026-12-04T10:00:01.000Z")
THIRD = particle_event("photo", "third", "2026-12-04T10:00:02.000Z")


def data_of(captured: list) -> list[str]:  # type: ignore[type-arg]
    return [c.json()["data"] for c in captured]


async def test_worker_sends_token_only_as_bearer_header(
    sse_server: ScriptedSSEServer, capture: Capture, start_worker: StartWorker
) -> None:
    sse_server.scripts = [Script(chunks=[b":ok\n\n", FIRST])]

    start_worker()
    await capture.take(1)

    seen = sse_server.requests[0]
    assert seen.headers["Authorization"] == f"Bearer {TEST_TOKEN}"
    assert TEST_TOKEN not in seen.path + seen.query
    assert seen.path == "/v1/devices/events"


async def test_worker_discards_half_event_of_dropped_connection(
    sse_server: ScriptedSSEServer, capture: Capture, start_worker: StartWorker
) -> None:
    half = SECOND[: len(SECOND) // 2]
    sse_server.scripts = [
        Script(chunks=[b":ok\n\n", FIRST, half], then="drop"),
        Script(chunks=[b":ok\n\n", THIRD]),
    ]

    start_worker()
    events = await capture.take(2)
    await asyncio.sleep(0.3)

    assert data_of(events) == ["first", "third"]
    assert capture.events.empty()


async def test_worker_reconnects_when_stream_stalls(
    sse_server: ScriptedSSEServer, capture: Capture, start_worker: StartWorker
) -> None:
    sse_server.scripts = [
        Script(chunks=[b":ok\n\n", FIRST], then="hold"),
        Script(chunks=[b":ok\n\n", SECOND]),
    ]

    start_worker(stream_idle_timeout=1.0)
    events = await capture.take(2, timeout=10)

    assert data_of(events) == ["first", "second"]
    assert len(sse_server.requests) == 2


async def test_worker_counts_keepalive_newlines_as_life(
    sse_server: ScriptedSSEServer, capture: Capture, start_worker: StartWorker
) -> None:
    sse_server.scripts = [Script(chunks=[b":ok\n\n", FIRST], keepalive_every=0.3)]

    start_worker(stream_idle_timeout=1.0)
    await capture.take(1)
    await asyncio.sleep(3)

    assert len(sse_server.requests) == 1


async def test_worker_retries_after_server_error(
    sse_server: ScriptedSSEServer, capture: Capture, start_worker: StartWorker
) -> None:
    sse_server.scripts = [
        Script.error(503, b'{"error":"unavailable"}'),
        Script(chunks=[b":ok\n\n", FIRST]),
    ]

    running = start_worker()
    events = await capture.take(1)

    assert data_of(events) == ["first"]
    assert running.worker.stats.reconnects >= 1


async def test_worker_waits_retry_after_on_429(
    sse_server: ScriptedSSEServer, capture: Capture, start_worker: StartWorker
) -> None:
    sse_server.scripts = [
        Script.error(429, b"{}", **{"Retry-After": "2"}),
        Script(chunks=[b":ok\n\n", FIRST]),
    ]

    started = time.monotonic()
    start_worker()
    await sse_server.wait_for_connections(2, timeout=10)

    assert time.monotonic() - started >= 2
    assert data_of(await capture.take(1)) == ["first"]


async def test_worker_backs_off_at_least_30s_on_429_without_retry_after(
    sse_server: ScriptedSSEServer, start_worker: StartWorker
) -> None:
    sse_server.scripts = [Script.error(429, b'{"error":"too many requests"}')]

    start_worker()
    await sse_server.wait_for_connections(1)
    await asyncio.sleep(3)

    assert len(sse_server.requests) == 1


async def test_worker_stops_on_permanent_rejection(
    sse_server: ScriptedSSEServer, start_worker: StartWorker
) -> None:
    for status in (403, 404):
        body = json.dumps({"error_description": "Permission Denied"}).encode()
        sse_server.requests.clear()
        sse_server.scripts = [Script.error(status, body)]

        running = start_worker()
        code = await asyncio.wait_for(running.task, 10)

        assert code == EXIT_STREAM_REJECTED
        assert len(sse_server.requests) == 1


async def test_worker_publishes_product_stream_with_prefix(
    sse_server: ScriptedSSEServer, capture: Capture, start_worker: StartWorker
) -> None:
    sse_server.scripts = [Script(chunks=[b":ok\n\n", FIRST])]

    start_worker(particle_product="my-product", particle_event_prefix="photo/new")
    await capture.take(1)

    assert sse_server.requests[0].path == "/v1/products/my-product/events/photo%2Fnew"


async def test_worker_sends_nameless_event_to_invalid_exchange(
    sse_server: ScriptedSSEServer, capture: Capture, start_worker: StartWorker
) -> None:
    nameless = FIRST.split(b"\n", 1)[1]
    sse_server.scripts = [Script(chunks=[b":ok\n\n", nameless, SECOND])]

    start_worker()
    invalid = await capture.take_invalid(1)
    events = await capture.take(1)

    assert invalid[0].headers["particle-invalid-reason"] == "event has no name"
    assert invalid[0].body == nameless.split(b"data: ", 1)[1].strip()
    assert data_of(events) == ["second"]


async def test_worker_logs_stats_line_with_every_counter(
    sse_server: ScriptedSSEServer, capture: Capture, start_worker: StartWorker
) -> None:
    sse_server.scripts = [Script(chunks=[b":ok\n\n", FIRST])]

    with capture_logs() as logs:
        start_worker(stats_interval=0.2)
        await capture.take(1)
        await asyncio.sleep(0.6)

    stats = [entry for entry in logs if entry["event"] == "worker_stats"][-1]
    assert stats["received"] == stats["published"] == 1
    for counter in ("invalid", "unrouted", "buffered", "dropped", "reconnects"):
        assert stats[counter] == 0
    assert stats["connected_since"] is not None


async def test_worker_event_no_queue_wants_is_kept_in_unrouted_queue(
    sse_server: ScriptedSSEServer,
    amqp_channel: aio_pika.abc.AbstractChannel,
    exchange_name: str,
    start_worker: StartWorker,
) -> None:
    exchanges = await declare_topology(amqp_channel, exchange_name)
    photos = await amqp_channel.declare_queue(exclusive=True)
    await photos.bind(exchanges.events, routing_key="photo")
    other = particle_event("sensor/temp", "21.5", "2026-12-04T10:00:03.000Z")
    sse_server.scripts = [Script(chunks=[b":ok\n\n", other, FIRST])]

    start_worker()
    photo = await _get(photos)
    kept = await _get(await amqp_channel.get_queue(unrouted_name(exchange_name)))

    assert json.loads(photo.body)["data"] == "first"
    assert kept.routing_key == "sensor.temp"
    assert json.loads(kept.body)["name"] == "sensor/temp"


async def _get(
    queue: aio_pika.abc.AbstractQueue,
) -> aio_pika.abc.AbstractIncomingMessage:
    async with asyncio.timeout(10):
        while (message := await queue.get(no_ack=True, fail=False)) is None:
            await asyncio.sleep(0.05)
    return message


async def test_worker_does_not_follow_redirects_with_the_token(
    sse_server: ScriptedSSEServer, start_worker: StartWorker
) -> None:
    sse_server.scripts = [
        Script.error(302, b"", Location="http://127.0.0.1:9/v1/devices/events")
    ]

    running = start_worker()
    code = await asyncio.wait_for(running.task, 10)

    assert code == EXIT_STREAM_REJECTED
    assert len(sse_server.requests) == 1


async def test_worker_exits_crashed_when_publisher_fails_unexpectedly(
    worker_settings: Settings,
) -> None:
    worker = Worker(worker_settings)

    async def broken() -> None:
        raise ValueError("a bug, not a broker outage")

    worker.publisher.run = broken  # type: ignore[method-assign]
    code = await asyncio.wait_for(worker.run(), 10)

    assert code == EXIT_CRASHED
