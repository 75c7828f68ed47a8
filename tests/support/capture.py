"""Collects what reaches RabbitMQ, for tests to assert on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from shared.topology import declare_topology, invalid_name


@dataclass
class Captured:
    routing_key: str
    message_id: str | None
    body: bytes
    headers: dict[str, Any]
    properties: AbstractIncomingMessage

    def json(self) -> Any:
        return json.loads(self.body)


class Capture:
    """Every message of the events exchange and of the invalid queue, in order."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[Captured] = asyncio.Queue()
        self.invalid: asyncio.Queue[Captured] = asyncio.Queue()

    async def start(self, channel: AbstractChannel, exchange: str) -> None:
        exchanges = await declare_topology(channel, exchange)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchanges.events, routing_key="#")
        await queue.consume(self._into(self.events))
        invalid = await channel.declare_queue(invalid_name(exchange), durable=True)
        await invalid.consume(self._into(self.invalid))

    def _into(
        self, target: asyncio.Queue[Captured]
    ) -> Callable[[AbstractIncomingMessage], Awaitable[None]]:
        async def on_message(message: AbstractIncomingMessage) -> None:
            await message.ack()
            target.put_nowait(
                Captured(
                    routing_key=message.routing_key or "",
                    message_id=message.message_id,
                    body=message.body,
                    headers=dict(message.headers),
                    properties=message,
                )
            )

        return on_message

    async def take(self, count: int, timeout: float = 10) -> list[Captured]:
        return await _take(self.events, count, timeout)

    async def take_invalid(self, count: int, timeout: float = 10) -> list[Captured]:
        return await _take(self.invalid, count, timeout)


async def _take(
    queue: asyncio.Queue[Captured], count: int, timeout: float
) -> list[Captured]:
    taken: list[Captured] = []
    async with asyncio.timeout(timeout):
        while len(taken) < count:
            taken.append(await queue.get())
    return taken
