"""The RabbitMQ topology, declared in one place.

`python -m shared.release` declares it before any process runs, and every process
declares it again at connect (declarations are idempotent), so neither the worker
nor the web process depends on which one starts first.
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from shared.events import routing_key


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


# The web process's queues. They hang off the events exchange, so release declares
# them too: a post published before the first web dyno starts waits in its queue.

# Seconds between the tries of a failed handler; after the last, the dead-letter queue.
DEFAULT_TIMELINE_RETRY_DELAYS: tuple[float, ...] = (1.0, 5.0, 30.0)
# A device can stay offline for a while, so function calls back off for ~4 minutes.
DEFAULT_CALL_RETRY_DELAYS: tuple[float, ...] = (2.0, 5.0, 15.0, 30.0, 60.0, 120.0)
STATUS_ROUTING_KEY = "spark.status"


@dataclass(frozen=True)
class WebQueueNames:
    """Where the web process's messages live, all named after the events exchange."""

    timeline: str  # feed events and spark/status, from the events exchange
    calls: str  # one message per like: call the function on the poster's device
    dead: str  # what failed for good, with the reason in a header
    live: str  # fanout exchange: browser updates, to every web process

    @classmethod
    def for_exchange(cls, events_exchange: str) -> WebQueueNames:
        prefix = f"{events_exchange}.web"
        return cls(
            timeline=f"{prefix}.timeline",
            calls=f"{prefix}.calls",
            dead=f"{prefix}.dead",
            live=f"{prefix}.live",
        )


@dataclass(frozen=True)
class WebTopology:
    exchanges: Exchanges
    live: AbstractExchange
    names: WebQueueNames


def retry_queue_name(queue: str, delay: float) -> str:
    # The delay is in the name: a queue's TTL cannot change once declared, so a new
    # delay gets a new queue instead of a PRECONDITION_FAILED at start.
    return f"{queue}.retry.{round(delay * 1000)}ms"


async def declare_web_topology(
    channel: AbstractChannel,
    events_exchange: str,
    feed_event: str,
    timeline_retry_delays: tuple[float, ...] = DEFAULT_TIMELINE_RETRY_DELAYS,
    call_retry_delays: tuple[float, ...] = DEFAULT_CALL_RETRY_DELAYS,
) -> WebTopology:
    """Declare the worker's topology and the web's queues on top of it; idempotent.

    The timeline queue takes `feed_event`, `feed_event/...` and `spark/status`. Each
    work queue has one retry queue per delay, whose TTL dead-letters the message back
    to its work queue; whatever the broker itself rejects goes to the dead queue.
    A binding for an earlier FEED_EVENT stays until removed by hand; the web process
    acks and ignores what it no longer wants.
    """
    # TODO: unbind an earlier FEED_EVENT's key and delete retry queues of delays no
    # longer configured; both need the previous configuration kept somewhere.
    exchanges = await declare_topology(channel, events_exchange)
    names = WebQueueNames.for_exchange(events_exchange)
    await channel.declare_queue(names.dead, durable=True)

    timeline = await _declare_work_queue(
        channel, names.timeline, names.dead, timeline_retry_delays
    )
    await timeline.bind(exchanges.events, routing_key=f"{routing_key(feed_event)}.#")
    await timeline.bind(exchanges.events, routing_key=STATUS_ROUTING_KEY)
    await _declare_work_queue(channel, names.calls, names.dead, call_retry_delays)

    live = await channel.declare_exchange(
        names.live, aio_pika.ExchangeType.FANOUT, durable=True
    )
    return WebTopology(exchanges=exchanges, live=live, names=names)


async def _declare_work_queue(
    channel: AbstractChannel, name: str, dead: str, retry_delays: tuple[float, ...]
) -> AbstractQueue:
    queue = await channel.declare_queue(
        name,
        durable=True,
        arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead},
    )
    for delay in sorted(set(retry_delays)):
        await channel.declare_queue(
            retry_queue_name(name, delay),
            durable=True,
            arguments={
                "x-message-ttl": round(delay * 1000),
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": name,
            },
        )
    return queue
