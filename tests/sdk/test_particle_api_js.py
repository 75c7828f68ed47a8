"""Particle's own JavaScript SDK (particle-api-js) against `python -m sim`.

The simulator runs as a subprocess on a free loopback port; each test runs one
scenario of `scenarios.js` with node and asserts on the JSON line it prints. The
SDK is installed with `npm ci` from the committed lock file when node_modules is
missing; the module is skipped only when node or npm is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sim.settings import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Settings
from tests.sim.helpers import free_port

pytestmark = pytest.mark.slow

SDK_DIR = Path(__file__).resolve().parent
CHECKOUT = SDK_DIR.parents[1]
TOKEN = "sdk0test0token0000000000000000000000000"
START_TIMEOUT = 15.0


@dataclass(frozen=True)
class Simulator:
    base_url: str
    device_id: str

    def post(self, path: str) -> None:
        request = urllib.request.Request(f"{self.base_url}{path}", method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(
            f"{self.base_url}/sim/state", timeout=5
        ) as response:
            state: dict[str, Any] = json.load(response)
        return state


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(
            "node and npm are needed to run particle-api-js against the simulator"
        )

    if not (SDK_DIR / "node_modules" / "particle-api-js").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=SDK_DIR, check=True, timeout=300
        )
    return node


def _wait_for_start_line(log_path: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        lines = log_path.read_text().splitlines()
        if lines and "listening on" in lines[0]:
            return lines[0]
        if process.poll() is not None:
            pytest.fail(f"the simulator exited: {log_path.read_text()}")
        time.sleep(0.05)
    pytest.fail(f"the simulator printed no start line: {log_path.read_text()}")


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("sim") / "sim.log"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SIM_")},
        "SIM_PORT": str(port),
        "SIM_ACCESS_TOKEN": TOKEN,
        "SIM_DEVICES": "3",
        "SIM_PRESS_INTERVAL": "0",
    }
    # A file, not a pipe: nobody reads the log while tests run, and a full pipe
    # would block the simulator.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sim"],
            cwd=CHECKOUT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        start_line = _wait_for_start_line(log_path, process)
        base_url = f"http://127.0.0.1:{port}"
        assert base_url in start_line
        state = Simulator(base_url, "").state()
        yield Simulator(base_url, state["devices"][0]["id"])
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def fresh_simulator(simulator: Simulator) -> None:
    simulator.post("/sim/reset")


def run(node: str, simulator: Simulator, scenario: str) -> dict[str, Any]:
    defaults = Settings()
    environment = {
        **os.environ,
        "SIM_BASE_URL": simulator.base_url,
        "SIM_TOKEN": TOKEN,
        "SIM_CLIENT_ID": DEFAULT_CLIENT_ID,
        "SIM_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "SIM_PRODUCT": str(defaults.product_id),
        "SIM_USERNAME": defaults.username,
        "SIM_PASSWORD": defaults.password,
        "SIM_DEVICE": simulator.device_id,
    }
    finished = subprocess.run(
        [node, "scenarios.js", scenario],
        cwd=SDK_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert finished.returncode == 0, finished.stderr
    outcome: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return outcome


def test_sdk_event_stream_receives_published_event(node, simulator) -> None:
    outcome = run(node, simulator, "stream_receives_published_event")

    event = outcome["resolved"]
    assert (event["name"], event["data"], event["coreid"]) == (
        "sdk-test",
        "hello",
        "api",
    )
    assert event["ttl"] == 60


def test_sdk_product_stream_carries_product_fields(node, simulator) -> None:
    outcome = run(node, simulator, "product_stream_receives_press")

    event = outcome["resolved"]
    assert event["name"] == "photo"
    assert event["coreid"] == simulator.device_id
    assert (event["productID"], event["public"]) == (1234, False)
    assert event["data"].startswith(f"{simulator.base_url}/sim/pictures/")


def test_sdk_event_stream_reconnects_after_clean_drop(node, simulator) -> None:
    outcome = run(node, simulator, "stream_reconnects_after_clean_drop")

    assert outcome["resolved"]["name"] == "after-drop"


def test_sdk_event_stream_rejects_bad_token(node, simulator) -> None:
    outcome = run(node, simulator, "stream_rejects_bad_token")

    rejected = outcome["rejected"]
    assert rejected["statusCode"] == 401
    assert rejected["errorDescription"].endswith(
        "/v1/devices/events - The access token provided is invalid."
    )


def test_sdk_publish_event(node, simulator) -> None:
    outcome = run(node, simulator, "publish_event")

    assert outcome["resolved"] == {"body": {"ok": True}, "statusCode": 200}


def test_sdk_call_function(node, simulator) -> None:
    outcome = run(node, simulator, "call_function")

    body = outcome["resolved"]["body"]
    assert body["return_value"] == 1
    assert body["connected"] is True
    calls = simulator.state()["devices"][0]
    assert calls["last_call"]["argument"] == "go"


def test_sdk_call_function_on_product_route(node, simulator) -> None:
    outcome = run(node, simulator, "call_function_on_product")

    assert outcome["resolved"]["body"]["return_value"] == 1


def test_sdk_missing_function_is_a_404_error(node, simulator) -> None:
    outcome = run(node, simulator, "call_missing_function")

    rejected = outcome["rejected"]
    assert rejected["statusCode"] == 404
    assert rejected["body"]["error"] == "Function not found"


def test_sdk_get_variable(node, simulator) -> None:
    outcome = run(node, simulator, "get_variable")

    assert outcome["resolved"]["body"]["result"] == "photo-button v3"


def test_sdk_get_device(node, simulator) -> None:
    outcome = run(node, simulator, "get_device")

    body = outcome["resolved"]["body"]
    assert body["id"] == simulator.device_id
    assert body["functions"] == ["rainbow", "led", "reset"]


def test_sdk_bad_token_is_a_401_error(node, simulator) -> None:
    outcome = run(node, simulator, "get_device_bad_token")

    rejected = outcome["rejected"]
    assert rejected["statusCode"] == 401
    assert rejected["shortErrorDescription"] == "The access token provided is invalid."
    assert rejected["body"]["error"] == "invalid_token"


def test_sdk_list_product_devices(node, simulator) -> None:
    outcome = run(node, simulator, "list_product_devices")

    body = outcome["resolved"]["body"]
    assert len(body["devices"]) == 2
    assert body["meta"] == {"total_pages": 2}


def test_sdk_login_issues_working_token(node, simulator) -> None:
    outcome = run(node, simulator, "login")

    login = outcome["resolved"]["login"]
    assert login["token_type"] == "bearer"
    assert login["expires_in"] == 7776000
    assert outcome["resolved"]["deviceCount"] == 3


def test_sdk_login_bad_password_is_invalid_grant(node, simulator) -> None:
    outcome = run(node, simulator, "login_bad_password")

    rejected = outcome["rejected"]
    assert rejected["statusCode"] == 400
    assert rejected["shortErrorDescription"] == "User credentials are invalid"


def test_sdk_login_as_client_owner(node, simulator) -> None:
    outcome = run(node, simulator, "login_as_client_owner")

    assert "refresh_token" in outcome["resolved"]["login"]
    assert outcome["resolved"]["deviceCount"] == 3


def test_sdk_create_customer(node, simulator) -> None:
    outcome = run(node, simulator, "create_customer")

    created = outcome["resolved"]["created"]
    assert created["statusCode"] == 201
    assert set(created["body"]) == {
        "token_type",
        "access_token",
        "expires_in",
        "refresh_token",
    }
    assert outcome["resolved"]["devices"] == []


def test_sdk_get_claim_code(node, simulator) -> None:
    outcome = run(node, simulator, "get_claim_code")

    body = outcome["resolved"]["body"]
    assert len(body["claim_code"]) > 20
    assert simulator.device_id in body["device_ids"]


def test_sdk_create_integration(node, simulator) -> None:
    outcome = run(node, simulator, "create_integration")

    assert outcome["resolved"]["statusCode"] == 201
    assert outcome["resolved"]["body"]["event"] == "photo"


def test_sdk_deleted_token_stops_working(node, simulator) -> None:
    outcome = run(node, simulator, "delete_current_token")

    assert outcome["rejected"]["statusCode"] == 401
