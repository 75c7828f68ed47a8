"""`POST /webhooks/particle`: Particle's default bodies into the events exchange,
exactly as the worker publishes the stream, and nothing published on any error."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from shared.topology import WebTopology
from tests.web.conftest import (
    WAIT_SECONDS,
    WEBHOOK_SECRET,
    RunningWeb,
    StartWeb,
    make_event,
)
from web.webhooks import presents_secret

BEARER = {"Authorization": f"Bearer {WEBHOOK_SECRET}"}


NOW = "2026-12-04T10:00:00.000Z"


def form_of(event: Any) -> dict[str, str]:
    """Particle's default webhook form: event, data, published_at, coreid."""
    return {
        "event": event.name,
        "data": event.data,
        "published_at": event.published_at,
        "coreid": event.coreid,
    }


async def assert_nothing_published_before_next(
    web: RunningWeb, published: asyncio.Queue[AbstractIncomingMessage]
) -> None:
    """Send a good webhook: had the bad one been published, it would come first."""
    marker = make_event()
    response = await web.client.post(
        "/webhooks/particle", data=form_of(marker), headers=BEARER
    )
    assert response.status == 200
    first = await asyncio.wait_for(published.get(), WAIT_SECONDS)
    assert first.message_id == marker.event_id


@pytest.fixture
async def published(
    amqp_channel: AbstractChannel, web_topology: WebTopology
) -> asyncio.Queue[AbstractIncomingMessage]:
    """Everything that reaches the test's events exchange."""
    arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
    queue = await amqp_channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(web_topology.exchanges.events, routing_key="#")
    await queue.consume(arrived.put, no_ack=True)
    return arrived


async def test_webhook_publishes_form_body_like_the_stream(
    web: RunningWeb, published: asyncio.Queue[AbstractIncomingMessage]
) -> None:
    event = make_event(name="photo/door", data="ding dong")

    response = await web.client.post(
        "/webhooks/particle", data=form_of(event), headers=BEARER
    )

    assert response.status == 200
    assert (await response.json())["event_id"] == event.event_id
    message = await asyncio.wait_for(published.get(), WAIT_SECONDS)
    assert message.message_id == event.event_id
    assert message.routing_key == "photo.door"
    assert message.app_id == "webhook"
    assert json.loads(message.body) == {
        "data": "ding dong",
        "published_at": event.published_at,
        "coreid": event.coreid,
        "name": "photo/door",
    }


async def test_webhook_accepts_json_template_body(web: RunningWeb) -> None:
    event = make_event()

    response = await web.client.post(
        "/webhooks/particle", json=form_of(event), headers=BEARER
    )

    assert response.status == 200
    assert (await web.post_of(event))["data"] == "hello"


async def test_webhook_accepts_secret_as_basic_password(web: RunningWeb) -> None:
    basic = base64.b64encode(f"particle:{WEBHOOK_SECRET}".encode()).decode()

    response = await web.client.post(
        "/webhooks/particle",
        data=form_of(make_event()),
        headers={"Authorization": f"Basic {basic}"},
    )

    assert response.status == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", "Basic " + base64.b64encode(b"particle:wrong").decode()],
)
async def test_webhook_without_the_secret_is_401(
    web: RunningWeb,
    published: asyncio.Queue[AbstractIncomingMessage],
    authorization: str | None,
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = await web.client.post(
        "/webhooks/particle", data=form_of(make_event()), headers=headers
    )

    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    await assert_nothing_published_before_next(web, published)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"event": "photo", "data": "x", "published_at": "t"}, "coreid"),
        ({"data": "x", "published_at": "t", "coreid": "c"}, "event"),
        ({"event": "photo", "data": 5, "published_at": NOW, "coreid": "c"}, "data"),
        ({"event": "p" * 65, "data": "x", "published_at": NOW, "coreid": "c"}, "64"),
        (
            {"event": "photo", "data": "x" * 16385, "published_at": NOW, "coreid": "c"},
            "16384",
        ),
        (
            {"event": "photo", "data": "x", "published_at": "yesterday", "coreid": "c"},
            "ISO",
        ),
    ],
)
async def test_webhook_with_bad_json_body_is_400(
    web: RunningWeb,
    published: asyncio.Queue[AbstractIncomingMessage],
    body: dict[str, Any],
    reason: str,
) -> None:
    response = await web.client.post("/webhooks/particle", json=body, headers=BEARER)

    assert response.status == 400
    assert reason in (await response.json())["error"]
    await assert_nothing_published_before_next(web, published)


async def test_webhook_with_unreadable_body_is_400(web: RunningWeb) -> None:
    response = await web.client.post(
        "/webhooks/particle",
        data=b"{not json",
        headers={**BEARER, "Content-Type": "application/json"},
    )

    assert response.status == 400
    assert (await response.json())["error"] == "body is not JSON"


async def test_webhook_with_form_bytes_that_are_not_utf8_is_400(
    web: RunningWeb,
) -> None:
    response = await web.client.post(
        "/webhooks/particle",
        data=b"event=photo&data=\xff\xfe&coreid=c&published_at=2026-12-04T10:00:00.000Z",
        headers={**BEARER, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status == 400
    assert "UTF-8" in (await response.json())["error"]


async def test_webhook_with_absurdly_nested_json_is_400(web: RunningWeb) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000

    response = await web.client.post(
        "/webhooks/particle",
        data=nested,
        headers={**BEARER, "Content-Type": "application/json"},
    )

    assert response.status == 400


async def test_webhook_with_other_content_type_is_400(web: RunningWeb) -> None:
    response = await web.client.post(
        "/webhooks/particle",
        data=b"event=photo",
        headers={**BEARER, "Content-Type": "text/plain"},
    )

    assert response.status == 400


async def test_webhook_is_404_when_no_secret_is_configured(
    start_web: StartWeb,
) -> None:
    web = await start_web(webhook_secret=None)

    response = await web.client.post(
        "/webhooks/particle", data=form_of(make_event()), headers=BEARER
    )

    assert response.status == 404


async def test_webhook_is_503_while_the_broker_is_down(
    web_without_broker: RunningWeb,
) -> None:
    response = await web_without_broker.client.post(
        "/webhooks/particle", data=form_of(make_event()), headers=BEARER
    )

    assert response.status == 503
    assert response.headers["Retry-After"] == "5"


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (f"Bearer {WEBHOOK_SECRET}", True),
        (f"bearer  {WEBHOOK_SECRET} ", True),
        ("Basic !!!notbase64", False),
        (f"Token {WEBHOOK_SECRET}", False),
        ("", False),
    ],
)
def test_presents_secret_reads_bearer_and_basic(header: str, accepted: bool) -> None:
    assert presents_secret(header, WEBHOOK_SECRET) is accepted
