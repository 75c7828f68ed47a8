"""Prometheus metrics of one web process, served at `GET /metrics`.

Each app gets its own registry, so several apps in one test process do not clash.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

from .services import SERVICES_KEY


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.posts_stored = Counter(
            "web_posts_stored", "Timeline posts stored", registry=self.registry
        )
        self.likes = Counter("web_likes", "Likes counted", registry=self.registry)
        self.function_calls = Counter(
            "web_function_calls",
            "Device function calls made for likes, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.consumer_messages = Counter(
            "web_consumer_messages",
            "Messages consumed, by queue and outcome",
            ["queue", "outcome"],
            registry=self.registry,
        )
        self.webhooks = Counter(
            "web_webhooks",
            "Particle webhook requests, by HTTP status answered",
            ["status"],
            registry=self.registry,
        )
        self.sse_clients = Gauge(
            "web_sse_clients", "Browsers connected to /events", registry=self.registry
        )


async def metrics_handler(request: web.Request) -> web.Response:
    body = generate_latest(request.app[SERVICES_KEY].metrics.registry)
    response = web.Response(body=body)
    # prometheus-client's content type carries the exposition version parameter.
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
