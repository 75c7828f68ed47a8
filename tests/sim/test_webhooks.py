"""Webhooks: creation answers, loopback-only targets, delivery and its events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.sim.helpers import RunningSim, free_port


class Receiver:
    """A local aiohttp server recording every request it gets."""

    def __init__(self, status: int = 200, reply: str = "thanks") -> None:
        self.status = status
        self.reply = reply
        self.requests: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def handle(self, request: web.Request) -> web.Response:
        await self.requests.put(
            {
                "method": request.method,
                "headers": dict(request.headers),
                "query": dict(request.query),
                "body": await request.text(),
            }
        )
        return web.Response(status=self.status, text=self.reply)

    async def next_request(self) -> dict[str, Any]:
        async with asyncio.timeout(5):
            return await self.requests.get()

    async def nothing_for(self, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                await self.requests.get()
        except TimeoutError:
            return True
        return False


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", target.handle)
    server = TestServer(app, host="127.0.0.1", port=free_port())
    await server.start_server()
    yield target, f"http://127.0.0.1:{server.port}/hook"
    await server.close()


async def _create_hook(sim: RunningSim, path: str = "/v1/integrations", **fields: Any):
    body = {"integration_type": "Webhook", "event": "photo", **fields}
    return await sim.client.post(path, headers=sim.auth, json=body)


async def test_webhook_create_answers_201_with_hook_url(
    sim: RunningSim, receiver
) -> None:
    _, url = receiver

    response = await _create_hook(sim, url=url)

    body = await response.json()
    assert response.status == 201
    assert body["ok"] is True
    assert (body["url"], body["event"]) == (url, "photo")
    assert body["hookUrl"] == f"{sim.settings.base_url}/v1/webhooks/{body['id']}"


async def test_webhook_refuses_non_loopback_url(sim: RunningSim) -> None:
    response = await _create_hook(sim, url="https://example.com/hook")

    assert response.status == 400
    assert "loopback" in (await response.json())["error"]


async def test_webhook_needs_webhook_integration_type(
    sim: RunningSim, receiver
) -> None:
    response = await sim.client.post(
        "/v1/integrations", headers=sim.auth, json={"event": "x", "url": receiver[1]}
    )

    assert response.status == 400


async def test_webhook_sends_default_form_body(sim: RunningSim, receiver) -> None:
    target, url = receiver
    await _create_hook(sim, url=url)

    event = sim.cloud.fleet.press(sim.device(0))
    request = await target.next_request()

    assert request["method"] == "POST"
    assert request["headers"]["User-Agent"] == (
        "ParticleBot/1.1 (https://docs.particle.io/webhooks)"
    )
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert request["body"] == urlencode(
        {
            "event": "photo",
            "data": event.data,
            "published_at": event.summary()["published_at"],
            "coreid": event.coreid,
        }
    )


async def test_webhook_publishes_sent_and_response_events(
    sim: RunningSim, receiver
) -> None:
    _, url = receiver
    await _create_hook(sim, url=url)
    stream = await sim.open_stream("/v1/devices/events/hook-")

    sim.cloud.fleet.press(sim.device(0))
    sent, reply = await stream.next_frame(), await stream.next_frame()

    assert sent.name == "hook-sent/photo"
    assert sent.data["data"] == "undefined"
    assert sent.data["coreid"] == "particle-internal"
    assert (reply.name, reply.data["data"]) == ("hook-response/photo/0", "thanks")


async def test_webhook_error_status_publishes_hook_error(
    sim: RunningSim, receiver
) -> None:
    target, url = receiver
    target.status = 500
    await _create_hook(sim, url=url)
    stream = await sim.open_stream("/v1/devices/events/hook-error")

    sim.cloud.fleet.press(sim.device(0))
    frame = await stream.next_frame()

    assert frame.name == "hook-error/photo/0"
    assert frame.data["data"] == "error status 500 from 127.0.0.1"


async def test_webhook_unreachable_target_publishes_hook_error(sim: RunningSim) -> None:
    await _create_hook(sim, url=f"http://127.0.0.1:{free_port()}/gone")
    stream = await sim.open_stream("/v1/devices/events/hook-error")

    sim.cloud.fleet.press(sim.device(0))
    frame = await stream.next_frame()

    assert frame.data["data"] == "error ECONNREFUSED from 127.0.0.1"


async def test_webhook_ignores_other_events_and_devices(
    sim: RunningSim, receiver
) -> None:
    target, url = receiver
    await _create_hook(sim, url=url, deviceID=sim.device(1).id)

    sim.cloud.fleet.publish_from(sim.device(1), "other", "x")
    sim.cloud.fleet.press(sim.device(0))
    sim.cloud.fleet.press(sim.device(1))
    request = await target.next_request()

    assert f"coreid={sim.device(1).id}" in request["body"]
    assert target.requests.empty()


async def test_webhook_json_template_is_rendered(sim: RunningSim, receiver) -> None:
    target, url = receiver
    await _create_hook(
        sim,
        url=url,
        json={"who": "{{{PARTICLE_DEVICE_ID}}}", "v": "{{n}}"},
        noDefaults=True,
    )

    sim.cloud.fleet.publish_from(sim.device(0), "photo", '{"n":"<3"}')
    request = await target.next_request()

    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == f'{{"who": "{sim.device(0).id}", "v": "&lt;3"}}'


async def test_webhook_get_puts_defaults_in_query(sim: RunningSim, receiver) -> None:
    target, url = receiver
    await _create_hook(sim, url=url, requestType="GET")

    sim.cloud.fleet.press(sim.device(0))
    request = await target.next_request()

    assert request["method"] == "GET"
    assert request["query"]["event"] == "photo"


async def test_webhook_product_hook_fires_for_product_events(
    sim: RunningSim, receiver
) -> None:
    target, url = receiver
    await _create_hook(sim, path="/v1/products/1234/integrations", url=url)

    sim.cloud.fleet.press(sim.device(2))
    request = await target.next_request()

    assert f"coreid={sim.device(2).id}" in request["body"]


async def test_webhook_legacy_route_and_listing(sim: RunningSim, receiver) -> None:
    _, url = receiver
    await sim.client.post(
        "/v1/webhooks", headers=sim.auth, json={"event": "x", "url": url}
    )

    listing = await (await sim.client.get("/v1/integrations", headers=sim.auth)).json()

    assert [(h["event"], h["integration_type"]) for h in listing] == [("x", "Webhook")]


async def test_webhook_delete_stops_deliveries(sim: RunningSim, receiver) -> None:
    target, url = receiver
    created = await (await _create_hook(sim, url=url)).json()

    deleted = await sim.client.delete(
        f"/v1/integrations/{created['id']}", headers=sim.auth
    )
    sim.cloud.fleet.press(sim.device(0))

    assert deleted.status == 204
    assert await target.nothing_for(0.3)
