"""Finding the caller's access token the way Particle's OAuth middleware does.

Exactly one of three places may carry it: the `Authorization: Bearer` header, the
deprecated `?access_token=` query parameter, or an `access_token` field of a form
body. Each rule and message below is the middleware's own, double space included.
"""

from __future__ import annotations

import base64
import binascii
import re

from aiohttp import web

from sim.errors import ApiError
from sim.events import utc_now
from sim.params import is_form, read_params
from sim.tokens import AccessToken, TokenStore

BEARER = re.compile(r"Bearer\s(\S+)")
BASIC = re.compile(r"^Basic\s+(\S+)\s*$", re.IGNORECASE)

ONE_METHOD_ONLY = (
    "Only one method may be used to authenticate at a time (Auth header,  GET or POST)."
)
TOKEN_NOT_FOUND = "The access token was not found"
MALFORMED_HEADER = "Malformed auth header"
BODY_NEEDS_FORM = (
    "When putting the token in the body, content type must be "
    "application/x-www-form-urlencoded."
)
TOKEN_INVALID = "The access token provided is invalid."
TOKEN_EXPIRED = "The access token provided has expired."


async def authenticate(request: web.Request, tokens: TokenStore) -> AccessToken:
    """The caller's valid token, or an `ApiError` with Particle's OAuth answer."""
    value = await bearer_value(request)

    token = tokens.find(value)
    if token is None:
        raise ApiError.oauth("invalid_token", TOKEN_INVALID)
    if token.has_expired(utc_now()):
        raise ApiError.oauth("invalid_token", TOKEN_EXPIRED)
    return token


async def bearer_value(request: web.Request) -> str:
    header = request.headers.get("Authorization")
    query = request.query.get("access_token")
    body = await _body_token(request)

    methods_used = sum(place is not None for place in (header, query, body))
    if methods_used > 1:
        raise ApiError.oauth("invalid_request", ONE_METHOD_ONLY)
    if methods_used == 0:
        raise ApiError.oauth("invalid_request", TOKEN_NOT_FOUND)

    if header is not None:
        match = BEARER.search(header)
        if match is None:
            raise ApiError.oauth("invalid_request", MALFORMED_HEADER)
        return match.group(1)
    if body is not None:
        if not is_form(request):
            raise ApiError.oauth("invalid_request", BODY_NEEDS_FORM)
        return body
    return query or ""


async def _body_token(request: web.Request) -> str | None:
    if request.method in ("GET", "HEAD"):
        return None
    params = await read_params(request)
    value = params.get("access_token")
    return None if value is None else str(value)


def basic_credentials(request: web.Request) -> tuple[str, str] | None:
    """Client id and secret from an `Authorization: Basic` header, if it has one."""
    match = BASIC.match(request.headers.get("Authorization", ""))
    if match is None:
        return None
    try:
        decoded = base64.b64decode(match.group(1), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        return None
    return client_id, secret


async def client_credentials(request: web.Request) -> tuple[str | None, str | None]:
    """Client id and secret from Basic auth, else from the body (Particle's order)."""
    basic = basic_credentials(request)
    if basic is not None:
        return basic

    params = await read_params(request)
    client_id = params.get("client_id")
    secret = params.get("client_secret")
    return (
        None if client_id is None else str(client_id),
        None if secret is None else str(secret),
    )
