"""`python -m shared.release`: the Procfile's release phase.

Declares the RabbitMQ topology so no event published before the first consumer
starts is lost, then migrates the database. Both steps are idempotent, so Heroku may
run the release phase as often as it likes.
"""

from __future__ import annotations

import asyncio
import sys

from alembic import command
from alembic.config import Config

from shared import broker
from shared.log import configure_logging, get_logger
from shared.settings import CHECKOUT, Settings, SettingsError
from shared.topology import declare_topology, declare_web_topology

log = get_logger("shared.release")


async def declare(settings: Settings) -> None:
    connection = await broker.connect(settings.broker_url, "release")
    async with connection:
        channel = await connection.channel()
        await declare_topology(channel, settings.events_exchange)
        await declare_web_topology(
            channel, settings.events_exchange, settings.feed_event
        )
    log.info("topology_declared", exchange=settings.events_exchange)


def migrate(settings: Settings) -> None:
    """Bring the database schema to the newest alembic revision (a no-op when there)."""
    config = Config(str(CHECKOUT / "alembic.ini"))
    config.attributes["database_url"] = settings.database_url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")
    log.info("database_migrated")


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"release: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format, settings.secrets())
    try:
        asyncio.run(declare(settings))
    except broker.BROKER_ERRORS as error:
        log.error("release_failed", step="topology", error=type(error).__name__)
        return 1
    try:
        migrate(settings)
    except Exception as error:
        # The message may carry the database URL; the log scrubber masks its password.
        log.error(
            "release_failed",
            step="database",
            error=type(error).__name__,
            reason=str(error),
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
