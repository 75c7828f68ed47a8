"""`python -m bench.baseline N EXCHANGE`: a plain aio-pika publisher, the yardstick.

It publishes N messages shaped like the worker's, persistent and with publisher
confirms, keeping a window of confirms in flight, as fast as it can; it prints the
messages per second it achieved as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aio_pika

from shared.events import build_message, parse_stream_event

from .source import event_bytes

WINDOW = 256


def prepared_messages(count: int) -> list[aio_pika.Message]:
    messages = []
    for n in range(count):
        raw = event_bytes(n, time.time()).decode()
        data = raw.split("data: ", 1)[1].strip()
        event = parse_stream_event("photo", data)
        messages.append(build_message(event, "worker"))  # type: ignore[arg-type]
    return messages


async def publish(url: str, exchange_name: str, count: int) -> float:
    messages = prepared_messages(count)
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(exchange_name)
        window = asyncio.Semaphore(WINDOW)

        async def one(message: aio_pika.Message) -> None:
            async with window:
                await exchange.publish(message, routing_key="photo", mandatory=False)

        began = time.perf_counter()
        await asyncio.gather(*(one(message) for message in messages))
        return count / (time.perf_counter() - began)


def main() -> None:
    url, count, exchange = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rate = asyncio.run(publish(url, exchange, count))
    print(json.dumps({"messages_per_second": rate}))


if __name__ == "__main__":
    main()
