"""The whole product as `make run` starts it: simulator, worker and web as separate
processes from the Procfile, driven by a person's browser (headless Chromium).

A button press on a simulated device becomes a post on the open page without a
reload; a like on it calls `rainbow` on that device, whose LED dances on the
simulator's page, and the call's return value shows on the post.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import pytest
from playwright.async_api import Page, expect

from shared.settings import CHECKOUT
from tests.support.broker import delete_topology
from tests.support.browser import chromium, screenshot_dir

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(180)]

UI_TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Product:
    """`scripts/dev_run.py` (what `make run` runs) in its own process group."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.web = f"http://127.0.0.1:{env['PORT']}"
        self.sim = f"http://127.0.0.1:{env['SIM_PORT']}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "scripts/dev_run.py",
            cwd=CHECKOUT,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )

    async def stop(self) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return await asyncio.wait_for(self.process.wait(), 40)
        except TimeoutError:
            os.killpg(self.process.pid, signal.SIGKILL)
            return await self.process.wait()


@pytest.fixture
async def product(rabbitmq_url: str, tmp_path: Path) -> AsyncIterator[Product]:
    exchange = f"e2e.{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "RABBITMQ_URL": rabbitmq_url,
        "PARTICLE_EXCHANGE": exchange,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
        "PORT": str(free_port()),
        "SIM_PORT": str(free_port()),
        "SIM_PRESS_INTERVAL": "0",
        "LOG_FORMAT": "json",
    }
    env.pop("PARTICLE_ACCESS_TOKEN", None)
    env.pop("PARTICLE_API_URL", None)
    product = Product(env)
    await product.start()
    yield product
    await product.stop()
    await _delete_exchange_and_queues(rabbitmq_url, exchange)


async def _delete_exchange_and_queues(url: str, exchange: str) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for queue in ("web.timeline", "web.calls", "web.dead"):
            await channel.queue_delete(f"{exchange}.{queue}")
        await delete_topology(channel, exchange)


async def get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return await response.json()


async def wait_until_up(url: str, timeout: float = 90) -> None:
    async with asyncio.timeout(timeout), aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)


async def wait_for_worker_stream(product: Product, timeout: float = 60) -> None:
    """Events the simulator publishes before the worker is subscribed are not seen
    by anyone, as on Particle's cloud; wait until the worker's stream is open."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                if (await get_json(f"{product.sim}/sim/streams"))["streams"]:
                    return
            except aiohttp.ClientError:
                pass  # the simulator may still be starting
            await asyncio.sleep(0.2)


async def press(product: Product, device: str) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{product.sim}/sim/devices/{device}/press"
        async with session.post(url) as response:
            assert response.status == 200, await response.text()


async def rainbow_calls(product: Product, device: str) -> list[dict[str, Any]]:
    log = await get_json(f"{product.sim}/sim/devices/{device}/calls")
    return [call for call in log["calls"] if call["function"] == "rainbow"]


async def open_timeline(page: Page, product: Product) -> None:
    await page.goto(product.web + "/")
    await expect(page.locator(".live")).to_have_attribute("data-state", "open")


async def test_press_posts_live_and_like_makes_device_dance(
    product: Product, tmp_path: Path
) -> None:
    await wait_until_up(product.web + "/healthz")
    await wait_for_worker_stream(product)
    fleet = (await get_json(f"{product.sim}/sim/state"))["devices"]
    device = fleet[0]
    for other in fleet[1:3]:
        await press(product, other["name"])

    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 720, "height": 1000})
        page.set_default_timeout(UI_TIMEOUT_MS)
        await open_timeline(page, product)
        await expect(page.locator("li.post")).to_have_count(2)
        await press(product, device["name"])
        post = page.locator(f'li.post[data-device-id="{device["id"]}"]').first
        await expect(post).to_be_visible()

        await post.locator("button.like").click()
        await expect(post.locator(".likes")).to_have_text("1")
        await expect(post.locator(".call-label")).to_contain_text("returned 1")
        calls = await rainbow_calls(product, device["name"])
        await _screenshot_both(browser, page, product, screenshot_dir(tmp_path))

    assert len(calls) == 1
    assert calls[0]["return_value"] == 1


async def _screenshot_both(
    browser: Any, page: Page, product: Product, folder: Path
) -> None:
    """The README's pictures: the timeline, and the simulator with the LED dancing."""
    await page.screenshot(path=str(folder / "make-run-timeline.png"))
    sim_page = await browser.new_page(viewport={"width": 1100, "height": 700})
    await sim_page.goto(product.sim + "/sim/")
    await sim_page.wait_for_timeout(500)
    await sim_page.screenshot(path=str(folder / "make-run-simulator.png"))
