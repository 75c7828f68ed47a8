"""Function calls and variables, user and product routes."""

from __future__ import annotations

from tests.sim.helpers import RunningSim


async def test_function_call_returns_particle_body(sim: RunningSim) -> None:
    device = sim.device(0)

    response = await sim.client.post(
        f"/v1/devices/{device.id}/rainbow", headers=sim.auth, data={"arg": ""}
    )

    assert response.status == 200
    assert await response.json() == {
        "id": device.id,
        "name": device.name,
        "connected": True,
        "return_value": 1,
    }


async def test_function_call_accepts_args_in_json(sim: RunningSim) -> None:
    device = sim.device(0)

    response = await sim.client.post(
        f"/v1/devices/{device.id}/led", headers=sim.auth, json={"args": "off"}
    )

    assert (await response.json())["return_value"] == 0
    assert device.led.colour is None


async def test_function_call_bad_argument_returns_negative(sim: RunningSim) -> None:
    device = sim.device(0)

    response = await sim.client.post(
        f"/v1/devices/{device.id}/led", headers=sim.auth, data={"arg": "plaid"}
    )

    assert (await response.json())["return_value"] == -1


async def test_function_call_rainbow_makes_the_led_dance(sim: RunningSim) -> None:
    device = sim.device(1)

    await sim.client.post(f"/v1/devices/{device.name}/rainbow", headers=sim.auth)

    state = await (await sim.client.get("/sim/state")).json()
    led = state["devices"][1]["led"]
    assert led["mode"] == "rainbow"
    assert 3000 < led["rainbow_ms_left"] <= 4000


async def test_function_call_on_offline_device_is_408(sim: RunningSim) -> None:
    device = sim.device(0)
    sim.cloud.fleet.set_online(device, False)

    response = await sim.client.post(
        f"/v1/devices/{device.id}/rainbow", headers=sim.auth
    )

    assert response.status == 408
    assert await response.json() == {"ok": False, "error": "timed out"}


async def test_function_call_unknown_function_is_404(sim: RunningSim) -> None:
    device = sim.device(0)

    response = await sim.client.post(
        f"/v1/devices/{device.id}/explode", headers=sim.auth
    )

    assert response.status == 404
    assert await response.json() == {"ok": False, "error": "Function not found"}


async def test_function_call_raw_format_is_the_number(sim: RunningSim) -> None:
    device = sim.device(0)

    response = await sim.client.post(
        f"/v1/devices/{device.id}/rainbow", headers=sim.auth, data={"format": "raw"}
    )

    assert await response.text() == "1"


async def test_function_call_on_product_route(sim: RunningSim) -> None:
    device = sim.device(2)

    response = await sim.client.post(
        f"/v1/products/1234/devices/{device.id}/rainbow", headers=sim.auth
    )

    assert (await response.json())["return_value"] == 1


async def test_function_call_too_long_argument_is_400(sim: RunningSim) -> None:
    device = sim.device(0)

    response = await sim.client.post(
        f"/v1/devices/{device.id}/led", headers=sim.auth, data={"arg": "x" * 1025}
    )

    assert response.status == 400


async def test_function_calls_are_logged_per_device(sim: RunningSim) -> None:
    device = sim.device(0)
    await sim.client.post(f"/v1/devices/{device.id}/rainbow", headers=sim.auth)
    sim.cloud.fleet.set_online(device, False)
    await sim.client.post(f"/v1/devices/{device.id}/rainbow", headers=sim.auth)

    log = await (await sim.client.get(f"/sim/devices/{device.id}/calls")).json()

    outcomes = [(c["function"], c["return_value"], c["error"]) for c in log["calls"]]
    assert outcomes == [("rainbow", 1, None), ("rainbow", None, "DeviceOffline")]


async def test_function_reset_reboots_the_device(sim: RunningSim) -> None:
    device = sim.device(0)
    stream = await sim.open_stream(f"/v1/devices/{device.id}/events/spark")

    await sim.client.post(f"/v1/devices/{device.id}/reset", headers=sim.auth)
    frames = [await stream.next_frame() for _ in range(3)]

    assert [(f.name, f.data["data"]) for f in frames] == [
        ("spark/status", "offline"),
        ("spark/status", "online"),
        ("spark/device/last_reset", "user"),
    ]


async def test_variable_read_returns_particle_body(sim: RunningSim) -> None:
    device = sim.device(0)
    sim.cloud.fleet.press(device)

    response = await sim.client.get(
        f"/v1/devices/{device.id}/presses", headers=sim.auth
    )

    body = await response.json()
    assert body["name"] == "presses"
    assert body["result"] == 1
    assert body["coreInfo"]["deviceID"] == device.id
    assert body["coreInfo"]["connected"] is True


async def test_variable_unknown_is_404(sim: RunningSim) -> None:
    device = sim.device(0)

    response = await sim.client.get(
        f"/v1/devices/{device.id}/sensor2", headers=sim.auth
    )

    assert response.status == 404
    assert await response.json() == {"ok": False, "error": "Unknown Variable: sensor2"}


async def test_variable_on_offline_device_is_408(sim: RunningSim) -> None:
    device = sim.device(0)
    sim.cloud.fleet.set_online(device, False)

    response = await sim.client.get(
        f"/v1/products/1234/devices/{device.id}/temperature", headers=sim.auth
    )

    assert response.status == 408


async def test_variable_raw_format_is_the_value(sim: RunningSim) -> None:
    device = sim.device(0)

    response = await sim.client.get(
        f"/v1/devices/{device.id}/firmware", headers=sim.auth, params={"format": "raw"}
    )

    assert await response.text() == "photo-button v3"
