"""The web process's aiohttp application: routes, and what runs beside them.

`create_app` wires the parts; the cleanup contexts start the broker link (with
the timeline, calls and live consumers), the device-name look-ups and the
requeuer of pending calls, and stop them in reverse order. The app serves pages
at once: the broker and the database may come later, and /healthz says so.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import aiohttp
from aiohttp import web

from shared.log import get_logger
from shared.settings import Settings
from shared.topology import WebQueueNames

from . import api, health, live, pages, webhooks
from .calls import CallHandler
from .config import WebConfig
from .consumer import Handler, QueueConsumer
from .db import Database
from .devices import DeviceNames
from .http import request_middleware
from .likes import Likes
from .link import BrokerLink, LinkPart, Publisher
from .live import LiveHub, LiveNotifier, LiveRelay
from .metrics import Metrics, metrics_handler
from .particle import ParticleApi
from .repo import Repository
from .services import SERVICES_KEY, Services
from .timeline import TimelineHandler

log = get_logger("web")

# At shutdown the HTTP server gets 5 s for open requests, then consumers 12 s to
# finish what they hold and 3 s to close: 20 s, inside Heroku's 30 s before KILL.
DRAIN_SECONDS = 12.0
HTTP_SHUTDOWN_SECONDS = 5.0
CLOSE_SECONDS = 3.0


def create_app(
    settings: Settings,
    config: WebConfig | None = None,
    database: Database | None = None,
) -> web.Application:
    """The app; `database` defaults to DATABASE_URL's (tests pass their own)."""
    config = config or WebConfig()
    database = database or Database.from_url(settings.database_url)
    metrics = Metrics()
    hub = LiveHub(on_count=metrics.sse_clients.set)
    publisher = Publisher(settings.publish_timeout)
    notifier = LiveNotifier(publisher, hub)
    repo = Repository(database)
    likes = Likes(
        repo,
        publisher,
        notifier,
        metrics,
        like_function=settings.like_function,
        calls_queue=WebQueueNames.for_exchange(settings.events_exchange).calls,
    )

    app = web.Application(middlewares=[request_middleware])
    app[SERVICES_KEY] = Services(
        settings=settings,
        config=config,
        database=database,
        repo=repo,
        metrics=metrics,
        hub=hub,
        live=notifier,
        publisher=publisher,
        likes=likes,
    )
    _add_routes(app)
    app.cleanup_ctx.append(_close_database)
    app.cleanup_ctx.append(_run_beside)
    app.on_shutdown.append(_end_live_streams)
    return app


def _add_routes(app: web.Application) -> None:
    pages.setup_pages(app)
    app.router.add_get("/", pages.timeline_page)
    app.router.add_get("/posts/{id}/picture.svg", pages.picture)
    app.router.add_get("/events", live.events_handler)
    app.router.add_get("/api/posts", api.list_posts)
    app.router.add_get("/api/posts/{id}", api.get_post)
    app.router.add_post("/api/posts/{id}/likes", api.like_post)
    app.router.add_post("/webhooks/particle", webhooks.particle_webhook)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/metrics", metrics_handler)


async def _close_database(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[SERVICES_KEY].database.close()


async def _run_beside(app: web.Application) -> AsyncIterator[None]:
    """The broker link and its consumers, name look-ups and the call requeuer."""
    services = app[SERVICES_KEY]
    settings, config = services.settings, services.config
    timeout = aiohttp.ClientTimeout(total=config.call_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        particle = ParticleApi(settings, session, config.call_timeout)
        device_names = DeviceNames(particle, services.repo, services.live)
        link = BrokerLink(
            settings,
            config,
            services.publisher,
            _consumers(services, particle, device_names),
        )
        tasks = [
            _start(link.run(), "broker_link"),
            _start(device_names.run(), "device_names"),
            _start(services.likes.run_requeuer(config.requeue_after), "requeuer"),
            _start(services.likes.run_marker(), "call_marker"),
        ]
        log.info("web_started", port=settings.port, exchange=settings.events_exchange)
        yield
        link.stop()
        # The link drains its consumers itself; this bound only guards against a hang.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.shield(tasks[0]), DRAIN_SECONDS + CLOSE_SECONDS
            )
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            # Calls confirmed since the marker last ran; else the requeuer of the
            # next process would send them again.
            async with asyncio.timeout(CLOSE_SECONDS):
                await services.likes.mark_confirmed()
        except Exception:
            log.exception("calls_mark_failed_at_shutdown")
    log.info("web_stopped")


def _consumers(
    services: Services, particle: ParticleApi, device_names: DeviceNames
) -> list[LinkPart]:
    settings, config = services.settings, services.config
    names = WebQueueNames.for_exchange(settings.events_exchange)
    timeline = TimelineHandler(
        services.repo,
        services.live,
        device_names,
        services.metrics,
        settings.feed_event,
    )
    calls = CallHandler(services.repo, particle, services.live, services.metrics)

    def consumer(
        queue: str,
        handler: Handler,
        delays: tuple[float, ...],
        prefetch: int,
        width: int,
    ) -> QueueConsumer:
        return QueueConsumer(
            queue,
            handler,
            retry_delays=delays,
            prefetch=prefetch,
            concurrency=width,
            publisher=services.publisher,
            metrics=services.metrics,
            drain_timeout=DRAIN_SECONDS,
        )

    return [
        LiveRelay(services.hub),
        # One at a time, so posts enter the timeline in the order they came.
        consumer(
            names.timeline, timeline, config.timeline_retry_delays, config.prefetch, 1
        ),
        consumer(
            names.calls,
            calls,
            config.call_retry_delays,
            config.call_concurrency,
            config.call_concurrency,
        ),
    ]


def _start(work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    task = asyncio.create_task(work, name=name)
    task.add_done_callback(_report_crash)
    return task


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error(
            "background_task_crashed", task=task.get_name(), exc_info=task.exception()
        )


async def _end_live_streams(app: web.Application) -> None:
    app[SERVICES_KEY].hub.close()
