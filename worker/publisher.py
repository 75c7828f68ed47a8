"""Publishing held messages to RabbitMQ with confirms, in order, nothing lost.

Messages leave the buffer into a window of publishes awaiting their confirm; one is
counted as published only once the broker confirmed it. If the broker goes away,
every unconfirmed message goes back to the front of the buffer in its order and is
published again after reconnecting. A message may then reach the broker twice; it
carries the same `message_id` both times, so consumers drop the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from dataclasses import dataclass

import aiormq.abc
import tenacity
from aio_pika.abc import AbstractConnection

from shared import broker
from shared.log import get_logger
from shared.settings import Settings
from shared.topology import declare_topology, unrouted_name

from .buffer import Outgoing, OutgoingBuffer
from .stats import WorkerStats

log = get_logger("worker.publisher")

# Enough confirms in flight to keep the broker busy, few enough to bound memory and
# the number of duplicates a broken connection can cause.
CONFIRM_WINDOW = 256
BROKER_WAIT_CEILING = 30.0
CLOSE_TIMEOUT_SECONDS = 5.0

InFlight = deque[tuple[Outgoing, "asyncio.Future[object]"]]


class BrokerLost(Exception):
    """A connection that had been up failed; the reconnect backoff starts over."""


@dataclass(frozen=True)
class PublishTarget:
    """Where one connection publishes: aiormq's channel under aio-pika's, used
    directly so each event costs no aio-pika Message of its own."""

    channel: aiormq.abc.AbstractChannel
    events: str
    invalid: str


class EventPublisher:
    """Drains an `OutgoingBuffer` into the events and invalid exchanges."""

    def __init__(
        self, settings: Settings, buffer: OutgoingBuffer, stats: WorkerStats
    ) -> None:
        self._settings = settings
        self._buffer = buffer
        self._stats = stats
        self._closing = False
        self._connection: AbstractConnection | None = None

    async def run(self) -> None:
        """Publish until `close` is called and nothing is held; reconnect on loss.

        Failed connection attempts back off up to 30 s; losing a connection that was
        up starts the backoff over, so a broker blip costs about a second.
        """
        while True:
            try:
                async for attempt in self._retrying():
                    with attempt:
                        await self._connect_and_drain()
                return
            except BrokerLost as lost:
                log.warning(
                    "broker_connection_lost",
                    error=type(lost.__cause__).__name__,
                    held=len(self._buffer),
                )
                await asyncio.sleep(random.uniform(0, 1))

    def _retrying(self) -> tenacity.AsyncRetrying:
        return tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(broker.BROKER_ERRORS),
            wait=tenacity.wait_random_exponential(
                multiplier=1, max=BROKER_WAIT_CEILING
            ),
            before_sleep=self._log_broker_retry,
            reraise=True,
        )

    def close(self) -> None:
        """Ask `run` to return once everything held has been confirmed."""
        self._closing = True
        self._buffer.wake()

    async def count_unrouted(self) -> int | None:
        """How many messages wait in the unrouted queue, or None while disconnected."""
        if self._connection is None or self._connection.is_closed:
            return None
        try:
            async with self._connection.channel() as channel:
                name = unrouted_name(self._settings.events_exchange)
                queue = await channel.declare_queue(name, passive=True)
        except broker.BROKER_ERRORS:
            return None
        return queue.declaration_result.message_count or 0

    async def _connect_and_drain(self) -> None:
        connection = await broker.connect(self._settings.broker_url, "worker")
        try:
            channel = await connection.channel(publisher_confirms=True)
            exchanges = await declare_topology(channel, self._settings.events_exchange)
            target = PublishTarget(
                channel=await channel.get_underlay_channel(),
                events=exchanges.events.name,
                invalid=exchanges.invalid.name,
            )
            self._connection = connection
            log.info("broker_connected", held=len(self._buffer))
            try:
                await self._drain(target)
            except broker.BROKER_ERRORS as error:
                raise BrokerLost from error
        finally:
            self._connection = None
            await _close_quietly(connection)

    async def _drain(self, target: PublishTarget) -> None:
        in_flight: InFlight = deque()
        try:
            await self._publish_until_closed(target, in_flight)
        except BaseException:
            self._put_back_unconfirmed(in_flight)
            raise

    async def _publish_until_closed(
        self, target: PublishTarget, in_flight: InFlight
    ) -> None:
        while True:
            while len(in_flight) < CONFIRM_WINDOW and len(self._buffer):
                item = self._buffer.take()
                in_flight.append((item, self._publish(target, item)))
            if in_flight:
                item, confirmation = in_flight[0]
                # One deadline for the oldest confirm rather than a timer per message:
                # a broker that stops confirming fails it, and everything behind it.
                async with asyncio.timeout(self._settings.publish_timeout):
                    await confirmation
                in_flight.popleft()
                self._count_published(item)
            elif self._closing:
                return
            else:
                await self._buffer.wait_for_change()

    def _publish(self, target: PublishTarget, item: Outgoing) -> asyncio.Future[object]:
        return asyncio.ensure_future(
            target.channel.basic_publish(
                item.body,
                exchange=target.invalid if item.invalid else target.events,
                routing_key=item.routing_key,
                properties=item.properties,
                # The alternate exchange keeps what no queue wants; no returns needed.
                mandatory=False,
            )
        )

    def _count_published(self, item: Outgoing) -> None:
        if item.invalid:
            self._stats.invalid += 1
        else:
            self._stats.published += 1

    def _put_back_unconfirmed(self, in_flight: InFlight) -> None:
        unconfirmed = []
        for item, confirmation in in_flight:
            if confirmation.done() and not confirmation.cancelled():
                if confirmation.exception() is None:
                    self._count_published(item)
                    continue
            else:
                confirmation.cancel()
            unconfirmed.append(item)
        dropped = self._buffer.restore(unconfirmed)
        if unconfirmed:
            log.warning(
                "publish_unconfirmed_requeued", count=len(unconfirmed), dropped=dropped
            )

    def _log_broker_retry(self, retry_state: tenacity.RetryCallState) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        log.warning(
            "broker_unavailable",
            error=type(error).__name__,
            reason=str(error),
            held=len(self._buffer),
            wait_s=round(retry_state.upcoming_sleep, 3),
        )


async def _close_quietly(connection: AbstractConnection) -> None:
    # A silent broker never answers Connection.Close; don't let that stall the retry.
    with contextlib.suppress(*broker.BROKER_ERRORS):
        await asyncio.wait_for(connection.close(), CLOSE_TIMEOUT_SECONDS)
