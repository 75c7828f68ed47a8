"""`POST /oauth/token`, OAuth clients, and the caller's own token and account.

The token endpoint follows Particle's OAuth server step by step: form encoding
only, a grant type, client credentials (Basic or body), the client, the grant's
own checks, then the token. Each failure answers with that server's error and
message. Tokens made through a product client come with a refresh token.
TODO: Particle blocks an IP for 30 minutes after 10 failed logins; add it when the
web process grows a login form that must cope with it.
TODO: the MFA grants (`urn:custom:mfa-otp`, recovery codes), `authorization_code`
and `DELETE /v1/access_tokens[/:token]` are not simulated; the developer account
has no MFA, so no caller can meet them yet.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from shared.log import get_logger
from sim.access import caller, product_for
from sim.auth import client_credentials
from sim.clients import OAuthClient
from sim.cloud import Cloud, cloud_of
from sim.errors import NO_STORE_HEADERS, ApiError
from sim.events import iso_millis, utc_now
from sim.params import read_params, text_param
from sim.responses import json_response
from sim.settings import CLIENT_ID_PATTERN
from sim.tokens import DEFAULT_LIFETIME, AccessToken, TokenKind

GRANT_TYPES = ("password", "client_credentials", "refresh_token")
CUSTOMER_SCOPE = "customer="

routes = web.RouteTableDef()
log = get_logger("sim.oauth")


@routes.route("*", "/oauth/token")
async def issue_token(request: web.Request) -> web.Response:
    cloud = cloud_of(request)
    if request.method != "POST" or (
        request.content_type != "application/x-www-form-urlencoded"
    ):
        raise ApiError.oauth(
            "invalid_request",
            "Method must be POST with application/x-www-form-urlencoded encoding",
        )
    params = await read_params(request)
    grant_type = text_param(params, "grant_type") or ""
    if grant_type.lower() not in GRANT_TYPES:
        raise ApiError.oauth(
            "invalid_request", "Invalid or missing grant_type parameter"
        )

    client = await _authenticated_client(request, cloud, grant_type.lower())
    template = _grant(cloud, client, grant_type.lower(), params)
    issued = cloud.tokens.issue(
        template,
        lifetime=_lifetime(params),
        with_refresh=client.product_id is not None,
    )

    log.info(
        "token_issued", grant_type=grant_type, client=client.id, kind=template.kind
    )
    return json_response(issued.response_body(), headers=NO_STORE_HEADERS)


async def _authenticated_client(
    request: web.Request, cloud: Cloud, grant_type: str
) -> OAuthClient:
    client_id, secret = await client_credentials(request)
    if not client_id or not CLIENT_ID_PATTERN.match(client_id):
        raise ApiError.oauth("invalid_client", "Invalid or missing client_id parameter")
    if not secret:
        raise ApiError.oauth("invalid_client", "Missing client_secret parameter")

    client = cloud.clients.authenticate(client_id, secret)
    if client is None:
        raise ApiError.oauth("invalid_client", "Client credentials are invalid")
    if grant_type not in client.grants:
        raise ApiError.oauth(
            "invalid_client", "The grant type is unauthorised for this client_id"
        )
    return client


def _grant(
    cloud: Cloud, client: OAuthClient, grant_type: str, params: dict[str, object]
) -> AccessToken:
    if grant_type == "password":
        return _password_grant(cloud, client, params)
    if grant_type == "client_credentials":
        return _client_credentials_grant(cloud, client, params)
    return _refresh_grant(cloud, client, params)


def _password_grant(
    cloud: Cloud, client: OAuthClient, params: dict[str, object]
) -> AccessToken:
    username = text_param(params, "username")
    password = text_param(params, "password")
    if not username or not password:
        raise ApiError.oauth(
            "invalid_client",
            'Missing parameters. "username" and "password" are required',
        )

    settings = cloud.settings
    if username.lower() == settings.username and password == settings.password:
        return AccessToken(
            value="",
            kind=TokenKind.USER,
            client_id=client.id,
            user_id=cloud.fleet.developer_id,
        )
    if client.product_id is not None:
        customer = cloud.customers.find(client.product_id, username)
        if customer is not None and customer.password_matches(password):
            return _customer_template(client, customer.id, scope=None)
    raise ApiError.oauth("invalid_grant", "User credentials are invalid")


def _client_credentials_grant(
    cloud: Cloud, client: OAuthClient, params: dict[str, object]
) -> AccessToken:
    assert client.product_id is not None  # only product clients have this grant
    scope = text_param(params, "scope")

    if scope and scope.startswith(CUSTOMER_SCOPE):
        email = scope.removeprefix(CUSTOMER_SCOPE)
        customer = cloud.customers.find(client.product_id, email)
        if customer is None:
            raise ApiError.oauth("invalid_grant", "Customer not found")
        return _customer_template(client, customer.id, scope=scope)

    return AccessToken(
        value="",
        kind=TokenKind.PRODUCT,
        client_id=client.id,
        product_id=client.product_id,
    )


def _refresh_grant(
    cloud: Cloud, client: OAuthClient, params: dict[str, object]
) -> AccessToken:
    value = text_param(params, "refresh_token")
    if not value:
        raise ApiError.oauth("invalid_request", 'No "refresh_token" parameter')

    refresh = cloud.tokens.find_refresh(value)
    if refresh is None or refresh.client_id != client.id:
        raise ApiError.oauth("invalid_grant", "Invalid refresh token")
    if refresh.expires_at is not None and refresh.expires_at < utc_now():
        raise ApiError.oauth("invalid_grant", "Refresh token has expired")

    cloud.tokens.retire_refresh(value)
    return AccessToken(
        value="",
        kind=refresh.kind,
        client_id=client.id,
        user_id=refresh.user_id,
        product_id=refresh.product_id,
        scope=refresh.scope,
    )


def _customer_template(
    client: OAuthClient, customer_id: str, scope: str | None
) -> AccessToken:
    return AccessToken(
        value="",
        kind=TokenKind.CUSTOMER,
        client_id=client.id,
        user_id=customer_id,
        product_id=client.product_id,
        scope=scope,
    )


def _lifetime(params: dict[str, object]) -> int:
    """Seconds from `expires_in` (0: never expires) or `expires_at`, else 90 days."""
    expires_in = text_param(params, "expires_in")
    expires_at = text_param(params, "expires_at")
    if expires_in:
        if not expires_in.isdigit():
            raise ApiError.oauth("invalid_request", "expires_in must be a whole number")
        return int(expires_in)
    if expires_at:
        try:
            moment = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
            return max(1, int((moment - utc_now()).total_seconds()))
        except (ValueError, TypeError):
            raise ApiError.oauth(
                "invalid_request", "expires_at must be an ISO 8601 date"
            ) from None
    return DEFAULT_LIFETIME


# -- the caller's token and account ---------------------------------------------


@routes.get("/v1/access_tokens/current")
async def current_token(request: web.Request) -> web.Response:
    _, token = await caller(request)

    expires_at = iso_millis(token.expires_at) if token.expires_at else None
    return json_response(
        {"expires_at": expires_at, "client": token.client_id, "scopes": [], "orgs": []}
    )


@routes.delete("/v1/access_tokens/current")
async def delete_current_token(request: web.Request) -> web.Response:
    cloud, token = await caller(request)

    cloud.tokens.revoke(token.value)
    cloud.streams.end_for_token(token.value)
    return json_response({"ok": True})


@routes.get("/v1/user")
async def current_user(request: web.Request) -> web.Response:
    cloud, token = await caller(request)

    if token.kind is TokenKind.PRODUCT or token.user_id is None:
        raise ApiError.permission_denied()
    if token.user_id == cloud.fleet.developer_id:
        username = cloud.settings.username
    else:
        customer = cloud.customers.by_id(token.user_id)
        username = customer.email if customer else ""
    return json_response(
        {
            "username": username,
            "subscription_ids": [],
            "account_info": {},
            "mfa": {"enabled": False},
        }
    )


# -- OAuth clients ----------------------------------------------------------------


def _client_scope(cloud: Cloud, token: AccessToken, request: web.Request) -> int | None:
    """The product id the clients route is about; None for the developer's own."""
    product_ref = request.match_info.get("product")
    if product_ref is not None:
        return product_for(cloud, token, product_ref).id
    if token.kind is not TokenKind.USER or token.user_id != cloud.fleet.developer_id:
        raise ApiError.permission_denied()
    return None


