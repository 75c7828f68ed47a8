"""The worker process: one Particle stream in, RabbitMQ out, until SIGTERM.

Three tasks share one buffer: the stream reader appends, the publisher drains, and
a ticker logs the counters. On SIGTERM the reader stops first, then the publisher
gets what is left of Heroku's 30 s grace period to confirm what is held.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import UTC, datetime

import aiohttp

from shared.events import (
    InvalidEvent,
    ParticleEvent,
    build_invalid_properties,
    build_properties,
)
from shared.log import get_logger
from shared.settings import Settings

from .buffer import Outgoing, OutgoingBuffer
from .errors import StreamInterrupted, StreamRejected
from .publisher import EventPublisher
from .retry import first_wait_after_healthy, stream_retrying
from .stats import WorkerStats
from .stream import ParticleStream

log = get_logger("worker")

# Heroku sends SIGKILL 30 s after SIGTERM; leave room for closing connections.
SHUTDOWN_DEADLINE_SECONDS = 25.0
APP_ID = "worker"
EXIT_OK = 0
EXIT_EVENTS_LOST = 1
EXIT_STREAM_REJECTED = 3
EXIT_CRASHED = 4


class Worker:
    """Holds the stream subscription and republishes every event it receives."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stats = WorkerStats()
        self.buffer = OutgoingBuffer(settings.worker_buffer_size)
        self.publisher = EventPublisher(settings, self.buffer, self.stats)
        self._stop = asyncio.Event()
        self._stream: ParticleStream | None = None

    def stop(self) -> None:
        """Begin the graceful shutdown (what SIGTERM and SIGINT do)."""
        self._stop.set()

    async def run(self) -> int:
        """Run until stopped or until Particle rejects us; return the exit code."""
        timeout = aiohttp.ClientTimeout(total=None)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self._stream = ParticleStream(self.settings, session)
            log.info("worker_started", url=self._stream.url)
            reader = asyncio.create_task(self._read_stream(self._stream))
            publisher = asyncio.create_task(self.publisher.run())
            ticker = asyncio.create_task(self._log_stats_forever())
            stopped = asyncio.create_task(self._stop.wait())
            try:
                await asyncio.wait(
                    {reader, publisher, stopped}, return_when=asyncio.FIRST_COMPLETED
                )
                code = self._exit_code_of(reader)
                await _cancel(reader)
                lost, crashed = await self._finish_publishing(publisher)
                if crashed and code == EXIT_OK:
                    code = EXIT_CRASHED
            finally:
                await _cancel(ticker, stopped, reader, publisher)
        self._log_stats()
        if code == EXIT_OK and lost:
            code = EXIT_EVENTS_LOST
        log.info("worker_stopped", exit_code=code, lost=lost)
        return code

    async def _read_stream(self, stream: ParticleStream) -> None:
        while True:
            try:
                async for attempt in stream_retrying(on_retry=self._count_reconnect):
                    with attempt:
                        await stream.read_connection(self.accept)
            except StreamInterrupted as interrupted:
                # A healthy connection ended: start the backoff over from 1 s.
                self.stats.reconnects += 1
                wait = first_wait_after_healthy()
                log.info(
                    "stream_reconnect_scheduled",
                    reason=interrupted.reason,
                    attempt=1,
                    wait_s=round(wait, 3),
                )
                await asyncio.sleep(wait)

    def _count_reconnect(self) -> None:
        self.stats.reconnects += 1

    def accept(self, event: ParticleEvent | InvalidEvent) -> None:
        """Take one event from the stream into the buffer (never waits)."""
        self.stats.received += 1
        if isinstance(event, ParticleEvent):
            properties = build_properties(event, APP_ID)
            item = Outgoing(event.encoded_body(), properties, event.routing_key)
            log.debug("event_received", event_id=properties.message_id)
        else:
            properties = build_invalid_properties(event, APP_ID)
            item = Outgoing(event.raw.encode(), properties, "", invalid=True)
            log.warning("event_invalid", reason=event.reason, name=event.name)
        dropped = self.buffer.put(item)
        if dropped is not None:
            log.warning(
                "buffer_overflow_dropped_oldest",
                event_id=dropped.properties.message_id,
                capacity=self.buffer.capacity,
                dropped_total=self.buffer.dropped,
            )

    def _exit_code_of(self, reader: asyncio.Task[None]) -> int:
        if not reader.done() or reader.cancelled():
            return EXIT_OK
        error = reader.exception()
        if isinstance(error, StreamRejected):
            log.error(
                "stream_rejected", status=error.status, description=error.description
            )
            return EXIT_STREAM_REJECTED
        if error is not None:
            log.error("stream_reader_crashed", exc_info=error)
            return EXIT_CRASHED
        return EXIT_OK

    async def _finish_publishing(
        self, publisher: asyncio.Task[None]
    ) -> tuple[int, bool]:
        """Give the publisher the shutdown deadline to confirm what is held.

        Returns how many events were still held, and whether the publisher crashed.
        """
        self.publisher.close()
        try:
            await asyncio.wait_for(
                asyncio.shield(publisher), timeout=SHUTDOWN_DEADLINE_SECONDS
            )
        except TimeoutError:
            log.error("shutdown_deadline_passed", held=len(self.buffer))
        except Exception:
            log.exception("publisher_crashed", held=len(self.buffer))
            return len(self.buffer), True
        return len(self.buffer), False

    async def _log_stats_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.stats_interval)
            unrouted = await self.publisher.count_unrouted()
            if unrouted is not None:
                self.stats.unrouted = unrouted
            self._log_stats()

    def _log_stats(self) -> None:
        self.stats.buffered = len(self.buffer)
        self.stats.dropped = self.buffer.dropped
        since = self._stream.connected_since if self._stream else None
        self.stats.connected_since = (
            datetime.fromtimestamp(since, UTC).isoformat() if since else None
        )
        log.info("worker_stats", **self.stats.as_fields())


async def _cancel(*tasks: asyncio.Task[object] | asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def install_signal_handlers(worker: Worker) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, worker.stop)
