"""The product's customers and the claim codes that give them devices.

Customer ids derive from the seed and the lower-cased email, so a customer created
twice across runs keeps the same id. A claim code is what a customer's mobile app
hands a device during setup; `POST /sim/devices/{id}/claim` plays the device side.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sim.events import utc_now
from sim.ids import claim_code, stable_hex_id

CLAIM_CODE_LIFETIME = timedelta(hours=1)


@dataclass
class Customer:
    id: str
    email: str
    product_id: int
    password: str | None = field(default=None, repr=False)
    created_at: datetime = field(default_factory=utc_now)

    def password_matches(self, password: str) -> bool:
        return self.password is not None and hmac.compare_digest(
            self.password, password
        )


@dataclass(frozen=True)
class ClaimCode:
    code: str
    owner_id: str
    product_id: int | None
    expires_at: datetime


class CustomerAlreadyExists(Exception):
    """A customer with this email already exists in the product."""


class CustomerRegistry:
    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._customers: dict[tuple[int, str], Customer] = {}
        self._claim_codes: dict[str, ClaimCode] = {}

    def create(self, product_id: int, email: str, password: str | None) -> Customer:
        # Particle lower-cases the email it is given.
        address = email.strip().lower()
        if (product_id, address) in self._customers:
            raise CustomerAlreadyExists(address)

        customer = Customer(
            id=stable_hex_id(self._seed, "customer", str(product_id), address),
            email=address,
            product_id=product_id,
            password=password,
        )
        self._customers[(product_id, address)] = customer
        return customer

    def find(self, product_id: int, email: str) -> Customer | None:
        return self._customers.get((product_id, email.strip().lower()))

    def by_id(self, customer_id: str) -> Customer | None:
        for customer in self._customers.values():
            if customer.id == customer_id:
                return customer
        return None

    def of_product(self, product_id: int) -> list[Customer]:
        return [c for c in self._customers.values() if c.product_id == product_id]

    def delete(self, product_id: int, email: str) -> Customer | None:
        return self._customers.pop((product_id, email.strip().lower()), None)

    def new_claim_code(self, owner_id: str, product_id: int | None) -> ClaimCode:
        code = ClaimCode(
            code=claim_code(),
            owner_id=owner_id,
            product_id=product_id,
            expires_at=utc_now() + CLAIM_CODE_LIFETIME,
        )
        self._claim_codes[code.code] = code
        return code

    def redeem_claim_code(self, code: str) -> ClaimCode | None:
        """Use a claim code once; None when unknown or past its hour."""
        claim = self._claim_codes.pop(code, None)
        if claim is None or claim.expires_at <= utc_now():
            return None
        return claim

    def clear(self) -> None:
        self._customers.clear()
        self._claim_codes.clear()
