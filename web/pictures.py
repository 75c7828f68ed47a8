"""A post's picture: the URL a device posted, or a card the app draws from the text.

Drawn cards are SVG, generated from the post alone, so they need no storage and
can be cached for good. Colours come from the event id, so a post keeps its look.
"""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass
from urllib.parse import urlsplit

CAPTION_WIDTH = 22  # characters per line at the card's font size
CAPTION_LINES = 6


def is_picture_url(data: str) -> bool:
    """Whether `data` is itself the picture: one absolute http(s) URL, nothing else."""
    text = data.strip()
    if not text or any(character.isspace() for character in text):
        return False
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def image_url(post_id: int, data: str) -> str:
    return data.strip() if is_picture_url(data) else drawn_picture_path(post_id)


def drawn_picture_path(post_id: int) -> str:
    return f"/posts/{post_id}/picture.svg"


@dataclass(frozen=True)
class Card:
    """What the SVG template needs to draw one caption card."""

    lines: list[str]
    hue: int
    accent_hue: int
    font_size: int


def caption_card(event_id: str, data: str) -> Card:
    digest = hashlib.sha256(event_id.encode("utf-8")).digest()
    hue = digest[0] * 360 // 256
    lines = _wrap(data)
    # Short captions get big letters; long ones shrink to stay on the card.
    font_size = 64 if len(lines) <= 2 and max(map(len, lines)) <= 12 else 40
    return Card(
        lines=lines,
        hue=hue,
        accent_hue=(hue + 40 + digest[1] % 80) % 360,
        font_size=font_size,
    )


def _wrap(data: str) -> list[str]:
    text = " ".join(data.split()) or "·"
    lines = textwrap.wrap(text, CAPTION_WIDTH, break_long_words=True) or [text]
    if len(lines) > CAPTION_LINES:
        lines = [*lines[: CAPTION_LINES - 1], lines[CAPTION_LINES - 1][:-1] + "…"]
    return lines
