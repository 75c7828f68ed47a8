"""The control API: presses, status changes, publishes, bursts, state, reset."""

from __future__ import annotations

import asyncio
from typing import Any
from xml.etree import ElementTree

import pytest

from sim.app import _is_loopback
from tests.sim.helpers import RunningSim


async def test_press_publishes_photo_with_picture_url(sim: RunningSim) -> None:
    device = sim.device(0)
    stream = await sim.open_stream("/v1/devices/events")

    await sim.control(f"/sim/devices/{device.id}/press")
    frame = await stream.next_frame()

    assert frame.name == "photo"
    assert frame.data["data"].startswith(f"{sim.settings.base_url}/sim/pictures/")
    assert frame.data["data"].endswith(".svg")


async def test_press_picture_url_serves_svg(sim: RunningSim) -> None:
    event = (await sim.control(f"/sim/devices/{sim.device(0).name}/press"))["event"]
    path = event["data"].removeprefix(sim.settings.base_url)

    response = await sim.client.get(path)

    assert response.status == 200
    assert response.content_type == "image/svg+xml"
    ElementTree.fromstring(await response.text())


async def test_press_on_offline_device_is_409(sim: RunningSim) -> None:
    device = sim.device(0)
    sim.cloud.fleet.set_online(device, False)

    response = await sim.client.post(f"/sim/devices/{device.id}/press")

    assert response.status == 409


async def test_presses_are_repeatable_for_a_seed(start_sim) -> None:
    first, second = await start_sim(seed="s"), await start_sim(seed="s")

    urls = [first.cloud.fleet.press(first.device(0)).data for _ in range(3)]
    again = [second.cloud.fleet.press(second.device(0)).data for _ in range(3)]

    assert [u.rsplit("/", 1)[1] for u in urls] == [u.rsplit("/", 1)[1] for u in again]


async def test_random_presses_happen_at_the_interval(start_sim) -> None:
    sim = await start_sim(press_interval=0.05)
    stream = await sim.open_stream("/v1/devices/events")

    frame = await stream.next_frame(within=3)

    assert frame.name == "photo"


async def test_offline_then_online_publishes_status(sim: RunningSim) -> None:
    device = sim.device(1)
    stream = await sim.open_stream("/v1/devices/events/spark/status")

    await sim.control(f"/sim/devices/{device.id}/offline")
    await sim.control(f"/sim/devices/{device.id}/online")
    frames = [await stream.next_frame(), await stream.next_frame()]

    assert [f.data["data"] for f in frames] == ["offline", "online"]
    assert {f.data["coreid"] for f in frames} == {device.id}


async def test_publish_as_device(sim: RunningSim) -> None:
    device = sim.device(2)
    stream = await sim.open_stream("/v1/products/1234/events")

    await sim.control(
        f"/sim/devices/{device.id}/publish", {"name": "temp", "data": "21"}
    )
    frame = await stream.next_frame()

    assert (frame.name, frame.data["data"], frame.data["coreid"]) == (
        "temp",
        "21",
        device.id,
    )


async def test_burst_publishes_count_events(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")

    answer = await sim.control("/sim/burst", {"count": 6, "seconds": 0.1})
    frames = [await stream.next_frame() for _ in range(6)]

    assert answer == {"ok": True, "count": 6, "seconds": 0.1}
    assert len({f.data["coreid"] for f in frames}) == 3


async def test_burst_with_name_and_device(sim: RunningSim) -> None:
    device = sim.device(1)
    stream = await sim.open_stream("/v1/devices/events")

    await sim.control(
        "/sim/burst", {"count": 2, "seconds": 0, "device": device.name, "name": "b"}
    )
    frames = [await stream.next_frame(), await stream.next_frame()]

    assert [f.data["data"] for f in frames] == ["burst 1/2", "burst 2/2"]


@pytest.mark.parametrize("seconds", ["inf", "-inf", "nan"])
async def test_burst_refuses_non_finite_seconds(sim: RunningSim, seconds: str) -> None:
    form = {"seconds": seconds}

    response = await sim.client.post("/sim/burst", data=form)

    assert response.status == 400
    assert await response.json() == {
        "ok": False,
        "error": "seconds must be a finite number",
    }


async def test_burst_refuses_empty_name(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")

    response = await sim.client.post("/sim/burst", data={"name": ""})

    assert response.status == 400
    assert "name must be 1 to 64 characters" in await response.text()
    assert await stream.nothing_for(0.2)


@pytest.mark.parametrize(
    "body", [{"name": "n" * 65}, {"name": "ok", "data": "d" * 1025}]
)
async def test_publish_as_device_applies_api_limits(
    sim: RunningSim, body: dict[str, Any]
) -> None:
    path = f"/sim/devices/{sim.device(0).id}/publish"

    response = await sim.client.post(path, json=body)

    assert response.status == 400
    assert body["name"] not in [e.name for e in sim.cloud.recent_events]


async def test_state_lists_fleet_and_recent_events(sim: RunningSim) -> None:
    sim.cloud.fleet.press(sim.device(0))

    state = await (await sim.client.get("/sim/state")).json()

    assert [d["id"] for d in state["devices"]] == [
        d.id for d in sim.cloud.fleet.devices
    ]
    assert state["recent_events"][0]["name"] == "photo"
    assert state["product"]["id"] == 1234


async def test_call_from_control_api_is_logged(sim: RunningSim) -> None:
    device = sim.device(0)

    answer = await sim.control(f"/sim/devices/{device.id}/call/rainbow")

    calls = (await (await sim.client.get("/sim/calls")).json())["calls"]
    assert answer == {"ok": True, "return_value": 1}
    assert calls[0]["device"] == device.id


async def test_reset_restores_devices_and_tokens(sim: RunningSim) -> None:
    sim.cloud.fleet.set_online(sim.device(0), False)
    await sim.control("/sim/tokens/revoke", {"token": sim.token})

    await sim.control("/sim/reset")

    assert sim.device(0).online
    assert (await sim.client.get("/v1/devices", headers=sim.auth)).status == 200


async def test_unknown_device_in_control_api_is_404(sim: RunningSim) -> None:
    response = await sim.client.post("/sim/devices/nobody/press")

    assert response.status == 404


def test_control_guard_accepts_only_loopback_peers() -> None:
    assert _is_loopback("127.0.0.1")
    assert _is_loopback("::1")
    assert not _is_loopback("192.168.1.5")
    assert not _is_loopback(None)


async def test_page_renders_without_external_assets(sim: RunningSim) -> None:
    response = await sim.client.get("/sim/")

    html = await response.text()
    assert response.status == 200
    assert "Particle Cloud simulator" in html
    assert "https://" not in html
    assert "//cdn" not in html


async def test_page_assets_are_served(sim: RunningSim) -> None:
    for asset in ("fleet.css", "fleet.js", "favicon.svg"):
        response = await sim.client.get(f"/sim/static/{asset}")

        assert response.status == 200


async def test_live_feed_sends_state_then_changes(sim: RunningSim) -> None:
    response = await sim.client.get("/sim/live")
    first = await response.content.readuntil(b"\n\n")

    sim.cloud.fleet.press(sim.device(0))
    async with asyncio.timeout(5):
        second = await response.content.readuntil(b"\n\n")

    assert first.startswith(b"event: state\ndata: {")
    assert b'"presses":1' in second
    response.close()
