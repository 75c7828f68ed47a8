"""`python -m sim` as a process: its start line, its refusal of bad settings."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.sim.helpers import free_port

CHECKOUT = Path(__file__).resolve().parents[2]


def _environment(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("SIM_")}
    return {**keep, "SIM_PRESS_INTERVAL": "0", **extra}


def test_main_prints_url_and_token_then_serves() -> None:
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "sim"],
        cwd=CHECKOUT,
        env=_environment(SIM_PORT=str(port), SIM_ACCESS_TOKEN="token-for-main-test"),
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            first_line = process.stdout.readline()
            state_url = f"http://127.0.0.1:{port}/sim/state"
            with urllib.request.urlopen(state_url, timeout=5) as response:
                status = response.status
        finally:
            process.terminate()
            process.wait(timeout=10)

    assert f"http://127.0.0.1:{port}" in first_line
    assert "token-for-main-test" in first_line
    assert status == 200
    assert process.returncode == 0


def test_main_refuses_a_malformed_variable_in_one_line() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "sim"],
        cwd=CHECKOUT,
        env=_environment(SIM_DEVICES="lots"),
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert finished.returncode == 2
    assert finished.stderr.strip().count("\n") == 0
    assert "SIM_DEVICES" in finished.stderr
