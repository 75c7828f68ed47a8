"""The real local RabbitMQ stopped and started again under a running worker.

This stops the broker every client on the machine uses, so it runs only when asked
(`TEST_BROKER_RESTART=1`, which CI sets), and only where the broker is this
machine's own and `rabbitmqctl` may drive it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest

from tests.support.sse_server import Script, ScriptedSSEServer, particle_event
from tests.worker.conftest import StartWorker

pytestmark = pytest.mark.slow


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, timeout=120)


@pytest.fixture
def local_broker(rabbitmq_url: str) -> None:
    if os.environ.get("TEST_BROKER_RESTART") != "1":
        pytest.skip("stops the machine's RabbitMQ; set TEST_BROKER_RESTART=1 to run")
    local = urlsplit(rabbitmq_url).hostname in ("127.0.0.1", "localhost")
    if not local or shutil.which("rabbitmqctl") is None:
        pytest.skip("needs the local RabbitMQ and rabbitmqctl to stop and start it")
    probe = subprocess.run(["rabbitmqctl", "-q", "status"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("rabbitmqctl cannot reach the local broker")


@pytest.mark.timeout(180)
@pytest.mark.usefixtures("local_broker")
async def test_worker_loses_nothing_across_broker_restart(
    sse_server: ScriptedSSEServer,
    start_worker: StartWorker,
    rabbitmq_url: str,
    exchange_name: str,
) -> None:
    import aio_pika

    from shared.topology import declare_topology
    from tests.support.broker import delete_topology

    events = [
        particle_event("photo", str(n), f"2026-12-04T11:00:{n:02d}.000Z")
        for n in range(40)
    ]
    name = exchange_name
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        exchanges = await declare_topology(channel, name)
        kept = await channel.declare_queue(f"{name}.kept", durable=True)
        await kept.bind(exchanges.events, "#")
    sse_server.scripts = [Script(chunks=[b":ok\n\n", *events[:10]])]
    running = start_worker()
    await _wait(lambda: running.worker.stats.published == 10)

    await asyncio.to_thread(rabbitmqctl, "stop_app")
    try:
        for event in events[10:]:
            sse_server.push(event)
        await _wait(lambda: running.worker.stats.received == 40)
    finally:
        await asyncio.to_thread(rabbitmqctl, "start_app")
    await _wait(lambda: running.worker.stats.published == 40, timeout=120)

    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        kept = await channel.declare_queue(f"{name}.kept", durable=True)
        seen = []
        while (message := await kept.get(no_ack=True, fail=False)) is not None:
            seen.append(int(message.body.split(b'"data":"')[1].split(b'"')[0]))
        await kept.delete()
        await delete_topology(channel, name)
    assert list(dict.fromkeys(seen)) == list(range(40))


async def _wait(predicate, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)
