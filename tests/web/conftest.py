"""Fixtures for the web process: real RabbitMQ, real PostgreSQL and SQLite, a fake
Particle API on loopback, and the app running in this event loop.

Every test gets its own events exchange (so its own web queues) and its own
PostgreSQL schema or SQLite file, and everything is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from aiohttp.test_utils import TestClient, TestServer
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from shared.events import ParticleEvent, build_message
from shared.log import configure_logging
from shared.settings import CHECKOUT, Settings
from shared.topology import (
    WebQueueNames,
    WebTopology,
    declare_web_topology,
    retry_queue_name,
)
from tests.web.fake_particle import FakeParticle
from web.app import create_app
from web.config import WebConfig
from web.db import Database, create_engine
from web.services import SERVICES_KEY, Services

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
TEST_TOKEN = "web-test-token-5f4e3d2c"
WEBHOOK_SECRET = "hook-secret-a1b2c3d4"
DEVICE = "0123456789abcdef01234567"
WAIT_SECONDS = 10.0

T = TypeVar("T")
_instants = itertools.count()
FIRST_INSTANT = datetime(2025, 1, 1, tzinfo=UTC)


def postgres_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def alembic_config(**attributes: Any) -> Config:
    config = Config(str(CHECKOUT / "alembic.ini"))
    config.attributes.update(configure_logging=False, **attributes)
    return config


async def migrate(database: Database) -> None:
    """Upgrade to head over the database's own engine (its search_path included)."""

    def upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection=connection), "head")

    async with database.engine.begin() as connection:
        await connection.run_sync(upgrade)


async def eventually(
    check: Callable[[], Awaitable[T | None]], timeout: float = WAIT_SECONDS
) -> T:
    """Wait until `check` returns something truthy, and return it."""
    async with asyncio.timeout(timeout):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.05)


def make_event(
    name: str = "photo", data: str | None = "hello", coreid: str = DEVICE
) -> ParticleEvent:
    """A valid event; each call gets its own published_at, so its own event id."""
    instant = FIRST_INSTANT + timedelta(seconds=next(_instants))
    published_at = instant.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fields = {"data": data, "ttl": 60, "published_at": published_at, "coreid": coreid}
    return ParticleEvent(name=name, fields=fields)


@pytest.fixture(autouse=True)
def _logging() -> None:
    configure_logging("debug", "json", secrets=[TEST_TOKEN, WEBHOOK_SECRET])


# ---- databases ---------------------------------------------------------------


@pytest.fixture
async def postgres_database() -> AsyncIterator[Database]:
    """A migrated PostgreSQL database: a schema of its own in the test database."""
    schema = f"web_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url())
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database.from_url(
        postgres_url(), server_settings={"search_path": schema}
    )
    try:
        await migrate(database)
        yield database
    finally:
        await database.close()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database.from_url(f"sqlite:///{tmp_path / 'web.sqlite3'}")
    await migrate(database)
    yield database
    await database.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database(request: pytest.FixtureRequest) -> Database:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_database" if request.param == "sqlite" else "postgres_database"
    database: Database = request.getfixturevalue(fixture)
    return database


# ---- broker --------------------------------------------------------------------


@pytest.fixture
def web_config() -> WebConfig:
    # Short delays and keep-alives, so retry and SSE tests take moments.
    return WebConfig(
        timeline_retry_delays=(0.05, 0.1),
        call_retry_delays=(0.05, 0.05, 0.05),
        sse_keepalive=0.3,
        call_timeout=5.0,
        requeue_after=0.5,
    )


@pytest.fixture
async def web_topology(
    amqp_channel: AbstractChannel, exchange_name: str, web_config: WebConfig
) -> AsyncIterator[WebTopology]:
    """The web queues of this test's exchange, deleted afterwards."""
    topology = await declare_web_topology(
        amqp_channel,
        exchange_name,
        "photo",
        web_config.timeline_retry_delays,
        web_config.call_retry_delays,
    )
    yield topology
    await delete_web_queues(
        amqp_channel,
        exchange_name,
        web_config.timeline_retry_delays,
        web_config.call_retry_delays,
    )


