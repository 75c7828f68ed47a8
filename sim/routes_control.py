"""The control API under `/sim/`: drive the fleet and inspect the simulated cloud.

No Particle auth here: this is a tool for tests and people on the same machine,
and `sim.app` refuses its state-changing calls from anything but loopback peers.
Bodies may be JSON or forms. Stream faults live in `sim.routes_faults`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from shared.log import get_logger
from sim.access import owner_name
from sim.cloud import Cloud, cloud_of
from sim.devices import Device
from sim.errors import ApiError, DeviceOffline, SimError
from sim.events import iso_millis, utc_now
from sim.params import float_param, int_param, read_params, text_param
from sim.responses import json_response
from sim.routes_devices import MAX_EVENT_DATA, MAX_EVENT_NAME
from sim.tokens import DEFAULT_LIFETIME, AccessToken, TokenKind

MAX_BURST = 100_000

routes = web.RouteTableDef()
log = get_logger("sim.control")


def _device(cloud: Cloud, request: web.Request) -> Device:
    device = cloud.fleet.find(request.match_info["device"])
    if device is None:
        raise ApiError.not_found("No such device in the simulated fleet")
    return device


def _event_name(params: dict[str, Any]) -> str | None:
    """`name` when given: 1 to 64 characters, as `POST /v1/devices/events` takes."""
    name = text_param(params, "name")
    if name is not None and not 1 <= len(name) <= MAX_EVENT_NAME:
        raise ApiError.bad_request(f"name must be 1 to {MAX_EVENT_NAME} characters")
    return name


def device_state(cloud: Cloud, device: Device) -> dict[str, Any]:
    now = utc_now()
    return {
        "id": device.id,
        "name": device.name,
        "online": device.online,
        "presses": device.presses,
        "owner_id": device.owner_id,
        "owner": owner_name(cloud, device.owner_id),
        "led": device.led.view(now),
        "last_heard": iso_millis(device.last_heard),
        "calls": len(device.calls),
        "last_call": device.calls[-1].view() if device.calls else None,
    }


def cloud_state(cloud: Cloud) -> dict[str, Any]:
    settings = cloud.settings
    return {
        "base_url": settings.base_url,
        "access_token": settings.access_token,
        "product": {
            "id": cloud.product.id,
            "slug": cloud.product.slug,
            "org": cloud.product.org_slug,
            "client_id": settings.client_id,
        },
        "developer": {"id": cloud.fleet.developer_id, "username": settings.username},
        "keepalive": settings.keepalive,
        "press_interval": settings.press_interval,
        "devices": [device_state(cloud, d) for d in cloud.fleet.devices],
        "streams": [s.view() for s in cloud.streams.all()],
        "faults": cloud.faults.view(),
        "webhooks": [h.listing_view() for h in cloud.webhooks.all()],
        "recent_events": [e.summary() for e in reversed(cloud.recent_events)],
    }


@routes.get("/sim/state")
async def state(request: web.Request) -> web.Response:
    return json_response(cloud_state(cloud_of(request)))


@routes.post("/sim/devices/{device}/press")
async def press(request: web.Request) -> web.Response:
    cloud = cloud_of(request)
    device = _device(cloud, request)

    try:
        event = cloud.fleet.press(device)
    except DeviceOffline:
        raise ApiError(409, {"ok": False, "error": "device is offline"}) from None
    return json_response({"ok": True, "event": event.summary()})


@routes.post("/sim/devices/{device}/publish")
async def publish_as_device(request: web.Request) -> web.Response:
    cloud = cloud_of(request)
    device = _device(cloud, request)
    params = await read_params(request)
    name = _event_name(params)
    data = text_param(params, "data")

    if name is None:
        raise ApiError.bad_request("name is required")
    if data is not None and len(data.encode()) > MAX_EVENT_DATA:
        raise ApiError.bad_request(f"data must be at most {MAX_EVENT_DATA} bytes")
    event = cloud.fleet.publish_from(device, name, data)
    return json_response({"ok": True, "event": event.summary()})


@routes.post("/sim/devices/{device}/online")
@routes.post("/sim/devices/{device}/offline")
async def set_online(request: web.Request) -> web.Response:
    cloud = cloud_of(request)
    device = _device(cloud, request)

    cloud.fleet.set_online(device, request.path.endswith("/online"))
    return json_response({"ok": True, "online": device.online})


@routes.post("/sim/devices/{device}/claim")
async def claim(request: web.Request) -> web.Response:
    """The device side of a claim: it connects with the code a customer's app gave."""
    cloud = cloud_of(request)
    device = _device(cloud, request)
    code = text_param(await read_params(request), "claim_code") or ""

    claim_code = cloud.customers.redeem_claim_code(code)
    if claim_code is None:
        raise ApiError.bad_request("Unknown or expired claim code")
    device.owner_id = claim_code.owner_id
    cloud.changes.notify()
    return json_response({"ok": True, "owner_id": device.owner_id})


