"""Serving one SSE event stream byte for byte like Particle, faults included.

Wire format: `:ok\\n\\n` at once, then `event: <name>\\ndata: <json>\\n\\n` per
event, and a bare `\\n` after SIM_KEEPALIVE seconds without a write. No `id:` and
no `retry:` lines, as on the real cloud. A stream can be told to drop (cut the TCP
connection, optionally halfway through a frame, or end the body cleanly) or to
stall (stay open and send nothing at all, keep-alives included). Every event
frame written in full goes into the simulator's `SentJournal`.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from shared.log import get_logger
from sim.events import Event, EventBus, EventFilter, Subscription, iso_millis, utc_now
from sim.faults import StreamFault
from sim.journal import SentJournal

OK_LINE = b":ok\n\n"
KEEPALIVE = b"\n"
# How often a quiet stream checks whether its client went away.
CLIENT_CHECK_INTERVAL = 0.5
# What a mid-event drop leaves on the wire: a frame cut after its data starts.
PARTIAL_FRAME = b'event: sim/partial\ndata: {"data":"this frame is cut he'

log = get_logger("sim.streams")


@dataclass(frozen=True)
class Drop:
    clean: bool = False
    mid_event: bool = False


@dataclass(frozen=True)
class Stall:
    seconds: float | None = None


@dataclass(frozen=True)
class Resume:
    pass


StreamCommand = Drop | Stall | Resume


@dataclass
class OpenStream:
    id: int
    path: str
    client_ip: str
    token: str = field(repr=False)
    product_shape: bool
    subscription: Subscription
    opened_at: datetime = field(default_factory=utc_now)
    events_sent: int = 0
    events_withheld: int = 0
    stalled_until: float | None = None
    pending_fault: StreamFault | None = None

    def command(self, command: StreamCommand) -> None:
        self.subscription.offer(command)

    def view(self) -> dict[str, object]:
        return {
            "id": self.id,
            "path": self.path,
            "client_ip": self.client_ip,
            "product_fields": self.product_shape,
            "opened_at": iso_millis(self.opened_at),
            "events_sent": self.events_sent,
            "events_withheld": self.events_withheld,
            "stalled": self.stalled_until is not None,
        }


class StreamRegistry:
    """Every open stream, for limits, faults and the control API."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._open: dict[int, OpenStream] = {}
        self._ids = itertools.count(1)

    def register(
        self,
        request: web.Request,
        token: str,
        matches: EventFilter,
        product_shape: bool,
    ) -> OpenStream:
        stream = OpenStream(
            id=next(self._ids),
            path=request.path,
            client_ip=request.remote or "",
            token=token,
            product_shape=product_shape,
            subscription=self._bus.subscribe(matches),
        )
        self._open[stream.id] = stream
        return stream

    def unregister(self, stream: OpenStream) -> None:
        self._open.pop(stream.id, None)
        self._bus.unsubscribe(stream.subscription)

    def count_from(self, client_ip: str) -> int:
        return sum(1 for s in self._open.values() if s.client_ip == client_ip)

    def all(self) -> list[OpenStream]:
        return list(self._open.values())

    def command_all(self, command: StreamCommand) -> int:
        for stream in self._open.values():
            stream.command(command)
        return len(self._open)

    def end_for_token(self, token: str) -> int:
        """End the streams a revoked token opened, so the next open meets the 401."""
        ended = [s for s in self._open.values() if s.token == token]
        for stream in ended:
            stream.command(Drop(clean=True))
        return len(ended)


async def serve(
    request: web.Request,
    stream: OpenStream,
    fault: StreamFault | None,
    keepalive: float,
    journal: SentJournal,
) -> web.StreamResponse:
    """Write the stream until the client leaves, a drop, or shutdown.

    Each event whose whole frame was written is recorded in `journal`.
    """
    response = web.StreamResponse(
        status=200,
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"},
    )
    pump = _Pump(request, response, stream, keepalive, journal)
    _arm(stream, fault)

    reason = await pump.run()
    log.info(
        "stream_closed",
        stream=stream.id,
        path=stream.path,
        client=stream.client_ip,
        reason=reason,
        events_sent=stream.events_sent,
        seconds_open=round((utc_now() - stream.opened_at).total_seconds(), 1),
    )
    return response


