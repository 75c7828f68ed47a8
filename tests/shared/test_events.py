"""The event model: ids, routing keys, validation and the AMQP message."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aio_pika
import pytest

from shared.events import (
    INVALID_REASON_HEADER,
    InvalidEvent,
    ParticleEvent,
    build_invalid_message,
    build_message,
    build_properties,
    event_id,
    parse_stream_event,
    routing_key,
)

FIELDS: dict[str, Any] = {
    "data": "hello",
    "ttl": 60,
    "published_at": "2026-12-04T10:00:00.000Z",
    "coreid": "e00fce68a1b2c3d4e5f60718",
}


def test_event_id_is_sha256_of_the_four_fields() -> None:
    key = "e00fce68a1b2c3d4e5f60718\nphoto\n2026-12-04T10:00:00.000Z\nhello"

    assert event_id(
        "e00fce68a1b2c3d4e5f60718", "photo", "2026-12-04T10:00:00.000Z", "hello"
    ) == (hashlib.sha256(key.encode()).hexdigest())


def test_event_id_counts_null_data_as_empty_string() -> None:
    event = parse_stream_event("photo", json.dumps({**FIELDS, "data": None}))

    assert isinstance(event, ParticleEvent)
    assert event.event_id == event_id(
        FIELDS["coreid"], "photo", FIELDS["published_at"], ""
    )


def test_routing_key_turns_slashes_into_dots() -> None:
    assert routing_key("spark/status/safe-mode") == "spark.status.safe-mode"


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("photo", "{not json", "data is not JSON"),
        ("photo", "[1, 2]", "data is not a JSON object"),
        ("photo", json.dumps({"data": "x", "coreid": "c"}), "published_at"),
        ("photo", json.dumps({"data": "x", "published_at": "t"}), "coreid"),
        ("photo", json.dumps({**FIELDS, "coreid": 7}), "coreid"),
        ("", json.dumps(FIELDS), "event has no name"),
    ],
)
def test_parse_stream_event_names_why_it_is_invalid(
    name: str, text: str, reason: str
) -> None:
    event = parse_stream_event(name, text)

    assert isinstance(event, InvalidEvent)
    assert reason in event.reason
    assert event.raw == text


def test_build_message_keeps_particle_fields_and_adds_name() -> None:
    fields = {**FIELDS, "userid": "u1", "version": 3, "public": False, "productID": 9}
    event = ParticleEvent("spark/status", fields)

    message = build_message(event, "worker")

    assert json.loads(message.body) == {**fields, "name": "spark/status"}
    assert message.message_id == event.event_id
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert (message.content_type, message.app_id) == ("application/json", "worker")
    assert message.headers == {
        "particle-event": "spark/status",
        "particle-device": FIELDS["coreid"],
        "particle-published-at": FIELDS["published_at"],
    }
    assert message.timestamp is not None
    assert message.timestamp.year == 2026


def test_build_message_keeps_non_ascii_data_as_utf8() -> None:
    event = ParticleEvent("note", {**FIELDS, "data": "café ☕"})

    assert "café ☕".encode() in build_message(event, "worker").body


def test_build_invalid_message_carries_raw_text_and_reason() -> None:
    message = build_invalid_message(InvalidEvent("x", "{bad", "data is not JSON"), "w")

    assert message.body == b"{bad"
    assert message.headers[INVALID_REASON_HEADER] == "data is not JSON"


def test_unparseable_published_at_leaves_timestamp_unset() -> None:
    event = ParticleEvent("photo", {**FIELDS, "published_at": "yesterday"})

    assert build_message(event, "worker").timestamp is None


def test_encoded_body_keeps_particles_text_verbatim() -> None:
    raw = '{"data":"1.50","ttl":60.0,"published_at":"t","coreid":"c","x":"\\u00e9"}'
    event = parse_stream_event("photo", raw)

    assert isinstance(event, ParticleEvent)
    assert event.encoded_body() == raw[:-1].encode() + b',"name":"photo"}'


def test_encoded_body_lets_the_event_name_win_over_a_name_field() -> None:
    raw = json.dumps({**FIELDS, "name": "spoofed"})
    event = parse_stream_event("photo", raw)

    assert isinstance(event, ParticleEvent)
    assert json.loads(event.encoded_body())["name"] == "photo"
    assert event.encoded_body().count(b'"name"') == 1


def test_build_properties_match_build_message() -> None:
    event = ParticleEvent("photo", FIELDS)

    properties = build_properties(event, "worker")
    message = build_message(event, "worker")

    assert properties.message_id == message.message_id
    assert properties.headers == message.headers
    assert properties.delivery_mode == 2
    assert properties.timestamp == message.timestamp
