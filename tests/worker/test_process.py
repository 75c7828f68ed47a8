"""`python -m worker` as Heroku runs it: exit codes, signals, and what it prints."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from tests.support.capture import Capture
from tests.support.sse_server import Script, ScriptedSSEServer, particle_event
from tests.worker.conftest import TEST_TOKEN

CHECKOUT = Path(__file__).resolve().parents[2]


async def start_process(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker",
        cwd=CHECKOUT,
        env={"PATH": os.environ["PATH"], "LOG_FORMAT": "json", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


def worker_env(url: str, rabbitmq_url: str, exchange: str) -> dict[str, str]:
    return {
        "PARTICLE_API_URL": url,
        "PARTICLE_ACCESS_TOKEN": TEST_TOKEN,
        "RABBITMQ_URL": rabbitmq_url,
        "PARTICLE_EXCHANGE": exchange,
    }


def log_lines(output: bytes) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in output.decode().splitlines() if line]


async def test_worker_exits_nonzero_on_401_without_printing_token(
    sse_server: ScriptedSSEServer, rabbitmq_url: str, exchange_name: str
) -> None:
    body = json.dumps(
        {
            "error": "invalid_token",
            "error_description": "The access token provided is invalid.",
        }
    ).encode()
    sse_server.scripts = [Script.error(401, body)]

    process = await start_process(
        worker_env(sse_server.url, rabbitmq_url, exchange_name)
    )
    output, _ = await asyncio.wait_for(process.communicate(), 15)

    assert process.returncode not in (0, None)
    assert TEST_TOKEN.encode() not in output
    rejected = [
        line for line in log_lines(output) if line["event"] == "stream_rejected"
    ]
    assert rejected[0]["status"] == 401
    assert rejected[0]["description"] == "The access token provided is invalid."


async def test_worker_drains_held_events_on_sigterm(
    sse_server: ScriptedSSEServer,
    capture: Capture,
    rabbitmq_url: str,
    exchange_name: str,
) -> None:
    burst = b"".join(
        particle_event(
            "photo", str(n), f"2026-12-04T10:{n // 60:02d}:{n % 60:02d}.000Z"
        )
        for n in range(3000)
    )
    sse_server.scripts = [Script(chunks=[b":ok\n\n", burst])]

    process = await start_process(
        worker_env(sse_server.url, rabbitmq_url, exchange_name)
    )
    await sse_server.wait_for_connections(1)
    await capture.take(1, timeout=15)
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), 25)

    stats = [line for line in log_lines(output) if line["event"] == "worker_stats"][-1]
    assert process.returncode == 0
    assert stats["received"] == stats["published"] > 0
    published = await capture.take(stats["published"] - 1, timeout=15)
    assert len(published) + 1 == stats["published"]


async def test_worker_names_malformed_variable_in_one_line() -> None:
    process = await start_process(
        {"PARTICLE_ACCESS_TOKEN": "x", "PARTICLE_STREAM_IDLE_TIMEOUT": "soon"}
    )
    output, _ = await asyncio.wait_for(process.communicate(), 10)

    assert process.returncode == 2
    assert output.decode().strip().count("\n") == 0
    assert "PARTICLE_STREAM_IDLE_TIMEOUT" in output.decode()


async def test_worker_refuses_to_start_without_token() -> None:
    process = await start_process({})
    output, _ = await asyncio.wait_for(process.communicate(), 10)

    assert process.returncode == 2
    assert "PARTICLE_ACCESS_TOKEN" in output.decode()
