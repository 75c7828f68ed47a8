"""Publishing through the API: user and product routes."""

from __future__ import annotations

from tests.sim.helpers import RunningSim


async def test_publish_form_answers_ok(sim: RunningSim) -> None:
    response = await sim.client.post(
        "/v1/devices/events", headers=sim.auth, data={"name": "hello", "data": "world"}
    )

    assert response.status == 200
    assert await response.json() == {"ok": True}


async def test_publish_appears_with_coreid_api(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events/hello")

    await sim.client.post(
        "/v1/devices/events",
        headers=sim.auth,
        json={"name": "hello", "data": "world", "private": True, "ttl": 30},
    )
    frame = await stream.next_frame()

    assert frame.data["coreid"] == "api"
    assert frame.data["data"] == "world"
    assert frame.data["ttl"] == 30


async def test_publish_without_name_is_400(sim: RunningSim) -> None:
    response = await sim.client.post("/v1/devices/events", headers=sim.auth, json={})

    assert response.status == 400


async def test_publish_user_event_stays_off_product_stream(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/products/1234/events")

    await sim.client.post("/v1/devices/events", headers=sim.auth, json={"name": "mine"})
    sim.cloud.fleet.publish_from(sim.device(0), "theirs", None)
    frame = await stream.next_frame()

    assert frame.name == "theirs"


async def test_publish_product_event_as_device(sim: RunningSim) -> None:
    device = sim.device(1)
    stream = await sim.open_stream("/v1/products/1234/events")

    await sim.client.post(
        "/v1/products/1234/events",
        headers=sim.auth,
        json={"name": "cmd", "data": "go", "as_device_id": device.id},
    )
    frame = await stream.next_frame()

    assert frame.data["coreid"] == device.id
    assert frame.data["productID"] == 1234


async def test_publish_product_event_without_device_is_api(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/products/1234/events")

    await sim.client.post(
        "/v1/products/1234/events", headers=sim.auth, data={"name": "cmd"}
    )
    frame = await stream.next_frame()

    assert frame.data["coreid"] == "api"
    assert frame.data["userid"] == ""


async def test_publish_product_event_to_unknown_product_is_403(sim: RunningSim) -> None:
    response = await sim.client.post(
        "/v1/products/42/events", headers=sim.auth, data={"name": "cmd"}
    )

    assert response.status == 403
