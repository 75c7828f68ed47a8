"""What a post, its device and its calls look like to the API, the page and live
browsers: one JSON shape, built here, so the three always agree."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .models import (
    CALL_FAILED,
    CALL_RETRYING,
    CALL_SUCCEEDED,
    FINISHED_CALL_STATES,
    Call,
    Device,
    Post,
)
from .pictures import image_url, is_picture_url

AVATAR_HUES = 12  # the stylesheet's .hue-0 ... .hue-11


@dataclass(frozen=True)
class PostView:
    """A post with its device and its calls, as the API, the page and live send it."""

    post: Post
    device: Device
    calls: list[Call]

    def as_json(self, *, with_calls: bool = False) -> dict[str, Any]:
        post = self.post
        body: dict[str, Any] = {
            "id": post.id,
            "event_id": post.event_id,
            "event_name": post.event_name,
            "device_id": post.device_id,
            "device": device_json(self.device),
            "data": post.data,
            "caption": None if is_picture_url(post.data) else post.data,
            "image_url": image_url(post.id, post.data),
            "published_at": post.published_at,
            "received_at": post.received_at.isoformat(),
            "likes": post.likes,
            "last_call": call_json(self.calls[-1]) if self.calls else None,
        }
        if with_calls:
            body["calls"] = [call_json(call) for call in self.calls]
        return body


def device_json(device: Device) -> dict[str, Any]:
    shown = device.name or f"Device {device.device_id[:6]}"
    return {
        "id": device.device_id,
        "name": device.name,
        "online": device.online,
        # What the page shows; computed here so server and browser agree.
        "display_name": shown,
        "initials": "".join(word[0] for word in shown.split()[:2]).upper(),
        "hue": hashlib.sha256(device.device_id.encode()).digest()[0] % AVATAR_HUES,
    }


def call_json(call: Call) -> dict[str, Any]:
    return {
        "id": call.id,
        "post_id": call.post_id,
        "function": call.function,
        "state": call.state,
        "finished": call.state in FINISHED_CALL_STATES,
        "attempts": call.attempts,
        "return_value": call.return_value,
        "error": call.error,
        "updated_at": call.updated_at.isoformat(),
        "label": call_label(call),
    }


def call_label(call: Call) -> str:
    """One line for people: how the call a like caused is going."""
    if call.state == CALL_SUCCEEDED:
        return f"{call.function} returned {call.return_value}"
    if call.state == CALL_FAILED:
        return f"{call.function} failed: {call.error}"
    if call.state == CALL_RETRYING:
        return f"{call.function} will try again ({call.error})"
    return f"{call.function} queued"
