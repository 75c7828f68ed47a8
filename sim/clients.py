"""OAuth clients: the built-in developer clients, the product's client, new ones.

`particle:particle` and `particle-api:particle-api` are the clients the CLI and
particle-api-js log in with; the product client comes from SIM_CLIENT_ID and
SIM_CLIENT_SECRET; `POST /v1/clients` adds more. A client bound to a product may
mint product and customer tokens for that product only.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass, field

from sim.settings import Settings

DEVELOPER_CLIENTS = {"particle": "particle", "particle-api": "particle-api"}
DEVELOPER_GRANTS = frozenset({"password", "refresh_token"})
PRODUCT_GRANTS = frozenset({"password", "client_credentials", "refresh_token"})


@dataclass
class OAuthClient:
    id: str
    secret: str = field(repr=False)
    name: str
    type: str = "installed"
    product_id: int | None = None
    scope: str | None = None
    redirect_uri: str | None = None

    @property
    def grants(self) -> frozenset[str]:
        return PRODUCT_GRANTS if self.product_id is not None else DEVELOPER_GRANTS

    def public_view(self) -> dict[str, object]:
        view: dict[str, object] = {"name": self.name, "type": self.type, "id": self.id}
        if self.scope:
            view["scope"] = self.scope
        if self.redirect_uri:
            view["redirect_uri"] = self.redirect_uri
        if self.product_id is not None:
            view["product_id"] = self.product_id
        return view


class ClientRegistry:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._clients: dict[str, OAuthClient] = {}
        self.restore()

    def restore(self) -> None:
        self._clients.clear()
        for client_id, secret in DEVELOPER_CLIENTS.items():
            self.add(OAuthClient(id=client_id, secret=secret, name=client_id))
        self.add(
            OAuthClient(
                id=self._settings.client_id,
                secret=self._settings.client_secret,
                name="Simulated product client",
                product_id=self._settings.product_id,
                scope="*:*",
            )
        )

    def add(self, client: OAuthClient) -> None:
        self._clients[client.id] = client

    def find(self, client_id: str) -> OAuthClient | None:
        return self._clients.get(client_id)

    def authenticate(self, client_id: str, secret: str) -> OAuthClient | None:
        client = self._clients.get(client_id)
        if client is None or not hmac.compare_digest(client.secret, secret):
            return None
        return client

    def create(
        self,
        *,
        name: str,
        type_: str,
        product_id: int | None,
        scope: str | None,
        redirect_uri: str | None,
    ) -> OAuthClient:
        # Particle derives ids like "myapp-2146" from the name.
        stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:30] or "client"
        client_id = f"{stem}-{secrets.randbelow(9000) + 1000}"
        client = OAuthClient(
            id=client_id,
            secret=secrets.token_hex(20),
            name=name,
            type=type_,
            product_id=product_id,
            scope=scope,
            redirect_uri=redirect_uri,
        )
        self.add(client)
        return client

    def delete(self, client_id: str) -> bool:
        return self._clients.pop(client_id, None) is not None

    def owned_by(self, product_id: int | None) -> list[OAuthClient]:
        return [c for c in self._clients.values() if c.product_id == product_id]
