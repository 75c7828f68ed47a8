"""The JSON shapes Particle uses for devices, developer and product flavours."""

from __future__ import annotations

from typing import Any

from sim.access import owner_name
from sim.cloud import Cloud
from sim.devices import (
    FUNCTIONS,
    PLATFORM_ARGON,
    SYSTEM_FIRMWARE,
    VARIABLE_TYPES,
    Device,
)
from sim.events import iso_millis, utc_now


def device_view(
    cloud: Cloud, device: Device, *, detailed: bool = False, product: bool = False
) -> dict[str, Any]:
    """`GET /v1/devices[/:id]` and product variants; `detailed` adds the firmware."""
    view: dict[str, Any] = {
        "id": device.id,
        "name": device.name,
        "last_app": None,
        "last_ip_address": device.last_ip_address,
        "last_heard": iso_millis(device.last_heard),
        "last_handshake_at": iso_millis(device.last_handshake_at),
        "product_id": device.product_id,
        "online": device.online,
        "connected": device.online,
        "platform_id": PLATFORM_ARGON,
        "cellular": False,
        "notes": None,
        "status": "normal",
        "serial_number": device.serial_number,
        "mac_wifi": _mac_address(device),
        "system_firmware_version": SYSTEM_FIRMWARE,
        "firmware_updates_enabled": True,
        "firmware_updates_forced": False,
    }
    if detailed:
        view["functions"] = list(FUNCTIONS)
        view["variables"] = dict(VARIABLE_TYPES)
    if detailed or product:
        view["owner"] = owner_name(cloud, device.owner_id)
    if product:
        view.update(_product_fields(device))
    return view


def _product_fields(device: Device) -> dict[str, Any]:
    return {
        "firmware_product_id": device.product_id,
        "groups": [],
        "firmware_version": device.firmware_version,
        "desired_firmware_version": None,
        "targeted_firmware_release_version": None,
        "development": False,
        "quarantined": False,
        "denied": False,
    }


def _mac_address(device: Device) -> str:
    tail = device.id[-6:]
    return "e0:0f:ce:" + ":".join(tail[i : i + 2] for i in range(0, 6, 2))


def variable_view(device: Device, name: str, result: object) -> dict[str, Any]:
    return {
        "name": name,
        "result": result,
        "coreInfo": {
            "name": device.name,
            "deviceID": device.id,
            "connected": device.online,
            "last_handshake_at": iso_millis(device.last_handshake_at),
            "last_heard": iso_millis(utc_now()),
        },
    }


def call_view(device: Device, return_value: int) -> dict[str, Any]:
    return {
        "id": device.id,
        "name": device.name,
        "connected": True,
        "return_value": return_value,
    }
