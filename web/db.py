"""The database connection: PostgreSQL through asyncpg, or an embedded SQLite file.

`DATABASE_URL` arrives as Heroku writes it (`postgres://`), as libpq writes it
(`postgresql://`, maybe with `sslmode`), or as `sqlite:///PATH`; `async_url` maps
each onto the async driver SQLAlchemy needs. Alembic's env uses the same mapping.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

HEALTH_TIMEOUT_SECONDS = 3.0
# A pooled connection idle this long is pinged before use (see `create_engine`).
PING_IDLE_AFTER = 10.0
# And none is used past this age, whatever its server's or proxy's lifetime limit.
RECYCLE_SECONDS = 1800
# Connections kept open, and opened beyond them at peaks (closed again at check-in).
# The total is SQLAlchemy's default of 15, so a process asks no more of the server;
# but with its default of 5 kept, the likes and calls in flight (16 + 8 under the
# benchmark) opened and closed a connection for most transactions. Eight kept open
# lets two web dynos idle within Heroku Postgres's smallest plans (20 connections).
POOL_SIZE = 8
POOL_OVERFLOW = 7
IDLE_SINCE = "web_idle_since"
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


def create_engine(
    database_url: str, *, ping_idle_after: float = PING_IDLE_AFTER, **connect_args: Any
) -> AsyncEngine:
    """An engine for the URL; extra `connect_args` reach the driver (tests set a
    PostgreSQL search_path this way)."""
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, connect_args)
    engine = create_async_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_recycle=RECYCLE_SECONDS,
        connect_args=connect_args,
    )
    _ping_idle_connections(engine, ping_idle_after)
    return engine


def _ping_idle_connections(engine: AsyncEngine, idle_after: float) -> None:
    """Ping a pooled connection at check-out only if it sat idle `idle_after`.

    What closes connections behind the pool's back (a server's or proxy's idle
    timeout, a NAT forgetting a quiet flow) closes idle ones, and a dead one is
    then replaced before use. `pool_pre_ping` pinged at every check-out, three
    round trips each (BEGIN, `;`, ROLLBACK), which under load was most of the
    database work for a post or a like. A connection in use within the last
    seconds that died anyway (the server restarted) fails its statement once;
    SQLAlchemy then invalidates the whole pool, and the message is retried or the
    request answers 500 without effect, as with any database error.
    """
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(IDLE_SINCE, None)
        if since is None or time.monotonic() - since < idle_after:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out another (or a new one).
            raise DisconnectionError(f"idle connection is gone: {error}") from error


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
        # The same pool, its connections lent in autocommit mode (and reset at
        # check-in): see `autocommit`.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    @classmethod
    def from_url(cls, database_url: str, **connect_args: Any) -> Database:
        return cls(create_engine(database_url, **connect_args))

    def session(self) -> AsyncSession:
        return self.sessions()

    def autocommit(self) -> AsyncConnection:
        """A connection on which each statement is its own transaction, committed
        when it returns: for work that is one statement, it saves the BEGIN and
        the COMMIT (or ROLLBACK) round trips a session spends around it."""
        return self._autocommit.connect()

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
