"""Posts per second: a backlog of feed events consumed into PostgreSQL.

Each round publishes the same prepared feed events into a fresh exchange whose
timeline queue already exists, then starts the consumer against a fresh database
and times it from the first post stored until all are stored, counting rows from
outside. The web process (`python -m web`, after `python -m shared.release`)
alternates with the baseline consumer (`bench.web_baseline`) on the same backlog.
"""

from __future__ import annotations

from pathlib import Path

from aio_pika import Message

from .web_baseline import create_posts_table
from .web_harness import (
    WEB_PREFETCH,
    PairedRates,
    PostCounter,
    WebProcess,
    WebSetup,
    feed_messages,
    publish_backlog,
    run_release,
    scratch_database,
    scratch_exchange,
    start_module,
    stop_process,
)


async def web_rate(
    broker_url: str,
    server_url: str,
    particle_url: str,
    messages: list[Message],
    log: Path,
) -> float:
    async with (
        scratch_database(server_url) as database_url,
        scratch_exchange(broker_url) as scratch,
    ):
        setup = WebSetup(broker_url, database_url, scratch.name, particle_url)
        await run_release(setup, log)
        await publish_backlog(broker_url, scratch, messages)
        async with PostCounter.connect(database_url) as counter:
            web = await WebProcess.start(setup, log)
            try:
                return await counter.rate_until(len(messages), web.process)
            finally:
                await web.stop()


async def baseline_rate(
    broker_url: str, server_url: str, messages: list[Message], log: Path
) -> float:
    async with (
        scratch_database(server_url) as database_url,
        scratch_exchange(broker_url) as scratch,
    ):
        await create_posts_table(database_url)
        await scratch.declare(broker_url)
        await publish_backlog(broker_url, scratch, messages)
        async with PostCounter.connect(database_url) as counter:
            consumer = await start_module(
                "bench.web_baseline",
                database_url,
                broker_url,
                scratch.queues.timeline,
                str(WEB_PREFETCH),
                log=log,
            )
            try:
                return await counter.rate_until(len(messages), consumer)
            finally:
                await stop_process(consumer)


async def measure(
    broker_url: str,
    server_url: str,
    particle_url: str,
    count: int,
    rounds: int,
    log: Path,
) -> PairedRates:
    """Alternate the two, so drift on a shared machine hits both alike."""
    messages = feed_messages(count)
    rates = PairedRates(web=[], baseline=[])
    for _ in range(rounds):
        rates.baseline.append(
            await baseline_rate(broker_url, server_url, messages, log)
        )
        rates.web.append(
            await web_rate(broker_url, server_url, particle_url, messages, log)
        )
    return rates
