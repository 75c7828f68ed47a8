"""structlog set up once per process: JSON lines for machines, colours for people.

Every process calls `configure_logging` at start. The stdlib loggers of aiohttp,
aio-pika and aiormq are routed through the same processors, so a log drain sees one
JSON shape. Secrets never reach the output: keys that name a secret are masked, and
every configured secret value is scrubbed from any string (exception text included).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"
SECRET_KEY = re.compile(
    r"token|secret|password|passwd|authorization|cookie|api_key", re.IGNORECASE
)
# The Authorization header and a Bearer value also hide inside free text.
BEARER_VALUE = re.compile(r"(Bearer\s+)[^\s'\",]+", re.IGNORECASE)
URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]*:)[^@\s]+@")


class SecretScrubber:
    """A processor that removes secrets from every value of an event dict."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(
        self, logger: WrappedLogger, method_name: str, event_dict: EventDict
    ) -> EventDict:
        for key, value in event_dict.items():
            if SECRET_KEY.search(key) and value is not None and key != "event":
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self._scrub(value)
        return event_dict

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrub(item) for item in value]
        return value

    def scrub_text(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = BEARER_VALUE.sub(rf"\1{REDACTED}", text)
        return URL_PASSWORD.sub(rf"\1{REDACTED}@", text)


def configure_logging(
    level: str = "info", fmt: str | None = None, secrets: Iterable[str] = ()
) -> None:
    """Configure structlog and the stdlib root logger; safe to call again (tests do)."""
    fmt = fmt or ("console" if sys.stdout.isatty() else "json")
    numeric_level = logging.getLevelName(level.upper())
    shared = _shared_processors(SecretScrubber(secrets))
    renderer: Processor = (
        structlog.dev.ConsoleRenderer()
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )

    structlog.configure(
        processors=[
            # First, so a disabled level costs one check, not the whole chain.
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Tests reconfigure logging and capture it; cached loggers would miss that.
        cache_logger_on_first_use=False,
    )
    _route_stdlib(shared, renderer, numeric_level)


def _shared_processors(scrubber: SecretScrubber) -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _stdlib_message_as_event,
        scrubber,
    ]


def _route_stdlib(shared: list[Processor], renderer: Processor, level: int) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # aiormq narrates every frame at debug and aiohttp.access duplicates our own
    # request lines; keep them at warning unless the operator asks for debug.
    noisy_level = level if level <= logging.DEBUG else logging.WARNING
    for name in ("aiormq", "aio_pika", "aiohttp.access"):
        logging.getLogger(name).setLevel(noisy_level)


def _stdlib_message_as_event(
    logger: WrappedLogger, method_name: str, event_dict: EventDict
) -> EventDict:
    # Records from stdlib loggers carry %-style args; render them into the event text.
    args = event_dict.pop("positional_args", None)
    if args and isinstance(event_dict.get("event"), str):
        try:
            event_dict["event"] = event_dict["event"] % args
        except (TypeError, ValueError):
            event_dict["event"] = f"{event_dict['event']} {args!r}"
    return event_dict


def get_logger(name: str, **initial: Any) -> structlog.stdlib.BoundLogger:
    """A logger named under the process's package (`worker.stream`, `web.likes`)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name, **initial)
    return logger


def bind(**values: Any) -> None:
    """Bind values for the rest of the current task, e.g. the event id being handled."""
    structlog.contextvars.bind_contextvars(**values)
