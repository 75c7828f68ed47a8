"""How alembic reaches the database: DATABASE_URL, through the web's async drivers.

Three ways in: the release phase passes the URL in `config.attributes`; tests pass
an open connection there (their own PostgreSQL schema); the alembic command line
reads DATABASE_URL like every process does.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from shared.settings import Settings
from web.db import create_engine
from web.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name)


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_url(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    database_url = config.attributes.get("database_url")
    if database_url is None:
        database_url = Settings.from_env().database_url
    asyncio.run(run_with_url(database_url))


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them online")
run_online()
