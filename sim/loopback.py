"""The one rule for every outbound call: loopback targets only.

This simulator stands in for a cloud service on a developer's machine or a test
runner; it must never reach out to the internet, whatever URL a webhook names.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost", "localhost.")


class NotLoopback(ValueError):
    """A URL that points anywhere but this machine's loopback interface."""


def check_loopback_url(url: str) -> None:
    """Raise `NotLoopback` unless `url` is http(s) to 127.0.0.0/8, ::1 or localhost."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotLoopback("url must be an http(s) URL")

    host = parts.hostname
    if host.lower() in LOOPBACK_NAMES:
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise NotLoopback(
        "The simulator only delivers webhooks to loopback hosts (127.0.0.1, ::1,"
        f" localhost); {host!r} is not one"
    )
