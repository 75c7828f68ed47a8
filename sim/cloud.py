"""The whole simulated cloud in one object, handed to every route through the app."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

from sim.changes import ChangeSignal
from sim.clients import ClientRegistry
from sim.customers import CustomerRegistry
from sim.events import Event, EventBus
from sim.faults import FaultPlan
from sim.fleet import Fleet
from sim.journal import SentJournal
from sim.limits import StreamOpenLimiter
from sim.settings import Settings
from sim.streams import StreamRegistry
from sim.tokens import AccessToken, TokenKind, TokenStore
from sim.webhooks import WebhookRegistry

RECENT_EVENTS = 50


@dataclass(frozen=True)
class Product:
    id: int
    slug: str
    org_slug: str
    name: str = "Photo Button (simulated)"

    def is_called(self, reference: str) -> bool:
        return reference in (str(self.id), self.slug)


@dataclass
class Cloud:
    settings: Settings
    bus: EventBus
    changes: ChangeSignal
    fleet: Fleet
    product: Product
    tokens: TokenStore
    clients: ClientRegistry
    customers: CustomerRegistry
    streams: StreamRegistry
    faults: FaultPlan
    limiter: StreamOpenLimiter
    webhooks: WebhookRegistry
    recent_events: deque[Event] = field(
        default_factory=lambda: deque(maxlen=RECENT_EVENTS)
    )
    # Every event a stream wrote in full, for `GET /sim/streams/sent`.
    sent: SentJournal = field(default_factory=SentJournal)
    # Set at shutdown so long-lived feeds stop waiting for the next change.
    stopping: bool = False

    @classmethod
    def build(cls, settings: Settings) -> Cloud:
        bus = EventBus()
        changes = ChangeSignal()
        fleet = Fleet(settings, bus, changes)
        cloud = cls(
            settings=settings,
            bus=bus,
            changes=changes,
            fleet=fleet,
            product=Product(
                settings.product_id, settings.product_slug, settings.org_slug
            ),
            tokens=TokenStore(),
            clients=ClientRegistry(settings),
            customers=CustomerRegistry(settings.seed),
            streams=StreamRegistry(bus),
            faults=FaultPlan(),
            limiter=StreamOpenLimiter(
                settings.stream_open_limit, settings.stream_open_window
            ),
            webhooks=WebhookRegistry(bus, settings.base_url),
        )
        cloud.tokens.add(cloud.developer_token())
        bus.add_listener(cloud.remember)
        return cloud

    def developer_token(self) -> AccessToken:
        """SIM_ACCESS_TOKEN: the fleet owner's token, valid until revoked."""
        return AccessToken(
            value=self.settings.access_token,
            kind=TokenKind.USER,
            client_id="particle",
            user_id=self.fleet.developer_id,
        )

    def remember(self, event: Event) -> None:
        self.recent_events.append(event)
        self.changes.notify()

    def is_team_member(self, token: AccessToken) -> bool:
        """May this token use the product's (and its organization's) endpoints?"""
        if token.kind is TokenKind.PRODUCT:
            return token.product_id == self.product.id
        return token.kind is TokenKind.USER and token.user_id == self.fleet.developer_id

    def reset(self) -> None:
        """Back to the start state: tokens, customers, clients, faults, fleet; the
        sent journal starts over from index 1."""
        self.tokens.clear()
        self.tokens.add(self.developer_token())
        self.customers.clear()
        self.clients.restore()
        self.faults.clear()
        self.limiter.clear()
        self.webhooks.clear()
        self.recent_events.clear()
        self.sent.clear()
        self.fleet.restore()


CLOUD_KEY = web.AppKey("sim.cloud", Cloud)


def cloud_of(request: web.Request) -> Cloud:
    return request.app[CLOUD_KEY]
