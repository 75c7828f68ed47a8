"""Live updates for browsers: `GET /events` (SSE), fed through RabbitMQ.

Whoever changes something (a consumer storing a post, a request counting a like)
announces it on the live fanout exchange. Every web process has its own exclusive
queue bound to that exchange and relays what arrives to its browsers, so with
several web dynos each browser sees every change whichever dyno made it. While the
broker is away, announcements reach this process's browsers only.

Updates are best-effort: a browser that missed some (a slow client is dropped, a
reconnect loses what happened meanwhile) reloads the newest posts when it
reconnects, and everything is in the database anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aiohttp import web

from shared import broker
from shared.log import get_logger
from shared.topology import WebTopology

from .errors import BrokerUnavailable
from .link import Publisher
from .services import SERVICES_KEY

log = get_logger("web.live")

SUBSCRIBER_BACKLOG = 256
# EventSource waits this long before reconnecting after the stream ends.
RECONNECT_MILLISECONDS = 2000


@dataclass(frozen=True)
class Update:
    kind: str  # post, likes, call, device
    data: dict[str, Any]

    def as_sse(self) -> bytes:
        # json.dumps writes no newline, so the payload is one data: line.
        return f"event: {self.kind}\ndata: {json.dumps(self.data)}\n\n".encode()

    def as_message(self) -> aio_pika.Message:
        body = json.dumps({"kind": self.kind, "data": self.data})
        return aio_pika.Message(body.encode(), content_type="application/json")


class Subscriber:
    def __init__(self) -> None:
        self.updates: asyncio.Queue[Update | None] = asyncio.Queue(SUBSCRIBER_BACKLOG)

    def offer(self, update: Update | None) -> bool:
        """Queue the update; False when this browser is too far behind to keep."""
        try:
            self.updates.put_nowait(update)
        except asyncio.QueueFull:
            return False
        return True

    def end(self) -> None:
        """Make the stream finish: whatever is still queued is dropped."""
        while not self.updates.empty():
            self.updates.get_nowait()
        self.updates.put_nowait(None)


class LiveHub:
    """The browsers connected to this process."""

    def __init__(self, on_count: Callable[[int], None] = lambda _: None) -> None:
        self._subscribers: set[Subscriber] = set()
        self._on_count = on_count
        self._closed = False

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Subscriber]:
        subscriber = Subscriber()
        if self._closed:
            subscriber.end()
        self._subscribers.add(subscriber)
        self._on_count(len(self._subscribers))
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)
            self._on_count(len(self._subscribers))

    def broadcast(self, update: Update) -> None:
        for subscriber in list(self._subscribers):
            if not subscriber.offer(update):
                # Too slow to keep up: end its stream; the browser reconnects.
                self._subscribers.discard(subscriber)
                subscriber.end()
                log.warning("live_subscriber_dropped", backlog=SUBSCRIBER_BACKLOG)
        self._on_count(len(self._subscribers))

    def close(self) -> None:
        """End every stream (on shutdown), so requests can finish."""
        self._closed = True
        for subscriber in list(self._subscribers):
            subscriber.end()


class LiveNotifier:
    def __init__(self, publisher: Publisher, hub: LiveHub) -> None:
        self._publisher = publisher
        self._hub = hub

    async def announce(self, kind: str, data: dict[str, Any]) -> None:
        """Tell every browser; never raises, since the change itself is stored."""
        update = Update(kind, data)
        try:
            await self._publisher.to_live(update.as_message())
        except BrokerUnavailable:
            self._hub.broadcast(update)


class LiveRelay:
    """Relays the live exchange to this process's hub (a link part)."""

    def __init__(self, hub: LiveHub) -> None:
        self._hub = hub
        self._channel: AbstractChannel | None = None

    async def start(
        self, connection: AbstractConnection, topology: WebTopology
    ) -> None:
        self._channel = await connection.channel()
        # Server-named and exclusive: it lives exactly as long as this connection.
        queue = await self._channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(topology.live)
        await queue.consume(self._relay, no_ack=True)

    async def stop(self) -> None:
        if self._channel is not None:
            with contextlib.suppress(*broker.BROKER_ERRORS):
                await self._channel.close()
            self._channel = None

    async def _relay(self, message: AbstractIncomingMessage) -> None:
        try:
            payload = json.loads(message.body)
            update = Update(str(payload["kind"]), dict(payload["data"]))
        except (ValueError, KeyError, TypeError):
            log.warning("live_update_undecodable", size=len(message.body))
            return
        self._hub.broadcast(update)


async def events_handler(request: web.Request) -> web.StreamResponse:
    """`GET /events`: updates as they happen, and a comment line every keep-alive
    period so routers (Heroku's drops a connection idle for 55 s) keep it open."""
    services = request.app[SERVICES_KEY]
    hub, keepalive = services.hub, services.config.sse_keepalive
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    # TODO: number the updates and replay from Last-Event-ID on reconnect; that
    # would retire app.js's refetch of the newest page, which misses older changes.
    await response.write(f"retry: {RECONNECT_MILLISECONDS}\n: connected\n\n".encode())
    with hub.subscribe() as subscriber, contextlib.suppress(ConnectionError):
        while True:
            try:
                async with asyncio.timeout(keepalive):
                    update = await subscriber.updates.get()
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if update is None:
                break
            await response.write(update.as_sse())
    return response
