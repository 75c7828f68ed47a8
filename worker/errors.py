"""What can go wrong with the Particle stream, named after what went wrong.

    StreamError
    ├── StreamInterrupted        the stream ended, dropped, stalled or never connected
    ├── StreamUnavailable        Particle answered 5xx (or another retryable status)
    ├── StreamRateLimited        Particle answered 429
    └── StreamRejected           401, 403, 404 or another 4xx: retrying cannot help

`TRANSIENT_STREAM_ERRORS` names the ones the reconnect policy retries. Everything
else, cancellation included, goes straight up.
"""

from __future__ import annotations


class StreamError(Exception):
    """The stream could not be read."""


class StreamInterrupted(StreamError):
    """The connection ended, dropped or stalled; `healthy` if it had been up a while."""

    def __init__(self, reason: str, *, healthy: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.healthy = healthy


class StreamResponseError(StreamError):
    """Particle answered the stream request with a status other than 200."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"HTTP {status}: {description}")
        self.status = status
        self.description = description


class StreamUnavailable(StreamResponseError):
    """Particle answered with a server error; it may answer 200 later."""


class StreamRateLimited(StreamResponseError):
    """Particle answered 429; `retry_after` is its Retry-After in seconds, if given."""

    def __init__(self, status: int, description: str, retry_after: float | None):
        super().__init__(status, description)
        self.retry_after = retry_after


class StreamRejected(StreamResponseError):
    """Particle refused the token, the product or the path; retrying cannot help."""


TRANSIENT_STREAM_ERRORS: tuple[type[StreamError], ...] = (
    StreamInterrupted,
    StreamUnavailable,
    StreamRateLimited,
)
