"""The timeline queue's handler: feed events become posts, spark/status moves
a device online or offline.

Both effects are idempotent (a post is keyed by its event id, a status applies only
if it is not older than the last one applied), so the handler may see any event
any number of times, from the stream or from a webhook, and the timeline holds it
once. Other events that reach the queue are acked and ignored.
"""

from __future__ import annotations

from shared.events import InvalidEventError, ParticleEvent, check_name, parse_fields
from shared.log import bind

from .consumer import Delivery
from .devices import DeviceNames
from .errors import MessageUndecodable
from .live import LiveNotifier
from .metrics import Metrics
from .repo import Repository
from .views import device_json

STATUS_EVENT = "spark/status"
STATUS_VALUES = {"online": True, "offline": False}


def is_feed_event(name: str, feed_event: str) -> bool:
    return name == feed_event or name.startswith(f"{feed_event}/")


def decode_event(body: bytes) -> ParticleEvent:
    """The event the worker (or the webhook) published: Particle's fields + name."""
    try:
        fields = parse_fields(body.decode("utf-8"))
        name = fields.pop("name", None)
        return ParticleEvent(
            name=check_name(name if isinstance(name, str) else ""), fields=fields
        )
    except UnicodeDecodeError:
        raise MessageUndecodable("body is not UTF-8") from None
    except InvalidEventError as error:
        raise MessageUndecodable(error.reason) from None


class TimelineHandler:
    def __init__(
        self,
        repo: Repository,
        live: LiveNotifier,
        device_names: DeviceNames,
        metrics: Metrics,
        feed_event: str,
    ) -> None:
        self._repo = repo
        self._live = live
        self._device_names = device_names
        self._metrics = metrics
        self._feed_event = feed_event

    async def __call__(self, delivery: Delivery) -> str:
        event = decode_event(delivery.body)
        if is_feed_event(event.name, self._feed_event):
            return await self._store_post(event)
        if event.name == STATUS_EVENT:
            return await self._store_status(event)
        return "ignored"

    async def _store_post(self, event: ParticleEvent) -> str:
        view = await self._repo.add_post(event)
        if view is None:
            return "duplicate"
        self._metrics.posts_stored.inc()
        await self._live.announce("post", view.as_json())
        if view.device.name is None:
            self._device_names.look_up(event.coreid)
        # Bound, so the consumer's one line for this message names the post.
        bind(post_id=view.post.id)
        return "stored"

    async def _store_status(self, event: ParticleEvent) -> str:
        online = STATUS_VALUES.get(event.data)
        if online is None:
            return "ignored"  # auto-update and the like say nothing lasting
        device = await self._repo.set_device_online(
            event.coreid, online, event.published_at
        )
        if device is None:
            return "stale"
        await self._live.announce("device", device_json(device))
        return "online" if online else "offline"