def _arm(stream: OpenStream, fault: StreamFault | None) -> None:
    if fault is None:
        return
    if fault.after_events > 0:
        stream.pending_fault = fault
    else:
        stream.command(_command_for(fault))


def _command_for(fault: StreamFault) -> StreamCommand:
    if fault.kind == "stall":
        return Stall(fault.seconds)
    return Drop(clean=fault.clean, mid_event=fault.mid_event)


class _Pump:
    def __init__(
        self,
        request: web.Request,
        response: web.StreamResponse,
        stream: OpenStream,
        keepalive: float,
        journal: SentJournal,
    ) -> None:
        self._request = request
        self._response = response
        self._stream = stream
        self._keepalive = keepalive
        self._journal = journal
        self._loop = asyncio.get_running_loop()
        self._idle_deadline = self._loop.time() + keepalive

    async def run(self) -> str:
        try:
            await self._response.prepare(self._request)
            await self._response.write(OK_LINE)
            return await self._loop_until_closed()
        except ConnectionResetError:
            return "client_closed"

    async def _loop_until_closed(self) -> str:
        queue = self._stream.subscription.queue
        while True:
            transport = self._request.transport
            if transport is None or transport.is_closing():
                return "client_closed"

            try:
                async with asyncio.timeout(self._wait_seconds()):
                    item = await queue.get()
            except TimeoutError:
                await self._on_quiet()
                continue

            outcome = await self._handle(item)
            if outcome is not None:
                return outcome

    def _wait_seconds(self) -> float:
        now = self._loop.time()
        stalled_until = self._stream.stalled_until
        wake_at = self._idle_deadline if stalled_until is None else stalled_until
        return max(0.0, min(wake_at - now, CLIENT_CHECK_INTERVAL))

    async def _on_quiet(self) -> None:
        now = self._loop.time()
        stalled_until = self._stream.stalled_until
        if stalled_until is not None:
            if now >= stalled_until:
                self._resume()
            return
        if now >= self._idle_deadline:
            await self._write(KEEPALIVE)

    async def _handle(self, item: object) -> str | None:
        if isinstance(item, Event):
            return await self._send_event(item)
        if isinstance(item, Drop):
            return await self._drop(item)
        if isinstance(item, Stall):
            seconds = math.inf if item.seconds is None else item.seconds
            self._stream.stalled_until = self._loop.time() + seconds
        elif isinstance(item, Resume):
            self._resume()
        return None

    async def _send_event(self, event: Event) -> str | None:
        stream = self._stream
        if stream.stalled_until is not None:
            # A stalled connection delivers nothing; like the real cloud, it is lost.
            stream.events_withheld += 1
            return None

        await self._write(event.sse_frame(product_shape=stream.product_shape))
        stream.events_sent += 1
        self._journal.record(event, stream.id)

        fault = stream.pending_fault
        if fault is not None and stream.events_sent >= fault.after_events:
            stream.pending_fault = None
            return await self._handle(_command_for(fault))
        return None

    async def _drop(self, drop: Drop) -> str:
        if drop.clean:
            await self._response.write_eof()
            return "ended"

        if drop.mid_event:
            await self._response.write(PARTIAL_FRAME)
        transport = self._request.transport
        if transport is not None:
            # Closing the socket skips the chunked terminator: an abrupt end.
            transport.close()
        return "dropped"

    def _resume(self) -> None:
        self._stream.stalled_until = None
        self._idle_deadline = self._loop.time() + self._keepalive

    async def _write(self, data: bytes) -> None:
        await self._response.write(data)
        self._idle_deadline = self._loop.time() + self._keepalive
