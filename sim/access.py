"""Who may see what: the caller's token against products, organizations, devices.

Particle answers 403 for an unknown product or device as well as for one the
caller may not use, so that ids cannot be probed; these helpers do the same.
"""

from __future__ import annotations

from aiohttp import web

from sim.auth import authenticate
from sim.cloud import Cloud, Product, cloud_of
from sim.devices import Device
from sim.errors import ApiError
from sim.tokens import AccessToken


async def caller(request: web.Request) -> tuple[Cloud, AccessToken]:
    """The cloud and the caller's valid token (or Particle's 400/401 answer)."""
    cloud = cloud_of(request)
    token = await authenticate(request, cloud.tokens)
    return cloud, token


def product_for(cloud: Cloud, token: AccessToken, reference: str) -> Product:
    if not cloud.product.is_called(reference) or not cloud.is_team_member(token):
        raise ApiError.permission_denied()
    return cloud.product


def org_for(cloud: Cloud, token: AccessToken, reference: str) -> str:
    if reference != cloud.product.org_slug or not cloud.is_team_member(token):
        raise ApiError.permission_denied()
    return reference


def user_devices(cloud: Cloud, token: AccessToken) -> list[Device]:
    """The devices a user or customer owns; a product token owns none."""
    if token.user_id is None:
        return []
    return cloud.fleet.owned_by(token.user_id)


def user_device(cloud: Cloud, token: AccessToken, reference: str) -> Device:
    device = cloud.fleet.find(reference)
    if device is None or token.user_id is None or device.owner_id != token.user_id:
        raise ApiError.device_denied(cloud.settings.base_url)
    return device


def product_device(cloud: Cloud, product: Product, reference: str) -> Device:
    device = cloud.fleet.find(reference)
    if device is None or device.product_id != product.id:
        raise ApiError.device_denied(cloud.settings.base_url)
    return device


def owner_name(cloud: Cloud, owner_id: str | None) -> str | None:
    """The username Particle shows as a device's owner."""
    if owner_id is None:
        return None
    if owner_id == cloud.fleet.developer_id:
        return cloud.settings.username
    customer = cloud.customers.by_id(owner_id)
    return customer.email if customer else None
