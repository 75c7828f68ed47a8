"""The web process's one RabbitMQ connection, kept up until the process stops.

`BrokerLink.run` connects, declares the topology, starts every consumer and hands
the confirm channel to the `Publisher`; when the connection drops it stops them all
and reconnects with full-jitter backoff. The HTTP side never waits for the broker:
while it is away, publishes raise `BrokerUnavailable` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from typing import Protocol

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

from shared import broker
from shared.log import get_logger
from shared.settings import Settings
from shared.topology import WebTopology, declare_web_topology

from .config import WebConfig
from .errors import BrokerUnavailable

log = get_logger("web.link")

FIRST_WAIT = 0.5
WAIT_CEILING = 30.0
# Short enough for a platform's health check, long enough for a busy broker.
ANSWER_SECONDS = 2.0


class Publisher:
    """Publishes over the current connection; nothing is buffered.

    Calls, retries, dead letters and events go over a confirm channel and return
    once the broker confirmed. Live updates are best-effort (see `live`), so they
    go over a channel of their own without confirms and return once written:
    waiting for their confirm cost a round trip per post and per like. One channel
    keeps them in order among themselves, which is the order browsers need.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._channel: AbstractChannel | None = None
        self._topology: WebTopology | None = None
        self._live: AbstractExchange | None = None

    def attach(
        self,
        channel: AbstractChannel,
        topology: WebTopology,
        live: AbstractExchange | None = None,
    ) -> None:
        """`live`: the live exchange on an unconfirmed channel (default: confirmed)."""
        self._channel, self._topology = channel, topology
        self._live = live or topology.live

    def detach(self) -> None:
        self._channel, self._topology, self._live = None, None, None

    @property
    def connected(self) -> bool:
        return self._channel is not None and not self._channel.is_closed

    async def answers(self) -> bool:
        """Whether the broker answers a round trip within `ANSWER_SECONDS`: an open
        channel alone says nothing of a broker that went silent (blocked, cut off)."""
        channel, topology = self._channel, self._topology
        if channel is None or topology is None or channel.is_closed:
            return False
        try:
            async with asyncio.timeout(ANSWER_SECONDS):
                await channel.declare_exchange(
                    topology.exchanges.events.name, passive=True
                )
        except broker.BROKER_ERRORS:
            return False
        return True

    async def to_events(self, message: aio_pika.Message, routing_key: str) -> None:
        """Publish into the events exchange; returns once the broker confirmed."""
        await self._publish(message, routing_key, lambda t: t.exchanges.events)

    async def to_queue(self, message: aio_pika.Message, queue: str) -> None:
        """Publish straight to a queue (the default exchange routes by queue name)."""
        await self._publish(message, queue, None)

    async def to_live(self, message: aio_pika.Message) -> None:
        """Publish a live update; returns once written, confirmed or not."""
        live = self._live
        if live is None:
            raise BrokerUnavailable("not connected to RabbitMQ")
        await self._publish(message, "", lambda _: live)

    async def _publish(
        self,
        message: aio_pika.Message,
        routing_key: str,
        pick: Callable[[WebTopology], AbstractExchange] | None,
    ) -> None:
        channel, topology = self._channel, self._topology
        if channel is None or topology is None or channel.is_closed:
            raise BrokerUnavailable("not connected to RabbitMQ")
        exchange: AbstractExchange = (
            channel.default_exchange if pick is None else pick(topology)
        )
        try:
            await exchange.publish(
                message, routing_key=routing_key, mandatory=False, timeout=self._timeout
            )
        except broker.BROKER_ERRORS as error:
            raise BrokerUnavailable(
                f"publish failed: {type(error).__name__}"
            ) from error


class LinkPart(Protocol):
    """Something that lives on one connection: started after it opens, stopped
    (and drained) before it closes."""

    async def start(
        self, connection: AbstractConnection, topology: WebTopology
    ) -> None: ...

    async def stop(self) -> None: ...


class BrokerLink:
    def __init__(
        self,
        settings: Settings,
        config: WebConfig,
        publisher: Publisher,
        parts: list[LinkPart],
    ) -> None:
        self._settings = settings
        self._config = config
        self._publisher = publisher
        self._parts = parts
        self._stopping = asyncio.Event()
        self._failures = 0

    def stop(self) -> None:
        """Make `run` drain its consumers, close the connection and return."""
        self._stopping.set()

    async def run(self) -> None:
        """Stay connected until `stop`; every failure is logged and retried."""
        while not self._stopping.is_set():
            try:
                await self._session()
            except broker.BROKER_ERRORS as error:
                await self._back_off("broker_unavailable", error)
            except Exception as error:
                # A bug must not leave the process without a broker for good.
                log.exception("broker_session_crashed")
                await self._back_off("broker_session_restarting", error)

    async def _session(self) -> None:
        connection = await broker.connect(self._settings.broker_url, "web")
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: lost.set())
        started: list[LinkPart] = []
        try:
            channel = await connection.channel(publisher_confirms=True)
            channel.close_callbacks.add(lambda *_: lost.set())
            topology = await self._declare(channel)
            live_channel = await connection.channel(publisher_confirms=False)
            live_channel.close_callbacks.add(lambda *_: lost.set())
            live = await live_channel.get_exchange(topology.names.live, ensure=False)
            for part in self._parts:
                await part.start(connection, topology)
                started.append(part)
            self._publisher.attach(channel, topology, live)
            self._failures = 0
            log.info("broker_connected", exchange=self._settings.events_exchange)
            await _first_of(lost.wait(), self._stopping.wait())
            if not self._stopping.is_set():
                raise BrokerUnavailable("connection to RabbitMQ lost")
        finally:
            # Consumers drain first: their retries and dead letters still publish.
            for part in reversed(started):
                await part.stop()
            self._publisher.detach()
            with contextlib.suppress(*broker.BROKER_ERRORS):
                await connection.close()

    async def _declare(self, channel: AbstractChannel) -> WebTopology:
        return await declare_web_topology(
            channel,
            self._settings.events_exchange,
            self._settings.feed_event,
            self._config.timeline_retry_delays,
            self._config.call_retry_delays,
        )

    async def _back_off(self, name: str, error: BaseException) -> None:
        if self._stopping.is_set():
            return
        self._failures += 1
        wait = random.uniform(0, min(WAIT_CEILING, FIRST_WAIT * 2**self._failures))
        log.warning(
            name, error=type(error).__name__, reason=str(error), wait_s=round(wait, 3)
        )
        await self._pause(wait)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)


async def _first_of(*waits: Awaitable[object]) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
