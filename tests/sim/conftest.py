"""Fixtures that run the simulator in-process on a free loopback port."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from sim.settings import Settings
from tests.sim.helpers import RunningSim, free_port

# Tests press buttons themselves; random presses would make streams unpredictable.
TEST_SETTINGS = Settings(devices=3, seed="test-seed", press_interval=0, keepalive=30)

StartSim = Callable[..., Awaitable[RunningSim]]


@pytest.fixture
async def start_sim() -> AsyncIterator[StartSim]:
    """Start simulators with settings overrides; all stop when the test ends."""
    running: list[RunningSim] = []

    async def start(**overrides: Any) -> RunningSim:
        settings = dataclasses.replace(TEST_SETTINGS, port=free_port(), **overrides)
        sim = RunningSim(settings)
        await sim.start()
        running.append(sim)
        return sim

    yield start

    for sim in running:
        await sim.stop()


@pytest.fixture
async def sim(start_sim: StartSim) -> RunningSim:
    return await start_sim()
