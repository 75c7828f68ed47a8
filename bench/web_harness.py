"""What the web benchmarks share: scratch databases and topologies, the feed
backlog, the web process (and its release step) as processes, and a post counter.

Everything is created per round under a fresh name (`bench_<uuid>` databases,
`bench.<uuid>` exchanges) and removed afterwards, because the broker and the
database server are shared with other people's tests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aio_pika
import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.events import ParticleEvent, build_message
from shared.topology import (
    DEFAULT_CALL_RETRY_DELAYS,
    DEFAULT_TIMELINE_RETRY_DELAYS,
    WebQueueNames,
    declare_web_topology,
    invalid_name,
    retry_queue_name,
    unrouted_name,
)
from web.db import async_url

from .harness import BENCH_TOKEN, CHECKOUT

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
FEED_EVENT = "photo"
LIKE_FUNCTION = "rainbow"
# The web's own defaults, pinned here because the baselines copy them.
WEB_PREFETCH = 32
WEB_CALL_CONCURRENCY = 8
# A few devices, so posts and calls spread over more than one device id.
DEVICES = [f"e00fce68b{n:015d}" for n in range(4)]
PUBLISH_WINDOW = 256
POLL_SECONDS = 0.025
STALL_SECONDS = 30.0
STOP_SECONDS = 30.0
FIRST_INSTANT = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
# At most 20,000 narrow rows: about a millisecond a count.
COUNT_POSTS = text("SELECT count(*) FROM posts")


@dataclass
class PairedRates:
    """Per-round rates of the web process and of its baseline, in the same run."""

    web: list[float]
    baseline: list[float]

    @property
    def web_median(self) -> float:
        return statistics.median(self.web)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline)

    @property
    def ratio(self) -> float:
        return self.web_median / self.baseline_median


def postgres_server_url() -> str:
    """The server to make scratch databases on; its own database is only for that."""
    return os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# ---- PostgreSQL ----------------------------------------------------------------


@asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """A fresh empty database on the server; its URL. Dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = _autocommit_engine(server_url)
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(False)
        finally:
            async with admin.connect() as connection:
                # FORCE: a consumer we stopped may not have closed its connection.
                drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
                await connection.execute(text(drop))
    finally:
        await admin.dispose()


def _autocommit_engine(database_url: str) -> AsyncEngine:
    # CREATE and DROP DATABASE refuse to run inside a transaction.
    return create_async_engine(async_url(database_url), isolation_level="AUTOCOMMIT")


