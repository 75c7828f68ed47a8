"""Settings read once from the environment, shared by the web and worker processes.

Every process calls `Settings.from_env()` once at start and hands the object down.
A missing or malformed variable raises `SettingsError` naming it; the entry points
turn that into one line on stderr and a non-zero exit, so a misconfigured dyno
fails loudly at boot instead of misbehaving later.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CHECKOUT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = CHECKOUT / "var" / "particle-backbone.sqlite3"
DEFAULT_BROKER_URL = "amqp://guest:guest@localhost:5672/"
LOG_LEVELS = ("debug", "info", "warning", "error")


class SettingsError(Exception):
    """An environment variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    particle_api_url: str = "https://api.particle.io"
    # repr=False keeps secrets out of tracebacks and debug dumps of the object.
    particle_access_token: str | None = field(default=None, repr=False)
    particle_product: str | None = None
    particle_event_prefix: str | None = None
    stream_idle_timeout: float = 30.0
    particle_client_id: str | None = None
    particle_client_secret: str | None = field(default=None, repr=False)
    broker_url: str = field(default=DEFAULT_BROKER_URL, repr=False)
    events_exchange: str = "particle.events"
    database_url: str = field(default=f"sqlite:///{DEFAULT_SQLITE_PATH}", repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    port: int = 5000
    log_level: str = "info"
    log_format: str = "json"
    feed_event: str = "photo"
    like_function: str = "rainbow"
    # Beyond the contract: how much the worker holds while the broker is away, how
    # long one publish may wait for its confirm, how often it logs its counters.
    worker_buffer_size: int = 100_000
    publish_timeout: float = 10.0
    stats_interval: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check every variable; raise `SettingsError` on the first bad one."""
        env = _Environment(os.environ if environ is None else environ)

        return cls(
            particle_api_url=env.url("PARTICLE_API_URL", cls.particle_api_url),
            particle_access_token=env.text("PARTICLE_ACCESS_TOKEN"),
            particle_product=env.text("PARTICLE_PRODUCT"),
            particle_event_prefix=env.text("PARTICLE_EVENT_PREFIX"),
            stream_idle_timeout=env.positive_float(
                "PARTICLE_STREAM_IDLE_TIMEOUT", cls.stream_idle_timeout
            ),
            particle_client_id=env.text("PARTICLE_CLIENT_ID"),
            particle_client_secret=env.text("PARTICLE_CLIENT_SECRET"),
            broker_url=env.broker_url(),
            events_exchange=env.text("PARTICLE_EXCHANGE") or cls.events_exchange,
            database_url=env.database_url(),
            webhook_secret=env.text("WEBHOOK_SECRET"),
            port=env.port("PORT", cls.port),
            log_level=env.choice("LOG_LEVEL", LOG_LEVELS, cls.log_level),
            log_format=env.choice(
                "LOG_FORMAT", ("json", "console"), _default_log_format()
            ),
            feed_event=env.text("FEED_EVENT") or cls.feed_event,
            like_function=env.text("LIKE_FUNCTION") or cls.like_function,
            worker_buffer_size=env.positive_int(
                "WORKER_BUFFER_SIZE", cls.worker_buffer_size
            ),
            publish_timeout=env.positive_float("PUBLISH_TIMEOUT", cls.publish_timeout),
            stats_interval=env.positive_float("STATS_INTERVAL", cls.stats_interval),
        )

    def require_access_token(self) -> str:
        """The Particle token, or `SettingsError` for a process that needs one."""
        if not self.particle_access_token:
            raise SettingsError(
                "PARTICLE_ACCESS_TOKEN is not set: the Particle access token is "
                "required (make run sets the simulator's token for you)"
            )
        return self.particle_access_token

    def secrets(self) -> list[str]:
        """Every configured secret, so logging can scrub them wherever they appear."""
        candidates = [
            self.particle_access_token,
            self.particle_client_secret,
            self.webhook_secret,
            urlsplit(self.broker_url).password,
            urlsplit(self.database_url).password,
        ]
        return [secret for secret in candidates if secret]


def _has_host_and_port(url: str) -> bool:
    """A host, and a port that is absent or a number from 0 to 65535."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - reading it is the check: it raises when malformed
    except ValueError:
        return False
    return bool(parts.hostname)


def _default_log_format() -> str:
    return "console" if sys.stdout.isatty() else "json"


class _Environment:
    """Typed readers over the environment; each error names its variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str) -> str | None:
        # An empty value counts as unset: Heroku config vars are often cleared that way.
        value = self._environ.get(name, "").strip()
        return value or None

    def url(self, name: str, default: str) -> str:
        value = self.text(name) or default
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not _has_host_and_port(value):
            raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    def positive_float(self, name: str, default: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {value!r}") from None
        if not number > 0 or number == float("inf"):
            raise SettingsError(f"{name} must be a positive number, got {value!r}")
        return number

    def positive_int(self, name: str, default: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        # isdigit() alone also accepts digits like "²" that int() refuses.
        if not (value.isascii() and value.isdigit()) or int(value) == 0:
            raise SettingsError(
                f"{name} must be a positive whole number, got {value!r}"
            )
        return int(value)

    def port(self, name: str, default: int) -> int:
        port = self.positive_int(name, default)
        if port > 65535:
            raise SettingsError(f"{name} must be a TCP port (1-65535), got {port}")
        return port

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = (self.text(name) or default).lower()
        if value not in choices:
            raise SettingsError(
                f"{name} must be one of {', '.join(choices)}, got {value!r}"
            )
        return value

    def broker_url(self) -> str:
        # CloudAMQP's add-on sets CLOUDAMQP_URL; anything else may set RABBITMQ_URL.
        name = "CLOUDAMQP_URL" if self.text("CLOUDAMQP_URL") else "RABBITMQ_URL"
        value = self.text(name) or DEFAULT_BROKER_URL
        if urlsplit(value).scheme not in ("amqp", "amqps") or not _has_host_and_port(
            value
        ):
            raise SettingsError(
                f"{name} must be an amqp:// or amqps:// URL with a host and valid port"
            )
        return value

    def database_url(self) -> str:
        value = self.text("DATABASE_URL")
        if value is None:
            return f"sqlite:///{DEFAULT_SQLITE_PATH}"
        scheme = urlsplit(value).scheme
        if scheme not in ("postgres", "postgresql", "sqlite"):
            # The value may hold a password, so only the scheme is echoed back.
            raise SettingsError(
                "DATABASE_URL must start with postgres://, postgresql:// or "
                f"sqlite:///, got a {scheme or 'schemeless'} URL"
            )
        return value
