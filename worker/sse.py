"""Incremental decoder for the ``text/event-stream`` format (server-sent events).

It follows the WHATWG HTML rules for interpreting an event stream and for dispatching
its events, step by step:
https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

The network hands us bytes cut at arbitrary places, so every piece of state the rules
need (a half-decoded UTF-8 character, a half-received line, a CR whose LF may be the
first byte of the next chunk, the fields of the event being assembled) is carried
between calls of `SSEDecoder.feed`. The result does not depend on where the cuts fall.

One decoder reads one connection. `SSEDecoder.close` drops whatever half-received
event is left, as the spec requires at end of stream; a fresh decoder for the next
connection is what keeps such a fragment from being glued onto the first event there.

Choices the spec leaves to the caller:

* `ServerSentEvent.event` is ``""`` when the block had no ``event:`` field. The spec's
  DOM default ``"message"`` is available as `ServerSentEvent.type`; the worker wants the
  raw value because a Particle event without a name is invalid.
* Size guard: the data of one event plus the line being received may not exceed
  ``max_event_size`` decoded characters (default 1 MiB, far above Particle's 16 KB).
  Past it, the whole event is dropped up to its closing blank line, the stream goes
  on, and `SSEDecoder.oversized_discarded` counts it. A counter rather than an
  exception, so the events decoded from the same chunk are not lost with it.
* ``retry:`` takes effect at once for the connection (`SSEDecoder.retry`), as the
  spec says; each event also carries the value sent in its own block, if any.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder", "ServerSentEvent"]

DEFAULT_MAX_EVENT_SIZE = 1024 * 1024
_MAX_RETRY_DIGITS = 19


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event.

    ``event`` is the raw ``event:`` value, ``""`` when none was sent. ``data`` is
    every ``data:`` line of the block joined by LF. ``last_event_id`` is the stream's
    last event id at dispatch time (ids persist across events, as in the spec).
    ``retry`` is the ``retry:`` value (milliseconds) received in this event's block,
    if any; the connection-wide value is `SSEDecoder.retry`.
    """

    event: str
    data: str
    last_event_id: str = ""
    retry: int | None = None

    @property
    def type(self) -> str:
        """The DOM event type: ``"message"`` when the stream named none."""
        return self.event or "message"


class SSEDecoder:
    """Turn the bytes of one event-stream connection into `ServerSentEvent` objects.

    Pass the previous connection's `last_event_id` to carry it over a reconnect, as
    an EventSource does. Memory stays bounded by ``max_event_size`` plus one chunk.
    """

    def __init__(
        self,
        *,
        last_event_id: str = "",
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        if max_event_size < 1:
            raise ValueError("max_event_size must be positive")
        # utf-8-sig drops one BOM, only at the very start, even when split over
        # chunks; "replace" turns bad bytes into U+FFFD as the UTF-8 decode
        # algorithm the spec names does.
        self._utf8 = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._max_event_size = max_event_size
        self._closed = False

        # A chunk that ends in CR may be followed by a chunk starting with the LF of
        # the same CRLF; that LF must not count as a second (blank) line.
        self._after_cr = False
        self._pending: list[str] = []
        self._pending_size = 0

        self._data: list[str] = []
        self._data_size = 0
        self._event_type = ""
        self._id_buffer = last_event_id
        self._last_event_id = last_event_id
        self._block_retry: int | None = None
        self._retry: int | None = None

        self._discarding = False
        self._dropping_line = False
        self._oversized_discarded = 0

    @property
    def last_event_id(self) -> str:
        """The last event id committed by a blank line; send it when reconnecting."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The reconnection time in ms the server last asked for, None if never."""
        return self._retry

    @property
    def oversized_discarded(self) -> int:
        """How many events were dropped for exceeding ``max_event_size``."""
        return self._oversized_discarded

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk and return the events it completed, in stream order.

        Raises ValueError after `close`: reusing a decoder across connections is
        exactly what would glue a dropped event onto the next one.
        """
        if self._closed:
            raise ValueError("SSEDecoder is closed; use a fresh one per connection")
        return self._feed_text(self._utf8.decode(chunk))

    def close(self) -> None:
        """End of the connection: discard the half-received event, if any.

        Idempotent. Events already returned by `feed` are unaffected, and
        `last_event_id` and `retry` stay readable for the reconnect.
        """
        self._closed = True
        self._pending.clear()
        self._data.clear()

    def _feed_text(self, text: str) -> list[ServerSentEvent]:
        if self._after_cr and text:
            self._after_cr = False
            if text[0] == "\n":
                text = text[1:]
        if "\r" in text:
            self._after_cr = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        elif "\n" not in text:
            self._extend_pending(text)
            return []

        lines = text.split("\n")
        tail = lines.pop()
        if self._dropping_line:
            # The start of this line was thrown away with an oversized event; what
            # is left of it must not be read as a line of its own.
            self._dropping_line = False
            del lines[0]
        elif self._pending:
            lines[0] = "".join(self._pending) + lines[0]
            self._pending.clear()
            self._pending_size = 0
        events = self._interpret(lines)
        self._extend_pending(tail)
        return events

    def _extend_pending(self, text: str) -> None:
        if not text or self._dropping_line:
            return
        if self._discarding:
            # A non-empty partial line cannot be the blank line that ends the
            # discarded event, so its text is not worth keeping.
            self._dropping_line = True
            return
        self._pending.append(text)
        self._pending_size += len(text)
        if self._pending_size + self._data_size > self._max_event_size:
            self._start_discarding()
            self._dropping_line = True

    def _interpret(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                if self._discarding:
                    self._discarding = False
                    continue
                event = self._dispatch()
                if event is not None:
                    events.append(event)
                continue
            if self._discarding:
                continue
            name, _, value = line.partition(":")
            if not name:
                continue  # a comment: the line started with a colon
            if value[:1] == " ":
                value = value[1:]
            self._process_field(name, value)
        return events

    def _process_field(self, name: str, value: str) -> None:
        if name == "data":
            self._data.append(value)
            self._data_size += len(value) + 1
            if self._data_size + self._pending_size > self._max_event_size:
                self._start_discarding()
        elif name == "event":
            self._event_type = value
        elif name == "id" and "\0" not in value:
            self._id_buffer = value
        # isdigit() alone would accept non-ASCII digits such as "²"; an empty value
        # has no number in it and is ignored as well.
        elif name == "retry" and value.isascii() and value.isdigit():
            self._set_retry(value)

    def _set_retry(self, digits: str) -> None:
        # int() refuses strings past 4300 digits with ValueError, which must not
        # escape feed(); no delay beyond 64 bits of milliseconds makes sense anyway.
        if len(digits) <= _MAX_RETRY_DIGITS:
            self._retry = self._block_retry = int(digits)

    def _dispatch(self) -> ServerSentEvent | None:
        self._last_event_id = self._id_buffer
        retry, self._block_retry = self._block_retry, None
        if not self._data:
            # Particle's keep-alive, a bare LF, lands here and yields nothing.
            self._event_type = ""
            return None
        # Joining with LF equals the spec's "append LF per line, drop the last LF".
        event = ServerSentEvent(
            self._event_type, "\n".join(self._data), self._last_event_id, retry
        )
        self._data.clear()
        self._data_size = 0
        self._event_type = ""
        return event

    def _start_discarding(self) -> None:
        self._oversized_discarded += 1
        self._discarding = True
        self._pending.clear()
        self._pending_size = 0
        self._data.clear()
        self._data_size = 0
        self._event_type = ""
        self._block_retry = None
        # Nothing of the dropped block may take effect, its id included.
        self._id_buffer = self._last_event_id
