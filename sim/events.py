"""Cloud events, their two wire shapes, and the bus that fans them out.

Everything that happens in the simulated cloud (a button press, a status change, a
publish through the API, a webhook outcome) becomes one `Event` on the `EventBus`.
Open streams subscribe with a predicate saying which events they may see; webhooks
and the fleet page listen to all of them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_TTL = 60
API_COREID = "api"
INTERNAL_COREID = "particle-internal"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_millis(moment: datetime) -> str:
    """Particle's timestamp format: UTC, milliseconds, a literal Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True, kw_only=True)
class Event:
    name: str
    data: str | None
    coreid: str
    published_at: datetime = field(default_factory=utc_now)
    ttl: int = DEFAULT_TTL
    # Whose developer streams (`/v1/devices/events`) carry it; None: nobody's.
    owner_id: str | None = None
    # Which product's streams carry it; None: no product stream.
    product_id: int | None = None
    # Product-stream fields: the device owner ("" when unowned) and firmware version.
    userid: str = ""
    version: int = 0

    def developer_fields(self) -> dict[str, Any]:
        """The four fields developer and device streams carry, in Particle's order."""
        return {
            "data": self.data,
            "ttl": self.ttl,
            "published_at": iso_millis(self.published_at),
            "coreid": self.coreid,
        }

    def product_fields(self) -> dict[str, Any]:
        """What product and organization streams carry: four more fields."""
        return {
            **self.developer_fields(),
            "userid": self.userid,
            "version": self.version,
            "public": False,
            "productID": self.product_id,
        }

    def sse_frame(self, *, product_shape: bool) -> bytes:
        fields = self.product_fields() if product_shape else self.developer_fields()
        data = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        return f"event: {self.name}\ndata: {data}\n\n".encode()

    def summary(self) -> dict[str, Any]:
        """A JSON view for the control API and the fleet page."""
        return {"name": self.name, **self.developer_fields()}


EventFilter = Callable[[Event], bool]
EventListener = Callable[[Event], None]


class Subscription:
    """One consumer's queue of matching events; the oldest go when it falls behind."""

    def __init__(self, matches: EventFilter, max_pending: int = 10_000) -> None:
        self.matches = matches
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=max_pending)
        self.dropped = 0

    def offer(self, item: Any) -> None:
        if self.queue.full():
            # A consumer this far behind has lost events anyway; keep the newest.
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)


class EventBus:
    """Synchronous fan-out: publishing never waits on a slow consumer."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._listeners: list[EventListener] = []
        self.published = 0

    def subscribe(self, matches: EventFilter) -> Subscription:
        subscription = Subscription(matches)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def add_listener(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def publish(self, event: Event) -> None:
        self.published += 1
        for subscription in list(self._subscriptions):
            if subscription.matches(event):
                subscription.offer(event)
        for listener in self._listeners:
            listener(event)
