"""The simulated fleet: devices that press buttons, go on and offline, run functions.

Every device action that the cloud would see becomes an event on the bus with the
right owner and product, so each stream shows it exactly where Particle would.
Presses happen at random (exponential gaps, mean `SIM_PRESS_INTERVAL`) from one
seeded generator per device, so a seed repeats the same sequence of presses.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from shared.log import get_logger
from sim.changes import ChangeSignal
from sim.devices import MAX_ARGUMENT_LENGTH, Device, FunctionCall, Led
from sim.errors import (
    ArgumentTooLong,
    DeviceOffline,
    FunctionNotFound,
    SimError,
    VariableNotFound,
)
from sim.events import Event, EventBus, utc_now
from sim.ids import SeededNames
from sim.settings import Settings

PHOTO_EVENT = "photo"
STATUS_EVENT = "spark/status"
PICTURE_COUNT = 1_000_000
RESET_OFFLINE_AFTER = 0.2
RESET_ONLINE_AFTER = 1.5

log = get_logger("sim.fleet")


class Fleet:
    def __init__(
        self, settings: Settings, bus: EventBus, changes: ChangeSignal
    ) -> None:
        names = SeededNames(settings.seed)
        self.settings = settings
        self.bus = bus
        self.changes = changes
        self.developer_id = names.user_id()
        self.devices = [
            self._make_device(index, names) for index in range(settings.devices)
        ]
        self._press_random = self._seeded_pictures()
        self._tasks: set[asyncio.Task[Any]] = set()

    def _seeded_pictures(self) -> dict[str, random.Random]:
        seed = self.settings.seed
        return {
            device.id: random.Random(f"{seed}/presses/{device.index}")
            for device in self.devices
        }

    def _make_device(self, index: int, names: SeededNames) -> Device:
        device_id = names.device_id()
        return Device(
            id=device_id,
            name=names.device_name(),
            index=index,
            product_id=self.settings.product_id,
            owner_id=self.developer_id,
            serial_number=f"P2SIM{index:05d}{device_id[-4:].upper()}",
            base_temperature=19.0 + (int(device_id[-2:], 16) % 60) / 10,
        )

    # -- lookup -------------------------------------------------------------

    def find(self, reference: str) -> Device | None:
        """A device by id (any case) or by its friendly name."""
        wanted = reference.strip()
        for device in self.devices:
            if device.id == wanted.lower() or device.name == wanted:
                return device
        return None

    def owned_by(self, user_id: str) -> list[Device]:
        return [device for device in self.devices if device.owner_id == user_id]

    # -- things devices do --------------------------------------------------

    def publish_from(self, device: Device, name: str, data: str | None) -> Event:
        event = device.event(name, data)
        device.last_heard = event.published_at
        self.bus.publish(event)
        self.changes.notify()
        return event

    def press(self, device: Device) -> Event:
        """The button: publish a `photo` event whose data is a picture URL."""
        if not device.online:
            raise DeviceOffline(device.id)

        device.presses += 1
        picture = self._press_random[device.id].randrange(1, PICTURE_COUNT)
        url = f"{self.settings.base_url}/sim/pictures/{picture}.svg"
        event = self.publish_from(device, PHOTO_EVENT, url)
        log.info("button_pressed", device=device.name, picture=picture)
        return event

    def set_online(self, device: Device, online: bool) -> None:
        """Connect or disconnect; a change publishes `spark/status` like the cloud."""
        if device.online == online:
            return

        device.online = online
        if online:
            device.last_handshake_at = utc_now()
        self.publish_from(device, STATUS_EVENT, "online" if online else "offline")
        log.info("device_status_changed", device=device.name, online=online)

    def call_function(self, device: Device, name: str, argument: str) -> int:
        """Run a firmware function and log the call, whatever its outcome."""
        now = utc_now()
        try:
            return_value = self._run_function(device, name, argument, now)
        except SimError as failure:
            error = type(failure).__name__
            device.record_call(FunctionCall(name, argument, None, error, now))
            self.changes.notify()
            raise

        device.record_call(FunctionCall(name, argument, return_value, None, now))
        device.last_heard = now
        self.changes.notify()
        log.info(
            "function_called", device=device.name, function=name, result=return_value
        )
        return return_value

    def _run_function(
        self, device: Device, name: str, argument: str, now: datetime
    ) -> int:
        if not device.online:
            raise DeviceOffline(device.id)
        if len(argument) > MAX_ARGUMENT_LENGTH:
            raise ArgumentTooLong(device.id)

        return_value = device.run_function(name, argument, now)
        if return_value is None:
            raise FunctionNotFound(name)
        if name == "reset":
            self._spawn(self._reboot(device))
        return return_value

    def read_variable(self, device: Device, name: str) -> int | float | str:
        if not device.online:
            raise DeviceOffline(device.id)

        value = device.variable(name, utc_now())
        if value is None:
            raise VariableNotFound(name)
        return value

    async def _reboot(self, device: Device) -> None:
        # The function returns first; the firmware then resets, as System.reset() does.
        await asyncio.sleep(RESET_OFFLINE_AFTER)
        self.set_online(device, False)
        await asyncio.sleep(RESET_ONLINE_AFTER)
        self.set_online(device, True)
        self.publish_from(device, "spark/device/last_reset", "user")

    # -- background activity ------------------------------------------------

    def start(self) -> None:
        """Start the random presses (none when SIM_PRESS_INTERVAL is 0)."""
        if self.settings.press_interval <= 0:
            return
        for device in self.devices:
            self._spawn(self._press_forever(device))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _press_forever(self, device: Device) -> None:
        rate = 1 / self.settings.press_interval
        timing = random.Random(f"{self.settings.seed}/timing/{device.index}")
        while True:
            await asyncio.sleep(timing.expovariate(rate))
            if device.online:
                self.press(device)

    def burst(
        self, devices: list[Device], count: int, seconds: float, name: str | None
    ) -> None:
        """Publish `count` events spread evenly over `seconds`, round robin."""
        self._spawn(self._burst(devices, count, seconds, name))

    async def _burst(
        self, devices: list[Device], count: int, seconds: float, name: str | None
    ) -> None:
        loop = asyncio.get_running_loop()
        started, gap = loop.time(), seconds / count if count else 0.0
        for number in range(count):
            device = devices[number % len(devices)]
            if name is None and device.online:
                self.press(device)
            elif name is not None:
                self.publish_from(device, name, f"burst {number + 1}/{count}")
            if gap:
                # Against the start time, so the burst lasts `seconds` without drift.
                await asyncio.sleep(
                    max(0.0, started + (number + 1) * gap - loop.time())
                )
        log.info("burst_done", count=count, seconds=seconds, devices=len(devices))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- reset --------------------------------------------------------------

    def restore(self) -> None:
        """Back to the start state, for test isolation (`POST /sim/reset`)."""
        for device in self.devices:
            device.online = True
            device.owner_id = self.developer_id
            device.presses = 0
            device.calls.clear()
            device.led = Led()
        # Presses after a reset show the same pictures as after a start.
        self._press_random = self._seeded_pictures()
        self.changes.notify()
