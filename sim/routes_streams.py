"""The event-stream routes: which events each one carries, and who may open it.

Before a stream opens, in this order: the per-IP open-rate limit (every request
counts), any rejection armed through the control API, the per-IP limit on open
streams, then the access token and the caller's rights on the path. Product and
organization streams carry Particle's product fields; the others carry four.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from sim.access import org_for, product_device, product_for, user_device
from sim.auth import authenticate
from sim.cloud import Cloud, cloud_of
from sim.errors import ApiError
from sim.events import Event, EventFilter
from sim.limits import retry_after_header
from sim.streams import serve
from sim.tokens import AccessToken

PREFIX_REQUIRED = {"ok": False, "error": "event prefix filter is required"}

routes = web.RouteTableDef()


@dataclass(frozen=True)
class StreamScope:
    matches: EventFilter
    product_shape: bool


def _rate_limited(description: str, retry_after: float | None) -> ApiError:
    headers = (
        {} if retry_after is None else {"Retry-After": retry_after_header(retry_after)}
    )
    body = {"error": "rate_limit_exceeded", "error_description": description}
    return ApiError(429, body, headers)


def _gatekeep(request: web.Request, cloud: Cloud) -> web.Response | None:
    """Refuse the open before any token check, as an edge limiter would."""
    client_ip = request.remote or ""
    settings = cloud.settings

    wait = cloud.limiter.record_open(client_ip)
    if wait is not None:
        raise _rate_limited(
            f"Too many event stream requests: at most {settings.stream_open_limit}"
            f" per {settings.stream_open_window:g} seconds per IP address",
            wait,
        )

    rejection = cloud.faults.take_rejection()
    if rejection is not None:
        response = web.Response(
            status=rejection.status,
            text=rejection.body,
            content_type=rejection.content_type,
        )
        if rejection.retry_after is not None:
            response.headers["Retry-After"] = rejection.retry_after
        return response

    if cloud.streams.count_from(client_ip) >= settings.stream_concurrency_limit:
        raise _rate_limited(
            f"Too many open event streams: at most"
            f" {settings.stream_concurrency_limit} at once per IP address",
            None,
        )
    return None


def _scope(request: web.Request, cloud: Cloud, token: AccessToken) -> StreamScope:
    org = request.match_info.get("org")
    product_ref = request.match_info.get("product")
    device_ref = request.match_info.get("device")

    if org is not None:
        org_for(cloud, token, org)
        if product_ref is None:
            product_ref = str(cloud.product.id)
    if product_ref is not None:
        product = product_for(cloud, token, product_ref)
        if device_ref is None:
            return StreamScope(lambda e: e.product_id == product.id, product_shape=True)
        device = product_device(cloud, product, device_ref)
        return StreamScope(
            lambda e: e.product_id == product.id and e.coreid == device.id,
            product_shape=True,
        )

    user_id = token.user_id
    if device_ref is not None:
        device = user_device(cloud, token, device_ref)
        return StreamScope(
            lambda e: e.owner_id == user_id and e.coreid == device.id,
            product_shape=False,
        )
    # Every event on the simulated cloud is private: "public" streams show the
    # caller's own events, like the developer stream.
    return StreamScope(lambda e: user_id is not None and e.owner_id == user_id, False)


def _with_prefix(matches: EventFilter, prefix: str | None) -> EventFilter:
    if prefix is None:
        return matches

    def matches_prefix(event: Event) -> bool:
        return event.name.startswith(prefix) and matches(event)

    return matches_prefix


@routes.get("/v1/events")
async def bare_public_stream(request: web.Request) -> web.StreamResponse:
    cloud = cloud_of(request)
    refusal = _gatekeep(request, cloud)
    if refusal is not None:
        return refusal
    await authenticate(request, cloud.tokens)
    raise ApiError(400, PREFIX_REQUIRED)


@routes.get("/v1/events/{prefix:.+}")
@routes.get("/v1/devices/events")
@routes.get("/v1/devices/events/{prefix:.+}")
@routes.get("/v1/devices/{device}/events")
@routes.get("/v1/devices/{device}/events/{prefix:.+}")
@routes.get("/v1/products/{product}/events")
@routes.get("/v1/products/{product}/events/{prefix:.+}")
@routes.get("/v1/products/{product}/devices/{device}/events")
@routes.get("/v1/products/{product}/devices/{device}/events/{prefix:.+}")
@routes.get("/v1/orgs/{org}/events")
@routes.get("/v1/orgs/{org}/events/{prefix:.+}")
@routes.get("/v1/orgs/{org}/devices/{device}/events")
@routes.get("/v1/orgs/{org}/devices/{device}/events/{prefix:.+}")
@routes.get("/v1/orgs/{org}/products/{product}/events")
@routes.get("/v1/orgs/{org}/products/{product}/events/{prefix:.+}")
async def event_stream(request: web.Request) -> web.StreamResponse:
    cloud = cloud_of(request)
    refusal = _gatekeep(request, cloud)
    if refusal is not None:
        return refusal

    token = await authenticate(request, cloud.tokens)
    scope = _scope(request, cloud, token)
    matches = _with_prefix(scope.matches, request.match_info.get("prefix"))

    stream = cloud.streams.register(request, token.value, matches, scope.product_shape)
    try:
        fault = cloud.faults.take_stream_fault()
        return await serve(request, stream, fault, cloud.settings.keepalive, cloud.sent)
    finally:
        cloud.streams.unregister(stream)
