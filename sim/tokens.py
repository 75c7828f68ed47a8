"""Access and refresh tokens: who a token speaks for, and until when.

Three kinds exist, as on Particle:

* user: the developer account that owns the fleet and is on the product team
  (`SIM_ACCESS_TOKEN` is one, and so is every token a developer login yields);
* customer: a product's customer, who sees only the devices claimed to them;
* product: a product OAuth client's own token (`client_credentials` without a
  scope), which reaches the product's endpoints and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sim.events import utc_now
from sim.ids import random_token

DEFAULT_LIFETIME = 7_776_000  # 90 days, Particle's default
# A refresh token outlives its access token by 14 days, as in Particle's server.
REFRESH_EXTRA_LIFETIME = 1_209_600


class TokenKind(StrEnum):
    USER = "user"
    CUSTOMER = "customer"
    PRODUCT = "product"


@dataclass
class AccessToken:
    value: str = field(repr=False)
    kind: TokenKind
    client_id: str
    # The developer's or the customer's id; None for a product token.
    user_id: str | None = None
    # The customer's product, or the product a product token belongs to.
    product_id: int | None = None
    scope: str | None = None
    expires_at: datetime | None = None
    created_at: datetime = field(default_factory=utc_now)

    def has_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class RefreshToken:
    value: str = field(repr=False)
    kind: TokenKind
    client_id: str
    user_id: str | None
    product_id: int | None
    scope: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class IssuedTokens:
    access: AccessToken
    refresh: RefreshToken | None
    lifetime: int | None

    def response_body(self) -> dict[str, object]:
        """The body `/oauth/token` answers, fields in Particle's order."""
        body: dict[str, object] = {
            "token_type": "bearer",
            "access_token": self.access.value,
        }
        if self.lifetime is not None:
            body["expires_in"] = self.lifetime
        if self.refresh is not None:
            body["refresh_token"] = self.refresh.value
        if self.access.scope:
            body["scope"] = self.access.scope
        return body


class TokenStore:
    def __init__(self) -> None:
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}

    def add(self, token: AccessToken) -> None:
        self._access[token.value] = token

    def find(self, value: str) -> AccessToken | None:
        return self._access.get(value)

    def issue(
        self,
        template: AccessToken,
        *,
        lifetime: int | None = DEFAULT_LIFETIME,
        with_refresh: bool = False,
    ) -> IssuedTokens:
        """Store a fresh token like `template`; lifetime 0 or None never expires."""
        now = utc_now()
        expires_at = now + timedelta(seconds=lifetime) if lifetime else None
        access = AccessToken(
            value=random_token(),
            kind=template.kind,
            client_id=template.client_id,
            user_id=template.user_id,
            product_id=template.product_id,
            scope=template.scope,
            expires_at=expires_at,
            created_at=now,
        )
        self.add(access)

        # A token that never expires gets no refresh token, as in Particle's server.
        refresh = None
        if with_refresh and expires_at is not None:
            refresh = RefreshToken(
                value=random_token(),
                kind=access.kind,
                client_id=access.client_id,
                user_id=access.user_id,
                product_id=access.product_id,
                scope=access.scope,
                expires_at=expires_at + timedelta(seconds=REFRESH_EXTRA_LIFETIME),
            )
            self._refresh[refresh.value] = refresh
        return IssuedTokens(access, refresh, lifetime)

    def find_refresh(self, value: str) -> RefreshToken | None:
        return self._refresh.get(value)

    def retire_refresh(self, value: str) -> None:
        """Refresh tokens rotate: one use, then a new one comes with the new token."""
        self._refresh.pop(value, None)

    def revoke(self, value: str) -> bool:
        return self._access.pop(value, None) is not None

    def expire(self, value: str) -> bool:
        token = self._access.get(value)
        if token is None:
            return False
        token.expires_at = utc_now() - timedelta(seconds=1)
        return True

    def revoke_user(self, user_id: str) -> None:
        for value, token in list(self._access.items()):
            if token.user_id == user_id:
                del self._access[value]

    def clear(self) -> None:
        self._access.clear()
        self._refresh.clear()
