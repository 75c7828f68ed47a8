"""Creating customers three ways, their tokens, and claim codes."""

from __future__ import annotations

import aiohttp

from sim.settings import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.sim.helpers import RunningSim

CLIENT_FORM = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}


async def _create(
    sim: RunningSim, form: dict[str, str], **kwargs
) -> aiohttp.ClientResponse:
    return await sim.client.post("/v1/products/1234/customers", data=form, **kwargs)


async def test_customer_with_client_credentials_gets_201_tokens(
    sim: RunningSim,
) -> None:
    response = await _create(
        sim, {"email": "Jane@Example.com", "password": "pw", **CLIENT_FORM}
    )

    body = await response.json()
    assert response.status == 201
    assert set(body) == {"token_type", "access_token", "refresh_token", "expires_in"}
    assert sim.cloud.customers.find(1234, "jane@example.com") is not None


async def test_customer_with_basic_auth_and_no_password(sim: RunningSim) -> None:
    response = await _create(
        sim,
        {"email": "shadow@example.com", "no_password": "true"},
        headers={
            "Authorization": aiohttp.encode_basic_auth(
                DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
            )
        },
    )

    assert response.status == 201


async def test_customer_with_team_token(sim: RunningSim) -> None:
    response = await _create(
        sim, {"email": "bob@example.com", "password": "pw"}, headers=sim.auth
    )

    assert response.status == 201


async def test_customer_implicit_without_redirect_answers_tokens(
    sim: RunningSim,
) -> None:
    response = await _create(
        sim,
        {
            "email": "ivy@example.com",
            "password": "pw",
            "client_id": DEFAULT_CLIENT_ID,
            "response_type": "token",
        },
    )

    assert response.status == 201


async def test_customer_implicit_redirects_with_token(sim: RunningSim) -> None:
    client = sim.cloud.clients.create(
        name="web",
        type_="web",
        product_id=1234,
        scope=None,
        redirect_uri="http://127.0.0.1:1/cb",
    )

    response = await _create(
        sim,
        {
            "email": "w@example.com",
            "password": "pw",
            "client_id": client.id,
            "response_type": "token",
        },
        allow_redirects=False,
    )

    assert response.status == 302
    assert response.headers["Location"].startswith("http://127.0.0.1:1/cb#token=")


async def test_customer_duplicate_email_is_400(sim: RunningSim) -> None:
    await _create(sim, {"email": "dup@example.com", "password": "pw", **CLIENT_FORM})

    response = await _create(
        sim, {"email": "DUP@example.com", "password": "pw", **CLIENT_FORM}
    )

    assert response.status == 400


async def test_customer_needs_password_unless_no_password(sim: RunningSim) -> None:
    response = await _create(sim, {"email": "p@example.com", **CLIENT_FORM})

    assert response.status == 400


async def test_customer_bad_client_is_invalid_client(sim: RunningSim) -> None:
    response = await _create(
        sim,
        {
            "email": "x@example.com",
            "password": "pw",
            "client_id": "abc",
            "client_secret": "no",
        },
    )

    assert response.status == 400
    assert (await response.json())["error"] == "invalid_client"


async def test_customer_unknown_product_is_403(sim: RunningSim) -> None:
    response = await sim.client.post(
        "/v1/products/77/customers", data={"email": "x@example.com", **CLIENT_FORM}
    )

    assert response.status == 403


async def test_customer_token_lists_no_devices_until_claim(sim: RunningSim) -> None:
    created = await _create(
        sim, {"email": "c@example.com", "password": "pw", **CLIENT_FORM}
    )
    auth = {"Authorization": f"Bearer {(await created.json())['access_token']}"}

    before = await (await sim.client.get("/v1/devices", headers=auth)).json()
    claim = await (await sim.client.post("/v1/device_claims", headers=auth)).json()
    await sim.control(
        f"/sim/devices/{sim.device(1).id}/claim", {"claim_code": claim["claim_code"]}
    )
    after = await (await sim.client.get("/v1/devices", headers=auth)).json()

    assert before == []
    assert claim["device_ids"] == []
    assert [d["id"] for d in after] == [sim.device(1).id]


async def test_customer_password_login_through_product_client(sim: RunningSim) -> None:
    await _create(sim, {"email": "l@example.com", "password": "secret", **CLIENT_FORM})

    response = await sim.client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "username": "l@example.com",
            "password": "secret",
            **CLIENT_FORM,
        },
    )

    assert response.status == 200


async def test_customer_token_cannot_use_product_routes(sim: RunningSim) -> None:
    created = await _create(
        sim, {"email": "d@example.com", "password": "pw", **CLIENT_FORM}
    )
    auth = {"Authorization": f"Bearer {(await created.json())['access_token']}"}

    response = await sim.client.get("/v1/products/1234/devices", headers=auth)

    assert response.status == 403


async def test_customer_listing_and_delete(sim: RunningSim) -> None:
    await _create(sim, {"email": "gone@example.com", "password": "pw", **CLIENT_FORM})

    listed = await (
        await sim.client.get("/v1/products/1234/customers", headers=sim.auth)
    ).json()
    deleted = await sim.client.delete(
        "/v1/products/1234/customers/gone@example.com", headers=sim.auth
    )

    assert [c["username"] for c in listed["customers"]] == ["gone@example.com"]
    assert await deleted.json() == {"ok": True}
    assert sim.cloud.customers.find(1234, "gone@example.com") is None


async def test_claim_code_can_be_used_once(sim: RunningSim) -> None:
    claim = await (await sim.client.post("/v1/device_claims", headers=sim.auth)).json()
    device = sim.device(0)
    await sim.control(
        f"/sim/devices/{device.id}/claim", {"claim_code": claim["claim_code"]}
    )

    again = await sim.client.post(
        f"/sim/devices/{device.id}/claim", json={"claim_code": claim["claim_code"]}
    )

    assert again.status == 400