async def delete_web_queues(
    channel: AbstractChannel,
    exchange: str,
    timeline_delays: tuple[float, ...],
    call_delays: tuple[float, ...],
) -> None:
    names = WebQueueNames.for_exchange(exchange)
    for queue, delays in (
        (names.timeline, timeline_delays),
        (names.calls, call_delays),
    ):
        for delay in delays:
            await channel.queue_delete(retry_queue_name(queue, delay))
        await channel.queue_delete(queue)
    await channel.queue_delete(names.dead)
    await channel.exchange_delete(names.live)


@pytest.fixture
async def dead_letters(
    amqp_channel: AbstractChannel, web_topology: WebTopology
) -> asyncio.Queue[AbstractIncomingMessage]:
    """Whatever reaches the dead-letter queue, as it arrives."""
    arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

    async def keep(message: AbstractIncomingMessage) -> None:
        await message.ack()
        arrived.put_nowait(message)

    queue = await amqp_channel.get_queue(web_topology.names.dead)
    await queue.consume(keep)
    return arrived


# ---- Particle and the app --------------------------------------------------------


@pytest.fixture
async def fake_particle() -> AsyncIterator[FakeParticle]:
    fake = FakeParticle(token=TEST_TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings(
    rabbitmq_url: str, exchange_name: str, fake_particle: FakeParticle
) -> Settings:
    return Settings(
        particle_api_url=fake_particle.url,
        particle_access_token=TEST_TOKEN,
        broker_url=rabbitmq_url,
        events_exchange=exchange_name,
        webhook_secret=WEBHOOK_SECRET,
        publish_timeout=5.0,
    )


@dataclass
class RunningWeb:
    client: TestClient[Any, Any]
    services: Services
    topology: WebTopology

    async def wait_connected(self) -> None:
        async def connected() -> bool:
            return self.services.publisher.connected

        await eventually(connected)

    async def publish(self, event: ParticleEvent, app_id: str = "worker") -> None:
        """Publish as the worker does, into the test's events exchange."""
        await self.topology.exchanges.events.publish(
            build_message(event, app_id), routing_key=event.routing_key
        )

    async def publish_raw(self, body: bytes) -> None:
        """Publish any body into the events exchange where feed events go."""
        await self.topology.exchanges.events.publish(
            aio_pika.Message(body), routing_key="photo"
        )

    async def posts(self, **query: str) -> list[dict[str, Any]]:
        response = await self.client.get("/api/posts", params=query)
        assert response.status == 200
        posts: list[dict[str, Any]] = (await response.json())["posts"]
        return posts

    async def post_of(self, event: ParticleEvent) -> dict[str, Any]:
        """Wait for the event's post to be stored, and return it from the API."""

        async def stored() -> dict[str, Any] | None:
            posts = await self.posts(limit="100")
            return next((p for p in posts if p["event_id"] == event.event_id), None)

        return await eventually(stored)

    async def post(self, post_id: int) -> dict[str, Any]:
        response = await self.client.get(f"/api/posts/{post_id}")
        assert response.status == 200
        post: dict[str, Any] = await response.json()
        return post


class StartWeb(Protocol):
    async def __call__(
        self,
        *,
        database: Database | None = None,
        connected: bool = True,
        **changes: Any,
    ) -> RunningWeb: ...


@pytest.fixture
async def start_web(
    settings: Settings,
    web_config: WebConfig,
    postgres_database: Database,
    web_topology: WebTopology,
) -> AsyncIterator[StartWeb]:
    """Start the app on loopback, with settings `changes` (or another database);
    every app started is closed at the end. Waits for the broker if `connected`."""
    started: list[RunningWeb] = []

    async def start(
        *, database: Database | None = None, connected: bool = True, **changes: Any
    ) -> RunningWeb:
        app = create_app(
            dataclasses.replace(settings, **changes),
            web_config,
            database or postgres_database,
        )
        client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        running = RunningWeb(client, app[SERVICES_KEY], web_topology)
        started.append(running)
        if connected:
            await running.wait_connected()
        return running

    yield start
    for running in started:
        await running.client.close()


@pytest.fixture
async def web(start_web: StartWeb) -> RunningWeb:
    """The app on loopback with PostgreSQL, connected to the broker."""
    return await start_web()


@pytest.fixture
async def web_without_broker(start_web: StartWeb) -> RunningWeb:
    """The app pointed at a broker port nothing listens on."""
    nowhere = f"amqp://guest:guest@127.0.0.1:{unused_port()}/"
    return await start_web(broker_url=nowhere, connected=False)
