"""Connecting to RabbitMQ, shared by the worker and the web process."""

from __future__ import annotations

import asyncio

import aio_pika
import aiormq
from aio_pika.abc import AbstractConnection

CONNECT_TIMEOUT_SECONDS = 10.0

# What a lost, refused or blocked broker raises; these are worth another try.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


async def connect(url: str, connection_name: str) -> AbstractConnection:
    """A plain (not robust) connection: callers own reconnects, so nothing is replayed
    behind their back. The name shows in the RabbitMQ management UI."""
    return await aio_pika.connect(
        url,
        timeout=CONNECT_TIMEOUT_SECONDS,
        client_properties={"connection_name": connection_name},
    )
