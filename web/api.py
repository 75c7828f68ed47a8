"""The JSON API: the timeline, one post with its calls, and likes.

    GET  /api/posts?limit=N&before=ID   {"posts": [...]}, newest first
    GET  /api/posts/{id}                one post, with "calls"
    POST /api/posts/{id}/likes          202 {"likes": n}; the device call is queued

Bad parameters answer 400 with {"error": ...}; an unknown post 404.
"""

from __future__ import annotations

from aiohttp import web

from .http import BadParameter, json_error
from .services import SERVICES_KEY

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


async def list_posts(request: web.Request) -> web.Response:
    limit = _positive(request.query.get("limit", str(DEFAULT_LIMIT)), "limit")
    before_text = request.query.get("before")
    before = None if before_text is None else _positive(before_text, "before")
    if limit > MAX_LIMIT:
        raise BadParameter(f"limit must be between 1 and {MAX_LIMIT}")
    posts = await request.app[SERVICES_KEY].repo.list_posts(limit, before)
    return web.json_response({"posts": [post.as_json() for post in posts]})


async def get_post(request: web.Request) -> web.Response:
    post_id = _post_id(request)
    view = await request.app[SERVICES_KEY].repo.get_post(post_id)
    if view is None:
        return json_error(404, f"no post {post_id}")
    return web.json_response(view.as_json(with_calls=True))


async def like_post(request: web.Request) -> web.Response:
    """Counts the like now; the device function call happens later, off the queue."""
    # TODO: every like calls a device, and nothing limits how fast one browser may
    # like; a per-client token bucket here would retire that.
    post_id = _post_id(request)
    likes = await request.app[SERVICES_KEY].likes.like(post_id)
    if likes is None:
        return json_error(404, f"no post {post_id}")
    return web.json_response({"likes": likes}, status=202)


def _post_id(request: web.Request) -> int:
    return _positive(request.match_info["id"], "post id")


def _positive(text: str, name: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise BadParameter(
            f"{name} must be a whole number from 1 to {MAX_ID}, got {text!r}"
        )
    return int(text)
