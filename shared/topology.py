"""The RabbitMQ topology, declared in one place.

`python -m shared.release` declares it before any process runs, and every process
declares it again at connect (declarations are idempotent), so neither the worker
nor the web process depends on which one starts first.
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange


@dataclass(frozen=True)
class Exchanges:
    events: AbstractExchange
    unrouted: AbstractExchange
    invalid: AbstractExchange


def unrouted_name(events_exchange: str) -> str:
    return f"{events_exchange}.unrouted"


def invalid_name(events_exchange: str) -> str:
    return f"{events_exchange}.invalid"


async def declare_topology(channel: AbstractChannel, events_exchange: str) -> Exchanges:
    """Declare the events exchange, its alternate exchange and the invalid exchange.

    An event that no queue is bound for lands in the unrouted queue instead of being
    dropped by the broker; invalid events are kept in their own queue for a person.
    """
    unrouted = await _declare_kept_fanout(channel, unrouted_name(events_exchange))
    invalid = await _declare_kept_fanout(channel, invalid_name(events_exchange))
    events = await channel.declare_exchange(
        events_exchange,
        aio_pika.ExchangeType.TOPIC,
        durable=True,
        arguments={"alternate-exchange": unrouted.name},
    )
    return Exchanges(events=events, unrouted=unrouted, invalid=invalid)


async def _declare_kept_fanout(channel: AbstractChannel, name: str) -> AbstractExchange:
    exchange = await channel.declare_exchange(
        name, aio_pika.ExchangeType.FANOUT, durable=True
    )
    queue = await channel.declare_queue(name, durable=True)
    await queue.bind(exchange)
    return exchange
