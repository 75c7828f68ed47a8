"""Device routes: listing, details, functions, variables, ping, and publishing.

Each user route has a product twin under `/v1/products/:p/…` that a product team
member (or the product's own token) may use for any device of the product.
TODO: renaming and notes (`PUT /v1/devices/:id`), claiming by id (`POST /v1/devices`)
and unclaiming are not simulated; add them when the web process manages devices.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from shared.log import get_logger
from sim.access import caller, product_device, product_for, user_device, user_devices
from sim.cloud import Cloud
from sim.devices import Device
from sim.errors import (
    ApiError,
    ArgumentTooLong,
    DeviceOffline,
    FunctionNotFound,
    VariableNotFound,
)
from sim.events import API_COREID, Event
from sim.params import int_param, read_params, text_param
from sim.responses import json_response
from sim.tokens import AccessToken
from sim.views import call_view, device_view, variable_view

MAX_EVENT_NAME = 64
MAX_EVENT_DATA = 1024
DEFAULT_PER_PAGE = 25

routes = web.RouteTableDef()
log = get_logger("sim.api")


async def _device_from_path(
    request: web.Request,
) -> tuple[Cloud, AccessToken, Device, bool]:
    """The addressed device, checked against the caller; True for the product route."""
    cloud, token = await caller(request)
    reference = request.match_info["device"]
    product_ref = request.match_info.get("product")
    if product_ref is None:
        return cloud, token, user_device(cloud, token, reference), False

    product = product_for(cloud, token, product_ref)
    return cloud, token, product_device(cloud, product, reference), True


# -- listing ------------------------------------------------------------------


@routes.get("/v1/devices")
async def list_devices(request: web.Request) -> web.Response:
    cloud, token = await caller(request)

    devices = user_devices(cloud, token)
    return json_response([device_view(cloud, d) for d in devices])


@routes.get("/v1/products/{product}/devices")
async def list_product_devices(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    product = product_for(cloud, token, request.match_info["product"])

    devices = _filtered(cloud.fleet.devices, request.query)
    per_page = _positive(request.query.get("perPage") or request.query.get("per_page"))
    page = _positive(request.query.get("page")) or 1
    size = per_page or DEFAULT_PER_PAGE
    shown = devices[(page - 1) * size : page * size]
    owners = {d.owner_id for d in shown if d.owner_id}
    customers = [c for c in cloud.customers.of_product(product.id) if c.id in owners]

    return json_response(
        {
            "devices": [device_view(cloud, d, product=True) for d in shown],
            "customers": [{"id": c.id, "username": c.email} for c in customers],
            "meta": {"total_pages": max(1, -(-len(devices) // size))},
        }
    )


def _filtered(devices: list[Device], query: Any) -> list[Device]:
    wanted_id = query.get("deviceId")
    wanted_name = query.get("deviceName")
    chosen = [
        d
        for d in devices
        if (not wanted_id or d.id.startswith(wanted_id.lower()))
        and (not wanted_name or wanted_name in d.name)
    ]
    if query.get("sortAttr") == "lastConnection":
        chosen.sort(key=lambda d: d.last_handshake_at)
    if query.get("sortDir") == "desc":
        chosen.reverse()
    return chosen


def _positive(raw: str | None) -> int | None:
    if raw is None or not raw.isdigit() or int(raw) < 1:
        return None
    return int(raw)


@routes.get("/v1/devices/{device}")
@routes.get("/v1/products/{product}/devices/{device}")
async def get_device(request: web.Request) -> web.Response:
    cloud, _, device, is_product = await _device_from_path(request)

    return json_response(device_view(cloud, device, detailed=True, product=is_product))


@routes.put("/v1/devices/{device}/ping")
@routes.put("/v1/products/{product}/devices/{device}/ping")
async def ping_device(request: web.Request) -> web.Response:
    _, _, device, _ = await _device_from_path(request)

    return json_response({"online": device.online, "ok": True})


# -- functions and variables -------------------------------------------------


@routes.post("/v1/devices/{device}/{function}")
@routes.post("/v1/products/{product}/devices/{device}/{function}")
async def call_function(request: web.Request) -> web.Response:
    cloud, _, device, _ = await _device_from_path(request)
    params = await read_params(request)
    argument = text_param(params, "arg", "args") or ""
    name = request.match_info["function"]

    try:
        return_value = cloud.fleet.call_function(device, name, argument)
    except DeviceOffline:
        raise ApiError.timed_out() from None
    except FunctionNotFound:
        raise ApiError.not_found("Function not found") from None
    except ArgumentTooLong:
        raise ApiError.bad_request("Too many characters in argument") from None

    if _wants_raw(request, params):
        return web.Response(text=str(return_value))
    return json_response(call_view(device, return_value))


@routes.get("/v1/devices/{device}/{variable}")
@routes.get("/v1/products/{product}/devices/{device}/{variable}")
async def get_variable(request: web.Request) -> web.Response:
    cloud, _, device, _ = await _device_from_path(request)
    name = request.match_info["variable"]

    try:
        result = cloud.fleet.read_variable(device, name)
    except DeviceOffline:
        raise ApiError.timed_out() from None
    except VariableNotFound:
        raise ApiError.not_found(f"Unknown Variable: {name}") from None

    if _wants_raw(request, {}):
        return web.Response(text=str(result))
    return json_response(variable_view(device, name, result))


def _wants_raw(request: web.Request, params: dict[str, Any]) -> bool:
    return (request.query.get("format") or text_param(params, "format")) == "raw"


# -- publishing ---------------------------------------------------------------


async def _event_from_body(request: web.Request) -> tuple[str, str | None, int]:
    params = await read_params(request)
    name = text_param(params, "name")
    data = text_param(params, "data")
    ttl = int_param(params, "ttl", 60)

    if not name:
        raise ApiError.bad_request("Event name is required")
    if len(name) > MAX_EVENT_NAME:
        raise ApiError.bad_request(
            f"Event name is longer than {MAX_EVENT_NAME} characters"
        )
    if data is not None and len(data.encode()) > MAX_EVENT_DATA:
        raise ApiError.bad_request(f"Event data is longer than {MAX_EVENT_DATA} bytes")
    return name, data, ttl


@routes.post("/v1/devices/events")
async def publish_event(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    name, data, ttl = await _event_from_body(request)

    # All events are private now; `private` is accepted and has nothing to change.
    event = Event(
        name=name, data=data, ttl=ttl, coreid=API_COREID, owner_id=token.user_id
    )
    cloud.bus.publish(event)
    log.info("event_published", event_name=name, via="api")
    return json_response({"ok": True})


@routes.post("/v1/products/{product}/events")
async def publish_product_event(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    product = product_for(cloud, token, request.match_info["product"])
    name, data, ttl = await _event_from_body(request)
    as_device = text_param(await read_params(request), "as_device_id")

    if as_device:
        # product_device() checked that the device belongs to this product.
        event = product_device(cloud, product, as_device).event(name, data, ttl)
    else:
        event = Event(
            name=name, data=data, ttl=ttl, coreid=API_COREID, product_id=product.id
        )
    cloud.bus.publish(event)
    log.info("event_published", event_name=name, via="product_api")
    return json_response({"ok": True})
