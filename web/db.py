"""The database connection: PostgreSQL through asyncpg, or an embedded SQLite file.

`DATABASE_URL` arrives as Heroku writes it (`postgres://`), as libpq writes it
(`postgresql://`, maybe with `sslmode`), or as `sqlite:///PATH`; `async_url` maps
each onto the async driver SQLAlchemy needs. Alembic's env uses the same mapping.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

HEALTH_TIMEOUT_SECONDS = 3.0
VERSION_TABLE = "alembic_version"
DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def async_url(database_url: str) -> URL:
    """The SQLAlchemy URL with the async driver for this `DATABASE_URL`."""
    url = make_url(database_url)
    scheme = url.drivername.split("+", 1)[0]
    url = url.set(drivername=DRIVERS.get(scheme, url.drivername))
    if "sslmode" in url.query:
        # libpq's sslmode is asyncpg's ssl; asyncpg would reject the unknown keyword.
        query = dict(url.query)
        query["ssl"] = query.pop("sslmode")
        url = url.set(query=query)
    return url


def create_engine(database_url: str, **connect_args: Any) -> AsyncEngine:
    """An engine for the URL; extra `connect_args` reach the driver (tests set a
    PostgreSQL search_path this way)."""
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, connect_args)
    return create_async_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_engine(url: URL, connect_args: dict[str, Any]) -> AsyncEngine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args=connect_args)

    @event.listens_for(engine.sync_engine, "connect")
    def _tune(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets the page read while the consumer writes; busy_timeout makes a
        # second writer wait for the lock instead of failing at once.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


class Database:
    """The engine and its session factory; sessions do not expire on commit, so
    rows stay readable after their transaction ends."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, database_url: str, **connect_args: Any) -> Database:
        return cls(create_engine(database_url, **connect_args))

    def session(self) -> AsyncSession:
        return self.sessions()

    async def schema_revision(self) -> str | None:
        """The alembic revision the database is at (None before the first migration);
        raises when the database does not answer in time."""
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), self.engine.connect() as c:
            if not await c.run_sync(
                lambda sync: inspect(sync).has_table(VERSION_TABLE)
            ):
                return None
            result = await c.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
            return result.scalar_one_or_none()

    async def close(self) -> None:
        await self.engine.dispose()


DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    OSError,
    TimeoutError,
)
