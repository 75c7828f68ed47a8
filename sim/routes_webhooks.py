"""Webhook integrations: create, list, read, delete (user and product variants).

`POST /v1/integrations` wants `integration_type=Webhook`; the legacy
`POST /v1/webhooks` (what particle-api-js's `createWebhook` calls) implies it.
Object-valued settings (`json`, `form`, `query`, `headers`, `auth`) may come as
JSON objects or, from a form, as JSON text.
TODO: editing (`PUT /v1/integrations/:id`) and the test call
(`POST /v1/integrations/:id/test`) are not simulated; add them with a caller.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from shared.log import get_logger
from sim.access import caller, product_device, product_for, user_device
from sim.cloud import Cloud
from sim.errors import ApiError
from sim.events import iso_millis
from sim.params import flag_param, read_params, text_param
from sim.responses import json_response
from sim.tokens import AccessToken
from sim.webhooks import Webhook, WebhookRejected

routes = web.RouteTableDef()
log = get_logger("sim.webhooks")


def _owner(
    cloud: Cloud, token: AccessToken, request: web.Request
) -> tuple[str | None, int | None]:
    """Whose hooks this route is about: (user id, None) or (None, product id)."""
    product_ref = request.match_info.get("product")
    if product_ref is not None:
        return None, product_for(cloud, token, product_ref).id
    if token.user_id is None:
        raise ApiError.permission_denied()
    return token.user_id, None


def _object_param(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        if name == "json":
            # A JSON template may be text with Mustache tags in it; keep it as text.
            return value
        raise ApiError.bad_request(f"{name} must be a JSON object") from None


def _hook_fields(
    cloud: Cloud, token: AccessToken, request: web.Request, params: dict[str, Any]
) -> dict[str, Any]:
    owner_id, product_id = _owner(cloud, token, request)
    event = text_param(params, "event")
    url = text_param(params, "url")
    if not event:
        raise ApiError.bad_request("event is required")
    if not url:
        raise ApiError.bad_request("url is required")

    bodies = [name for name in ("json", "form", "body") if params.get(name) is not None]
    if len(bodies) > 1:
        raise ApiError.bad_request("Only one of json, form and body may be given")

    return {
        "event": event,
        "url": url,
        "request_type": (text_param(params, "requestType") or "POST").upper(),
        "owner_id": owner_id,
        "product_id": product_id,
        "device_id": _device_filter(cloud, token, request, params),
        "no_defaults": flag_param(params, "noDefaults"),
        "json": _object_param(params, "json"),
        "form": _object_param(params, "form"),
        "body": text_param(params, "body"),
        "query": _object_param(params, "query"),
        "headers": _object_param(params, "headers"),
        "auth": _object_param(params, "auth"),
        "response_topic": text_param(params, "responseTopic"),
        "error_response_topic": text_param(params, "errorResponseTopic"),
        "disabled": flag_param(params, "disabled"),
    }


def _device_filter(
    cloud: Cloud, token: AccessToken, request: web.Request, params: dict[str, Any]
) -> str | None:
    reference = text_param(params, "deviceID", "deviceid", "deviceId")
    if not reference:
        return None
    product_ref = request.match_info.get("product")
    if product_ref is not None:
        product = product_for(cloud, token, product_ref)
        return product_device(cloud, product, reference).id
    return user_device(cloud, token, reference).id


@routes.post("/v1/integrations")
@routes.post("/v1/products/{product}/integrations")
@routes.post("/v1/webhooks")
@routes.post("/v1/products/{product}/webhooks")
async def create_webhook(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    params = await read_params(request)
    if "/integrations" in request.path:
        kind = text_param(params, "integration_type")
        if kind != "Webhook":
            raise ApiError.bad_request(
                "integration_type must be Webhook (the only kind simulated)"
            )

    try:
        hook = cloud.webhooks.create(_hook_fields(cloud, token, request, params))
    except WebhookRejected as refused:
        raise ApiError.bad_request(str(refused)) from None

    log.info("webhook_created", hook=hook.id, event_prefix=hook.event)
    return json_response(_created_view(cloud, hook), status=201)


def _created_view(cloud: Cloud, hook: Webhook) -> dict[str, object]:
    return {
        "ok": True,
        "id": hook.id,
        "url": hook.url,
        "event": hook.event,
        "created_at": iso_millis(hook.created_at),
        "hookUrl": f"{cloud.settings.base_url}/v1/webhooks/{hook.id}",
    }


@routes.get("/v1/integrations")
@routes.get("/v1/products/{product}/integrations")
@routes.get("/v1/webhooks")
@routes.get("/v1/products/{product}/webhooks")
async def list_webhooks(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    owner_id, product_id = _owner(cloud, token, request)

    hooks = cloud.webhooks.visible_to(owner_id, product_id)
    return json_response([hook.listing_view() for hook in hooks])


def _visible_hook(cloud: Cloud, token: AccessToken, request: web.Request) -> Webhook:
    owner_id, product_id = _owner(cloud, token, request)
    hook = cloud.webhooks.find(request.match_info["hook"])
    if hook is None or hook not in cloud.webhooks.visible_to(owner_id, product_id):
        raise ApiError.not_found("Webhook not found")
    return hook


@routes.get("/v1/integrations/{hook}")
@routes.get("/v1/products/{product}/integrations/{hook}")
@routes.get("/v1/webhooks/{hook}")
@routes.get("/v1/products/{product}/webhooks/{hook}")
async def get_webhook(request: web.Request) -> web.Response:
    cloud, token = await caller(request)

    hook = _visible_hook(cloud, token, request)
    logs = [delivery.view() for delivery in hook.deliveries[-10:]]
    return json_response({"integration": {**hook.listing_view(), "logs": logs}})


@routes.delete("/v1/integrations/{hook}")
@routes.delete("/v1/products/{product}/integrations/{hook}")
@routes.delete("/v1/webhooks/{hook}")
@routes.delete("/v1/products/{product}/webhooks/{hook}")
async def delete_webhook(request: web.Request) -> web.Response:
    cloud, token = await caller(request)

    hook = _visible_hook(cloud, token, request)
    cloud.webhooks.delete(hook.id)
    return web.Response(status=204)
