"""Product customers (three ways to create one) and claim codes.

`POST /v1/products/:p/customers` checks the caller the way Particle's middleware
does for this route: an implicit request (`response_type=token` and a client id)
first, then client credentials (Basic or body), then an access token of the team.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from shared.log import get_logger
from sim.access import caller, product_for
from sim.auth import authenticate, client_credentials
from sim.cloud import Cloud, Product, cloud_of
from sim.customers import Customer, CustomerAlreadyExists
from sim.errors import NO_STORE_HEADERS, ApiError
from sim.params import flag_param, read_params, text_param
from sim.responses import json_response
from sim.tokens import AccessToken, IssuedTokens, TokenKind

routes = web.RouteTableDef()
log = get_logger("sim.customers")


def _product_named(cloud: Cloud, reference: str) -> Product:
    if not cloud.product.is_called(reference):
        raise ApiError.permission_denied()
    return cloud.product


@routes.post("/v1/products/{product}/customers")
async def create_customer(request: web.Request) -> web.Response:
    cloud = cloud_of(request)
    product = _product_named(cloud, request.match_info["product"])
    params = await read_params(request)
    client_id, secret = await client_credentials(request)

    if text_param(params, "response_type") == "token" and client_id:
        return await _create_implicitly(cloud, product, client_id, params)
    if client_id and secret:
        client = cloud.clients.authenticate(client_id, secret)
        if client is None:
            raise ApiError.oauth("invalid_client", "Client credentials are invalid")
        if client.product_id != product.id:
            raise ApiError.permission_denied()
        no_password = flag_param(params, "no_password")
        issued = _create(
            cloud, product, params, client.id, password_optional=no_password
        )
        return _token_answer(issued)

    token = await authenticate(request, cloud.tokens)
    if not cloud.is_team_member(token):
        raise ApiError.permission_denied()
    return _token_answer(_create(cloud, product, params, token.client_id, False))


async def _create_implicitly(
    cloud: Cloud, product: Product, client_id: str, params: dict[str, object]
) -> web.Response:
    client = cloud.clients.find(client_id)
    if client is None:
        raise ApiError.oauth("invalid_client", "Invalid client credentials")
    if client.product_id != product.id:
        raise ApiError.permission_denied()
    redirect_uri = text_param(params, "redirect_uri")
    if redirect_uri and redirect_uri != client.redirect_uri:
        raise ApiError.oauth("invalid_request", "redirect_uri does not match")

    issued = _create(cloud, product, params, client.id, password_optional=False)
    if client.redirect_uri is None:
        # A client without a redirect URI has nowhere to send the browser to.
        return _token_answer(issued)
    location = f"{client.redirect_uri}#token={quote(issued.access.value)}"
    raise web.HTTPFound(location)


def _create(
    cloud: Cloud,
    product: Product,
    params: dict[str, object],
    client_id: str,
    password_optional: bool,
) -> IssuedTokens:
    email = text_param(params, "email")
    password = text_param(params, "password")
    if not email:
        raise ApiError.bad_request("email is required")
    if not password and not password_optional:
        raise ApiError.bad_request("password is required")

    try:
        customer = cloud.customers.create(product.id, email, password or None)
    except CustomerAlreadyExists:
        raise ApiError.bad_request("Customer already exists") from None

    log.info("customer_created", product=product.id, customer=customer.id)
    template = AccessToken(
        value="",
        kind=TokenKind.CUSTOMER,
        client_id=client_id,
        user_id=customer.id,
        product_id=product.id,
    )
    return cloud.tokens.issue(template, with_refresh=True)


def _token_answer(issued: IssuedTokens) -> web.Response:
    return json_response(issued.response_body(), status=201, headers=NO_STORE_HEADERS)


@routes.get("/v1/products/{product}/customers")
async def list_customers(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    product = product_for(cloud, token, request.match_info["product"])

    customers = cloud.customers.of_product(product.id)
    return json_response(
        {
            "customers": [_customer_view(cloud, c) for c in customers],
            "meta": {"total_pages": 1},
        }
    )


def _customer_view(cloud: Cloud, customer: Customer) -> dict[str, object]:
    devices = [d.id for d in cloud.fleet.owned_by(customer.id)]
    return {"id": customer.id, "username": customer.email, "devices": devices}


@routes.put("/v1/products/{product}/customers/{email}")
async def update_customer(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    product = product_for(cloud, token, request.match_info["product"])
    customer = cloud.customers.find(product.id, request.match_info["email"])
    password = text_param(await read_params(request), "password")

    if customer is None:
        raise ApiError.not_found("Customer not found")
    if not password:
        raise ApiError.bad_request("password is required")
    customer.password = password
    return json_response({"ok": True})


@routes.delete("/v1/products/{product}/customers/{email}")
async def delete_customer(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    product = product_for(cloud, token, request.match_info["product"])

    customer = cloud.customers.delete(product.id, request.match_info["email"])
    if customer is None:
        raise ApiError.not_found("Customer not found")
    # Deleting a customer revokes their tokens and leaves their devices unclaimed.
    cloud.tokens.revoke_user(customer.id)
    for device in cloud.fleet.owned_by(customer.id):
        device.owner_id = None
    return json_response({"ok": True})


@routes.post("/v1/device_claims")
@routes.post("/v1/products/{product}/device_claims")
async def create_claim_code(request: web.Request) -> web.Response:
    cloud, token = await caller(request)
    product_ref = request.match_info.get("product")
    if token.user_id is None:
        raise ApiError.permission_denied()

    product_id = token.product_id
    if product_ref is not None:
        product = _product_named(cloud, product_ref)
        is_customer = (
            token.kind is TokenKind.CUSTOMER and token.product_id == product.id
        )
        if not (is_customer or cloud.is_team_member(token)):
            raise ApiError.permission_denied()
        product_id = product.id

    claim = cloud.customers.new_claim_code(token.user_id, product_id)
    owned = [d.id for d in cloud.fleet.owned_by(token.user_id)]
    return json_response({"claim_code": claim.code, "device_ids": owned})
