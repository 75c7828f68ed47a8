"""Headless Chromium for the browser tests: Debian's build, driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# No sandbox as root in CI; the rest keeps Chromium from calling out to Google's
# services, which this machine's closed network would refuse.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A browser for one test, or a skip that says how to get Chromium."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium: apt-get install -y chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


def screenshot_dir(scratch: Path) -> Path:
    """Where the browser tests save their pictures: the README's own folder with
    `UPDATE_SCREENSHOTS=1` (what `make screenshots` sets), else a scratch folder,
    so an ordinary test run leaves the checkout as it was."""
    folder = (
        DOCS_SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else scratch
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
