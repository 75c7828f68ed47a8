"""Every wire case, replayed by a local SSE server into a real worker and broker."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.capture import Capture
from tests.support.sse_server import Script, ScriptedSSEServer
from tests.worker.conftest import StartWorker

CASES = sorted((Path(__file__).parent.parent / "data" / "sse").glob("*.json"))


def expected_id(body: dict[str, Any]) -> str:
    data = body.get("data")
    text = "" if data is None else data
    key = f"{body['coreid']}\n{body['name']}\n{body['published_at']}\n{text}"
    return hashlib.sha256(key.encode()).hexdigest()


@pytest.mark.parametrize("case_path", CASES, ids=[path.stem for path in CASES])
async def test_worker_publishes_what_each_case_expects(
    case_path: Path,
    sse_server: ScriptedSSEServer,
    capture: Capture,
    start_worker: StartWorker,
) -> None:
    case = json.loads(case_path.read_text())
    expect = case["expect"]
    sse_server.scripts = [Script.from_case(c) for c in case["connections"]]

    start_worker()
    events = await capture.take(len(expect["events"]), timeout=20)
    invalid = await capture.take_invalid(expect["invalid"], timeout=5)
    await asyncio.sleep(0.3)

    assert [e.json() for e in events] == [e["body"] for e in expect["events"]]
    assert [e.message_id for e in events] == [
        expected_id(e["body"]) for e in expect["events"]
    ]
    routing_keys = expect.get(
        "routing_keys", [e["name"].replace("/", ".") for e in expect["events"]]
    )
    assert [e.routing_key for e in events] == routing_keys
    assert len(invalid) == expect["invalid"]
    assert capture.events.empty()
    assert capture.invalid.empty()
    for seen, connection in zip(sse_server.requests, case["connections"], strict=False):
        for header, value in connection.get("expect_request_headers", {}).items():
            assert seen.headers.get(header) == value
