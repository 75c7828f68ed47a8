"""Which events each stream route carries, and which callers may open it."""

from __future__ import annotations

from tests.sim.helpers import RunningSim


async def test_prefix_matches_start_of_name_case_sensitively(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events/temp")
    device = sim.device(0)

    for name in ("high_temp", "Temperature", "temp", "temperature/basement"):
        sim.cloud.fleet.publish_from(device, name, "1")
    first, second = await stream.next_frame(), await stream.next_frame()

    assert [first.name, second.name] == ["temp", "temperature/basement"]


async def test_prefix_is_url_decoded(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events/spark%2Fstatus")

    sim.cloud.fleet.publish_from(sim.device(0), "spark/other", "x")
    sim.cloud.fleet.set_online(sim.device(0), False)
    frame = await stream.next_frame()

    assert (frame.name, frame.data["data"]) == ("spark/status", "offline")


async def test_prefix_may_contain_a_raw_slash(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events/spark/status")

    sim.cloud.fleet.set_online(sim.device(0), False)
    frame = await stream.next_frame()

    assert frame.name == "spark/status"


async def test_nonce_query_parameter_is_ignored(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events/photo", params={"nonce": "12.5"})

    sim.cloud.fleet.press(sim.device(0))
    frame = await stream.next_frame()

    assert frame.name == "photo"


async def test_device_stream_carries_only_that_device(sim: RunningSim) -> None:
    wanted = sim.device(1)
    stream = await sim.open_stream(f"/v1/devices/{wanted.id}/events")

    sim.cloud.fleet.press(sim.device(0))
    sim.cloud.fleet.press(wanted)
    frame = await stream.next_frame()

    assert frame.data["coreid"] == wanted.id


async def test_device_stream_accepts_the_device_name(sim: RunningSim) -> None:
    wanted = sim.device(2)
    stream = await sim.open_stream(f"/v1/devices/{wanted.name}/events/photo")

    sim.cloud.fleet.press(wanted)
    frame = await stream.next_frame()

    assert frame.data["coreid"] == wanted.id


async def test_product_stream_accepts_the_slug(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/products/sim-product/events/photo")

    sim.cloud.fleet.press(sim.device(0))
    frame = await stream.next_frame()

    assert frame.data["productID"] == 1234


async def test_product_device_stream_carries_product_fields(sim: RunningSim) -> None:
    device = sim.device(1)
    stream = await sim.open_stream(f"/v1/products/1234/devices/{device.id}/events")

    sim.cloud.fleet.press(sim.device(0))
    sim.cloud.fleet.press(device)
    frame = await stream.next_frame()

    assert frame.data["coreid"] == device.id
    assert frame.data["productID"] == 1234


async def test_org_stream_carries_product_events(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/orgs/sim-org/events/photo")

    sim.cloud.fleet.press(sim.device(0))
    frame = await stream.next_frame()

    assert frame.data["productID"] == 1234


async def test_org_product_stream_carries_product_events(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/orgs/sim-org/products/sim-product/events")

    sim.cloud.fleet.press(sim.device(0))
    frame = await stream.next_frame()

    assert frame.name == "photo"


async def test_public_prefix_stream_shows_own_events(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/events/photo")

    sim.cloud.fleet.press(sim.device(0))
    frame = await stream.next_frame()

    assert list(frame.data) == ["data", "ttl", "published_at", "coreid"]


async def test_bare_public_stream_needs_a_prefix(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/events", headers=sim.auth)

    assert response.status == 400
    assert await response.json() == {
        "ok": False,
        "error": "event prefix filter is required",
    }


async def test_unknown_product_is_permission_denied(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/products/9999/events", headers=sim.auth)

    assert response.status == 403
    assert await response.json() == {"ok": False, "error": "Permission Denied"}


async def test_unknown_org_is_permission_denied(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/orgs/elsewhere/events", headers=sim.auth)

    assert response.status == 403


async def test_unknown_device_is_permission_denied(sim: RunningSim) -> None:
    response = await sim.client.get(
        "/v1/devices/0123456789abcdef01234567/events", headers=sim.auth
    )

    body = await response.json()
    assert response.status == 403
    assert body["error"] == "Permission Denied"
    assert body["info"].startswith("I didn't recognize that device name or ID")


async def test_product_device_outside_product_is_denied(sim: RunningSim) -> None:
    response = await sim.client.get(
        "/v1/products/1234/devices/nope/events", headers=sim.auth
    )

    assert response.status == 403


async def test_foreign_device_is_denied_to_a_customer(sim: RunningSim) -> None:
    sim.cloud.customers.create(1234, "jane@example.com", "pw")
    token = await sim.control(
        "/sim/tokens", {"kind": "customer", "email": "jane@example.com"}
    )

    response = await sim.client.get(
        f"/v1/devices/{sim.device(0).id}/events",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )

    assert response.status == 403


async def test_customer_may_not_open_product_stream(sim: RunningSim) -> None:
    sim.cloud.customers.create(1234, "jane@example.com", "pw")
    token = await sim.control(
        "/sim/tokens", {"kind": "customer", "email": "jane@example.com"}
    )

    response = await sim.client.get(
        "/v1/products/1234/events",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )

    assert response.status == 403


async def test_customer_stream_sees_only_claimed_devices(sim: RunningSim) -> None:
    customer = sim.cloud.customers.create(1234, "jane@example.com", "pw")
    sim.device(1).owner_id = customer.id
    token = await sim.control(
        "/sim/tokens", {"kind": "customer", "email": "jane@example.com"}
    )
    stream = await sim.open_stream("/v1/devices/events", token=token["access_token"])

    sim.cloud.fleet.press(sim.device(0))
    sim.cloud.fleet.press(sim.device(1))
    frame = await stream.next_frame()

    assert frame.data["coreid"] == sim.device(1).id


async def test_product_token_opens_product_stream(sim: RunningSim) -> None:
    token = await sim.control("/sim/tokens", {"kind": "product"})
    stream = await sim.open_stream(
        "/v1/products/1234/events", token=token["access_token"]
    )

    sim.cloud.fleet.press(sim.device(0))
    frame = await stream.next_frame()

    assert frame.name == "photo"
