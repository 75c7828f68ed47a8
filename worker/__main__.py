"""`python -m worker`: the Procfile's worker process."""

from __future__ import annotations

import asyncio
import sys

from shared.log import configure_logging
from shared.settings import Settings, SettingsError

from .app import Worker, install_signal_handlers


def main() -> int:
    try:
        settings = Settings.from_env()
        settings.require_access_token()
    except SettingsError as error:
        print(f"worker: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format, settings.secrets())
    return asyncio.run(_run(settings))


async def _run(settings: Settings) -> int:
    worker = Worker(settings)
    install_signal_handlers(worker)
    return await worker.run()


if __name__ == "__main__":
    sys.exit(main())
