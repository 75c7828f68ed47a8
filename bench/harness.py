"""What every benchmark needs: a scratch topology, the worker as a process, RSS."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractQueue

from shared.topology import declare_topology

CHECKOUT = Path(__file__).resolve().parent.parent
BENCH_TOKEN = "bench-token-0123456789"


@dataclass
class Scratch:
    exchange: str
    queue: AbstractQueue
    channel: AbstractChannel

    async def depth(self, name: str | None = None) -> int:
        """Messages waiting in the `.all` queue, or in the queue named."""
        declared = await self.channel.declare_queue(
            name or self.queue.name, passive=True
        )
        return declared.declaration_result.message_count or 0

    async def wait_for_depth(self, count: int, timeout: float = 600) -> float:
        """Poll until the queue holds `count` messages; return when that happened."""
        deadline = time.perf_counter() + timeout
        while (depth := await self.depth()) < count:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"queue reached {depth} of {count}")
            await asyncio.sleep(0.02)
        return time.perf_counter()


@asynccontextmanager
async def scratch_topology(url: str, prefix: str = "bench") -> AsyncIterator[Scratch]:
    """A fresh events exchange `<prefix>.<uuid>` with its unrouted and invalid
    queues and an `.all` queue bound to every routing key; all deleted afterwards."""
    name = f"{prefix}.{uuid.uuid4().hex[:12]}"
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        exchanges = await declare_topology(channel, name)
        queue = await channel.declare_queue(f"{name}.all", durable=True)
        await queue.bind(exchanges.events, routing_key="#")
        try:
            yield Scratch(name, queue, channel)
        finally:
            await queue.delete(if_unused=False, if_empty=False)
            for suffix in (".unrouted", ".invalid"):
                await channel.queue_delete(name + suffix)
            for exchange in (name, name + ".unrouted", name + ".invalid"):
                await channel.exchange_delete(exchange)


async def start_worker(
    api_url: str, broker_url: str, exchange: str, **extra: str
) -> asyncio.subprocess.Process:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PARTICLE_API_URL": api_url,
        "PARTICLE_ACCESS_TOKEN": BENCH_TOKEN,
        "RABBITMQ_URL": broker_url,
        "PARTICLE_EXCHANGE": exchange,
        "LOG_LEVEL": "warning",
        **extra,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "worker", cwd=CHECKOUT, env=env
    )


async def stop_worker(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), 30)


def rss_bytes(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return _kib(fields["VmRSS"]), _kib(fields["VmHWM"])


def _kib(value: str) -> int:
    return int(value.split()[0]) * 1024
