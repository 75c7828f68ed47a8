"""The reconnect policy for the Particle stream, readable in one place.

Full jitter keeps several worker dynos from reconnecting in lockstep, and the
ceiling keeps a long outage from pushing waits past a minute. A 429 waits what
Particle asked for, or backs off from 30 s: the limit is 100 stream opens per five
minutes per IP, and hammering it only extends the ban.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import tenacity
from tenacity import RetryCallState

from shared.log import get_logger

from .errors import TRANSIENT_STREAM_ERRORS, StreamInterrupted, StreamRateLimited

log = get_logger("worker.retry")

FIRST_WAIT = 1.0
WAIT_CEILING = 60.0
RATE_LIMIT_FLOOR = 30.0
RATE_LIMIT_CEILING = 300.0
# Retry-After is honoured, but a misbehaving proxy must not park us for hours.
RETRY_AFTER_CEILING = 900.0
# And a Retry-After of 0 must not turn into a burst of opens against the limit.
RETRY_AFTER_FLOOR = 1.0
RATE_LIMIT_JITTER = 5.0

_transient_wait = tenacity.wait_random_exponential(
    multiplier=FIRST_WAIT, max=WAIT_CEILING
)


class StreamWait:
    """How long to wait before the next connection attempt, one per retry policy.

    A 429 without Retry-After waits 30 s, doubling with each 429 in a row up to
    5 minutes. It counts 429s itself rather than using tenacity's attempt number,
    so a 429 after a few quick drops still starts at 30 s.
    """

    def __init__(self) -> None:
        self._rate_limited_in_a_row = 0

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if not isinstance(error, StreamRateLimited):
            self._rate_limited_in_a_row = 0
            return float(_transient_wait(retry_state))
        self._rate_limited_in_a_row += 1
        if error.retry_after is not None:
            return min(max(error.retry_after, RETRY_AFTER_FLOOR), RETRY_AFTER_CEILING)
        doublings = self._rate_limited_in_a_row - 1
        base = min(RATE_LIMIT_FLOOR * 2.0**doublings, RATE_LIMIT_CEILING)
        return base + random.uniform(0, RATE_LIMIT_JITTER)


def first_wait_after_healthy() -> float:
    """The wait after a healthy connection ends: the policy starts over from 1 s."""
    return random.uniform(0, FIRST_WAIT)


def _log_before_sleep(retry_state: RetryCallState) -> None:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    log.warning(
        "stream_reconnect_scheduled",
        error=type(error).__name__,
        reason=str(error),
        attempt=retry_state.attempt_number,
        wait_s=round(retry_state.upcoming_sleep, 3),
    )


def _worth_retrying(error: BaseException) -> bool:
    # The end of a healthy connection is not retried here: it escapes to the caller,
    # which starts a fresh policy, so the backoff begins again from 1 s.
    if isinstance(error, StreamInterrupted) and error.healthy:
        return False
    return isinstance(error, TRANSIENT_STREAM_ERRORS)


def stream_retrying(
    wait: tenacity.wait.WaitBaseT | None = None,
    on_retry: Callable[[], None] = lambda: None,
) -> tenacity.AsyncRetrying:
    """Retry transient stream errors forever; anything else (and cancellation) escapes.

    The end of a healthy connection escapes too, so the caller can start over.
    `on_retry` is called before every wait, for the reconnect counter.
    """

    def before_sleep(retry_state: RetryCallState) -> None:
        on_retry()
        _log_before_sleep(retry_state)

    return tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception(_worth_retrying),
        wait=wait if wait is not None else StreamWait(),
        stop=tenacity.stop_never,
        before_sleep=before_sleep,
        reraise=True,
    )
