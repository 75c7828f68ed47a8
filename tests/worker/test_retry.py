"""The reconnect policy's waits, without waiting for them."""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest
import tenacity

from worker.errors import StreamInterrupted, StreamRateLimited, StreamRejected
from worker.retry import StreamWait, stream_retrying
from worker.stream import parse_retry_after


def state_after(error: BaseException, attempt: int) -> tenacity.RetryCallState:
    state = tenacity.RetryCallState(mock.Mock(), None, (), {})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


def test_stream_wait_is_full_jitter_below_the_ceiling() -> None:
    wait = StreamWait()

    waits = [wait(state_after(StreamInterrupted("x"), 1)) for _ in range(200)]
    late = [wait(state_after(StreamInterrupted("x"), 20)) for _ in range(200)]

    assert all(0 <= wait <= 1 for wait in waits)
    assert len(set(waits)) > 150
    assert all(0 <= wait <= 60 for wait in late)
    assert max(late) > 30


def test_stream_wait_honours_retry_after() -> None:
    error = StreamRateLimited(429, "slow down", retry_after=42)

    assert StreamWait()(state_after(error, 1)) == 42


def test_stream_wait_caps_an_absurd_retry_after() -> None:
    error = StreamRateLimited(429, "slow down", retry_after=86400)

    assert StreamWait()(state_after(error, 1)) == 900


def test_stream_wait_puts_a_floor_under_retry_after_zero() -> None:
    error = StreamRateLimited(429, "slow down", retry_after=0)

    assert StreamWait()(state_after(error, 1)) == 1


def test_stream_wait_backs_off_from_30s_on_429_without_retry_after() -> None:
    error = StreamRateLimited(429, "slow down", retry_after=None)
    wait = StreamWait()

    waits = [wait(state_after(error, attempt)) for attempt in range(1, 7)]

    assert 30 <= waits[0] <= 35
    assert 60 <= waits[1] <= 65
    assert 300 <= waits[-1] <= 305


def test_stream_wait_starts_429_backoff_at_30s_after_other_failures() -> None:
    wait = StreamWait()
    for attempt in range(1, 6):
        wait(state_after(StreamInterrupted("drop"), attempt))

    first_429 = wait(state_after(StreamRateLimited(429, "", None), 6))

    assert 30 <= first_429 <= 35


def test_stream_retrying_does_not_retry_permanent_rejection() -> None:
    retrying = stream_retrying()

    assert not retrying.retry(state_after(StreamRejected(401, "bad token"), 1))
    assert retrying.retry(state_after(StreamInterrupted("drop"), 1))


def test_stream_retrying_lets_a_healthy_end_escape_to_start_over() -> None:
    retrying = stream_retrying()

    assert not retrying.retry(state_after(StreamInterrupted("end", healthy=True), 9))
    assert retrying.retry(state_after(StreamInterrupted("end", healthy=False), 9))


async def test_worker_backoff_starts_over_after_a_healthy_connection() -> None:
    waits: list[float] = []
    ends = iter([False, False, False, True, False])

    async def read_connection() -> None:
        raise StreamInterrupted("stream_ended", healthy=next(ends))

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def read_until_healthy_end() -> None:
        retrying = stream_retrying(wait=tenacity.wait_exponential(multiplier=1))
        async for attempt in retrying.copy(sleep=no_sleep):
            with attempt:
                await read_connection()

    with pytest.raises(StreamInterrupted) as escaped:
        await read_until_healthy_end()

    assert escaped.value.healthy
    assert waits == [1, 2, 4]


def test_stream_retrying_never_retries_cancellation() -> None:
    retrying = stream_retrying()

    assert not retrying.retry(state_after(asyncio.CancelledError(), 1))


async def test_stream_retrying_wait_ends_at_once_on_cancel() -> None:
    async def always_drops() -> None:
        async for attempt in stream_retrying(wait=tenacity.wait_fixed(60)):
            with attempt:
                raise StreamInterrupted("drop")

    task = asyncio.create_task(always_drops())
    await asyncio.sleep(0.05)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
