"""Broker housekeeping for tests."""

from __future__ import annotations

import aio_pika


async def delete_topology(channel: aio_pika.abc.AbstractChannel, name: str) -> None:
    for queue in (f"{name}.unrouted", f"{name}.invalid"):
        await channel.queue_delete(queue)
    for exchange in (name, f"{name}.unrouted", f"{name}.invalid"):
        await channel.exchange_delete(exchange)
