"""Token checks with the exact answers of Particle's OAuth middleware."""

from __future__ import annotations

import pytest

from tests.sim.helpers import RunningSim

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def test_auth_missing_token_is_400_not_found(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/devices/events")

    assert response.status == 400
    assert await response.text() == (
        '{"error":"invalid_request",'
        '"error_description":"The access token was not found"}'
    )


async def test_auth_errors_carry_no_store_headers(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/devices/events")

    assert {k: response.headers[k] for k in NO_STORE} == NO_STORE


async def test_auth_unknown_token_is_401_invalid(sim: RunningSim) -> None:
    response = await sim.client.get(
        "/v1/devices/events", headers={"Authorization": "Bearer nope"}
    )

    assert response.status == 401
    assert await response.json() == {
        "error": "invalid_token",
        "error_description": "The access token provided is invalid.",
    }
    assert response.headers["Cache-Control"] == "no-store"


async def test_auth_expired_token_is_401_expired(sim: RunningSim) -> None:
    minted = await sim.control("/sim/tokens", {"kind": "user"})
    await sim.control("/sim/tokens/expire", {"token": minted["access_token"]})

    response = await sim.client.get(
        "/v1/devices",
        headers={"Authorization": f"Bearer {minted['access_token']}"},
    )

    assert response.status == 401
    assert await response.json() == {
        "error": "invalid_token",
        "error_description": "The access token provided has expired.",
    }


async def test_auth_token_in_query_is_accepted(sim: RunningSim) -> None:
    response = await sim.client.get("/v1/devices", params={"access_token": sim.token})

    assert response.status == 200


async def test_auth_token_in_form_body_is_accepted(sim: RunningSim) -> None:
    response = await sim.client.post(
        "/v1/devices/events", data={"access_token": sim.token, "name": "x"}
    )

    assert response.status == 200


async def test_auth_token_in_json_body_is_refused(sim: RunningSim) -> None:
    response = await sim.client.post(
        "/v1/devices/events", json={"access_token": sim.token, "name": "x"}
    )

    assert response.status == 400
    assert (await response.json())["error_description"] == (
        "When putting the token in the body, content type must be "
        "application/x-www-form-urlencoded."
    )


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        ({"Authorization": "Bearer a"}, {"access_token": "b"}),
        ({}, {"access_token": "b", "other": "c"}),
    ],
)
async def test_auth_two_methods_are_refused(sim: RunningSim, headers, params) -> None:
    data = {"access_token": "a"} if not headers else None

    response = await sim.client.post(
        "/v1/devices/events", headers=headers, params=params, data=data
    )

    assert response.status == 400
    assert await response.json() == {
        "error": "invalid_request",
        "error_description": (
            "Only one method may be used to authenticate at a time"
            " (Auth header,  GET or POST)."
        ),
    }


async def test_auth_malformed_header_is_400(sim: RunningSim) -> None:
    response = await sim.client.get(
        "/v1/devices", headers={"Authorization": "Token abc"}
    )

    assert response.status == 400
    assert (await response.json())["error_description"] == "Malformed auth header"


async def test_auth_empty_bearer_is_malformed(sim: RunningSim) -> None:
    """particle-api-js sends `Bearer ` when it has no token."""
    response = await sim.client.get(
        "/v1/devices/events", headers={"Authorization": "Bearer "}
    )

    assert response.status == 400


async def test_auth_revoked_token_is_invalid(sim: RunningSim) -> None:
    minted = await sim.control("/sim/tokens", {"kind": "user"})
    await sim.control("/sim/tokens/revoke", {"token": minted["access_token"]})

    response = await sim.client.get(
        "/v1/devices", headers={"Authorization": f"Bearer {minted['access_token']}"}
    )

    assert response.status == 401


async def test_auth_revoking_ends_open_streams(sim: RunningSim) -> None:
    minted = await sim.control("/sim/tokens", {"kind": "user"})
    stream = await sim.open_stream("/v1/devices/events", token=minted["access_token"])

    await sim.control("/sim/tokens/revoke", {"token": minted["access_token"]})

    with pytest.raises(EOFError):
        await stream.next_frame()
