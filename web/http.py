"""What every HTTP answer shares: JSON errors, one log line, security headers.

The middleware is the HTTP boundary: `BadParameter` becomes a 400 and an
exception a handler did not expect a 500, both with a JSON body (never a
traceback), and each request gets exactly one `request_handled` line carrying
whatever the handler bound (event id, ...).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from shared.log import get_logger

log = get_logger("web.http")

# Everything the page uses is served from here; pictures may come from anywhere
# a device points (http or https), scripts and styles from nowhere else.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' http: https: data:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
QUIET_PREFIXES = ("/static/", "/posts/")
IMMUTABLE = "public, max-age=31536000, immutable"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadParameter(ValueError):
    """A query or path parameter is not what the endpoint takes: answered 400."""


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "status": status}, status=status)


@web.middleware
async def request_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    # Keep-alive connections run requests one after another in one task: start clean.
    structlog.contextvars.clear_contextvars()
    started = time.monotonic()
    try:
        response = await handler(request)
    except BadParameter as error:
        response = json_error(400, str(error))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        response = json_error(error.status, error.reason)
    except Exception:
        log.exception("request_failed", method=request.method, path=request.path)
        response = json_error(500, "internal error")
    if not response.prepared:
        _secure(response)
        if request.path.startswith("/static/") and "v" in request.query:
            # The URL carries the file's hash, so it can be cached for good.
            response.headers["Cache-Control"] = IMMUTABLE
    _log(request, response.status, time.monotonic() - started)
    return response


def _secure(response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")


def _log(request: web.Request, status: int, seconds: float) -> None:
    # Pictures and assets would drown the lines that matter; debug keeps them.
    quiet = request.path.startswith(QUIET_PREFIXES) and status < 400
    emit = log.debug if quiet else log.info
    emit(
        "request_handled",
        method=request.method,
        path=request.path,
        status=status,
        duration_ms=round(seconds * 1000, 1),
    )
