"""The bytes of an event stream, exactly as Particle writes them."""

from __future__ import annotations

import json

from tests.sim.helpers import RunningSim


async def test_stream_answers_200_with_event_stream_headers(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/devices/events", headers=sim.auth)

    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    response.close()


async def test_stream_starts_with_ok_comment(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/devices/events", headers=sim.auth)

    first = await response.content.readexactly(5)

    assert first == b":ok\n\n"
    response.close()


async def test_stream_event_frame_is_byte_exact(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")
    device = sim.device(0)

    event = sim.cloud.fleet.publish_from(device, "temperature", "25.34")
    block = await stream.read_block()

    published_at = json.dumps(event.summary()["published_at"])
    assert block == (
        b"event: temperature\n"
        b'data: {"data":"25.34","ttl":60,"published_at":'
        + published_at.encode()
        + b',"coreid":"'
        + device.id.encode()
        + b'"}\n\n'
    )


async def test_stream_published_at_has_milliseconds_and_z(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")

    sim.cloud.fleet.press(sim.device(0))
    frame = await stream.next_frame()

    assert frame.data["published_at"][-5] == "."
    assert frame.data["published_at"].endswith("Z")
    assert len(frame.data["published_at"]) == len("2024-05-13T10:55:02.520Z")


async def test_stream_has_no_id_or_retry_lines(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")

    sim.cloud.fleet.press(sim.device(1))
    block = await stream.read_block()

    assert not any(line.startswith((b"id:", b"retry:")) for line in block.split(b"\n"))


async def test_stream_sends_bare_newline_when_idle(start_sim) -> None:
    sim = await start_sim(keepalive=0.2)
    stream = await sim.open_stream("/v1/devices/events")

    keepalive = await stream.read_bytes(1, within=2)

    assert keepalive == b"\n"


async def test_stream_keepalive_waits_for_the_idle_period(start_sim) -> None:
    sim = await start_sim(keepalive=1.0)
    stream = await sim.open_stream("/v1/devices/events")

    quiet_at_first = await stream.nothing_for(0.6)

    assert quiet_at_first
    assert await stream.read_bytes(1, within=2) == b"\n"


async def test_stream_data_is_compact_single_line_json(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")

    sim.cloud.fleet.publish_from(sim.device(0), "note", 'line one\nline "two" é')
    frame = await stream.next_frame()

    data_json = frame.raw.split(b"\n")[1].removeprefix(b"data: ")
    assert (
        data_json
        == json.dumps(frame.data, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert frame.data["data"] == 'line one\nline "two" é'


async def test_stream_missing_data_is_null(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")

    sim.cloud.fleet.publish_from(sim.device(0), "empty", None)
    frame = await stream.next_frame()

    assert frame.data["data"] is None


async def test_stream_developer_shape_has_exactly_four_fields(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")

    sim.cloud.fleet.press(sim.device(0))
    frame = await stream.next_frame()

    assert list(frame.data) == ["data", "ttl", "published_at", "coreid"]
    assert frame.data["ttl"] == 60


async def test_stream_product_shape_adds_product_fields(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/products/1234/events")
    device = sim.device(0)

    sim.cloud.fleet.press(device)
    frame = await stream.next_frame()

    assert list(frame.data) == [
        "data", "ttl", "published_at", "coreid",
        "userid", "version", "public", "productID",
    ]  # fmt: skip
    assert frame.data["userid"] == sim.cloud.fleet.developer_id
    assert frame.data["version"] == device.firmware_version
    assert frame.data["public"] is False
    assert frame.data["productID"] == 1234
