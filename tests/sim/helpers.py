"""Helpers to drive the simulator in-process: a running instance, stream probes."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from sim.cloud import CLOUD_KEY, Cloud
from sim.devices import Device
from sim.settings import Settings

WAIT = 5.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Frame:
    name: str
    data: dict[str, Any]
    raw: bytes


class StreamProbe:
    """Reads an open event stream frame by frame, each read bounded by a timeout."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def read_bytes(self, count: int, within: float = WAIT) -> bytes:
        async with asyncio.timeout(within):
            return await self.response.content.readexactly(count)

    async def read_block(self, within: float = WAIT) -> bytes:
        """Everything up to and including the next blank line (one SSE block)."""
        async with asyncio.timeout(within):
            return await self.response.content.readuntil(b"\n\n")

    async def next_frame(self, within: float = WAIT) -> Frame:
        """The next event frame, skipping keep-alive newlines."""
        async with asyncio.timeout(within):
            while True:
                line = await self.response.content.readline()
                if line == b"":
                    raise EOFError("the stream ended")
                if line.startswith(b"event: "):
                    break
            data_line = await self.response.content.readline()
            blank = await self.response.content.readline()

        raw = line + data_line + blank
        name = line.decode().removeprefix("event: ").rstrip("\n")
        data = json.loads(data_line.decode().removeprefix("data: "))
        return Frame(name, data, raw)

    async def frame_named(self, name: str, within: float = WAIT) -> Frame:
        async with asyncio.timeout(within):
            while True:
                frame = await self.next_frame(within)
                if frame.name == name:
                    return frame

    async def nothing_for(self, seconds: float) -> bool:
        """True when not a single byte arrives within `seconds`."""
        try:
            async with asyncio.timeout(seconds):
                await self.response.content.read(1)
        except TimeoutError:
            return True
        return False

    def close(self) -> None:
        self.response.close()


class RunningSim:
    """An in-process simulator on a loopback port, with a client pointed at it."""

    def __init__(self, settings: Settings) -> None:
        from sim.app import create_app

        self.settings = settings
        self.app = create_app(settings)
        self.server = TestServer(self.app, host="127.0.0.1", port=settings.port)
        self.client: TestClient[Any, Any] = TestClient(self.server)
        self._probes: list[StreamProbe] = []

    async def start(self) -> None:
        await self.client.start_server()

    async def stop(self) -> None:
        for probe in self._probes:
            probe.close()
        await self.client.close()

    @property
    def cloud(self) -> Cloud:
        return self.app[CLOUD_KEY]

    @property
    def token(self) -> str:
        return self.settings.access_token

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def device(self, index: int = 0) -> Device:
        return self.cloud.fleet.devices[index]

    async def open_stream(
        self, path: str, token: str | None = None, **kwargs: Any
    ) -> StreamProbe:
        """Open a stream and read past `:ok`; the caller gets a ready probe."""
        headers = {"Authorization": f"Bearer {token or self.token}"}
        response = await self.client.get(path, headers=headers, **kwargs)
        assert response.status == 200, await response.text()
        probe = StreamProbe(response)
        self._probes.append(probe)
        assert await probe.read_bytes(5) == b":ok\n\n"
        return probe

    async def wait_for_streams(self, count: int) -> None:
        """Wait until the simulator counts `count` open streams."""
        async with asyncio.timeout(WAIT):
            while len(self.cloud.streams.all()) != count:
                await asyncio.sleep(0.01)

    async def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.client.post(path, json=body or {})
        assert response.status < 300, await response.text()
        return await response.json()
