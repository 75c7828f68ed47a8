"""The application factory: one simulated cloud behind Particle's routes and `/sim/`.

`create_app(settings)` builds everything in memory and returns an aiohttp
application that tests can serve in-process (aiohttp's TestServer) and that
`python -m sim` serves on SIM_HOST:SIM_PORT. Background work (random presses,
webhook calls) starts and stops with the application.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import AsyncIterator

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from shared.log import get_logger
from sim import (
    page,
    routes_control,
    routes_customers,
    routes_devices,
    routes_faults,
    routes_oauth,
    routes_streams,
    routes_webhooks,
)
from sim.cloud import CLOUD_KEY, Cloud
from sim.errors import ApiError
from sim.responses import json_response
from sim.settings import Settings
from sim.streams import Drop

API_PREFIXES = ("/v1/", "/oauth/")
CONTROL_PREFIX = "/sim/"

log = get_logger("sim.http")


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[_log_request, _answer_errors, _preflight, _guard_control]
    )
    app[CLOUD_KEY] = Cloud.build(settings)
    aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(page.TEMPLATES_DIR), autoescape=True
    )

    # Streams first: their literal `events` segments must win over `{variable}`.
    for table in (
        routes_streams.routes,
        routes_devices.routes,
        routes_oauth.routes,
        routes_customers.routes,
        routes_webhooks.routes,
        routes_control.routes,
        routes_faults.routes,
        page.routes,
    ):
        app.router.add_routes(table)
    app.router.add_static("/sim/static/", page.STATIC_DIR)

    app.cleanup_ctx.append(_background_work)
    app.on_shutdown.append(_end_streams)
    app.on_response_prepare.append(_allow_cross_origin)
    return app


async def _background_work(app: web.Application) -> AsyncIterator[None]:
    cloud = app[CLOUD_KEY]
    await cloud.webhooks.sender.start()
    cloud.fleet.start()

    yield

    await cloud.fleet.stop()
    await cloud.webhooks.sender.stop()


async def _end_streams(app: web.Application) -> None:
    # Open streams would hold shutdown up; end them the way a deploy would.
    cloud = app[CLOUD_KEY]
    cloud.stopping = True
    cloud.streams.command_all(Drop(clean=True))
    cloud.changes.notify()


@web.middleware
async def _log_request(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.monotonic()
    response = await handler(request)

    # Event streams log their own line when they close, with what they carried.
    if response.content_type != "text/event-stream":
        log.info(
            "http_request",
            method=request.method,
            path=request.path,
            status=response.status,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
    return response


@web.middleware
async def _answer_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return json_response(error.body, status=error.status, headers=error.headers)
    except web.HTTPClientError as error:
        # Particle answers JSON everywhere; particle-api-js parses error bodies.
        if not request.path.startswith(API_PREFIXES):
            raise
        body = {"ok": False, "error": error.reason}
        return json_response(body, status=error.status)


@web.middleware
async def _guard_control(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only this machine may drive the fleet, even when bound beyond loopback."""
    changes_state = request.method not in ("GET", "HEAD", "OPTIONS")
    is_control = request.path.startswith(CONTROL_PREFIX)
    if changes_state and is_control and not _is_loopback(request.remote):
        raise ApiError(403, {"ok": False, "error": "The control API is loopback-only"})
    return await handler(request)


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


async def _allow_cross_origin(
    request: web.Request, response: web.StreamResponse
) -> None:
    if request.path.startswith(API_PREFIXES):
        response.headers.setdefault("Access-Control-Allow-Origin", "*")


@web.middleware
async def _preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Browsers ask before calling the API from another origin; always say yes."""
    if request.method != "OPTIONS" or not request.path.startswith(API_PREFIXES):
        return await handler(request)
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": "600",
        },
    )
