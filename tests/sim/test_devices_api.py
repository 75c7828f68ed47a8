"""Device listing and details in Particle's shapes."""

from __future__ import annotations

from tests.sim.helpers import RunningSim


async def test_list_devices_returns_the_fleet(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/devices", headers=sim.auth)

    devices = await response.json()
    assert [d["id"] for d in devices] == [d.id for d in sim.cloud.fleet.devices]
    assert {"id", "name", "online", "connected", "last_heard", "product_id"} <= set(
        devices[0]
    )


async def test_device_ids_are_24_hex(sim: RunningSim) -> None:
    ids = [device.id for device in sim.cloud.fleet.devices]

    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)


async def test_same_seed_makes_same_fleet(start_sim) -> None:
    first = await start_sim(seed="again")
    second = await start_sim(seed="again")

    names = [(d.id, d.name) for d in first.cloud.fleet.devices]

    assert names == [(d.id, d.name) for d in second.cloud.fleet.devices]


async def test_get_device_has_functions_and_variables(sim: RunningSim) -> None:
    device = sim.device(0)

    response = await sim.client.get(f"/v1/devices/{device.id}", headers=sim.auth)

    body = await response.json()
    assert body["functions"] == ["rainbow", "led", "reset"]
    assert body["variables"] == {
        "presses": "int32",
        "temperature": "double",
        "firmware": "string",
    }
    assert body["owner"] == sim.settings.username


async def test_get_unknown_device_is_403(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/devices/missing", headers=sim.auth)

    assert response.status == 403
    assert (await response.json())["error"] == "Permission Denied"


async def test_list_product_devices_has_meta(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/products/1234/devices", headers=sim.auth)

    body = await response.json()
    assert len(body["devices"]) == 3
    assert body["meta"] == {"total_pages": 1}
    assert body["devices"][0]["firmware_version"] == 3
    assert body["customers"] == []


async def test_list_product_devices_pages(sim: RunningSim) -> None:
    response = await sim.client.get(
        "/v1/products/1234/devices",
        headers=sim.auth,
        params={"perPage": "2", "page": "2"},
    )

    body = await response.json()
    assert [d["id"] for d in body["devices"]] == [sim.device(2).id]
    assert body["meta"] == {"total_pages": 2}


async def test_get_product_device(sim: RunningSim) -> None:
    device = sim.device(1)

    response = await sim.client.get(
        f"/v1/products/sim-product/devices/{device.name}", headers=sim.auth
    )

    body = await response.json()
    assert body["id"] == device.id
    assert body["quarantined"] is False


async def test_ping_reports_online_state(sim: RunningSim) -> None:
    device = sim.device(0)
    sim.cloud.fleet.set_online(device, False)

    response = await sim.client.put(f"/v1/devices/{device.id}/ping", headers=sim.auth)

    assert await response.json() == {"online": False, "ok": True}


async def test_unknown_api_route_answers_json_404(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/nothing/here/at/all", headers=sim.auth)

    assert response.status == 404
    assert await response.json() == {"ok": False, "error": "Not Found"}
