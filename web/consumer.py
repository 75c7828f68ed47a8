"""Consuming one work queue with the web process's ack policy, in one place.

For each message the handler runs, then exactly one of these happens before the
ack, so a message is acked only once its effect (or its next home) is stored:

- the handler returned: its effect is stored, ack;
- it raised `MessageRejected` (undecodable, or can never succeed): a copy goes to
  the dead-letter queue with the reason in `dead-letter-reason`, then ack;
- it raised anything else: a copy goes to the retry queue for this attempt (whose
  TTL sends it back), or after the last delay to the dead-letter queue, then ack.

If that copy cannot be published (broker trouble), the message is not acked; it is
requeued a moment later, or redelivered when the channel closes. A process killed
mid-handler leaves it unacked too, so the broker redelivers it: handlers must be
idempotent, and they are (see `repo`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
    AbstractQueue,
    ConsumerTag,
)

from shared import broker
from shared.log import bind, get_logger
from shared.topology import WebTopology, retry_queue_name

from .errors import HandlingFailed, MessageRejected
from .link import Publisher
from .metrics import Metrics

log = get_logger("web.consumer")

ATTEMPT_HEADER = "web-attempt"
LAST_ERROR_HEADER = "web-last-error"
DEAD_REASON_HEADER = "dead-letter-reason"
DEAD_QUEUE_HEADER = "dead-letter-queue"
DEAD_ATTEMPTS_HEADER = "dead-letter-attempts"
REQUEUE_PAUSE_SECONDS = 1.0
REASON_LIMIT = 500


@dataclass(frozen=True)
class Delivery:
    """One try at one message: `attempt` counts from 1 across retries."""

    message: AbstractIncomingMessage
    attempt: int
    last_attempt: bool

    @property
    def body(self) -> bytes:
        return self.message.body


Handler = Callable[[Delivery], Awaitable[str]]


class QueueConsumer:
    """Consumes `queue` on its own channel; `handler` returns a short result word
    for the log line (stored, duplicate, ignored, ...)."""

    def __init__(
        self,
        queue: str,
        handler: Handler,
        *,
        retry_delays: tuple[float, ...],
        prefetch: int,
        concurrency: int,
        publisher: Publisher,
        metrics: Metrics,
        drain_timeout: float,
    ) -> None:
        self.queue = queue
        self._handler = handler
        self._retry_delays = retry_delays
        self._prefetch = prefetch
        self._slots = asyncio.Semaphore(concurrency)
        self._publisher = publisher
        self._metrics = metrics
        self._drain_timeout = drain_timeout
        self._channel: AbstractChannel | None = None
        self._consuming: tuple[AbstractQueue, ConsumerTag] | None = None
        self._dead_queue = ""
        self._stopping = False
        self._tasks: set[asyncio.Task[object]] = set()

    async def start(
        self, connection: AbstractConnection, topology: WebTopology
    ) -> None:
        self._dead_queue = topology.names.dead
        self._stopping = False
        self._channel = await connection.channel()
        await self._channel.set_qos(prefetch_count=self._prefetch)
        queue = await self._channel.get_queue(self.queue)
        self._consuming = (queue, await queue.consume(self._on_message))

    async def stop(self) -> None:
        """Stop taking messages, give the ones in hand `drain_timeout` to finish,
        cancel the rest (the broker redelivers them) and close the channel."""
        self._stopping = True
        if self._consuming is not None:
            queue, tag = self._consuming
            with contextlib.suppress(*broker.BROKER_ERRORS):
                await queue.cancel(tag)
            self._consuming = None
        await self._drain()
        if self._channel is not None:
            with contextlib.suppress(*broker.BROKER_ERRORS):
                await self._channel.close()
            self._channel = None

    async def _drain(self) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=self._drain_timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning(
                "consumer_drain_cancelled", queue=self.queue, count=len(pending)
            )
            await asyncio.wait(pending)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            # The semaphore is fair, so with concurrency 1 messages keep their order.
            async with self._slots:
                if not self._stopping:
                    await self._process(message)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _process(self, message: AbstractIncomingMessage) -> None:
        attempt = _attempt_of(message)
        delivery = Delivery(message, attempt, attempt > len(self._retry_delays))
        bind(queue=self.queue, message_id=message.message_id, attempt=attempt)
        started = time.monotonic()
        try:
            outcome, result = await self._settle(delivery)
        except broker.BROKER_ERRORS as error:
            outcome, result = "requeued", type(error).__name__
            await self._requeue_later(message)
        self._metrics.consumer_messages.labels(queue=self.queue, outcome=outcome).inc()
        # A person should look at what failed for good; the rest is routine.
        emit = log.info if outcome in ("handled", "retried") else log.warning
        emit(
            "message_handled",
            outcome=outcome,
            result=result,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )

    async def _settle(self, delivery: Delivery) -> tuple[str, str]:
        try:
            result = await self._handler(delivery)
            outcome = "handled"
        except MessageRejected as rejected:
            outcome, result = "dead_lettered", rejected.reason
            await self._dead_letter(delivery, rejected.reason)
        except Exception as error:
            outcome, result = await self._retry_or_give_up(delivery, error)
        await delivery.message.ack()
        return outcome, result

    async def _retry_or_give_up(
        self, delivery: Delivery, error: Exception
    ) -> tuple[str, str]:
        reason = _describe(error)
        if not isinstance(error, HandlingFailed):
            log.error("handler_failed", reason=reason, exc_info=error)
        if delivery.last_attempt:
            given_up = f"gave up after {delivery.attempt} attempts: {reason}"
            await self._dead_letter(delivery, given_up)
            return "dead_lettered", given_up
        delay = self._retry_delays[delivery.attempt - 1]
        copy = _copy(
            delivery.message,
            {ATTEMPT_HEADER: delivery.attempt, LAST_ERROR_HEADER: reason},
        )
        await self._publisher.to_queue(copy, retry_queue_name(self.queue, delay))
        return "retried", reason

    async def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        headers: dict[str, str | int] = {
            DEAD_REASON_HEADER: reason[:REASON_LIMIT],
            DEAD_QUEUE_HEADER: self.queue,
            DEAD_ATTEMPTS_HEADER: delivery.attempt,
        }
        await self._publisher.to_queue(
            _copy(delivery.message, headers), self._dead_queue
        )

    async def _requeue_later(self, message: AbstractIncomingMessage) -> None:
        # A pause keeps a broker in trouble from turning this into a hot loop.
        await asyncio.sleep(REQUEUE_PAUSE_SECONDS)
        with contextlib.suppress(*broker.BROKER_ERRORS):
            await message.nack(requeue=True)


def _attempt_of(message: AbstractIncomingMessage) -> int:
    done = (message.headers or {}).get(ATTEMPT_HEADER, 0)
    return (done if isinstance(done, int) and done >= 0 else 0) + 1


def _describe(error: Exception) -> str:
    if isinstance(error, HandlingFailed):
        return error.reason
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _copy(
    message: AbstractIncomingMessage, extra_headers: dict[str, str | int]
) -> aio_pika.Message:
    """The message again, persistent, with the broker's own x- headers left out."""
    headers = {
        key: value
        for key, value in (message.headers or {}).items()
        if not key.startswith("x-")
    }
    return aio_pika.Message(
        body=message.body,
        headers={**headers, **extra_headers},
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        timestamp=message.timestamp,
        type=message.type,
        app_id=message.app_id,
    )
