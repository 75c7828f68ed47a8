"""What the request handlers reach through `request.app[SERVICES_KEY]`.

The app factory builds one `Services` per app; the classes are imported only for
type checking, so any module may import this one without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from shared.settings import Settings

    from .config import WebConfig
    from .db import Database
    from .likes import Likes
    from .link import Publisher
    from .live import LiveHub, LiveNotifier
    from .metrics import Metrics
    from .repo import Repository


@dataclass(frozen=True)
class Services:
    settings: Settings
    config: WebConfig
    database: Database
    repo: Repository
    metrics: Metrics
    hub: LiveHub
    live: LiveNotifier
    publisher: Publisher
    likes: Likes


SERVICES_KEY = web.AppKey("services", Services)
