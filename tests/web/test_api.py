"""The HTTP surface: API shapes and errors, the page, pictures, SSE, health and
metrics."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import ClientResponse

from tests.support.tcp_proxy import OutageProxy
from tests.web.conftest import (
    DEVICE,
    WAIT_SECONDS,
    RunningWeb,
    StartWeb,
    eventually,
    make_event,
)
from web.db import Database

POST_KEYS = {
    "id",
    "event_id",
    "device_id",
    "data",
    "image_url",
    "published_at",
    "likes",
}


async def posted(web: RunningWeb, data: str = "hello") -> dict[str, Any]:
    event = make_event(data=data)
    await web.publish(event)
    return await web.post_of(event)


async def test_api_post_has_the_contract_keys(web: RunningWeb) -> None:
    post = await posted(web)

    assert post.keys() >= POST_KEYS
    assert post["device"]["id"] == DEVICE
    assert post["last_call"] is None


async def test_api_lists_newest_first(web: RunningWeb) -> None:
    first, second = await posted(web, "one"), await posted(web, "two")

    posts = await web.posts()

    assert [p["id"] for p in posts] == [second["id"], first["id"]]


async def test_api_pages_with_limit_and_before(web: RunningWeb) -> None:
    ids = [(await posted(web, str(n)))["id"] for n in range(3)]

    page = await web.posts(limit="1", before=str(ids[2]))

    assert [p["id"] for p in page] == [ids[1]]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"before": "-1"},
        {"before": "99999999999"},
    ],
)
async def test_api_rejects_bad_list_parameters(
    web: RunningWeb, query: dict[str, str]
) -> None:
    response = await web.client.get("/api/posts", params=query)

    assert response.status == 400
    assert isinstance((await response.json())["error"], str)


async def test_api_post_includes_its_calls(web: RunningWeb) -> None:
    post = await posted(web)

    body = await web.post(post["id"])

    assert body["calls"] == []
    assert body["id"] == post["id"]


async def test_api_unknown_post_is_404(web: RunningWeb) -> None:
    response = await web.client.get("/api/posts/424242")

    assert response.status == 404


async def test_api_bad_post_id_is_400(web: RunningWeb) -> None:
    response = await web.client.get("/api/posts/1x")

    assert response.status == 400


async def test_picture_of_text_post_is_a_drawn_card(web: RunningWeb) -> None:
    post = await posted(web, "<b>Tom & Jerry</b>")

    response = await web.client.get(post["image_url"])

    assert response.status == 200
    assert response.content_type == "image/svg+xml"
    svg = await response.text()
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in svg
    assert "<b>" not in svg


async def test_picture_url_post_uses_the_url(web: RunningWeb) -> None:
    post = await posted(web, "https://pictures.example/cat.jpg")

    assert post["image_url"] == "https://pictures.example/cat.jpg"
    assert post["caption"] is None


async def test_page_shows_posts_with_lazy_pictures(web: RunningWeb) -> None:
    post = await posted(web)

    response = await web.client.get("/")

    html = await response.text()
    assert response.status == 200
    assert f'data-post-id="{post["id"]}"' in html
    assert f'src="{post["image_url"]}"' in html
    assert 'loading="lazy"' in html


async def test_page_assets_are_local(web: RunningWeb) -> None:
    html = await (await web.client.get("/")).text()

    assert "https://" not in html
    assert "http://" not in html
    css = await web.client.get("/static/app.css")
    assert css.status == 200


async def read_sse(response: ClientResponse, kind: str) -> dict[str, Any]:
    """Read the stream until an event of `kind`; return its data."""
    current = None
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            current = line.removeprefix("event: ")
        elif line.startswith("data: ") and current == kind:
            data: dict[str, Any] = json.loads(line.removeprefix("data: "))
            return data
    raise AssertionError(f"stream ended before a {kind} event")


async def test_events_stream_announces_new_posts(web: RunningWeb) -> None:
    event = make_event(data="live!")
    response = await web.client.get("/events")
    assert response.headers["Content-Type"] == "text/event-stream"
    await response.content.readuntil(b": connected\n\n")

    await web.publish(event)

    post = await asyncio.wait_for(read_sse(response, "post"), WAIT_SECONDS)
    assert post["event_id"] == event.event_id
    response.close()


async def test_events_stream_sends_keepalive_comments(web: RunningWeb) -> None:
    """The test config sends one every 0.3 s (production: 15 s)."""
    response = await web.client.get("/events")
    await response.content.readuntil(b": connected\n\n")

    comment = await asyncio.wait_for(response.content.readline(), WAIT_SECONDS)

    assert comment == b": keep-alive\n"
    response.close()


async def test_healthz_is_ok_with_broker_and_database(web: RunningWeb) -> None:
    response = await web.client.get("/healthz")

    assert response.status == 200
    assert await response.json() == {"status": "ok", "broker": "ok", "database": "ok"}


async def test_healthz_names_the_broker_when_it_is_down(
    web_without_broker: RunningWeb,
) -> None:
    response = await web_without_broker.client.get("/healthz")

    body = await response.json()
    assert response.status == 503
    assert body["down"] == ["broker"]
    assert body["database"] == "ok"


async def test_healthz_names_a_broker_that_went_silent(
    start_web: StartWeb, rabbitmq_url: str
) -> None:
    """An open connection to a broker that stopped answering is not health."""
    target = urlsplit(rabbitmq_url)
    proxy = OutageProxy(target.hostname or "127.0.0.1", target.port or 5672)
    await proxy.start()
    web = await start_web(broker_url=proxy.url)

    proxy.stall()
    response = await web.client.get("/healthz")
    proxy.resume()
    await proxy.stop()

    assert response.status == 503
    assert (await response.json())["broker"].startswith("not answering")


async def test_like_counts_even_while_the_broker_is_down(
    web_without_broker: RunningWeb,
) -> None:
    """The call stays pending; the requeuer sends it once the broker is back."""
    repo = web_without_broker.services.repo
    stored = await repo.add_post(make_event())
    assert stored is not None
    post_id = stored.post.id

    response = await web_without_broker.client.post(f"/api/posts/{post_id}/likes")

    assert response.status == 202
    call = (await web_without_broker.post(post_id))["last_call"]
    assert call["state"] == "pending"


async def test_healthz_names_an_unmigrated_database(
    start_web: StartWeb, tmp_path: Path
) -> None:
    empty = Database.from_url(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    web = await start_web(database=empty)

    response = await web.client.get("/healthz")

    body = await response.json()

    assert response.status == 503
    assert body["down"] == ["database"]
    assert "python -m shared.release" in body["database"]


async def test_metrics_count_posts_and_messages(web: RunningWeb) -> None:
    await posted(web)

    async def counted() -> str | None:
        text = await (await web.client.get("/metrics")).text()
        return text if 'web_consumer_messages_total{outcome="handled"' in text else None

    text = await eventually(counted)
    assert "web_posts_stored_total 1.0" in text
    assert "web_sse_clients 0.0" in text
    assert "web_likes_total 0.0" in text
