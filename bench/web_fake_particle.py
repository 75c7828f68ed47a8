"""`python -m bench.web_fake_particle`: a minimal, fast Particle API on loopback.

Every function call (`POST /v1/devices/:id/:fn` or the product-scoped path) is
answered 200 `{"id": ..., "connected": true, "return_value": 1}` at once, and the
moment it arrived is kept; a device look-up gets a name. It runs as a process of
its own so that neither the web process nor the baseline client shares a core
with it. It prints `{"port": N}` once listening.

Control, for the benchmark: `POST /bench/reset` forgets the calls so far;
`GET /bench/calls?at_least=M` answers once M calls have arrived, with the
`time.monotonic()` of the M-th. That clock is the system-wide CLOCK_MONOTONIC on
Linux, so the benchmark process can subtract its own readings from it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

WAIT_SECONDS = 300.0


@dataclass
class CallLog:
    arrivals: list[float] = field(default_factory=list)
    wanted: int = 0
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self) -> None:
        self.arrivals.append(time.monotonic())
        if self.wanted and len(self.arrivals) >= self.wanted:
            self.reached.set()

    def reset(self) -> None:
        self.arrivals.clear()
        self.wanted = 0
        self.reached.clear()

    async def wait_for(self, count: int) -> float:
        self.wanted = count
        if len(self.arrivals) >= count:
            self.reached.set()
        await asyncio.wait_for(self.reached.wait(), WAIT_SECONDS)
        return self.arrivals[count - 1]


def make_app(calls: CallLog) -> web.Application:
    async def function_call(request: web.Request) -> web.Response:
        await request.read()  # the form with `arg`, received in full as Particle would
        calls.record()
        device = request.match_info["device"]
        return web.json_response({"id": device, "connected": True, "return_value": 1})

    async def device(request: web.Request) -> web.Response:
        device = request.match_info["device"]
        return web.json_response({"id": device, "name": "benchbot", "online": True})

    async def reset(request: web.Request) -> web.Response:
        calls.reset()
        return web.json_response({"reset": True})

    async def arrivals(request: web.Request) -> web.Response:
        count = int(request.query["at_least"])
        try:
            moment = await calls.wait_for(count)
        except TimeoutError:
            return web.json_response({"count": len(calls.arrivals)}, status=504)
        return web.json_response({"count": len(calls.arrivals), "reached_at": moment})

    app = web.Application()
    app.router.add_post("/v1/devices/{device}/{function}", function_call)
    app.router.add_post(
        "/v1/products/{product}/devices/{device}/{function}", function_call
    )
    app.router.add_get("/v1/devices/{device}", device)
    app.router.add_get("/v1/products/{product}/devices/{device}", device)
    app.router.add_post("/bench/reset", reset)
    app.router.add_get("/bench/calls", arrivals)
    return app


async def serve() -> None:
    runner = web.AppRunner(make_app(CallLog()), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"port": port}), flush=True)
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    await stopping.wait()
    await runner.cleanup()


class FakeParticle:
    """The fake as a child process of the benchmark."""

    def __init__(self, process: asyncio.subprocess.Process, url: str) -> None:
        self._process = process
        self.url = url

    @classmethod
    async def start(cls, log: Path) -> FakeParticle:
        with log.open("ab") as errors:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.web_fake_particle",
                cwd=Path(__file__).resolve().parent.parent,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors,
            )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if not line:
            raise RuntimeError("fake Particle API did not start")
        return cls(process, f"http://127.0.0.1:{json.loads(line)['port']}")

    async def reset(self) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/bench/reset") as response,
        ):
            response.raise_for_status()

    async def moment_of_call(self, count: int) -> float:
        """The monotonic time the `count`-th call arrived (waits for it)."""
        timeout = aiohttp.ClientTimeout(total=WAIT_SECONDS + 10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            url = f"{self.url}/bench/calls"
            async with session.get(url, params={"at_least": count}) as response:
                body = await response.json()
                if response.status != 200:
                    raise TimeoutError(f"fake got {body['count']} of {count} calls")
                return float(body["reached_at"])

    async def stop(self) -> None:
        if self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self._process.wait(), 10)


if __name__ == "__main__":
    asyncio.run(serve())
