"""The event model: one Particle event, its id, routing key and AMQP message.

The worker (from the SSE stream) and the web process (from webhooks) both build
messages here, so an event has the same id and the same shape whichever way it came
in; that shared id is what lets consumers drop duplicates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aio_pika
from pamqp.commands import Basic

INVALID_REASON_HEADER = "particle-invalid-reason"
PERSISTENT = int(aio_pika.DeliveryMode.PERSISTENT)


@dataclass(frozen=True)
class ParticleEvent:
    """A valid event: its name and the fields of Particle's `data:` JSON, as sent."""

    name: str
    fields: Mapping[str, Any]
    # The `data:` JSON as received, when there was one: the body keeps it verbatim.
    raw: str | None = field(default=None, compare=False, repr=False)

    @property
    def coreid(self) -> str:
        return str(self.fields["coreid"])

    @property
    def published_at(self) -> str:
        return str(self.fields["published_at"])

    @property
    def data(self) -> str:
        return data_as_text(self.fields.get("data"))

    @property
    def event_id(self) -> str:
        return event_id(self.coreid, self.name, self.published_at, self.data)

    @property
    def routing_key(self) -> str:
        return routing_key(self.name)

    def body(self) -> dict[str, Any]:
        """Particle's fields untouched, plus the name the `event:` line carried."""
        return {**self.fields, "name": self.name}

    def encoded_body(self) -> bytes:
        """`body()` as UTF-8 JSON: Particle's own text with `"name"` spliced in.

        Splicing keeps every byte Particle sent (number formats, key order, escapes)
        and skips re-serialising each event. Without raw text, or if Particle's JSON
        already had a `name` key, the fields are serialised instead.
        """
        name = json.dumps(self.name, ensure_ascii=False)
        if self.raw is not None and "name" not in self.fields:
            head = self.raw.strip()[:-1].rstrip()
            return f'{head},"name":{name}}}'.encode()
        return json.dumps(
            self.body(), separators=(",", ":"), ensure_ascii=False
        ).encode()


@dataclass(frozen=True)
class InvalidEvent:
    """Something that arrived as an event but breaks the contract, kept as raw text."""

    name: str
    raw: str
    reason: str


class InvalidEventError(ValueError):
    """The text cannot be a Particle event; `reason` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def event_id(coreid: str, name: str, published_at: str, data: str) -> str:
    """The lowercase hex SHA-256 that identifies one event wherever it came from."""
    key = "\n".join((coreid, name, published_at, data))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def routing_key(name: str) -> str:
    # Topic exchanges split keys on dots, so Particle's slashes become dots.
    return name.replace("/", ".")


def data_as_text(data: Any) -> str:
    """`data` as the text that enters the event id: null is the empty string.

    Particle always sends a string; a local cloud may send null. Anything else (a
    number, an object) is taken as its compact JSON text so the id stays stable.
    """
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def parse_stream_event(name: str, text: str) -> ParticleEvent | InvalidEvent:
    """Turn an SSE event (the `event:` name and the `data:` text) into an event."""
    try:
        return ParticleEvent(name=check_name(name), fields=parse_fields(text), raw=text)
    except InvalidEventError as error:
        return InvalidEvent(name=name, raw=text, reason=error.reason)


def check_name(name: str) -> str:
    if not name:
        raise InvalidEventError("event has no name")
    return name


def parse_fields(text: str) -> dict[str, Any]:
    """Parse Particle's `data:` JSON and check the fields the contract relies on."""
    try:
        fields = json.loads(text)
    except ValueError:
        raise InvalidEventError("data is not JSON") from None
    if not isinstance(fields, dict):
        raise InvalidEventError("data is not a JSON object")
    check_fields(fields)
    return fields


def check_fields(fields: Mapping[str, Any]) -> None:
    for required in ("published_at", "coreid"):
        value = fields.get(required)
        if not isinstance(value, str) or not value:
            raise InvalidEventError(f"{required} is missing or not a string")


def build_message(event: ParticleEvent, app_id: str) -> aio_pika.Message:
    """The persistent AMQP message for a valid event, with the contract's properties."""
    return aio_pika.Message(body=event.encoded_body(), **_properties_of(event, app_id))


def build_properties(event: ParticleEvent, app_id: str) -> Basic.Properties:
    """The same message's properties for publishing through aiormq directly, which
    saves the worker building an aio-pika Message per event on its hot path."""
    return Basic.Properties(**_properties_of(event, app_id))


def _properties_of(event: ParticleEvent, app_id: str) -> dict[str, Any]:
    return {
        "message_id": event.event_id,
        "content_type": "application/json",
        "delivery_mode": PERSISTENT,
        "timestamp": parse_timestamp(event.published_at),
        "app_id": app_id,
        "headers": {
            "particle-event": event.name,
            "particle-device": event.coreid,
            "particle-published-at": event.published_at,
        },
    }


def build_invalid_message(event: InvalidEvent, app_id: str) -> aio_pika.Message:
    """The message for the invalid exchange: the raw text and the reason it failed."""
    return aio_pika.Message(
        body=event.raw.encode("utf-8"), **_invalid_properties_of(event, app_id)
    )


def build_invalid_properties(event: InvalidEvent, app_id: str) -> Basic.Properties:
    return Basic.Properties(**_invalid_properties_of(event, app_id))


def _invalid_properties_of(event: InvalidEvent, app_id: str) -> dict[str, Any]:
    return {
        "content_type": "text/plain; charset=utf-8",
        "delivery_mode": PERSISTENT,
        "app_id": app_id,
        "headers": {INVALID_REASON_HEADER: event.reason, "particle-event": event.name},
    }


def parse_timestamp(published_at: str) -> datetime | None:
    # Particle writes ISO-8601 with a Z; an unreadable value just leaves it unset.
    try:
        return datetime.fromisoformat(published_at.replace("Z", "+00:00"))
    except ValueError:
        return None
