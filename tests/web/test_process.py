"""`python -m web` and `python -m shared.release` as real processes: start-up,
configuration errors, SIGTERM, and a web process killed mid-message."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aio_pika.abc import AbstractChannel
from sqlalchemy import text
from sqlalchemy.engine import make_url

from shared.events import build_message
from shared.settings import CHECKOUT
from shared.topology import (
    DEFAULT_CALL_RETRY_DELAYS,
    DEFAULT_TIMELINE_RETRY_DELAYS,
    WebQueueNames,
    WebTopology,
)
from tests.web.conftest import (
    TEST_TOKEN,
    WAIT_SECONDS,
    delete_web_queues,
    eventually,
    make_event,
    postgres_url,
    unused_port,
)
from tests.web.fake_particle import FakeParticle
from web.config import WebConfig
from web.db import Database, create_engine
from web.health import head_revision

pytestmark = pytest.mark.slow

START_SECONDS = 5.0  # the contract: bound within a few seconds
STOP_SECONDS = 25.0  # the contract: SIGTERM to exit inside Heroku's 30 s


def clean_env(**variables: str) -> dict[str, str]:
    """Only what the process needs, so nothing from the developer's shell leaks in."""
    return {"PATH": os.environ["PATH"], "LOG_FORMAT": "json", **variables}


async def run(module: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        cwd=CHECKOUT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), WAIT_SECONDS * 3)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


@dataclass
class WebProcess:
    process: asyncio.subprocess.Process
    url: str

    @classmethod
    async def start(cls, env: dict[str, str], log: Path) -> WebProcess:
        with log.open("ab") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "web",
                cwd=CHECKOUT,
                env=env,
                stdout=output,
                stderr=output,
            )
        return cls(process, f"http://127.0.0.1:{env['PORT']}")

    async def wait_healthy(self, session: aiohttp.ClientSession) -> None:
        async def healthy() -> bool:
            try:
                async with session.get(f"{self.url}/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientConnectionError:
                return False

        await eventually(healthy, timeout=START_SECONDS)

    async def kill(self) -> None:
        """SIGKILL: no cleanup at all, as when a dyno dies."""
        self.process.kill()
        await self.process.wait()

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), STOP_SECONDS)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
        yield s


@pytest.fixture
def web_env(
    rabbitmq_url: str,
    exchange_name: str,
    fake_particle: FakeParticle,
    sqlite_database: Database,
    web_config: WebConfig,
) -> dict[str, str]:
    def seconds(delays: tuple[float, ...]) -> str:
        return ",".join(str(delay) for delay in delays)

    return clean_env(
        PORT=str(unused_port()),
        RABBITMQ_URL=rabbitmq_url,
        PARTICLE_EXCHANGE=exchange_name,
        PARTICLE_API_URL=fake_particle.url,
        PARTICLE_ACCESS_TOKEN=TEST_TOKEN,
        DATABASE_URL=str(sqlite_database.engine.url).replace("+aiosqlite", ""),
        WEB_RETRY_DELAYS=seconds(web_config.timeline_retry_delays),
        WEB_CALL_RETRY_DELAYS=seconds(web_config.call_retry_delays),
    )


@pytest.fixture
async def web_process(
    web_env: dict[str, str], web_topology: WebTopology, tmp_path: Path
) -> AsyncIterator[list[WebProcess]]:
    """Started processes, each stopped at the end (the list grows on restart)."""
    started: list[WebProcess] = []
    yield started
    for process in started:
        await process.stop()


async def start(
    started: list[WebProcess], env: dict[str, str], tmp_path: Path
) -> WebProcess:
    process = await WebProcess.start(env, tmp_path / "web.log")
    started.append(process)
    return process