class PostCounter:
    """Counts the rows of `posts`, to time a consumer from the outside."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @classmethod
    @asynccontextmanager
    async def connect(cls, database_url: str) -> AsyncIterator[PostCounter]:
        engine = _autocommit_engine(database_url)
        try:
            async with engine.connect() as connection:
                yield cls(connection)
        finally:
            await engine.dispose()

    async def count(self) -> int:
        value = await self._connection.scalar(COUNT_POSTS)
        return int(value or 0)

    async def rate_until(
        self, total: int, process: asyncio.subprocess.Process
    ) -> float:
        """Posts per second from the first stored post until `total` are stored.

        The clock starts at the first poll that sees a post, and the posts already
        there then are not counted, so start-up time is left out.
        """
        first_seen, stored_then = await self._wait_for_first(process)
        finished = await self._wait_for(total, process)
        return (total - stored_then) / (finished - first_seen)

    async def _wait_for_first(
        self, process: asyncio.subprocess.Process
    ) -> tuple[float, int]:
        deadline = time.monotonic() + STALL_SECONDS
        while (stored := await self.count()) == 0:
            _check_alive(process)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no post stored within {STALL_SECONDS:.0f} s")
            await asyncio.sleep(POLL_SECONDS)
        return time.monotonic(), stored

    async def _wait_for(self, total: int, process: asyncio.subprocess.Process) -> float:
        stored, progressed = 0, time.monotonic()
        while (now_stored := await self.count()) < total:
            now = time.monotonic()
            if now_stored > stored:
                stored, progressed = now_stored, now
            elif now - progressed > STALL_SECONDS:
                raise TimeoutError(f"stuck at {stored} of {total} posts")
            _check_alive(process)
            await asyncio.sleep(POLL_SECONDS)
        return time.monotonic()


def _check_alive(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        raise RuntimeError(f"consumer exited with status {process.returncode}")


# ---- RabbitMQ --------------------------------------------------------------------


@dataclass(frozen=True)
class ScratchExchange:
    """An events exchange of our own, and the web queues named after it."""

    name: str

    @property
    def queues(self) -> WebQueueNames:
        return WebQueueNames.for_exchange(self.name)

    async def declare(self, broker_url: str) -> None:
        """What the release step declares, for a baseline that skips the release."""
        connection = await aio_pika.connect(broker_url)
        async with connection:
            await declare_web_topology(
                await connection.channel(), self.name, FEED_EVENT
            )

    async def delete(self, broker_url: str) -> None:
        connection = await aio_pika.connect(broker_url)
        async with connection:
            channel = await connection.channel()
            for queue in self._all_queues():
                await channel.queue_delete(queue)
            names = self.queues
            for exchange in (
                self.name,
                unrouted_name(self.name),
                invalid_name(self.name),
                names.live,
            ):
                await channel.exchange_delete(exchange)

    def _all_queues(self) -> list[str]:
        names = self.queues
        retries = [
            retry_queue_name(queue, delay)
            for queue, delays in (
                (names.timeline, DEFAULT_TIMELINE_RETRY_DELAYS),
                (names.calls, DEFAULT_CALL_RETRY_DELAYS),
            )
            for delay in delays
        ]
        kept = [unrouted_name(self.name), invalid_name(self.name)]
        return [names.timeline, names.calls, names.dead, *retries, *kept]


@asynccontextmanager
async def scratch_exchange(broker_url: str) -> AsyncIterator[ScratchExchange]:
    """A `bench.<uuid>` name; whatever got declared under it is deleted afterwards."""
    scratch = ScratchExchange(f"bench.{uuid.uuid4().hex[:8]}")
    try:
        yield scratch
    finally:
        await scratch.delete(broker_url)


def feed_event(n: int) -> ParticleEvent:
    """The n-th feed event; each has its own published_at, so its own id."""
    published_at = FIRST_INSTANT + timedelta(milliseconds=n)
    fields = {
        "data": f"button press {n}",
        "ttl": 60,
        "published_at": published_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "coreid": DEVICES[n % len(DEVICES)],
    }
    return ParticleEvent(name=FEED_EVENT, fields=fields)


def feed_messages(count: int) -> list[aio_pika.Message]:
    """`count` feed events as the worker publishes them."""
    return [build_message(feed_event(n), "worker") for n in range(count)]


async def publish_backlog(
    broker_url: str, scratch: ScratchExchange, messages: list[aio_pika.Message]
) -> None:
    """Publish with confirms, then check that the timeline queue holds them all."""
    connection = await aio_pika.connect(broker_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(scratch.name)
        window = asyncio.Semaphore(PUBLISH_WINDOW)

        async def one(message: aio_pika.Message) -> None:
            async with window:
                await exchange.publish(message, routing_key=FEED_EVENT)

        await asyncio.gather(*(one(message) for message in messages))
        queue = await channel.declare_queue(scratch.queues.timeline, passive=True)
        held = queue.declaration_result.message_count
        if held != len(messages):
            raise RuntimeError(f"timeline queue holds {held} of {len(messages)}")


# ---- processes -------------------------------------------------------------------


@dataclass(frozen=True)
class WebSetup:
    """What one web process is pointed at."""

    broker_url: str
    database_url: str
    exchange: str
    particle_url: str

    def env(self, port: int = 0) -> dict[str, str]:
        # Only what the process needs: a CLOUDAMQP_URL or DATABASE_URL in the
        # developer's shell must not point the benchmark somewhere else.
        env = {
            "PATH": os.environ.get("PATH", ""),
            "DATABASE_URL": self.database_url,
            "RABBITMQ_URL": self.broker_url,
            "PARTICLE_EXCHANGE": self.exchange,
            "PARTICLE_API_URL": self.particle_url,
            "PARTICLE_ACCESS_TOKEN": BENCH_TOKEN,
            "FEED_EVENT": FEED_EVENT,
            "LIKE_FUNCTION": LIKE_FUNCTION,
            "WEB_PREFETCH": str(WEB_PREFETCH),
            "WEB_CALL_CONCURRENCY": str(WEB_CALL_CONCURRENCY),
            "LOG_LEVEL": "warning",
            "LOG_FORMAT": "json",
        }
        if port:
            env["PORT"] = str(port)
        return env


async def run_release(setup: WebSetup, log: Path) -> None:
    """`python -m shared.release`: declares the queues and migrates the database."""
    process = await _start_module("shared.release", setup.env(), log)
    status = await asyncio.wait_for(process.wait(), 120)
    if status != 0:
        raise RuntimeError(f"release exited with status {status}")


@dataclass
class WebProcess:
    process: asyncio.subprocess.Process
    url: str

    @classmethod
    async def start(cls, setup: WebSetup, log: Path) -> WebProcess:
        port = free_port()
        process = await _start_module("web", setup.env(port), log)
        return cls(process, f"http://127.0.0.1:{port}")

    async def wait_healthy(self, timeout: float = 30) -> None:
        """Until /healthz says the broker and the migrated database answer."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while not await self._healthy(session):
                _check_alive(self.process)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"web not healthy within {timeout:.0f} s")
                await asyncio.sleep(0.1)

    async def _healthy(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(f"{self.url}/healthz") as response:
                return response.status == 200
        except aiohttp.ClientConnectionError:
            return False

    async def stop(self) -> None:
        await stop_process(self.process)


async def start_module(
    module: str, *args: str, log: Path
) -> asyncio.subprocess.Process:
    """`python -m module args...` from the checkout, its output appended to `log`."""
    return await _start_module(module, {"PATH": os.environ.get("PATH", "")}, log, args)


async def _start_module(
    module: str, env: dict[str, str], log: Path, args: tuple[str, ...] = ()
) -> asyncio.subprocess.Process:
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            *args,
            cwd=CHECKOUT,
            env=env,
            stdout=output,
            stderr=output,
        )


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
