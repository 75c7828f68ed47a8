"""Tunables only the web process reads, beside the shared `Settings`.

They have production defaults and exist mostly so tests and operators can shorten
or widen the retry schedule without a deploy. A malformed value raises the shared
`SettingsError` naming the variable, so `python -m web` stops with one line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import SettingsError
from shared.topology import DEFAULT_CALL_RETRY_DELAYS, DEFAULT_TIMELINE_RETRY_DELAYS


@dataclass(frozen=True)
class WebConfig:
    timeline_retry_delays: tuple[float, ...] = DEFAULT_TIMELINE_RETRY_DELAYS
    call_retry_delays: tuple[float, ...] = DEFAULT_CALL_RETRY_DELAYS
    # Unacked timeline messages the broker may push ahead; they are handled in order.
    prefetch: int = 32
    # Function calls run side by side: one offline device may hold a call for ~30 s.
    call_concurrency: int = 8
    # Heroku's router drops a connection idle for 55 s.
    sse_keepalive: float = 15.0
    # Particle answers 408 after about 30 s when it believed the device online.
    call_timeout: float = 40.0
    # How long a like's call may stay unqueued (broker away) before it is sent again.
    requeue_after: float = 15.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebConfig:
        env = os.environ if environ is None else environ
        return cls(
            timeline_retry_delays=_delays(
                env, "WEB_RETRY_DELAYS", cls.timeline_retry_delays
            ),
            call_retry_delays=_delays(
                env, "WEB_CALL_RETRY_DELAYS", cls.call_retry_delays
            ),
            prefetch=_whole(env, "WEB_PREFETCH", cls.prefetch),
            call_concurrency=_whole(env, "WEB_CALL_CONCURRENCY", cls.call_concurrency),
            sse_keepalive=_seconds(env, "WEB_SSE_KEEPALIVE", cls.sse_keepalive),
            call_timeout=_seconds(env, "WEB_CALL_TIMEOUT", cls.call_timeout),
            requeue_after=_seconds(env, "WEB_REQUEUE_AFTER", cls.requeue_after),
        )


MAX_RETRY_DELAY_SECONDS = 86_400.0


def _text(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name, "").strip() or None


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = _text(env, name)
    if value is None:
        return default
    return _positive(name, value)


def _delays(
    env: Mapping[str, str], name: str, default: tuple[float, ...]
) -> tuple[float, ...]:
    value = _text(env, name)
    if value is None:
        return default
    delays = tuple(_positive(name, part.strip()) for part in value.split(","))
    # RabbitMQ refuses a message TTL past 2^32 - 1 ms; a day is long enough for any
    # retry, and a larger value is a typo rather than a plan.
    if max(delays) > MAX_RETRY_DELAY_SECONDS:
        raise SettingsError(
            f"{name} delays must be at most {MAX_RETRY_DELAY_SECONDS:.0f} s, "
            f"got {value!r}"
        )
    return delays


def _positive(name: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise SettingsError(f"{name} must be positive seconds, got {text!r}") from None
    if not 0 < number < float("inf"):
        raise SettingsError(f"{name} must be positive seconds, got {text!r}")
    return number


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    value = _text(env, name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) == 0:
        raise SettingsError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)
