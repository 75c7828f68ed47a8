"""`POST /oauth/token` and OAuth clients, answered like Particle's OAuth server."""

from __future__ import annotations

import aiohttp

from sim.settings import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.sim.helpers import RunningSim


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(client_id, secret)}


PRODUCT_CLIENT = basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)


async def _token(
    sim: RunningSim, form: dict[str, str], **kwargs
) -> aiohttp.ClientResponse:
    return await sim.client.post("/oauth/token", data=form, **kwargs)


async def test_oauth_password_grant_issues_working_token(sim: RunningSim) -> None:
    response = await _token(
        sim,
        {
            "grant_type": "password",
            "username": sim.settings.username,
            "password": sim.settings.password,
            "client_id": "particle",
            "client_secret": "particle",
        },
    )

    body = await response.json()
    assert response.status == 200
    assert (body["token_type"], body["expires_in"]) == ("bearer", 7776000)
    assert "refresh_token" not in body
    devices = await sim.client.get(
        "/v1/devices", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert devices.status == 200


async def test_oauth_success_carries_no_store_headers(sim: RunningSim) -> None:
    response = await _token(
        sim,
        {"grant_type": "client_credentials"},
        headers=PRODUCT_CLIENT,
    )

    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


async def test_oauth_wrong_password_is_invalid_grant(sim: RunningSim) -> None:
    response = await _token(
        sim,
        {"grant_type": "password", "username": "x@y.z", "password": "nope"},
        headers=basic("particle-api", "particle-api"),
    )

    assert response.status == 400
    assert await response.json() == {
        "error": "invalid_grant",
        "error_description": "User credentials are invalid",
    }


async def test_oauth_json_body_is_refused(sim: RunningSim) -> None:
    response = await sim.client.post("/oauth/token", json={"grant_type": "password"})

    assert response.status == 400
    assert await response.json() == {
        "error": "invalid_request",
        "error_description": (
            "Method must be POST with application/x-www-form-urlencoded encoding"
        ),
    }


async def test_oauth_missing_grant_type_is_invalid_request(sim: RunningSim) -> None:
    response = await _token(sim, {"username": "a"})

    assert (await response.json())["error_description"] == (
        "Invalid or missing grant_type parameter"
    )


async def test_oauth_bad_client_is_invalid_client(sim: RunningSim) -> None:
    response = await _token(
        sim, {"grant_type": "client_credentials"}, headers=basic("who", "me")
    )

    assert response.status == 400
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Service"'
    assert await response.json() == {
        "error": "invalid_client",
        "error_description": "Client credentials are invalid",
    }


async def test_oauth_grant_not_allowed_for_client(sim: RunningSim) -> None:
    response = await _token(
        sim,
        {"grant_type": "client_credentials"},
        headers=basic("particle", "particle"),
    )

    assert (await response.json())["error_description"] == (
        "The grant type is unauthorised for this client_id"
    )


async def test_oauth_client_credentials_reach_the_product_stream(
    sim: RunningSim,
) -> None:
    response = await _token(
        sim, {"grant_type": "client_credentials"}, headers=PRODUCT_CLIENT
    )
    token = (await response.json())["access_token"]

    stream = await sim.open_stream("/v1/products/1234/events", token=token)
    sim.cloud.fleet.press(sim.device(0))

    assert (await stream.next_frame()).name == "photo"


async def test_oauth_customer_scope_issues_customer_token(sim: RunningSim) -> None:
    sim.cloud.customers.create(1234, "jane@example.com", None)

    response = await _token(
        sim,
        {
            "grant_type": "client_credentials",
            "scope": "customer=jane@example.com",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
        },
    )

    body = await response.json()
    assert body["scope"] == "customer=jane@example.com"
    assert "refresh_token" in body
    token = sim.cloud.tokens.find(body["access_token"])
    assert token is not None
    assert token.kind == "customer"


async def test_oauth_unknown_customer_scope_is_invalid_grant(sim: RunningSim) -> None:
    response = await _token(
        sim,
        {"grant_type": "client_credentials", "scope": "customer=ghost@example.com"},
        headers=PRODUCT_CLIENT,
    )

    assert response.status == 400
    assert (await response.json())["error"] == "invalid_grant"


async def test_oauth_refresh_token_rotates(sim: RunningSim) -> None:
    first = await (
        await _token(sim, {"grant_type": "client_credentials"}, headers=PRODUCT_CLIENT)
    ).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}

    second = await _token(sim, refresh, headers=PRODUCT_CLIENT)
    reused = await _token(sim, refresh, headers=PRODUCT_CLIENT)

    assert second.status == 200
    assert (await second.json())["access_token"] != first["access_token"]
    assert await reused.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid refresh token",
    }


async def test_oauth_expires_in_zero_never_expires(sim: RunningSim) -> None:
    response = await _token(
        sim,
        {"grant_type": "client_credentials", "expires_in": "0"},
        headers=PRODUCT_CLIENT,
    )

    body = await response.json()
    assert body["expires_in"] == 0
    assert "refresh_token" not in body
    token = sim.cloud.tokens.find(body["access_token"])
    assert token is not None
    assert token.expires_at is None


async def test_oauth_current_token_info(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/access_tokens/current", headers=sim.auth)

    assert await response.json() == {
        "expires_at": None,
        "client": "particle",
        "scopes": [],
        "orgs": [],
    }


async def test_oauth_created_client_can_mint_product_tokens(sim: RunningSim) -> None:
    created = await sim.client.post(
        "/v1/products/1234/clients", headers=sim.auth, data={"name": "My Server"}
    )
    client = (await created.json())["client"]

    response = await _token(
        sim,
        {"grant_type": "client_credentials"},
        headers=basic(client["id"], client["secret"]),
    )

    assert client["id"].startswith("my-server-")
    assert client["product_id"] == 1234
    assert response.status == 200


async def test_oauth_client_listing_hides_secrets(sim: RunningSim) -> None:
    await sim.client.post("/v1/clients", headers=sim.auth, data={"name": "cli"})

    response = await sim.client.get("/v1/clients", headers=sim.auth)

    clients = (await response.json())["clients"]
    assert [c for c in clients if "secret" in c] == []
    assert any(c["name"] == "cli" for c in clients)


async def test_oauth_web_client_needs_redirect_uri(sim: RunningSim) -> None:
    response = await sim.client.post(
        "/v1/clients", headers=sim.auth, data={"name": "w", "type": "web"}
    )

    assert response.status == 400
