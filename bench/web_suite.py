"""The web process's benchmarks: posts consumed and likes turned into calls.

`python -m bench` runs them after the worker's and writes their section of
docs/benchmarks.md; `python -m bench.web_suite [--quick]` runs only them and
prints the figures. They need RabbitMQ (`RABBITMQ_URL`) and a PostgreSQL server
(`BENCH_POSTGRES_URL`, default the local one) on which to make scratch databases.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from . import web_likes, web_posts
from .web_fake_particle import FakeParticle
from .web_harness import (
    WEB_CALL_CONCURRENCY,
    WEB_PREFETCH,
    PairedRates,
    postgres_server_url,
)
from .web_likes import LIKE_CONCURRENCY

DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class Sizes:
    posts: int
    likes: int
    posts_rounds: int
    likes_rounds: int

    @classmethod
    def for_run(cls, quick: bool) -> Sizes:
        # The web stores ~130 posts/s here, so a 20,000-post round takes minutes:
        # two of those, and three of the much shorter likes rounds.
        return cls(1_000, 300, 1, 1) if quick else cls(20_000, 2_000, 2, 3)


@dataclass
class WebResults:
    sizes: Sizes
    posts: PairedRates
    likes: PairedRates


async def measure(broker_url: str, quick: bool) -> WebResults:
    sizes = Sizes.for_run(quick)
    server_url = postgres_server_url()
    async with _process_log() as log:
        fake = await FakeParticle.start(log)
        try:
            rounds = sizes.posts_rounds
            print(f"bench: web posts, {rounds} rounds of {sizes.posts} events")
            posts = await web_posts.measure(
                broker_url, server_url, fake.url, sizes.posts, rounds, log
            )
            rounds = sizes.likes_rounds
            print(f"bench: web likes, {rounds} rounds of {sizes.likes} likes")
            likes = await web_likes.measure(
                broker_url, server_url, fake, sizes.likes, rounds, log
            )
        finally:
            await fake.stop()
    return WebResults(sizes, posts, likes)


@asynccontextmanager
async def _process_log() -> AsyncIterator[Path]:
    """One file for the output of every process started; shown when a run fails."""
    with tempfile.TemporaryDirectory(prefix="bench-web-") as directory:
        log = Path(directory) / "processes.log"
        log.touch()
        try:
            yield log
        except BaseException:
            tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
            print("\n".join(["bench: process output:", *tail]), file=sys.stderr)
            raise


def section(results: WebResults) -> str:
    """The "Web process" section of docs/benchmarks.md."""
    posts, likes, sizes = results.posts, results.likes, results.sizes
    return f"""
## Web process

**Posts per second into PostgreSQL.** {sizes.posts:,} feed events wait in the
timeline queue of a fresh exchange (the release step declared it and migrated a fresh
database) when `python -m web` starts; it is timed from the first post stored until
all are, counting rows from outside. The baseline is a plain aio-pika consumer with
the same prefetch ({WEB_PREFETCH}), taking one message at a time in order as the web
does, inserting each post into a table of the same shape with
`INSERT … ON CONFLICT (event_id) DO NOTHING` over asyncpg and acking after it: the
same backlog, the same database server.

| | median posts/s | rounds |
| --- | ---: | --- |
| plain aio-pika + asyncpg consumer (baseline) | {posts.baseline_median:,.0f} | \
{_rounds(posts.baseline)} |
| web process | {posts.web_median:,.0f} | {_rounds(posts.web)} |
| **ratio web / baseline** | **{posts.ratio:.2f}** | |

**Likes per second into device calls.** With {sizes.likes:,} posts stored, one like
goes to each through `POST /api/posts/{{id}}/likes`, {LIKE_CONCURRENCY} at a time,
timed until a local fake Particle API (a process of its own, answering 200 at once)
has received every function call. The baseline makes the same calls straight to the
same fake with a plain aiohttp client, {WEB_CALL_CONCURRENCY} at a time (the web's
`WEB_CALL_CONCURRENCY`).

| | median calls/s | rounds |
| --- | ---: | --- |
| plain aiohttp client (baseline) | {likes.baseline_median:,.0f} | \
{_rounds(likes.baseline)} |
| web process, like to call | {likes.web_median:,.0f} | {_rounds(likes.web)} |
| **ratio web / baseline** | **{likes.ratio:.2f}** | |

Rounds alternate baseline and web: {sizes.posts_rounds} of each for posts,
{sizes.likes_rounds} for likes.

![web process](benchmarks/web.png)
"""


def _rounds(values: list[float]) -> str:
    return ", ".join(f"{value:,.0f}" for value in values)


def summary(results: WebResults) -> str:
    lines = []
    for name, rates in (("posts/s", results.posts), ("calls/s", results.likes)):
        lines.append(
            f"{name}: web {rates.web_median:,.0f} ({_rounds(rates.web)}), "
            f"baseline {rates.baseline_median:,.0f} ({_rounds(rates.baseline)}), "
            f"ratio {rates.ratio:.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.web_suite")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    # Deleting a scratch queue cancels its consumer, which aiormq reports as a warning.
    logging.basicConfig(level=logging.ERROR)
    url = os.environ.get("RABBITMQ_URL", DEFAULT_BROKER_URL)
    print(summary(asyncio.run(measure(url, args.quick))))


if __name__ == "__main__":
    main()
