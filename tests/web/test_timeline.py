"""The timeline queue: feed events become posts once, spark/status moves devices,
and what cannot be handled ends in the dead-letter queue with its reason."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aio_pika.abc import AbstractIncomingMessage

from tests.web.conftest import (
    DEVICE,
    WAIT_SECONDS,
    WEBHOOK_SECRET,
    RunningWeb,
    StartWeb,
    eventually,
    make_event,
)
from tests.web.fake_particle import FakeParticle
from web.consumer import DEAD_ATTEMPTS_HEADER, DEAD_QUEUE_HEADER, DEAD_REASON_HEADER
from web.db import Database

DeadLetters = asyncio.Queue[AbstractIncomingMessage]


async def test_timeline_stores_feed_event_as_post(web: RunningWeb) -> None:
    event = make_event(data="Hello from the lab")

    await web.publish(event)

    post = await web.post_of(event)
    assert post["device_id"] == DEVICE
    assert post["data"] == "Hello from the lab"
    assert post["likes"] == 0
    assert post["published_at"] == event.published_at


async def test_timeline_stores_subtopic_of_feed_event(web: RunningWeb) -> None:
    event = make_event(name="photo/kitchen")

    await web.publish(event)

    assert (await web.post_of(event))["event_name"] == "photo/kitchen"


async def test_timeline_ignores_names_that_only_start_like_the_feed_event(
    web: RunningWeb,
) -> None:
    """`photograph` shares a prefix with `photo` but is another event."""
    lookalike, marker = make_event(name="photograph"), make_event()

    await web.publish(lookalike)
    await web.publish(marker)

    await web.post_of(marker)
    assert [p["event_id"] for p in await web.posts()] == [marker.event_id]


async def test_timeline_stores_redelivered_event_once(web: RunningWeb) -> None:
    event, marker = make_event(), make_event()

    for _ in range(3):
        await web.publish(event)
    await web.publish(marker)

    await web.post_of(marker)
    assert [p["event_id"] for p in await web.posts()] == [
        marker.event_id,
        event.event_id,
    ]


async def test_timeline_stores_webhook_and_stream_copy_once(web: RunningWeb) -> None:
    """The same event by webhook and from the worker's stream makes one post."""
    event = make_event(data="twice")
    form = {
        "event": event.name,
        "data": event.data,
        "published_at": event.published_at,
        "coreid": event.coreid,
    }

    response = await web.client.post(
        "/webhooks/particle",
        data=form,
        headers={"Authorization": f"Bearer {WEBHOOK_SECRET}"},
    )
    await web.publish(event)
    marker = make_event()
    await web.publish(marker)

    assert response.status == 200
    await web.post_of(marker)
    posts = [p for p in await web.posts() if p["event_id"] == event.event_id]
    assert len(posts) == 1


async def test_timeline_tracks_device_online_state(web: RunningWeb) -> None:
    post_event = make_event()
    await web.publish(post_event)
    post = await web.post_of(post_event)

    await web.publish(make_event(name="spark/status", data="online"))

    async def online() -> bool:
        return (await web.post(post["id"]))["device"]["online"] is True

    await eventually(online)


async def test_timeline_takes_online_state_from_device_lookup(
    web: RunningWeb, fake_particle: FakeParticle
) -> None:
    """A device that came online before the stream opened sent no status event."""
    fake_particle.names[DEVICE], fake_particle.online[DEVICE] = "lab-cam", True
    post_event = make_event()

    await web.publish(post_event)
    post = await web.post_of(post_event)

    async def described() -> bool:
        device = (await web.post(post["id"]))["device"]
        return device["online"] is True and device["name"] == "lab-cam"

    await eventually(described)


async def test_timeline_status_event_outranks_device_lookup(
    web: RunningWeb, fake_particle: FakeParticle
) -> None:
    fake_particle.names[DEVICE], fake_particle.online[DEVICE] = "lab-cam", True
    await web.publish(make_event(name="spark/status", data="offline"))
    post_event = make_event()

    await web.publish(post_event)
    post = await web.post_of(post_event)

    async def named() -> bool:
        return bool((await web.post(post["id"]))["device"]["name"] == "lab-cam")

    await eventually(named)
    assert (await web.post(post["id"]))["device"]["online"] is False


async def test_timeline_skips_status_older_than_the_applied_one(
    web: RunningWeb,
) -> None:
    older, newer = (
        make_event(name="spark/status", data="online"),
        make_event(name="spark/status", data="offline"),
    )
    post_event = make_event()

    await web.publish(newer)
    await web.publish(older)
    await web.publish(post_event)

    post = await web.post_of(post_event)
    assert post["device"]["online"] is False


async def test_timeline_dead_letters_undecodable_message(
    web: RunningWeb, dead_letters: DeadLetters
) -> None:
    await web.publish_raw(b"{not json")

    dead = await asyncio.wait_for(dead_letters.get(), WAIT_SECONDS)
    assert dead.body == b"{not json"
    assert dead.headers[DEAD_REASON_HEADER] == "data is not JSON"
    assert dead.headers[DEAD_QUEUE_HEADER] == web.topology.names.timeline


async def test_timeline_dead_letters_event_without_coreid(
    web: RunningWeb, dead_letters: DeadLetters
) -> None:
    await web.publish_raw(b'{"name": "photo", "data": "x", "published_at": "now"}')

    dead = await asyncio.wait_for(dead_letters.get(), WAIT_SECONDS)
    assert dead.headers[DEAD_REASON_HEADER] == "coreid is missing or not a string"


async def test_timeline_retries_failing_handler_then_dead_letters(
    start_web: StartWeb, dead_letters: DeadLetters, tmp_path: Path
) -> None:
    """With no tables to write to, every try fails: 1 + 2 retries, then dead."""
    unmigrated = Database.from_url(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    web = await start_web(database=unmigrated)
    event = make_event()

    await web.publish(event)

    dead = await asyncio.wait_for(dead_letters.get(), WAIT_SECONDS)

    assert dead.message_id == event.event_id
    assert dead.headers[DEAD_ATTEMPTS_HEADER] == 3
    reason = str(dead.headers[DEAD_REASON_HEADER])
    assert reason.startswith("gave up after 3 attempts: OperationalError")
