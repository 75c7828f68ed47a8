"""The sent journal: every event frame a stream wrote in full, by event id."""

from __future__ import annotations

from typing import Any

from shared.events import ParticleEvent, parse_stream_event
from sim.events import Event
from sim.journal import SentJournal
from tests.sim.helpers import Frame, RunningSim


async def sent(sim: RunningSim, query: str = "") -> Any:
    response = await sim.client.get(f"/sim/streams/sent{query}")
    assert response.status == 200, await response.text()
    return await response.json()


def worker_id(frame: Frame) -> str:
    """The id the worker gives the frame it read: its AMQP message_id."""
    text = frame.raw.decode().split("data: ", 1)[1].strip()
    event = parse_stream_event(frame.name, text)
    assert isinstance(event, ParticleEvent)
    return event.event_id


def event(number: int) -> Event:
    return Event(name="test/journal", data=str(number), coreid="c0ffee")


async def test_journal_holds_each_written_event_by_its_worker_id(
    sim: RunningSim,
) -> None:
    device = sim.device(0)
    stream = await sim.open_stream("/v1/products/1234/events")

    await sim.control(f"/sim/devices/{device.id}/press")
    await sim.control(f"/sim/devices/{device.id}/publish", {"name": "no/data"})
    frames = [await stream.next_frame(), await stream.next_frame()]

    journal = await sent(sim)
    assert journal["events"] == [
        {"index": 1, "id": worker_id(frames[0]), "name": "photo", "stream": 1},
        {"index": 2, "id": worker_id(frames[1]), "name": "no/data", "stream": 1},
    ]
    assert frames[1].data["data"] is None
    assert journal["dropped_from_journal"] == 0
    assert journal["recorded"] == 2


async def test_journal_has_one_entry_per_stream_that_wrote_it(
    sim: RunningSim,
) -> None:
    developer = await sim.open_stream("/v1/devices/events")
    product = await sim.open_stream("/v1/products/1234/events")

    sim.cloud.fleet.press(sim.device(0))
    await developer.next_frame()
    await product.next_frame()

    entries = (await sent(sim))["events"]
    assert sorted(e["stream"] for e in entries) == [1, 2]
    assert entries[0]["id"] == entries[1]["id"]


async def test_events_with_no_stream_open_are_not_journaled(sim: RunningSim) -> None:
    sim.cloud.fleet.press(sim.device(0))

    assert (await sent(sim))["events"] == []


async def test_events_a_stall_withholds_are_not_journaled(start_sim) -> None:
    sim = await start_sim(keepalive=0.2)
    stream = await sim.open_stream("/v1/devices/events")
    await sim.control("/sim/streams/stall")

    sim.cloud.fleet.press(sim.device(0))

    assert await stream.nothing_for(0.5)
    assert (await sent(sim))["events"] == []


async def test_mid_event_drop_journals_only_complete_frames(sim: RunningSim) -> None:
    stream = await sim.open_stream("/v1/devices/events")
    await sim.control("/sim/streams/drop", {"mid_event": True, "after_events": 2})

    for _ in range(3):
        sim.cloud.fleet.press(sim.device(0))
    frames = [await stream.next_frame(), await stream.next_frame()]
    await sim.wait_for_streams(0)

    entries = (await sent(sim))["events"]
    assert [e["id"] for e in entries] == [worker_id(f) for f in frames]
    assert "sim/partial" not in {e["name"] for e in entries}


async def test_after_and_limit_page_through_the_journal(sim: RunningSim) -> None:
    for number in range(5):
        sim.cloud.sent.record(event(number), stream=7)

    page = await sent(sim, "?after=1&limit=2")
    rest = await sent(sim, "?after=3")

    assert [e["index"] for e in page["events"]] == [2, 3]
    assert [e["index"] for e in rest["events"]] == [4, 5]
    assert rest["recorded"] == 5


async def test_journal_rejects_a_malformed_after(sim: RunningSim) -> None:
    response = await sim.client.get("/sim/streams/sent?after=soon")

    assert response.status == 400


async def test_reset_empties_the_journal(sim: RunningSim) -> None:
    sim.cloud.sent.record(event(1), stream=1)

    await sim.control("/sim/reset")

    assert await sent(sim) == {"events": [], "dropped_from_journal": 0, "recorded": 0}


def test_full_journal_forgets_the_oldest_and_counts_them() -> None:
    journal = SentJournal(capacity=3)

    for number in range(5):
        journal.record(event(number), stream=1)

    assert journal.dropped == 2
    assert [e.index for e in journal.after(0)] == [3, 4, 5]
    assert [e.index for e in journal.after(4)] == [5]
    assert [e.index for e in journal.after(1, limit=1)] == [3]
    assert journal.after(5) == []
