"""Request parameters from a form or a JSON body, read once per request.

Particle's API accepts both encodings on most POST routes (curl sends forms,
particle-api-js sends JSON). Values keep their JSON types until a reader asks for
a string, so `{"private": false}` and `private=false` mean the same.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import web

from sim.errors import ApiError

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PARAMS_KEY: web.RequestKey[dict[str, Any]] = web.RequestKey("sim.params")


def is_form(request: web.Request) -> bool:
    return request.content_type in FORM_TYPES


async def read_params(request: web.Request) -> dict[str, Any]:
    """The body's fields (form or JSON object); {} for other or no content."""
    if PARAMS_KEY in request:
        return request[PARAMS_KEY]

    params: dict[str, Any] = {}
    if is_form(request):
        form = await request.post()
        params = {key: value for key, value in form.items() if isinstance(value, str)}
    elif request.content_type == "application/json" and request.body_exists:
        params = await _json_object(request)
    request[PARAMS_KEY] = params
    return params


async def _json_object(request: web.Request) -> dict[str, Any]:
    text = await request.text()
    if not text.strip():
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        raise ApiError.bad_request("Request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ApiError.bad_request("Request body must be a JSON object")
    return parsed


def text_param(params: dict[str, Any], *names: str) -> str | None:
    """The first present parameter among `names`, as a string."""
    for name in names:
        value = params.get(name)
        if value is None:
            continue
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            return json.dumps(value, separators=(",", ":"))
        return str(value)
    return None


def flag_param(params: dict[str, Any], name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def int_param(
    params: dict[str, Any],
    name: str,
    default: int,
    *,
    minimum: int = 0,
    maximum: int | None = None,
) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise ApiError.bad_request(f"{name} must be an integer") from None
    if maximum is not None and not minimum <= number <= maximum:
        raise ApiError.bad_request(f"{name} must be from {minimum} to {maximum}")
    if number < minimum:
        raise ApiError.bad_request(f"{name} must be at least {minimum}")
    return number


def float_param(
    params: dict[str, Any], name: str, default: float, *, minimum: float = 0.0
) -> float:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(str(value))
    except ValueError:
        raise ApiError.bad_request(f"{name} must be a number") from None
    if not math.isfinite(number):
        raise ApiError.bad_request(f"{name} must be a finite number")
    if number < minimum:
        raise ApiError.bad_request(f"{name} must be at least {minimum}")
    return number
