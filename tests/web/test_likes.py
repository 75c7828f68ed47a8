"""Likes: counted at once, then a call of the like function through the calls
queue, retried while the device is offline or Particle fails, stopped at once on
a 404 or a refused token, and always ending with its outcome stored."""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from tests.web.conftest import (
    DEVICE,
    TEST_TOKEN,
    WAIT_SECONDS,
    RunningWeb,
    StartWeb,
    eventually,
    make_event,
    unused_port,
)
from tests.web.fake_particle import (
    NO_SUCH_FUNCTION,
    OFFLINE,
    SERVER_ERROR,
    Answer,
    FakeParticle,
)
from web.consumer import DEAD_ATTEMPTS_HEADER, DEAD_QUEUE_HEADER, DEAD_REASON_HEADER

DeadLetters = asyncio.Queue[AbstractIncomingMessage]


async def posted(web: RunningWeb) -> dict[str, Any]:
    event = make_event()
    await web.publish(event)
    return await web.post_of(event)


async def like(web: RunningWeb, post_id: int) -> dict[str, Any]:
    response = await web.client.post(f"/api/posts/{post_id}/likes")
    assert response.status == 202
    body: dict[str, Any] = await response.json()
    return body


async def finished_call(web: RunningWeb, post_id: int) -> dict[str, Any]:
    """Wait until the post's last call is finished; return it."""

    async def finished() -> dict[str, Any] | None:
        call = (await web.post(post_id))["last_call"]
        return call if call and call["finished"] else None

    return await eventually(finished)


async def test_like_answers_202_with_the_count(web: RunningWeb) -> None:
    post = await posted(web)

    first, second = await like(web, post["id"]), await like(web, post["id"])

    assert first == {"likes": 1}
    assert second == {"likes": 2}


async def test_like_calls_the_function_on_the_posting_device(
    web: RunningWeb, fake_particle: FakeParticle
) -> None:
    post = await posted(web)

    await like(web, post["id"])

    call = await fake_particle.next_call()
    assert call.path == f"/v1/devices/{DEVICE}/rainbow"
    assert call.authorization == f"Bearer {TEST_TOKEN}"
    assert call.arg == str(post["id"])


async def test_like_stores_the_return_value(web: RunningWeb) -> None:
    post = await posted(web)

    await like(web, post["id"])

    call = await finished_call(web, post["id"])
    assert call["state"] == "succeeded"
    assert call["return_value"] == 1
    assert call["attempts"] == 1
    assert call["label"] == "rainbow returned 1"


async def test_like_learns_the_device_name_from_the_answer(
    web: RunningWeb, fake_particle: FakeParticle
) -> None:
    fake_particle.names[DEVICE] = "kitchen-booth"
    post = await posted(web)

    await like(web, post["id"])

    await finished_call(web, post["id"])
    assert (await web.post(post["id"]))["device"]["name"] == "kitchen-booth"


async def test_like_retries_while_device_offline_then_succeeds(
    web: RunningWeb, fake_particle: FakeParticle
) -> None:
    fake_particle.answer(OFFLINE, OFFLINE)
    post = await posted(web)

    await like(web, post["id"])

    call = await finished_call(web, post["id"])
    assert call["state"] == "succeeded"
    assert call["attempts"] == 3
    assert len(fake_particle.calls) == 3


async def test_like_stops_at_once_on_unknown_function(
    web: RunningWeb, fake_particle: FakeParticle, dead_letters: DeadLetters
) -> None:
    fake_particle.answer(NO_SUCH_FUNCTION)
    post = await posted(web)

    await like(web, post["id"])

    dead = await asyncio.wait_for(dead_letters.get(), WAIT_SECONDS)
    call = await finished_call(web, post["id"])
    assert call["state"] == "failed"
    assert "not found" in call["error"]
    assert len(fake_particle.calls) == 1
    assert dead.headers[DEAD_QUEUE_HEADER] == web.topology.names.calls
    assert "Function not found" in str(dead.headers[DEAD_REASON_HEADER])


