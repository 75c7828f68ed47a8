"""The page in headless Chromium: a post appears live, and a like shows the outcome
of the device call it caused. Saves docs/screenshots/timeline.png on the way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from shared.events import ParticleEvent
from tests.support.browser import chromium, screenshot_dir
from tests.web.conftest import RunningWeb, eventually
from tests.web.fake_particle import FakeParticle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UI_TIMEOUT_MS = 10_000
DEVICES = {
    "e00fce68a1b2c3d4e5f60718": "Lobby Booth",
    "e00fce68b2c3d4e5f6071829": "Kitchen Cam",
    "e00fce68c3d4e5f60718293a": "Rooftop",
}


def event_at(minutes_ago: float, device: str, data: str, name: str = "photo") -> Any:
    instant = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    published_at = instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant:%f}"[:3] + "Z"
    fields = {"data": data, "ttl": 60, "published_at": published_at, "coreid": device}
    return ParticleEvent(name=name, fields=fields)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(
        viewport={"width": 720, "height": 900}, color_scheme="light"
    )
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    yield page
    await context.close()


async def seed_timeline(web: RunningWeb, fake_particle: FakeParticle) -> None:
    """A few posts from named devices, one of them a picture URL, as a demo has."""
    fake_particle.names.update(DEVICES)
    lobby, kitchen, roof = DEVICES
    events = [
        event_at(42, roof, f"{fake_particle.url}/pictures/sunset.svg"),
        event_at(18, kitchen, "Coffee is ready"),
        event_at(6, lobby, "Welcome to demo day!"),
    ]
    for device in DEVICES:
        await web.publish(event_at(50, device, "online", name="spark/status"))
    for event in events:
        await web.publish(event)

    async def named() -> bool:
        posts = await web.posts()
        return len(posts) == len(events) and all(p["device"]["name"] for p in posts)

    await eventually(named)


async def test_page_shows_a_live_post_and_the_outcome_of_its_like(
    web: RunningWeb, fake_particle: FakeParticle, page: Page, tmp_path: Path
) -> None:
    await seed_timeline(web, fake_particle)
    await page.goto(str(web.client.make_url("/")))
    await expect(page.locator(".live")).to_have_attribute("data-state", "open")

    await web.publish(event_at(0, next(iter(DEVICES)), "Fresh from the booth"))
    card = page.locator(".post", has=page.locator('img[alt="Fresh from the booth"]'))
    await expect(card).to_be_visible()
    await card.locator(".like").click()

    await expect(card.locator(".call")).to_have_attribute("data-state", "succeeded")
    await expect(card.locator(".call-label")).to_have_text("rainbow returned 1")
    await expect(card.locator(".likes")).to_have_text("1")
    await expect(card.locator(".device-name")).to_have_text("Lobby Booth")
    await save_screenshot(page, screenshot_dir(tmp_path) / "timeline.png")


async def save_screenshot(page: Page, path: Path) -> None:
    await page.wait_for_function(
        "[...document.images].every((image) => image.complete && image.naturalWidth)"
    )
    await page.screenshot(path=str(path), full_page=True)
