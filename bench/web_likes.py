"""Likes per second turned into device function calls.

With M posts stored (written straight into a freshly migrated database), the
benchmark fires one like at each post through `POST /api/posts/{id}/likes` and
times, from the first like sent, until the fake Particle API has received M
function calls. The baseline makes the same M calls (same devices, function and
argument) directly with a plain aiohttp client, as many at once as the web's
`WEB_CALL_CONCURRENCY`, to the same fake. Rounds alternate the two.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiohttp
from sqlalchemy import insert, select

from web.db import create_engine
from web.models import Device, Post, utcnow

from .harness import BENCH_TOKEN
from .web_fake_particle import FakeParticle
from .web_harness import (
    DEVICES,
    LIKE_FUNCTION,
    WEB_CALL_CONCURRENCY,
    PairedRates,
    WebProcess,
    WebSetup,
    feed_event,
    run_release,
    scratch_database,
    scratch_exchange,
)

# Likes in flight from the benchmark: twice the web's call concurrency, so that
# this client, waiting on answers, is never what sets the pace.
LIKE_CONCURRENCY = 2 * WEB_CALL_CONCURRENCY

T = TypeVar("T")


@dataclass(frozen=True)
class PlannedCall:
    post_id: int
    device_id: str


def planned_calls(count: int) -> list[PlannedCall]:
    """The calls M likes cause: posts get ids 1..M in the order they are seeded."""
    return [PlannedCall(n + 1, DEVICES[n % len(DEVICES)]) for n in range(count)]


async def seed_posts(database_url: str, count: int) -> list[int]:
    """Store `count` posts (and their devices) directly; their ids, in order."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            devices = [{"device_id": d, "updated_at": utcnow()} for d in DEVICES]
            await connection.execute(insert(Device), devices)
            await connection.execute(insert(Post), [_post_row(n) for n in range(count)])
            ids = await connection.scalars(select(Post.id).order_by(Post.id))
            return list(ids)
    finally:
        await engine.dispose()


def _post_row(n: int) -> dict[str, object]:
    event = feed_event(n)
    return {
        "event_id": event.event_id,
        "event_name": event.name,
        "device_id": event.coreid,
        "data": event.data,
        "published_at": event.published_at,
        "received_at": utcnow(),
        "likes": 0,
    }


async def in_parallel(
    width: int, items: Iterable[T], send: Callable[[T], Awaitable[None]]
) -> None:
    """`send` every item, `width` at a time, each lane taking the next item."""
    pending = iter(items)

    async def lane() -> None:
        for item in pending:
            await send(item)

    await asyncio.gather(*(lane() for _ in range(width)))


async def fire_likes(web_url: str, post_ids: list[int]) -> None:
    """One like per post, LIKE_CONCURRENCY at a time; each must be accepted."""
    async with aiohttp.ClientSession() as session:

        async def like(post_id: int) -> None:
            async with session.post(f"{web_url}/api/posts/{post_id}/likes") as response:
                if response.status != 202:
                    raise RuntimeError(f"like of {post_id}: HTTP {response.status}")

        await in_parallel(LIKE_CONCURRENCY, post_ids, like)


async def call_directly(particle_url: str, calls: list[PlannedCall]) -> None:
    """The same calls as the web makes them, WEB_CALL_CONCURRENCY at a time."""
    headers = {"Authorization": f"Bearer {BENCH_TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def call(planned: PlannedCall) -> None:
            url = f"{particle_url}/v1/devices/{planned.device_id}/{LIKE_FUNCTION}"
            form = {"arg": str(planned.post_id)}
            async with session.post(url, data=form) as response:
                body = await response.json()
                if response.status != 200 or body.get("return_value") != 1:
                    raise RuntimeError(f"call: HTTP {response.status} {body}")

        await in_parallel(WEB_CALL_CONCURRENCY, calls, call)


async def web_rate(
    broker_url: str, server_url: str, fake: FakeParticle, count: int, log: Path
) -> float:
    async with (
        scratch_database(server_url) as database_url,
        scratch_exchange(broker_url) as scratch,
    ):
        setup = WebSetup(broker_url, database_url, scratch.name, fake.url)
        await run_release(setup, log)
        post_ids = await seed_posts(database_url, count)
        await fake.reset()
        web = await WebProcess.start(setup, log)
        try:
            await web.wait_healthy()
            began = time.monotonic()
            await fire_likes(web.url, post_ids)
            finished = await fake.moment_of_call(count)
        finally:
            await web.stop()
    return count / (finished - began)


async def baseline_rate(fake: FakeParticle, count: int) -> float:
    await fake.reset()
    began = time.monotonic()
    await call_directly(fake.url, planned_calls(count))
    finished = await fake.moment_of_call(count)
    return count / (finished - began)


async def measure(
    broker_url: str,
    server_url: str,
    fake: FakeParticle,
    count: int,
    rounds: int,
    log: Path,
) -> PairedRates:
    """Alternate the two, so drift on a shared machine hits both alike."""
    rates = PairedRates(web=[], baseline=[])
    for _ in range(rounds):
        rates.baseline.append(await baseline_rate(fake, count))
        rates.web.append(await web_rate(broker_url, server_url, fake, count, log))
    return rates
