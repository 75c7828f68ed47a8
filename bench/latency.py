"""End-to-end latency: from the SSE write to a consumer, at a steady rate.

The baseline is the shortest path the same messages could take: a plain aio-pika
publisher in this process publishing each message the moment it is due, consumed by
the same consumer. The worker's figure is compared against it.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from .baseline import prepared_messages
from .harness import Scratch, scratch_topology, start_worker, stop_worker
from .source import BenchSource


@dataclass
class Latencies:
    worker_ms: list[float]
    baseline_ms: list[float]


def percentile(samples: list[float], percent: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percent - 1]


class LatencyConsumer:
    def __init__(self, expected: int) -> None:
        self.samples: list[float] = []
        self.done = asyncio.Event()
        self._expected = expected

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        received = time.time()
        written = float(json.loads(message.body)["data"].split()[1])
        self.samples.append((received - written) * 1000)
        if len(self.samples) >= self._expected:
            self.done.set()

    async def consume(self, scratch: Scratch) -> None:
        await scratch.channel.set_qos(prefetch_count=1000)
        await scratch.queue.consume(self.on_message, no_ack=True)


async def worker_latency(broker_url: str, rate: float, count: int) -> list[float]:
    source = BenchSource()
    await source.start()
    async with scratch_topology(broker_url) as scratch:
        consumer = LatencyConsumer(count)
        await consumer.consume(scratch)
        process = await start_worker(source.url, broker_url, scratch.exchange)
        try:
            await asyncio.wait_for(source.connected.wait(), 30)
            await source.write_paced(count, rate)
            await asyncio.wait_for(consumer.done.wait(), 60)
        finally:
            await stop_worker(process)
            await source.stop()
    return consumer.samples


async def baseline_latency(broker_url: str, rate: float, count: int) -> list[float]:
    messages = prepared_messages(count)
    async with scratch_topology(broker_url) as scratch:
        consumer = LatencyConsumer(count)
        await consumer.consume(scratch)
        connection = await aio_pika.connect(broker_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(scratch.exchange)
            await _publish_paced(exchange, messages, rate)
            await asyncio.wait_for(consumer.done.wait(), 60)
    return consumer.samples


async def _publish_paced(
    exchange: aio_pika.abc.AbstractExchange,
    messages: list[aio_pika.Message],
    rate: float,
) -> None:
    began = time.monotonic()
    pending: set[asyncio.Task[object]] = set()
    for n, message in enumerate(messages):
        delay = began + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        # Stamp the moment of sending, as the SSE source does for the worker.
        fields = json.loads(message.body)
        fields["data"] = f"{n} {time.time():.6f}"
        message.body = json.dumps(fields).encode()
        task = asyncio.ensure_future(
            exchange.publish(message, "photo", mandatory=False)
        )
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)


async def measure(broker_url: str, rate: float, count: int) -> Latencies:
    baseline = await baseline_latency(broker_url, rate, count)
    worker = await worker_latency(broker_url, rate, count)
    return Latencies(worker_ms=worker, baseline_ms=baseline)
