"""Fixtures for the worker: a scripted Particle stream, the broker capture, and a
worker running in this event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

import aio_pika
import pytest

from shared.log import configure_logging
from shared.settings import Settings
from tests.support.capture import Capture
from tests.support.sse_server import ScriptedSSEServer
from worker.app import Worker

TEST_TOKEN = "test-token-9f8e7d6c5b4a"


@pytest.fixture(autouse=True)
def _logging() -> None:
    configure_logging("debug", "json", secrets=[TEST_TOKEN])


@pytest.fixture
async def sse_server() -> AsyncIterator[ScriptedSSEServer]:
    server = ScriptedSSEServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def capture(
    amqp_channel: aio_pika.abc.AbstractChannel, exchange_name: str
) -> Capture:
    capture = Capture()
    await capture.start(amqp_channel, exchange_name)
    return capture


@pytest.fixture
def worker_settings(
    sse_server: ScriptedSSEServer, rabbitmq_url: str, exchange_name: str
) -> Settings:
    return Settings(
        particle_api_url=sse_server.url,
        particle_access_token=TEST_TOKEN,
        broker_url=rabbitmq_url,
        events_exchange=exchange_name,
        stream_idle_timeout=5,
    )


@dataclass
class RunningWorker:
    worker: Worker
    task: asyncio.Task[int]

    async def stop(self, timeout: float = 30) -> int:
        self.worker.stop()
        return await asyncio.wait_for(self.task, timeout)


StartWorker = Callable[..., RunningWorker]


@pytest.fixture
async def start_worker(
    worker_settings: Settings,
) -> AsyncIterator[StartWorker]:
    running: list[RunningWorker] = []

    def start(**overrides: object) -> RunningWorker:
        worker = Worker(replace(worker_settings, **overrides))  # type: ignore[arg-type]
        handle = RunningWorker(worker, asyncio.create_task(worker.run()))
        running.append(handle)
        return handle

    yield start
    for handle in running:
        handle.worker.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(handle.task, 30)
