"""Fixtures shared by the whole suite: the real RabbitMQ, per-test topology names.

The broker comes from RABBITMQ_URL (default: the local one) when it answers; only
when none answers and Docker works is one started with testcontainers.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import aio_pika
import pytest

from tests.support.broker import delete_topology

DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 5672), 2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    url = os.environ.get("RABBITMQ_URL", DEFAULT_BROKER_URL)
    if _answers(url):
        yield url
        return
    try:
        from testcontainers.rabbitmq import RabbitMqContainer
    except ImportError:  # pragma: no cover - testcontainers is a dev dependency
        pytest.fail(f"no RabbitMQ answers at {url} and testcontainers is missing")
    try:
        container = RabbitMqContainer("rabbitmq:3.13-alpine").start()
    except Exception as error:  # Docker missing or not running: say what to do.
        pytest.fail(
            f"no RabbitMQ answers at {url} and Docker cannot start one: {error}"
        )
    host = container.get_container_host_ip()
    port = container.get_exposed_port(5672)
    yield f"amqp://guest:guest@{host}:{port}/"
    container.stop()


@pytest.fixture
def exchange_name() -> str:
    """A fresh events exchange per test, so tests never see each other's events."""
    return f"test.{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def amqp_channel(
    rabbitmq_url: str, exchange_name: str
) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(rabbitmq_url)
    channel = await connection.channel()
    yield channel
    await delete_topology(channel, exchange_name)
    await connection.close()
