"""Events per second through the worker against a plain aio-pika publisher."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass

from .harness import CHECKOUT, scratch_topology, start_worker, stop_worker
from .source import BenchSource


@dataclass
class Throughput:
    worker: list[float]
    baseline: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.worker) / statistics.median(self.baseline)


async def worker_rate(broker_url: str, count: int) -> float:
    source = BenchSource()
    await source.start()
    async with scratch_topology(broker_url) as scratch:
        process = await start_worker(source.url, broker_url, scratch.exchange)
        try:
            await asyncio.wait_for(source.connected.wait(), 30)
            began = time.perf_counter()
            await source.write_all(count)
            finished = await scratch.wait_for_depth(count)
        finally:
            await stop_worker(process)
            await source.stop()
    return count / (finished - began)


async def baseline_rate(broker_url: str, count: int) -> float:
    async with scratch_topology(broker_url) as scratch:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.baseline",
            broker_url,
            str(count),
            scratch.exchange,
            cwd=CHECKOUT,
            stdout=asyncio.subprocess.PIPE,
        )
        output, _ = await process.communicate()
        await scratch.wait_for_depth(count)
    return float(json.loads(output)["messages_per_second"])


async def measure(broker_url: str, count: int, rounds: int) -> Throughput:
    """Alternate the two, so drift on a shared machine hits both alike."""
    result = Throughput(worker=[], baseline=[])
    for _ in range(rounds):
        result.baseline.append(await baseline_rate(broker_url, count))
        result.worker.append(await worker_rate(broker_url, count))
    return result
