"""`POST /webhooks/particle`: Particle's webhooks into the events exchange.

The body is Particle's default webhook, form-encoded or its JSON template (event,
data, coreid, published_at). It is published exactly as the worker would publish
the same event from the stream (same body, same event id, `app_id` "webhook"), so
the timeline stores it once whichever copy comes first.

Answers: 200 once the broker confirmed; 400 for a body that is not an event, and
nothing is published; 401 without the secret (HTTP Basic password, or Bearer);
503 while the broker is away, so Particle tries again; 404 when WEBHOOK_SECRET is
unset, as if there were no such endpoint.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from shared.events import (
    InvalidEventError,
    ParticleEvent,
    build_message,
    check_fields,
    parse_timestamp,
)
from shared.log import bind

from .errors import BrokerUnavailable
from .http import json_error
from .services import SERVICES_KEY

# Fields of Particle's event JSON a webhook body may carry; anything else is the
# integration's own and stays out of the event.
PARTICLE_FIELDS = (
    "data",
    "ttl",
    "published_at",
    "coreid",
    "userid",
    "version",
    "public",
    "productID",
)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Particle's own limits: event names of 1 to 64 characters, data up to 16 KB (Device
# OS 6.3). Particle never sends more, so a bigger body is not a Particle webhook.
MAX_NAME_LENGTH = 64
MAX_DATA_BYTES = 16 * 1024
RETRY_AFTER_SECONDS = "5"


async def particle_webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    secret = services.settings.webhook_secret
    if secret is None:
        return _answer(request, json_error(404, "not found"))
    if not presents_secret(request.headers.get("Authorization", ""), secret):
        response = json_error(401, "the webhook secret is missing or wrong")
        response.headers["WWW-Authenticate"] = 'Basic realm="particle-webhook"'
        return _answer(request, response)

    try:
        event = webhook_event(await _read_body(request))
    except InvalidEventError as error:
        return _answer(request, json_error(400, error.reason))
    bind(event_id=event.event_id, event_name=event.name)

    try:
        await services.publisher.to_events(
            build_message(event, "webhook"), event.routing_key
        )
    except BrokerUnavailable:
        response = json_error(503, "the message broker is unavailable, try again")
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return _answer(request, response)
    return _answer(request, web.json_response({"ok": True, "event_id": event.event_id}))


def presents_secret(authorization: str, secret: str) -> bool:
    """Whether the header carries the secret as Basic password or Bearer token."""
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        offered = credentials
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        offered = decoded.partition(":")[2]
    else:
        return False
    # Constant time, so the answer's timing does not leak how much was right.
    return hmac.compare_digest(offered.encode("utf-8"), secret.encode("utf-8"))


def webhook_event(body: Mapping[str, Any]) -> ParticleEvent:
    """The event a webhook body describes; `InvalidEventError` says what is wrong."""
    name = body.get("event")
    if not isinstance(name, str) or not name:
        raise InvalidEventError("event is missing or not a string")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidEventError(f"event is longer than {MAX_NAME_LENGTH} characters")
    fields = {key: body[key] for key in PARTICLE_FIELDS if key in body}
    check_fields(fields)
    if parse_timestamp(fields["published_at"]) is None:
        raise InvalidEventError("published_at is not an ISO-8601 time")
    data = fields.get("data")
    if data is not None and not isinstance(data, str):
        raise InvalidEventError("data is not a string")
    if data is not None and len(data.encode("utf-8")) > MAX_DATA_BYTES:
        raise InvalidEventError(f"data is larger than {MAX_DATA_BYTES} bytes")
    return ParticleEvent(name=name, fields=fields)


async def _read_body(request: web.Request) -> Mapping[str, Any]:
    content_type = request.content_type
    if content_type in FORM_TYPES:
        try:
            form = await request.post()
        except ValueError:  # UnicodeDecodeError included: bytes that are not UTF-8
            raise InvalidEventError("body is not a UTF-8 form") from None
        return {key: value for key, value in form.items() if isinstance(value, str)}
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise InvalidEventError("body is not JSON") from None
        if not isinstance(body, dict):
            raise InvalidEventError("body is not a JSON object")
        return body
    raise InvalidEventError(f"unsupported content type {content_type!r}")


def _answer(request: web.Request, response: web.Response) -> web.Response:
    metrics = request.app[SERVICES_KEY].metrics
    metrics.webhooks.labels(status=str(response.status)).inc()
    return response
