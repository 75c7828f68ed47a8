"""`python -m bench.web_baseline DATABASE_URL BROKER_URL QUEUE PREFETCH`: the
yardstick for the web's timeline consumer.

The simplest competent consumer doing the same essential work: aio-pika with the
same prefetch, one message at a time in arrival order (the web keeps the timeline
in arrival order too), one autocommitted asyncpg
`INSERT ... ON CONFLICT (event_id) DO NOTHING` per message into a table shaped like
the web's `posts`, and the ack after the insert. It runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

import aio_pika

# asyncpg ships no type hints; the raw driver is the point of this yardstick.
import asyncpg  # type: ignore[import-untyped]
from aio_pika.abc import AbstractIncomingMessage

from shared.events import ParticleEvent, check_name, parse_fields

# The web's posts table (migrations/versions/0001_timeline.py) without the devices
# table its foreign key needs: the same columns, keys and index.
POSTS_TABLE = """
CREATE TABLE posts (
    id serial PRIMARY KEY,
    event_id varchar(64) NOT NULL UNIQUE,
    event_name varchar(200) NOT NULL,
    device_id varchar(64) NOT NULL,
    data text NOT NULL,
    published_at varchar(40) NOT NULL,
    received_at timestamp NOT NULL,
    likes integer NOT NULL
);
CREATE INDEX ix_posts_device_id ON posts (device_id);
"""

INSERT_POST = """
INSERT INTO posts (event_id, event_name, device_id, data, published_at,
                   received_at, likes)
VALUES ($1, $2, $3, $4, $5, $6, 0)
ON CONFLICT (event_id) DO NOTHING
"""


async def create_posts_table(database_url: str) -> None:
    database = await asyncpg.connect(database_url)
    try:
        await database.execute(POSTS_TABLE)
    finally:
        await database.close()


def decode(body: bytes) -> ParticleEvent:
    fields = parse_fields(body.decode("utf-8"))
    return ParticleEvent(name=check_name(str(fields.pop("name", ""))), fields=fields)


async def store(database: asyncpg.Connection, message: AbstractIncomingMessage) -> None:
    event = decode(message.body)
    await database.execute(
        INSERT_POST,
        event.event_id,
        event.name,
        event.coreid,
        event.data,
        event.published_at,
        datetime.now(UTC).replace(tzinfo=None),
    )


async def consume(
    database_url: str, broker_url: str, queue_name: str, prefetch: int
) -> None:
    database = await asyncpg.connect(database_url)
    connection = await aio_pika.connect(broker_url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.get_queue(queue_name)
        async with queue.iterator() as messages:
            async for message in messages:
                await store(database, message)
                await message.ack()


def main() -> None:
    database_url, broker_url, queue, prefetch = sys.argv[1:5]
    asyncio.run(consume(database_url, broker_url, queue, int(prefetch)))


if __name__ == "__main__":
    main()
