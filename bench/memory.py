"""The worker's resident memory over a long run of events at a steady rate.

The baseline is the worker's own footprint once warmed up (after the first 2 % of
events): a flat line keeps the ratio of peak to baseline near 1.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from aio_pika.abc import AbstractIncomingMessage

from .harness import rss_bytes, scratch_topology, start_worker, stop_worker
from .source import BenchSource


@dataclass
class MemoryProfile:
    events: int
    rate: float
    samples: list[tuple[int, int]] = field(default_factory=list)  # (consumed, rss)
    peak_rss: int = 0
    elapsed_s: float = 0.0

    @property
    def warm_rss(self) -> int:
        warm = [rss for seen, rss in self.samples if seen >= self.events * 0.02]
        return warm[0] if warm else self.samples[0][1]


class Counter:
    def __init__(self) -> None:
        self.seen = 0

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        self.seen += 1


async def measure(broker_url: str, events: int, rate: float) -> MemoryProfile:
    profile = MemoryProfile(events=events, rate=rate)
    source = BenchSource()
    await source.start()
    async with scratch_topology(broker_url) as scratch:
        counter = Counter()
        await scratch.channel.set_qos(prefetch_count=2000)
        await scratch.queue.consume(counter.on_message, no_ack=True)
        process = await start_worker(source.url, broker_url, scratch.exchange)
        try:
            await asyncio.wait_for(source.connected.wait(), 30)
            began = time.monotonic()
            writer = asyncio.create_task(source.write_paced(events, rate))
            while counter.seen < events:
                rss, peak = rss_bytes(process.pid)
                profile.samples.append((counter.seen, rss))
                profile.peak_rss = max(profile.peak_rss, peak)
                await asyncio.sleep(1)
            profile.elapsed_s = time.monotonic() - began
            await writer
            profile.peak_rss = max(profile.peak_rss, rss_bytes(process.pid)[1])
        finally:
            await stop_worker(process)
            await source.stop()
    return profile