async def test_like_stops_at_once_on_refused_token(
    web: RunningWeb, fake_particle: FakeParticle, dead_letters: DeadLetters
) -> None:
    fake_particle.answer(Answer(401, {"error": "invalid_token"}))
    post = await posted(web)

    await like(web, post["id"])

    dead = await asyncio.wait_for(dead_letters.get(), WAIT_SECONDS)
    assert str(dead.headers[DEAD_REASON_HEADER]).startswith("not allowed: HTTP 401")
    assert len(fake_particle.calls) == 1


async def test_like_dead_letters_after_server_errors(
    web: RunningWeb, fake_particle: FakeParticle, dead_letters: DeadLetters
) -> None:
    """Three delays configured: four tries, then the dead-letter queue."""
    fake_particle.answer(*[SERVER_ERROR] * 4)
    post = await posted(web)

    await like(web, post["id"])

    dead = await asyncio.wait_for(dead_letters.get(), WAIT_SECONDS)
    call = await finished_call(web, post["id"])
    assert dead.headers[DEAD_ATTEMPTS_HEADER] == 4
    assert dead.headers[DEAD_REASON_HEADER] == (
        "gave up after 4 attempts: Particle answered HTTP 503 service unavailable"
    )
    assert call["state"] == "failed"
    assert call["error"].startswith("gave up after 4 tries")
    assert len(fake_particle.calls) == 4


async def test_like_dead_letters_undecodable_call_message(
    web: RunningWeb, dead_letters: DeadLetters
) -> None:
    await web.services.publisher.to_queue(
        aio_pika.Message(b'{"call": 1}'), web.topology.names.calls
    )

    dead = await asyncio.wait_for(dead_letters.get(), WAIT_SECONDS)
    assert dead.headers[DEAD_REASON_HEADER] == "body has no call_id"


async def test_like_shows_every_call_on_the_post(web: RunningWeb) -> None:
    post = await posted(web)

    await like(web, post["id"])
    await finished_call(web, post["id"])
    await like(web, post["id"])

    async def both_done() -> list[dict[str, Any]] | None:
        calls = (await web.post(post["id"]))["calls"]
        return calls if len(calls) == 2 and all(c["finished"] for c in calls) else None

    assert [c["state"] for c in await eventually(both_done)] == ["succeeded"] * 2


async def test_like_call_left_pending_is_queued_later(web: RunningWeb) -> None:
    """A call stored while the broker was away goes out once it is back."""
    post = await posted(web)

    await web.services.repo.add_like(post["id"], "rainbow")

    call = await finished_call(web, post["id"])
    assert call["state"] == "succeeded"


async def test_like_of_unknown_post_is_404(web: RunningWeb) -> None:
    response = await web.client.post("/api/posts/999999/likes")

    assert response.status == 404
    assert "error" in await response.json()


async def test_like_with_bad_id_is_400(web: RunningWeb) -> None:
    response = await web.client.post("/api/posts/abc/likes")

    assert response.status == 400
    assert "post id" in (await response.json())["error"]


async def test_like_uses_product_path_when_product_is_set(
    start_web: StartWeb, fake_particle: FakeParticle
) -> None:
    web = await start_web(particle_product="my-product")
    post = await posted(web)

    await like(web, post["id"])

    call = await fake_particle.next_call()
    assert call.path == f"/v1/products/my-product/devices/{DEVICE}/rainbow"


async def test_like_retries_network_errors_then_dead_letters(
    start_web: StartWeb, dead_letters: DeadLetters
) -> None:
    web = await start_web(particle_api_url=f"http://127.0.0.1:{unused_port()}")
    post = await posted(web)

    await like(web, post["id"])

    dead = await asyncio.wait_for(dead_letters.get(), WAIT_SECONDS)
    assert dead.headers[DEAD_ATTEMPTS_HEADER] == 4
    assert "network error" in str(dead.headers[DEAD_REASON_HEADER])
