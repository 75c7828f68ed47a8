"""Fault injection on open and future streams, through the control API."""

from __future__ import annotations

import aiohttp
import pytest

from tests.sim.helpers import RunningSim


async def test_drop_cuts_open_streams_abruptly(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")

    answer = await sim.control("/sim/streams/drop")

    assert answer["open_streams"] == 1
    with pytest.raises(aiohttp.ClientPayloadError):
        await stream.response.content.read()


async def test_drop_clean_ends_the_body_properly(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")

    await sim.control("/sim/streams/drop", {"clean": True})

    assert await stream.response.content.read() == b""


async def test_drop_mid_event_leaves_half_a_frame(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")

    await sim.control("/sim/streams/drop", {"mid_event": True})

    partial = await stream.response.content.readuntil(b'"data":"')
    assert partial.startswith(b"event: sim/partial\ndata: ")
    with pytest.raises(aiohttp.ClientPayloadError):
        await stream.response.content.read()


async def test_drop_next_streams_right_after_ok(sim: RunningSim) -> None:
    await sim.control("/sim/streams/drop", {"open": False, "next": 1})

    first = await sim.open_stream("/v1/devices/events")
    second = await sim.open_stream("/v1/devices/events")

    with pytest.raises(aiohttp.ClientPayloadError):
        await first.response.content.read()
    assert await second.nothing_for(0.3)


async def test_drop_after_events_delivers_them_first(sim: RunningSim) -> None:
    await sim.control(
        "/sim/streams/drop", {"open": False, "next": 1, "after_events": 2}
    )
    stream = await sim.open_stream("/v1/devices/events")

    for _ in range(3):
        sim.cloud.fleet.press(sim.device(0))
    frames = [await stream.next_frame(), await stream.next_frame()]

    assert [f.name for f in frames] == ["photo", "photo"]
    with pytest.raises(aiohttp.ClientPayloadError):
        await stream.response.content.read()


async def test_drop_all_future_until_cleared(sim: RunningSim) -> None:
    await sim.control("/sim/streams/drop", {"open": False, "next": "all"})
    for _ in range(2):
        dropped = await sim.open_stream("/v1/devices/events")
        with pytest.raises(aiohttp.ClientPayloadError):
            await dropped.response.content.read()

    await sim.client.delete("/sim/faults")
    kept = await sim.open_stream("/v1/devices/events")

    assert await kept.nothing_for(0.3)


async def test_drop_next_all_answers_all(sim: RunningSim) -> None:
    body = {"open": False, "next": "all"}

    answer = await sim.control("/sim/streams/drop", body)

    assert answer["next"] == "all"


async def test_stall_sends_nothing_not_even_keepalives(start_sim) -> None:
    sim = await start_sim(keepalive=0.2)
    stream = await sim.open_stream("/v1/devices/events")

    await sim.control("/sim/streams/stall")
    sim.cloud.fleet.press(sim.device(0))

    assert await stream.nothing_for(0.8)
    assert sim.cloud.streams.all()[0].events_withheld == 1


async def test_stall_resume_brings_keepalives_back(start_sim) -> None:
    sim = await start_sim(keepalive=0.2)
    stream = await sim.open_stream("/v1/devices/events")
    await sim.control("/sim/streams/stall")

    await sim.control("/sim/streams/resume")

    assert await stream.read_bytes(1, within=2) == b"\n"


async def test_stall_for_seconds_ends_by_itself(start_sim) -> None:
    sim = await start_sim(keepalive=0.2)
    stream = await sim.open_stream("/v1/devices/events")

    await sim.control("/sim/streams/stall", {"seconds": 0.5})

    assert await stream.nothing_for(0.4)
    assert await stream.read_bytes(1, within=2) == b"\n"


async def test_stall_next_stream_opens_silent(start_sim) -> None:
    sim = await start_sim(keepalive=0.2)
    await sim.control("/sim/streams/stall", {"open": False, "next": 1})

    stream = await sim.open_stream("/v1/devices/events")

    assert await stream.nothing_for(0.6)


async def test_reject_answers_next_opens_with_chosen_status(sim: RunningSim) -> None:
    await sim.control(
        "/sim/streams/reject",
        {"count": 2, "status": 503, "body": {"error": "busy"}, "retry_after": "7"},
    )

    answers = [
        await sim.client.get("/v1/devices/events", headers=sim.auth) for _ in range(3)
    ]

    assert [a.status for a in answers] == [503, 503, 200]
    assert await answers[0].json() == {"error": "busy"}
    assert answers[0].headers["Retry-After"] == "7"
    answers[2].close()


@pytest.mark.parametrize("status", [200, 399, 600, 999])
async def test_reject_status_outside_error_range_names_it(
    sim: RunningSim, status: int
) -> None:
    body = {"status": status}

    response = await sim.client.post("/sim/streams/reject", json=body)

    assert response.status == 400
    assert await response.json() == {
        "ok": False,
        "error": "status must be from 400 to 599",
    }


@pytest.mark.parametrize(
    "retry_after", ["abc", "-5", "1.5", "", "Sun, 31 Nov 1994 08:49:37 GMT"]
)
async def test_reject_refuses_bad_retry_after(
    sim: RunningSim, retry_after: str
) -> None:
    form = {"status": "503", "retry_after": retry_after}

    response = await sim.client.post("/sim/streams/reject", data=form)

    assert response.status == 400
    assert "retry_after must be" in await response.text()
    assert sim.cloud.faults.view()["rejections"] == []


async def test_reject_sends_http_date_retry_after(sim: RunningSim) -> None:
    date = "Sun, 06 Nov 1994 08:49:37 GMT"
    await sim.control("/sim/streams/reject", {"status": 503, "retry_after": date})

    response = await sim.client.get("/v1/devices/events", headers=sim.auth)

    assert response.headers["Retry-After"] == date


async def test_reject_with_text_body(sim: RunningSim) -> None:
    await sim.control(
        "/sim/streams/reject", {"status": 502, "body": "<html>bad</html>"}
    )

    response = await sim.client.get("/v1/devices/events", headers=sim.auth)

    assert response.status == 502
    assert await response.text() == "<html>bad</html>"
    assert "Retry-After" not in response.headers


async def test_reject_comes_before_the_token_check(sim: RunningSim) -> None:
    await sim.control("/sim/streams/reject", {"status": 429})

    response = await sim.client.get("/v1/devices/events")

    assert response.status == 429


async def test_clear_faults_disarms_rejections(sim: RunningSim) -> None:
    await sim.control("/sim/streams/reject", {"status": 500, "count": 5})

    await sim.client.delete("/sim/faults")
    response = await sim.client.get("/v1/devices/events", headers=sim.auth)

    assert response.status == 200
    response.close()


async def test_streams_listing_shows_open_streams(sim: RunningSim) -> None:
    await sim.open_stream("/v1/products/1234/events/photo")

    listing = await (await sim.client.get("/sim/streams")).json()

    assert [s["path"] for s in listing["streams"]] == ["/v1/products/1234/events/photo"]
    assert listing["streams"][0]["product_fields"] is True