async def test_process_serves_health_within_seconds(
    web_process: list[WebProcess],
    web_env: dict[str, str],
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    began = time.monotonic()

    process = await start(web_process, web_env, tmp_path)
    await process.wait_healthy(http)

    assert time.monotonic() - began < START_SECONDS


async def test_process_stops_cleanly_on_sigterm(
    web_process: list[WebProcess],
    web_env: dict[str, str],
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    process = await start(web_process, web_env, tmp_path)
    await process.wait_healthy(http)
    events = await http.get(f"{process.url}/events")  # an open SSE stream too

    began = time.monotonic()
    code = await process.stop()

    assert code == 0
    assert time.monotonic() - began < STOP_SECONDS
    events.close()


@pytest.mark.parametrize(
    ("name", "value"),
    [("PORT", "http"), ("DATABASE_URL", "mysql://x/y"), ("WEB_PREFETCH", "0")],
)
async def test_process_exits_2_naming_a_malformed_variable(
    name: str, value: str
) -> None:
    code, stderr = await run("web", clean_env(**{name: value}))

    assert code == 2
    assert stderr.count("\n") == 1
    assert stderr.startswith(f"web: {name}")


async def test_process_redelivers_a_call_cut_off_by_kill(
    web_process: list[WebProcess],
    web_env: dict[str, str],
    web_topology: WebTopology,
    fake_particle: FakeParticle,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    """Killed while Particle holds the call: the restarted process calls again,
    and the post ends with one like and one succeeded call."""
    first = await start(web_process, web_env, tmp_path)
    await first.wait_healthy(http)
    event = make_event()
    await web_topology.exchanges.events.publish(
        build_message(event, "worker"), routing_key=event.routing_key
    )
    post = await _post_via_http(http, first.url, event.event_id)
    fake_particle.holding = True

    async with http.post(f"{first.url}/api/posts/{post['id']}/likes") as response:
        assert response.status == 202
    await fake_particle.next_call()
    await first.kill()
    fake_particle.holding = False
    fake_particle.release.set()
    second = await start(web_process, web_env, tmp_path)
    await second.wait_healthy(http)

    async def finished() -> dict[str, Any] | None:
        async with http.get(f"{second.url}/api/posts/{post['id']}") as answer:
            body: dict[str, Any] = await answer.json()
        return body if body["calls"] and body["calls"][0]["finished"] else None

    body = await eventually(finished)
    assert body["likes"] == 1
    assert [call["state"] for call in body["calls"]] == ["succeeded"]
    assert len(fake_particle.calls) == 2


async def test_process_loses_and_doubles_no_event_when_killed(
    web_process: list[WebProcess],
    web_env: dict[str, str],
    web_topology: WebTopology,
    sqlite_database: Database,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    """Killed in the middle of a backlog: after a restart every event is a post,
    exactly once."""
    events = [make_event(data=f"n{n}") for n in range(300)]
    for event in events:
        await web_topology.exchanges.events.publish(
            build_message(event, "worker"), routing_key=event.routing_key
        )

    first = await start(web_process, web_env, tmp_path)
    at_kill = await eventually(lambda: _post_count(sqlite_database), timeout=10)
    await first.kill()
    second = await start(web_process, web_env, tmp_path)
    await second.wait_healthy(http)

    async def all_stored() -> bool:
        return await _post_count(sqlite_database) >= len(events)

    await eventually(all_stored, timeout=30)
    assert at_kill < len(events)
    assert await _event_ids(sqlite_database) == sorted(e.event_id for e in events)


async def _post_via_http(
    http: aiohttp.ClientSession, url: str, event_id: str
) -> dict[str, Any]:
    async def stored() -> dict[str, Any] | None:
        async with http.get(f"{url}/api/posts") as response:
            posts = (await response.json())["posts"]
        return next((p for p in posts if p["event_id"] == event_id), None)

    return await eventually(stored)


async def _post_count(database: Database) -> int:
    async with database.engine.connect() as connection:
        count = await connection.scalar(text("SELECT count(*) FROM posts"))
    return int(count or 0)


async def _event_ids(database: Database) -> list[str]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(text("SELECT event_id FROM posts"))
    return sorted(row[0] for row in rows)


# ---- the release phase -----------------------------------------------------------


@pytest.fixture
async def release_queues(
    amqp_channel: AbstractChannel, exchange_name: str
) -> AsyncIterator[WebQueueNames]:
    """The web queues release declares (default delays), deleted afterwards."""
    yield WebQueueNames.for_exchange(exchange_name)
    await delete_web_queues(
        amqp_channel,
        exchange_name,
        DEFAULT_TIMELINE_RETRY_DELAYS,
        DEFAULT_CALL_RETRY_DELAYS,
    )


@pytest.fixture(params=["sqlite", "postgres"])
async def release_database_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """A SQLite file, or a fresh PostgreSQL database named the way Heroku writes
    it (postgres://...), dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'release.sqlite3'}"
        return
    name = f"web_release_{uuid.uuid4().hex[:10]}"
    # CREATE and DROP DATABASE cannot run inside a transaction.
    admin = create_engine(postgres_url()).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url()).set(drivername="postgres", database=name)
    yield url.render_as_string(hide_password=False)
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await admin.dispose()


async def test_release_declares_web_queues_and_migrates(
    amqp_channel: AbstractChannel,
    release_queues: WebQueueNames,
    rabbitmq_url: str,
    exchange_name: str,
    release_database_url: str,
) -> None:
    env = clean_env(
        RABBITMQ_URL=rabbitmq_url,
        PARTICLE_EXCHANGE=exchange_name,
        DATABASE_URL=release_database_url,
    )

    code, stderr = await run("shared.release", env)
    again, _ = await run("shared.release", env)

    assert (code, again) == (0, 0), stderr
    for queue in (release_queues.timeline, release_queues.calls, release_queues.dead):
        await amqp_channel.get_queue(queue, ensure=True)
    migrated = Database.from_url(release_database_url)
    try:
        assert await migrated.schema_revision() == head_revision()
    finally:
        await migrated.close()
