"""The journal of what streams fully wrote: one entry per event frame sent.

An event is journaled once its whole frame (`event:`, `data:` and the blank line)
has been handed to the socket, so a client that read its stream to the end must
have seen it; a frame cut by a mid-event drop, an event a stall withheld and one
published while no stream was open are not in it. Entries carry the event id
(`shared.events.event_id`, the worker's `message_id`), which makes the journal what
a soak compares a consumer's messages against. Memory is bounded: past `capacity`
the oldest entries go, and `dropped` counts them. Every entry keeps its 1-based
`index`, so a reader can page with "everything after index n" across that.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

from shared.events import event_id
from sim.events import Event, iso_millis

CAPACITY = 200_000


@dataclass(frozen=True, slots=True)
class SentEvent:
    index: int
    id: str
    name: str
    stream: int

    def view(self) -> dict[str, object]:
        return {
            "index": self.index,
            "id": self.id,
            "name": self.name,
            "stream": self.stream,
        }


class SentJournal:
    """The last `capacity` events written in full to any stream, oldest first."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._entries: deque[SentEvent] = deque(maxlen=capacity)
        self.recorded = 0

    @property
    def dropped(self) -> int:
        """Entries recorded but no longer held: the journal was full."""
        return self.recorded - len(self._entries)

    def record(self, event: Event, stream: int) -> None:
        self.recorded += 1
        published_at = iso_millis(event.published_at)
        key = event_id(event.coreid, event.name, published_at, event.data or "")
        self._entries.append(SentEvent(self.recorded, key, event.name, stream))

    def after(self, index: int, limit: int | None = None) -> list[SentEvent]:
        """Held entries with an index above `index`, oldest first, at most `limit`."""
        skip = max(0, index - self.dropped)
        stop = None if limit is None else skip + limit
        return list(itertools.islice(self._entries, skip, stop))

    def clear(self) -> None:
        """Forget everything, indexes included (`POST /sim/reset`)."""
        self._entries.clear()
        self.recorded = 0
