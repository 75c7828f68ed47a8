"""Device names: Particle events carry only the device id, so names are asked for.

The same answer says whether the device is online, which is kept until a
`spark/status` event says otherwise (a device that came online before the stream
opened sends no status event the timeline could see).

A post from a device without a known name queues a look-up; one background task
asks Particle's API and stores the answer. Look-ups are best-effort and never hold
up a message: one that fails is asked again at that device's next post. A like's
successful call also brings the name (see `calls`).
"""

from __future__ import annotations

import asyncio

from shared.log import get_logger

from .live import LiveNotifier
from .particle import ParticleApi
from .repo import Repository
from .views import device_json

log = get_logger("web.devices")

QUEUE_LIMIT = 1000


class DeviceNames:
    def __init__(
        self, particle: ParticleApi, repo: Repository, live: LiveNotifier
    ) -> None:
        self._particle = particle
        self._repo = repo
        self._live = live
        self._wanted: asyncio.Queue[str] = asyncio.Queue(QUEUE_LIMIT)
        self._asked: set[str] = set()

    def look_up(self, device_id: str) -> None:
        """Queue a look-up, once per device until it fails; never waits."""
        if not self._particle.has_token or device_id in self._asked:
            return
        try:
            self._wanted.put_nowait(device_id)
        except asyncio.QueueFull:
            return
        self._asked.add(device_id)

    async def run(self) -> None:
        while True:
            device_id = await self._wanted.get()
            try:
                await self._resolve(device_id)
            except Exception:
                log.exception("device_name_failed", device_id=device_id)
                self._asked.discard(device_id)

    async def _resolve(self, device_id: str) -> None:
        facts = await self._particle.describe_device(device_id)
        if facts is None or facts.name is None:
            self._asked.discard(device_id)
        if facts is None:
            return
        device = await self._repo.set_device_facts(device_id, facts.name, facts.online)
        if device is not None:
            log.info("device_described", device_id=device_id, name=facts.name)
            await self._live.announce("device", device_json(device))
