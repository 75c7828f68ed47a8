"""A loopback stand-in for Particle's function-call and device endpoints.

Each test scripts the answers the next calls get (status and JSON body, in order;
then the default 200), can hold calls until released, and reads back every call
that arrived. It also serves a picture, for posts whose data is a URL.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

PICTURE = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 600">
<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">
<stop offset="0" stop-color="#ff9a5a"/><stop offset="0.55" stop-color="#ff5e7e"/>
<stop offset="1" stop-color="#5b3f9e"/></linearGradient></defs>
<rect width="800" height="600" fill="url(#g)"/>
<circle cx="400" cy="380" r="120" fill="#ffd36e"/>
<rect y="400" width="800" height="200" fill="#2d2258" opacity="0.9"/>
<path d="M0 430 Q200 400 400 430 T800 430 V600 H0Z" fill="#1d1640"/>
</svg>"""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class RecordedCall:
    path: str
    device_id: str
    function: str
    arg: str
    authorization: str


@dataclass
class FakeParticle:
    token: str
    answers: deque[Answer] = field(default_factory=deque)
    names: dict[str, str] = field(default_factory=dict)
    online: dict[str, bool] = field(default_factory=dict)
    calls: list[RecordedCall] = field(default_factory=list)
    arrivals: asyncio.Queue[RecordedCall] = field(default_factory=asyncio.Queue)
    holding: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def answer(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/devices/{device}/{function}", self._call)
        app.router.add_post(
            "/v1/products/{product}/devices/{device}/{function}", self._call
        )
        app.router.add_get("/v1/devices/{device}", self._device)
        app.router.add_get("/v1/products/{product}/devices/{device}", self._device)
        app.router.add_get("/pictures/sunset.svg", self._picture)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            await self.server.close()

    async def next_call(self, timeout: float = 10) -> RecordedCall:
        return await asyncio.wait_for(self.arrivals.get(), timeout)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _call(self, request: web.Request) -> web.Response:
        form = await request.post()
        call = RecordedCall(
            path=request.path,
            device_id=request.match_info["device"],
            function=request.match_info["function"],
            arg=str(form.get("arg", "")),
            authorization=request.headers.get("Authorization", ""),
        )
        self.calls.append(call)
        self.arrivals.put_nowait(call)
        if not self._authorized(request):
            return web.json_response({"error": "invalid_token"}, status=401)
        if self.holding:
            await self.release.wait()
        answer = self.answers.popleft() if self.answers else self._returned(call)
        return web.json_response(answer.body, status=answer.status)

    def _returned(self, call: RecordedCall) -> Answer:
        return Answer(
            200,
            {
                "id": call.device_id,
                "name": self.names.get(call.device_id, "gongbot"),
                "connected": True,
                "return_value": 1,
            },
        )

    async def _device(self, request: web.Request) -> web.Response:
        device = request.match_info["device"]
        if not self._authorized(request) or device not in self.names:
            return web.json_response({"error": "Permission denied"}, status=403)
        answer: dict[str, object] = {"id": device, "name": self.names[device]}
        if device in self.online:
            answer["online"] = self.online[device]
        return web.json_response(answer)

    async def _picture(self, request: web.Request) -> web.Response:
        return web.Response(text=PICTURE, content_type="image/svg+xml")


OFFLINE = Answer(408, {"ok": False, "error": "timed out"})
NO_SUCH_FUNCTION = Answer(404, {"ok": False, "error": "Function not found"})
SERVER_ERROR = Answer(503, {"error": "service unavailable"})
