"""The pages people see: the timeline at `/` and the pictures the app draws.

The timeline is rendered on the server (it reads without JavaScript) and then kept
live by `static/app.js`, which fills new cards from the same `<template>` markup
and the same JSON the API serves. Every asset is served from `static/`; nothing
is fetched from another site.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from .pictures import caption_card, is_picture_url
from .services import SERVICES_KEY

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
FIRST_PAGE = 20
# Drawn pictures depend on the post alone, which never changes.
PICTURE_CACHE = "public, max-age=86400, immutable"
PICTURE_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
# The <template> card app.js clones for live posts: the same macro, no values.
BLANK_POST: dict[str, Any] = {
    "id": "",
    "device_id": "",
    "device": {"id": "", "display_name": "", "initials": "", "hue": 0, "online": None},
    "caption": None,
    "image_url": "",
    "published_at": "",
    "likes": 0,
    "last_call": None,
}


def setup_pages(app: web.Application) -> None:
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "svg"]),
        undefined=jinja2.StrictUndefined,
        filters={"when": friendly_time},
    )
    app.router.add_static("/static", STATIC_DIR, name="static", append_version=True)


async def timeline_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    posts = await services.repo.list_posts(FIRST_PAGE)
    context = {
        "posts": [post.as_json() for post in posts],
        "blank_post": BLANK_POST,
        "page_size": FIRST_PAGE,
        "like_function": services.settings.like_function,
        "static": lambda name: _static_url(request, name),
    }
    return aiohttp_jinja2.render_template("timeline.html", request, context)


async def picture(request: web.Request) -> web.StreamResponse:
    """The drawn card of a post whose data is text; a URL post redirects to it."""
    text = request.match_info["id"]
    if not text.isdigit() or len(text) > 10:
        raise web.HTTPNotFound()
    view = await request.app[SERVICES_KEY].repo.get_post(int(text))
    if view is None:
        raise web.HTTPNotFound()
    if is_picture_url(view.post.data):
        raise web.HTTPFound(view.post.data.strip())
    card = caption_card(view.post.event_id, view.post.data)
    svg = aiohttp_jinja2.render_string("picture.svg", request, {"card": card})
    return web.Response(
        text=svg,
        content_type="image/svg+xml",
        headers={
            "Cache-Control": PICTURE_CACHE,
            "Content-Security-Policy": PICTURE_POLICY,
        },
    )


def friendly_time(published_at: str) -> str:
    """`Jan 5, 14:29 UTC` for the first paint; the page then shows relative times."""
    try:
        instant = datetime.fromisoformat(published_at.replace("Z", "+00:00"))
    except ValueError:
        return published_at
    return instant.strftime("%b %-d, %H:%M UTC")


def _static_url(request: web.Request, name: str) -> Any:
    # append_version adds ?v=<hash>, so a new deploy never serves a stale asset.
    return request.app.router["static"].url_for(filename=name)
