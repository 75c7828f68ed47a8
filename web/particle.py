"""Particle's API as the web process uses it: call a device function, ask a name.

Each answer is sorted once, here, into what the caller needs to decide: the
function returned, it may work if tried again (device offline, API trouble), or it
never will (no such function, token refused). The token travels only in the
Authorization header, and redirects are not followed, so it never goes elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from shared.log import get_logger
from shared.settings import Settings

log = get_logger("web.particle")

NAME_TIMEOUT_SECONDS = 10.0
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class FunctionReturned:
    return_value: int
    device_name: str | None


@dataclass(frozen=True)
class FunctionFailed:
    reason: str
    retryable: bool
    status: int | None = None


CallOutcome = FunctionReturned | FunctionFailed


@dataclass(frozen=True)
class DeviceFacts:
    """What Particle's device endpoint says of a device; either may be unknown."""

    name: str | None
    online: bool | None


class ParticleApi:
    def __init__(
        self, settings: Settings, session: aiohttp.ClientSession, call_timeout: float
    ) -> None:
        self._base = settings.particle_api_url
        self._token = settings.particle_access_token
        self._product = settings.particle_product
        self._session = session
        self._call_timeout = aiohttp.ClientTimeout(total=call_timeout)

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def device_url(self, device_id: str) -> str:
        """Product-scoped when PARTICLE_PRODUCT is set, as Particle's API wants."""
        device = quote(device_id, safe="")
        if self._product:
            product = quote(self._product, safe="")
            return f"{self._base}/v1/products/{product}/devices/{device}"
        return f"{self._base}/v1/devices/{device}"

    async def call_function(
        self, device_id: str, function: str, arg: str
    ) -> CallOutcome:
        """One call; never raises for what Particle or the network did."""
        if self._token is None:
            return FunctionFailed("PARTICLE_ACCESS_TOKEN is not set", retryable=False)
        url = f"{self.device_url(device_id)}/{quote(function, safe='')}"
        try:
            async with self._session.post(
                url,
                data={"arg": arg},
                headers=self._auth(),
                timeout=self._call_timeout,
                allow_redirects=False,
            ) as response:
                return await _call_outcome(response)
        except TimeoutError:
            return FunctionFailed("no answer from Particle in time", retryable=True)
        except aiohttp.ClientError as error:
            return FunctionFailed(f"network error: {type(error).__name__}", True)

    async def describe_device(self, device_id: str) -> DeviceFacts | None:
        """The device's name and online state, or None when Particle will not say."""
        if self._token is None:
            return None
        try:
            async with self._session.get(
                self.device_url(device_id),
                headers=self._auth(),
                timeout=aiohttp.ClientTimeout(total=NAME_TIMEOUT_SECONDS),
                allow_redirects=False,
            ) as response:
                if response.status != 200:
                    log.info("device_name_unavailable", status=response.status)
                    return None
                body = await _json_or_none(response)
        except (TimeoutError, aiohttp.ClientError) as error:
            log.info("device_name_unavailable", error=type(error).__name__)
            return None
        if not isinstance(body, dict):
            return None
        name, online = body.get("name"), body.get("online")
        return DeviceFacts(
            name=name if isinstance(name, str) and name else None,
            online=online if isinstance(online, bool) else None,
        )

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}


async def _call_outcome(response: aiohttp.ClientResponse) -> CallOutcome:
    body = await _json_or_none(response)
    status = response.status
    if status == 200:
        return _returned(body)
    detail = _error_text(body)
    if status == 408:
        return FunctionFailed(f"device offline ({detail or 'timed out'})", True, status)
    if status == 404:
        reason = f"function or device not found ({detail or 'not found'})"
        return FunctionFailed(reason, False, status)
    if status in (401, 403):
        return FunctionFailed(
            f"not allowed: HTTP {status} {detail}".rstrip(), False, status
        )
    retryable = status in TRANSIENT_STATUSES or status >= 500
    return FunctionFailed(
        f"Particle answered HTTP {status} {detail}".rstrip(), retryable, status
    )


def _returned(body: Any) -> CallOutcome:
    if not isinstance(body, dict):
        return FunctionFailed("Particle answered 200 without JSON", retryable=False)
    value = body.get("return_value")
    if body.get("ok") is False or not isinstance(value, int):
        # Some device errors come back as 200 {"ok": false, "error": ...}.
        reason = _error_text(body) or "no return_value in the answer"
        return FunctionFailed(f"call failed: {reason}", retryable=False, status=200)
    name = body.get("name")
    return FunctionReturned(value, name if isinstance(name, str) and name else None)


def _error_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    for key in ("error_description", "error", "info"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


async def _json_or_none(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except (TimeoutError, ValueError, aiohttp.ClientError):
        return None
