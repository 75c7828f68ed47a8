"""`python -m web`: the Procfile's web process, on 0.0.0.0:$PORT."""

from __future__ import annotations

import sys

from aiohttp import web

from shared.log import configure_logging
from shared.settings import Settings, SettingsError

from .app import HTTP_SHUTDOWN_SECONDS, create_app
from .config import WebConfig


def main() -> int:
    try:
        settings = Settings.from_env()
        config = WebConfig.from_env()
    except SettingsError as error:
        print(f"web: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format, settings.secrets())
    # run_app turns SIGTERM into a graceful stop: listening ends, then the
    # cleanup contexts drain the consumers (see app.py for the time budget).
    web.run_app(
        create_app(settings, config),
        host="0.0.0.0",
        port=settings.port,
        shutdown_timeout=HTTP_SHUTDOWN_SECONDS,
        access_log=None,
        print=None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
