"""The bounded, in-order hold between the stream and the broker.

The stream never waits for RabbitMQ: it appends here and goes on reading, so a
broker outage costs memory, not events. When the buffer is full the oldest held
event is dropped (and counted), because Particle keeps no history to ask again for,
and the newest events are the ones a live product wants.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from pamqp.commands import Basic


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message waiting for the broker, and where it goes."""

    body: bytes
    properties: Basic.Properties
    routing_key: str
    invalid: bool = False


class OutgoingBuffer:
    """A FIFO of outgoing messages with a capacity and a count of what it dropped."""

    # TODO: held events live only in this process's memory, so a worker stopped
    # during a long broker outage loses what it holds. A disk-backed queue (or a
    # local broker federated upstream) would retire this.

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.dropped = 0
        self._items: deque[Outgoing] = deque()
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Outgoing) -> Outgoing | None:
        """Append `item`; return the oldest item if it had to be dropped for room."""
        dropped = None
        if len(self._items) >= self.capacity:
            dropped = self._items.popleft()
            self.dropped += 1
        self._items.append(item)
        self._changed.set()
        return dropped

    def take(self) -> Outgoing:
        """Remove and return the oldest item; the buffer must not be empty."""
        return self._items.popleft()

    def restore(self, items: Iterable[Outgoing]) -> int:
        """Put unconfirmed items back in front, in their order; return how many dropped.

        They are older than anything held, so when the buffer is over capacity they
        are the first to go.
        """
        self._items.extendleft(reversed(list(items)))
        overflow = max(0, len(self._items) - self.capacity)
        for _ in range(overflow):
            self._items.popleft()
        self.dropped += overflow
        return overflow

    async def wait_for_change(self) -> None:
        """Wait until something is put (or `wake` is called)."""
        await self._changed.wait()
        self._changed.clear()

    def wake(self) -> None:
        self._changed.set()