@routes.post("/v1/clients")
@routes.post("/v1/products/{product}/clients")
async def create_client(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    product_id = _client_scope(cloud, token, request)
    params = await read_params(request)
    name = text_param(params, "name")
    client_type = text_param(params, "type") or "installed"
    redirect_uri = text_param(params, "redirect_uri")

    if not name:
        raise ApiError.bad_request("name is required")
    if client_type not in ("installed", "web"):
        raise ApiError.bad_request("type must be installed or web")
    if client_type == "web" and not redirect_uri:
        raise ApiError.bad_request("redirect_uri is required for web clients")

    client = cloud.clients.create(
        name=name,
        type_=client_type,
        product_id=product_id,
        scope=text_param(params, "scope"),
        redirect_uri=redirect_uri,
    )
    # The secret is shown once, in this answer only.
    return json_response(
        {"ok": True, "client": {**client.public_view(), "secret": client.secret}}
    )


@routes.get("/v1/clients")
@routes.get("/v1/products/{product}/clients")
async def list_clients(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    product_id = _client_scope(cloud, token, request)

    clients = cloud.clients.owned_by(product_id)
    return json_response({"ok": True, "clients": [c.public_view() for c in clients]})


@routes.delete("/v1/clients/{client}")
@routes.delete("/v1/products/{product}/clients/{client}")
async def delete_client(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    product_id = _client_scope(cloud, token, request)

    client = cloud.clients.find(request.match_info["client"])
    if client is None or client.product_id != product_id:
        raise ApiError.not_found("Client not found")
    cloud.clients.delete(client.id)
    return web.Response(status=204)
