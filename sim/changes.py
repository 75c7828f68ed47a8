"""A version counter that wakes whoever waits for the next change of fleet state."""

from __future__ import annotations

import asyncio


class ChangeSignal:
    def __init__(self) -> None:
        self.version = 0
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self.version += 1
        # Wake every current waiter, then arm a fresh event for the next change.
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_past(self, version: int, within: float) -> int:
        """The current version, once it moved past `version` or after `within` s."""
        if self.version == version:
            changed = self._changed
            try:
                async with asyncio.timeout(within):
                    await changed.wait()
            except TimeoutError:
                pass
        return self.version