@routes.post("/sim/devices/{device}/call/{function}")
async def call_function(request: web.Request) -> web.Response:
    """Call a function without a token, as the fleet page's buttons do."""
    cloud = cloud_of(request)
    device = _device(cloud, request)
    argument = text_param(await read_params(request), "arg", "args") or ""

    try:
        result = cloud.fleet.call_function(
            device, request.match_info["function"], argument
        )
    except DeviceOffline:
        raise ApiError.timed_out() from None
    except SimError as failure:
        raise ApiError.bad_request(type(failure).__name__) from None
    return json_response({"ok": True, "return_value": result})


@routes.get("/sim/devices/{device}/calls")
async def device_calls(request: web.Request) -> web.Response:
    cloud = cloud_of(request)
    device = _device(cloud, request)

    calls = [call.view() for call in device.calls]
    return json_response({"device": device.id, "name": device.name, "calls": calls})


@routes.get("/sim/calls")
async def all_calls(request: web.Request) -> web.Response:
    cloud = cloud_of(request)

    calls = [
        {"device": device.id, **call.view()}
        for device in cloud.fleet.devices
        for call in device.calls
    ]
    calls.sort(key=lambda call: str(call["called_at"]))
    return json_response({"calls": calls})


@routes.post("/sim/burst")
async def burst(request: web.Request) -> web.Response:
    cloud = cloud_of(request)
    params = await read_params(request)
    count = int_param(params, "count", 10, minimum=1)
    seconds = float_param(params, "seconds", 1.0)
    reference = text_param(params, "device")
    name = _event_name(params)

    if count > MAX_BURST:
        raise ApiError.bad_request(f"count must be at most {MAX_BURST}")
    devices = cloud.fleet.devices
    if reference:
        device = cloud.fleet.find(reference)
        if device is None:
            raise ApiError.not_found("No such device in the simulated fleet")
        devices = [device]
    if not devices:
        raise ApiError.bad_request("The fleet has no devices")

    cloud.fleet.burst(devices, count, seconds, name)
    return json_response({"ok": True, "count": count, "seconds": seconds}, status=202)


@routes.post("/sim/tokens")
async def mint_token(request: web.Request) -> web.Response:
    """A token of any kind without an OAuth dance, e.g. a short-lived one."""
    cloud = cloud_of(request)
    params = await read_params(request)
    kind = text_param(params, "kind") or "user"
    lifetime = int_param(params, "expires_in", DEFAULT_LIFETIME)

    template = _token_template(cloud, kind, text_param(params, "email"))
    issued = cloud.tokens.issue(template, lifetime=lifetime)
    return json_response(issued.response_body(), status=201)


def _token_template(cloud: Cloud, kind: str, email: str | None) -> AccessToken:
    product_id = cloud.product.id
    client_id = cloud.settings.client_id
    if kind == "user":
        developer = cloud.fleet.developer_id
        return AccessToken("", TokenKind.USER, "particle", user_id=developer)
    if kind == "product":
        return AccessToken("", TokenKind.PRODUCT, client_id, product_id=product_id)
    if kind != "customer":
        raise ApiError.bad_request("kind must be user, customer or product")

    customer = cloud.customers.find(product_id, email or "")
    if customer is None:
        raise ApiError.bad_request("kind=customer needs the email of a customer")
    return AccessToken(
        "", TokenKind.CUSTOMER, client_id, user_id=customer.id, product_id=product_id
    )


@routes.post("/sim/tokens/revoke")
@routes.post("/sim/tokens/expire")
async def retire_token(request: web.Request) -> web.Response:
    cloud = cloud_of(request)
    token = text_param(await read_params(request), "token") or ""
    revoking = request.path.endswith("/revoke")

    found = cloud.tokens.revoke(token) if revoking else cloud.tokens.expire(token)
    if not found:
        raise ApiError.not_found("No such access token")
    # Streams opened with the token end now; their reconnect meets the 401.
    ended = cloud.streams.end_for_token(token)
    log.info("token_retired", how="revoked" if revoking else "expired", streams=ended)
    return json_response({"ok": True, "streams_ended": ended})


@routes.post("/sim/reset")
async def reset(request: web.Request) -> web.Response:
    cloud = cloud_of(request)

    cloud.reset()
    log.info("simulator_reset")
    return json_response({"ok": True})
