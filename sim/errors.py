"""What can go wrong in the simulated cloud, and the HTTP answers Particle gives.

    SimError
    ├── DeviceOffline        the device is not connected (a call would time out)
    ├── FunctionNotFound     the firmware registered no such function
    ├── VariableNotFound     the firmware registered no such variable
    ├── ArgumentTooLong      a function argument longer than Device OS accepts
    └── ApiError             an HTTP error answer, status and JSON body included

Handlers raise `ApiError`; one middleware (`sim.app`) turns it into the response.
The bodies are Particle's own where known (see docs/simulator.md for the sources and
for the ones that had to be chosen).
"""

from __future__ import annotations

from typing import Any

# Particle's OAuth server puts these on every error it answers.
NO_STORE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
OAUTH_STATUS = {
    "invalid_request": 400,
    "invalid_client": 400,
    "invalid_grant": 400,
    "invalid_scope": 400,
    "unsupported_grant_type": 400,
    "invalid_token": 401,
    "rate_limit_exceeded": 429,
}


class SimError(Exception):
    """Root of the simulator's own errors."""


class DeviceOffline(SimError):
    """The device is not connected, so nothing can reach its firmware."""


class FunctionNotFound(SimError):
    """The device's firmware registered no function of that name."""


class VariableNotFound(SimError):
    """The device's firmware registered no variable of that name."""


class ArgumentTooLong(SimError):
    """A function argument longer than Device OS accepts."""


class ApiError(SimError):
    """An error answer: HTTP status, JSON body and any extra headers."""

    def __init__(
        self, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    @classmethod
    def oauth(cls, error: str, description: str) -> ApiError:
        """An error shaped like Particle's OAuth server answers it."""
        headers = dict(NO_STORE_HEADERS)
        if error == "invalid_client":
            headers["WWW-Authenticate"] = 'Basic realm="Service"'
        body = {"error": error, "error_description": description}
        return cls(OAUTH_STATUS.get(error, 500), body, headers)

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, {"ok": False, "error": message})

    @classmethod
    def not_found(cls, message: str = "Not Found") -> ApiError:
        return cls(404, {"ok": False, "error": message})

    @classmethod
    def device_denied(cls, base_url: str) -> ApiError:
        """Unknown or foreign device: Particle answers 403, never 404."""
        info = (
            "I didn't recognize that device name or ID, try opening "
            f"{base_url}/v1/devices?access_token=undefined"
        )
        return cls(403, {"error": "Permission Denied", "info": info})

    @classmethod
    def permission_denied(cls) -> ApiError:
        """Unknown product or organization, or a token that may not use it."""
        return cls(403, {"ok": False, "error": "Permission Denied"})

    @classmethod
    def timed_out(cls) -> ApiError:
        return cls(408, {"ok": False, "error": "timed out"})
