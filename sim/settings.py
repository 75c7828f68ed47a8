"""The simulator's settings, read once from the environment.

`Settings.from_env()` validates every `SIM_*` variable and raises `SettingsError`
naming the first malformed one; `python -m sim` turns that into one line on stderr
and exit status 2. Every default is a fixed development value, so two runs with the
same environment produce the same fleet, the same token and the same presses.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Fixed development credentials. They only ever unlock this loopback simulator.
DEFAULT_ACCESS_TOKEN = "5151c0ffee5151c0ffee5151c0ffee5151c0ffee"
DEFAULT_CLIENT_ID = "sim-product-client"
DEFAULT_CLIENT_SECRET = "5151d00d5151d00d5151d00d5151d00d5151d00d"
DEFAULT_USERNAME = "developer@sim.particle.local"
DEFAULT_PASSWORD = "particle-sim"

# Particle's OAuth server accepts client ids matching this pattern only.
CLIENT_ID_PATTERN = re.compile(r"^[a-z0-9_-]{3,40}$", re.IGNORECASE)
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
TOKEN_PATTERN = re.compile(r"^[\x21-\x7e]{8,200}$")
LOG_LEVELS = ("debug", "info", "warning", "error")


class SettingsError(Exception):
    """A `SIM_*` variable is malformed; the message names it."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8181
    # The base URL put into picture links and hook URLs; derived from host and port
    # unless SIM_PUBLIC_URL says how clients reach the simulator.
    public_url: str | None = None
    access_token: str = field(default=DEFAULT_ACCESS_TOKEN, repr=False)
    username: str = DEFAULT_USERNAME
    password: str = field(default=DEFAULT_PASSWORD, repr=False)
    product_id: int = 1234
    product_slug: str = "sim-product"
    org_slug: str = "sim-org"
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = field(default=DEFAULT_CLIENT_SECRET, repr=False)
    devices: int = 5
    seed: str = "particle-sim"
    press_interval: float = 20.0
    keepalive: float = 10.0
    stream_open_limit: int = 100
    stream_open_window: float = 300.0
    stream_concurrency_limit: int = 100
    log_level: str = "info"
    log_format: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check every variable; the first bad one raises `SettingsError`."""
        env = _Environment(os.environ if environ is None else environ)

        return cls(
            host=env.text("SIM_HOST", cls.host),
            port=env.integer("SIM_PORT", cls.port, minimum=0, maximum=65535),
            public_url=env.url("SIM_PUBLIC_URL"),
            access_token=env.token("SIM_ACCESS_TOKEN", DEFAULT_ACCESS_TOKEN),
            username=env.text("SIM_USERNAME", DEFAULT_USERNAME).lower(),
            password=env.text("SIM_PASSWORD", DEFAULT_PASSWORD),
            product_id=env.integer("SIM_PRODUCT", cls.product_id, minimum=1),
            product_slug=env.slug("SIM_PRODUCT_SLUG", cls.product_slug),
            org_slug=env.slug("SIM_ORG", cls.org_slug),
            client_id=env.client_id("SIM_CLIENT_ID", DEFAULT_CLIENT_ID),
            client_secret=env.token("SIM_CLIENT_SECRET", DEFAULT_CLIENT_SECRET),
            devices=env.integer("SIM_DEVICES", cls.devices, minimum=0, maximum=1000),
            seed=env.text("SIM_SEED", cls.seed),
            press_interval=env.number("SIM_PRESS_INTERVAL", cls.press_interval),
            keepalive=env.number("SIM_KEEPALIVE", cls.keepalive, positive=True),
            stream_open_limit=env.integer(
                "SIM_STREAM_OPEN_LIMIT", cls.stream_open_limit, minimum=1
            ),
            stream_open_window=env.number(
                "SIM_STREAM_OPEN_WINDOW", cls.stream_open_window, positive=True
            ),
            stream_concurrency_limit=env.integer(
                "SIM_STREAM_CONCURRENCY_LIMIT", cls.stream_concurrency_limit, minimum=1
            ),
            log_level=env.choice("LOG_LEVEL", LOG_LEVELS, cls.log_level),
            log_format=env.optional_choice("LOG_FORMAT", ("json", "console")),
        )

    @property
    def base_url(self) -> str:
        """How clients reach the simulator, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")

        # A wildcard bind address is not somewhere a client can connect to.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


class _Environment:
    """Typed readers of the environment; each error names its variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def _raw(self, key: str) -> str | None:
        value = self._environ.get(key)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def text(self, key: str, default: str) -> str:
        return self._raw(key) or default

    def integer(
        self, key: str, default: int, *, minimum: int, maximum: int | None = None
    ) -> int:
        raw = self._raw(key)
        if raw is None:
            return default

        limits = f"between {minimum} and {maximum}" if maximum else f">= {minimum}"
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(
                f"{key} must be an integer {limits}, got {raw!r}"
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise SettingsError(f"{key} must be an integer {limits}, got {raw!r}")
        return value

    def number(self, key: str, default: float, *, positive: bool = False) -> float:
        raw = self._raw(key)
        if raw is None:
            return default

        wanted = "a number > 0" if positive else "a number >= 0"
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{key} must be {wanted}, got {raw!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise SettingsError(f"{key} must be {wanted}, got {raw!r}")
        if value < 0 or (positive and value == 0):
            raise SettingsError(f"{key} must be {wanted}, got {raw!r}")
        return value

    def token(self, key: str, default: str) -> str:
        raw = self._raw(key)
        if raw is None:
            return default
        if not TOKEN_PATTERN.match(raw):
            # Never echo a secret back, not even a malformed one.
            raise SettingsError(
                f"{key} must be 8 to 200 printable characters without spaces"
            )
        return raw

    def client_id(self, key: str, default: str) -> str:
        raw = self._raw(key)
        if raw is None:
            return default
        if not CLIENT_ID_PATTERN.match(raw):
            raise SettingsError(
                f"{key} must be 3 to 40 letters, digits, '-' or '_', got {raw!r}"
            )
        return raw

    def slug(self, key: str, default: str) -> str:
        raw = self._raw(key)
        if raw is None:
            return default
        if not SLUG_PATTERN.match(raw) or raw.isdigit():
            raise SettingsError(
                f"{key} must be lowercase letters, digits and '-', not only digits,"
                f" got {raw!r}"
            )
        return raw

    def url(self, key: str) -> str | None:
        raw = self._raw(key)
        if raw is None:
            return None
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"{key} must be an http(s) URL, got {raw!r}")
        return raw

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        return self.optional_choice(key, choices) or default

    def optional_choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        raw = self._raw(key)
        if raw is None:
            return None
        if raw.lower() not in choices:
            raise SettingsError(
                f"{key} must be one of {', '.join(choices)}, got {raw!r}"
            )
        return raw.lower()
