"""One subscription to Particle's event stream: connect, read, hand events on.

A connection is read until it ends, drops or stays silent past the idle timeout;
then `read_connection` raises and the caller's retry policy decides what comes next.
Each connection gets a fresh decoder, so half an event from a dropped connection is
discarded rather than glued onto the first event of the next one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import aiohttp

from shared.events import InvalidEvent, ParticleEvent, parse_stream_event
from shared.log import get_logger
from shared.settings import Settings

from .errors import (
    StreamInterrupted,
    StreamRateLimited,
    StreamRejected,
    StreamResponseError,
    StreamUnavailable,
)
from .sse import DEFAULT_MAX_EVENT_SIZE, SSEDecoder

log = get_logger("worker.stream")

# A connection that stayed up this long resets the backoff when it ends. Ten
# seconds keeps a server that drops every connection at once from being hammered
# (at most six opens a minute, well inside 100 per 5 minutes), while a stream that
# flowed for a while gets back within a second, since the stream cannot be resumed.
HEALTHY_AFTER_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 15.0
ERROR_BODY_LIMIT = 4096
RETRYABLE_STATUSES = frozenset({408, 425})

EventSink = Callable[[ParticleEvent | InvalidEvent], None]


def stream_url(settings: Settings) -> str:
    """The product stream when a product is set, else the account's device stream."""
    if settings.particle_product:
        path = f"/v1/products/{quote(settings.particle_product, safe='')}/events"
    else:
        path = "/v1/devices/events"
    if settings.particle_event_prefix:
        # Event names may hold slashes; the prefix is one path segment.
        path += "/" + quote(settings.particle_event_prefix, safe="")
    return settings.particle_api_url + path


class ParticleStream:
    """Reads Particle's SSE stream, one connection per `read_connection` call."""

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self.url = stream_url(settings)
        self._token = settings.require_access_token()
        self._idle_timeout = settings.stream_idle_timeout
        self._session = session
        self.connected_since: float | None = None
        self._connected_at: float | None = None

    async def read_connection(self, sink: EventSink) -> None:
        """Open one connection and pass every event to `sink` until it stops.

        Always ends by raising: `StreamInterrupted` when the connection ends, drops or
        stalls; a `StreamResponseError` subclass when Particle answers other than 200.
        """
        self._connected_at = None
        try:
            async with self._session.get(
                self.url,
                headers=self._headers(),
                timeout=self._timeout(),
                # A redirect would carry the token to wherever it points.
                allow_redirects=False,
            ) as response:
                await self._check_status(response)
                self._mark_connected()
                await self._read_events(response, sink)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise self._interrupted("idle_timeout") from None
        except aiohttp.ClientError as error:
            raise self._interrupted(type(error).__name__) from error
        finally:
            self.connected_since = None
        raise self._interrupted("stream_ended")

    def _headers(self) -> dict[str, str]:
        # The token goes only in the header: URLs end up in proxy and access logs.
        return {
            "Authorization": f"Bearer {self._token}",
            "Accept": "text/event-stream",
            "Cache-Control": "no-cache",
        }

    def _timeout(self) -> aiohttp.ClientTimeout:
        # sock_read restarts with every byte, so it is exactly the idle timeout;
        # Particle's bare-newline keep-alive every 9-13 s counts as life.
        return aiohttp.ClientTimeout(
            total=None,
            sock_connect=CONNECT_TIMEOUT_SECONDS,
            sock_read=self._idle_timeout,
        )

    def _mark_connected(self) -> None:
        self._connected_at = time.monotonic()
        self.connected_since = time.time()
        log.info("stream_connected", url=self.url)

    async def _read_events(
        self, response: aiohttp.ClientResponse, sink: EventSink
    ) -> None:
        decoder = SSEDecoder()
        reported_oversized = 0
        # Each chunk is handled without awaiting. That matters: aiohttp raises a
        # connection error before handing over bytes still buffered, and a reader
        # that never yields mid-chunk is always the one waiting when bytes arrive,
        # so it collects them before the error.
        async for chunk in response.content.iter_any():
            for message in decoder.feed(chunk):
                sink(parse_stream_event(message.event, message.data))
            if decoder.oversized_discarded > reported_oversized:
                # Nothing of such an event is kept: this line is all that is left.
                log.error("event_oversized_discarded", limit=DEFAULT_MAX_EVENT_SIZE)
                reported_oversized = decoder.oversized_discarded

    def _interrupted(self, reason: str) -> StreamInterrupted:
        connected_at = self._connected_at
        healthy = (
            connected_at is not None
            and time.monotonic() - connected_at >= HEALTHY_AFTER_SECONDS
        )
        return StreamInterrupted(reason, healthy=healthy)

    async def _check_status(self, response: aiohttp.ClientResponse) -> None:
        if response.status == 200:
            return
        raise _response_error(response.status, await _read_error(response), response)


async def _read_error(response: aiohttp.ClientResponse) -> str:
    """Particle's `error_description` (or `error`), else the start of the body."""
    try:
        body = await response.content.read(ERROR_BODY_LIMIT)
    except aiohttp.ClientError:
        return response.reason or ""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        return text[:200] or (response.reason or "")
    if isinstance(payload, dict):
        for key in ("error_description", "error", "message"):
            if isinstance(payload.get(key), str):
                return str(payload[key])
    return text[:200]


def _response_error(
    status: int, description: str, response: aiohttp.ClientResponse
) -> StreamResponseError:
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return StreamRateLimited(status, description, retry_after)
    if status >= 500 or status in RETRYABLE_STATUSES:
        return StreamUnavailable(status, description)
    if 300 <= status < 400:
        location = response.headers.get("Location", "nowhere")
        description = f"redirected to {location}; set PARTICLE_API_URL to that base"
    return StreamRejected(status, description)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
