"""One simulated device: its identity, its firmware's functions and variables, its LED.

The firmware is imagined as a small "photo button" app: a press publishes a picture,
`rainbow` makes the RGB LED dance, `led` sets it, `reset` reboots the device. The
functions here change only the device itself; `Fleet` adds everything that reaches
the cloud (status events, logs, the call log).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sim.events import DEFAULT_TTL, Event, iso_millis, utc_now

RAINBOW_SECONDS = 4.0
FIRMWARE_VERSION = 3
SYSTEM_FIRMWARE = "6.2.1"
# Device OS 3.x and later accept this many characters in a function argument.
MAX_ARGUMENT_LENGTH = 1024
PLATFORM_ARGON = 12

NAMED_COLOURS = {
    "red": "#ff3b30",
    "green": "#34c759",
    "blue": "#0a84ff",
    "white": "#ffffff",
    "yellow": "#ffd60a",
    "purple": "#bf5af2",
    "cyan": "#64d2ff",
}
HEX_COLOUR = re.compile(r"^#?[0-9a-fA-F]{6}$")

FUNCTIONS = ("rainbow", "led", "reset")
VARIABLE_TYPES = {"presses": "int32", "temperature": "double", "firmware": "string"}


@dataclass
class Led:
    colour: str | None = "#0a84ff"  # None: off
    rainbow_until: datetime | None = None

    def is_dancing(self, now: datetime) -> bool:
        return self.rainbow_until is not None and now < self.rainbow_until

    def view(self, now: datetime) -> dict[str, object]:
        remaining = 0.0
        if self.rainbow_until is not None and now < self.rainbow_until:
            remaining = (self.rainbow_until - now).total_seconds()
        dancing = remaining > 0
        return {
            "mode": "rainbow" if dancing else ("on" if self.colour else "off"),
            "colour": self.colour,
            "rainbow_ms_left": round(remaining * 1000),
        }


@dataclass(frozen=True)
class FunctionCall:
    function: str
    argument: str
    return_value: int | None
    error: str | None
    called_at: datetime

    def view(self) -> dict[str, object]:
        return {
            "function": self.function,
            "argument": self.argument,
            "return_value": self.return_value,
            "error": self.error,
            "called_at": iso_millis(self.called_at),
        }


@dataclass
class Device:
    id: str
    name: str
    index: int
    product_id: int
    owner_id: str | None
    serial_number: str
    online: bool = True
    presses: int = 0
    base_temperature: float = 21.0
    led: Led = field(default_factory=Led)
    calls: list[FunctionCall] = field(default_factory=list)
    last_heard: datetime = field(default_factory=utc_now)
    last_handshake_at: datetime = field(default_factory=utc_now)
    firmware_version: int = FIRMWARE_VERSION

    @property
    def last_ip_address(self) -> str:
        return f"10.51.0.{10 + self.index % 240}"

    def temperature(self, now: datetime) -> float:
        # A slow, smooth drift so repeated reads look like a real sensor.
        drift = math.sin(now.timestamp() / 600 + self.index) * 1.5
        return round(self.base_temperature + drift, 2)

    def variable(self, name: str, now: datetime) -> int | float | str | None:
        if name == "presses":
            return self.presses
        if name == "temperature":
            return self.temperature(now)
        if name == "firmware":
            return f"photo-button v{self.firmware_version}"
        return None

    def run_function(self, name: str, argument: str, now: datetime) -> int | None:
        """What the firmware's handler returns; None when there is no such function."""
        if name == "rainbow":
            self.led.rainbow_until = now + timedelta(seconds=RAINBOW_SECONDS)
            return 1
        if name == "led":
            return self._set_led(argument)
        if name == "reset":
            return 0
        return None

    def _set_led(self, argument: str) -> int:
        wanted = argument.strip().lower()
        if wanted == "off":
            self.led.colour = None
            return 0
        if wanted in ("on", ""):
            self.led.colour = self.led.colour or NAMED_COLOURS["blue"]
            return 1
        if wanted in NAMED_COLOURS:
            self.led.colour = NAMED_COLOURS[wanted]
            return 1
        if HEX_COLOUR.match(wanted):
            self.led.colour = "#" + wanted.lstrip("#")
            return 1

        # Firmware convention: a negative return value means a bad argument.
        return -1

    def event(self, name: str, data: str | None, ttl: int = DEFAULT_TTL) -> Event:
        """An event as this device publishes it, with its product's fields."""
        return Event(
            name=name,
            data=data,
            ttl=ttl,
            coreid=self.id,
            owner_id=self.owner_id,
            product_id=self.product_id,
            userid=self.owner_id or "",
            version=self.firmware_version,
        )

    def record_call(self, call: FunctionCall) -> None:
        self.calls.append(call)
        # The log is for tests and people; a long-running simulator must not grow.
        del self.calls[:-200]
