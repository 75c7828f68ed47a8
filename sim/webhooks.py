"""Webhooks: which events trigger them, and the registry that holds them.

A user's webhook fires for events whose owner is that user; a product's for events
of that product. Either fires only for names starting with its `event` prefix, and
only for one device when `deviceID` is set. Events that webhooks themselves cause
(`hook-sent/…`, `hook-response/…`, `hook-error/…`) never trigger a webhook, as on
Particle. Delivery lives in `sim.hook_delivery`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sim.events import Event, EventBus, iso_millis, utc_now
from sim.hook_delivery import Delivery, HookSender
from sim.ids import random_hex_id
from sim.loopback import NotLoopback, check_loopback_url

REQUEST_TYPES = ("GET", "POST", "PUT", "PATCH", "DELETE")
HOOK_EVENT_PREFIXES = ("hook-sent/", "hook-response/", "hook-error/")
MAX_DELIVERY_LOG = 50


class WebhookRejected(Exception):
    """The webhook's configuration cannot be accepted; the message says why."""


@dataclass
class Webhook:
    id: str
    event: str
    url: str
    request_type: str = "POST"
    owner_id: str | None = None
    product_id: int | None = None
    device_id: str | None = None
    no_defaults: bool = False
    json: Any = None
    form: dict[str, Any] | None = None
    body: str | None = None
    query: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    auth: dict[str, str] | None = None
    response_topic: str | None = None
    error_response_topic: str | None = None
    disabled: bool = False
    created_at: datetime = field(default_factory=utc_now)
    deliveries: list[Delivery] = field(default_factory=list)

    def fires_for(self, event: Event) -> bool:
        if self.disabled or event.name.startswith(HOOK_EVENT_PREFIXES):
            return False
        if not event.name.startswith(self.event):
            return False
        if self.device_id is not None and event.coreid != self.device_id:
            return False
        if self.product_id is not None:
            return event.product_id == self.product_id
        return self.owner_id is not None and event.owner_id == self.owner_id

    def record(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        del self.deliveries[:-MAX_DELIVERY_LOG]

    def listing_view(self) -> dict[str, object]:
        """One entry of `GET /v1/integrations`, Particle's shape."""
        return {
            "id": self.id,
            "event": self.event,
            "created_at": iso_millis(self.created_at),
            "integration_type": "Webhook",
            "url": self.url,
            "requestType": self.request_type,
            **({"deviceID": self.device_id} if self.device_id else {}),
            **({"product_id": self.product_id} if self.product_id else {}),
        }


class WebhookRegistry:
    def __init__(self, bus: EventBus, base_url: str) -> None:
        self._hooks: dict[str, Webhook] = {}
        self.base_url = base_url
        self.sender = HookSender(bus)
        bus.add_listener(self._on_event)

    def create(self, hook_fields: dict[str, Any]) -> Webhook:
        if hook_fields.get("request_type") not in REQUEST_TYPES:
            raise WebhookRejected(
                f"requestType must be one of {', '.join(REQUEST_TYPES)}"
            )
        try:
            check_loopback_url(str(hook_fields.get("url", "")))
        except NotLoopback as refused:
            raise WebhookRejected(str(refused)) from None

        hook = Webhook(id=random_hex_id(), **hook_fields)
        self._hooks[hook.id] = hook
        return hook

    def find(self, hook_id: str) -> Webhook | None:
        return self._hooks.get(hook_id)

    def visible_to(self, owner_id: str | None, product_id: int | None) -> list[Webhook]:
        if product_id is not None:
            return [h for h in self._hooks.values() if h.product_id == product_id]
        return [
            h
            for h in self._hooks.values()
            if h.product_id is None and h.owner_id == owner_id
        ]

    def delete(self, hook_id: str) -> bool:
        return self._hooks.pop(hook_id, None) is not None

    def all(self) -> list[Webhook]:
        return list(self._hooks.values())

    def clear(self) -> None:
        self._hooks.clear()

    def _on_event(self, event: Event) -> None:
        for hook in list(self._hooks.values()):
            if hook.fires_for(event):
                self.sender.send_later(hook, event)
