"""The fleet page at `/sim/`, its live feed, its assets, and the devices' pictures.

The page renders nothing itself beyond a shell: `fleet.js` listens to `/sim/live`,
an SSE feed that sends the whole `/sim/state` document whenever the fleet changes
(coalesced, at most about ten times a second) and a comment every 15 seconds.
Everything is served from this package; the page loads nothing from elsewhere.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from sim.cloud import cloud_of
from sim.errors import ApiError
from sim.pictures import picture_svg
from sim.routes_control import cloud_state

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
LIVE_HEARTBEAT = 15.0
COALESCE_SECONDS = 0.1
MAX_PICTURE = 10_000_000

routes = web.RouteTableDef()


@routes.get("/sim")
async def page_without_slash(request: web.Request) -> web.Response:
    raise web.HTTPFound("/sim/")


@routes.get("/sim/")
@aiohttp_jinja2.template("fleet.html")
async def fleet_page(request: web.Request) -> dict[str, object]:
    cloud = cloud_of(request)
    return {
        "base_url": cloud.settings.base_url,
        "product": cloud.product,
        "device_count": len(cloud.fleet.devices),
    }


@routes.get("/sim/live")
async def live_feed(request: web.Request) -> web.StreamResponse:
    cloud = cloud_of(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)

    version = -1
    try:
        while _still_connected(request) and not cloud.stopping:
            if version != cloud.changes.version:
                version = cloud.changes.version
                document = json.dumps(cloud_state(cloud), separators=(",", ":"))
                await response.write(f"event: state\ndata: {document}\n\n".encode())
                await asyncio.sleep(COALESCE_SECONDS)
                continue
            moved = await cloud.changes.wait_past(version, LIVE_HEARTBEAT)
            if moved == version:
                await response.write(b": still here\n\n")
    except ConnectionResetError:
        pass
    return response


def _still_connected(request: web.Request) -> bool:
    return request.transport is not None and not request.transport.is_closing()


@routes.get("/sim/pictures/{number:\\d+}.svg")
async def picture(request: web.Request) -> web.Response:
    number = int(request.match_info["number"])
    if number > MAX_PICTURE:
        raise ApiError.not_found("No such picture")

    return web.Response(
        text=picture_svg(number),
        content_type="image/svg+xml",
        # The same number always draws the same picture.
        headers={"Cache-Control": "public, max-age=86400, immutable"},
    )
