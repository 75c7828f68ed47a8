"""Pictures: which data is a picture URL, and how captions fit the drawn card."""

from __future__ import annotations

import pytest

from web.pictures import CAPTION_LINES, caption_card, image_url, is_picture_url


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("https://example.com/cat.jpg", True),
        ("  http://example.com/a.png  ", True),
        ("javascript:alert(1)", False),
        ("ftp://example.com/a.png", False),
        ("https://", False),
        ("look https://example.com/a.png", False),
        ("", False),
    ],
)
def test_is_picture_url_accepts_only_one_http_url(data: str, expected: bool) -> None:
    assert is_picture_url(data) is expected


def test_image_url_of_text_is_the_drawn_card() -> None:
    assert image_url(7, "hello") == "/posts/7/picture.svg"


def test_caption_card_cuts_long_text_with_an_ellipsis() -> None:
    card = caption_card("id", "word " * 200)

    assert len(card.lines) == CAPTION_LINES
    assert card.lines[-1].endswith("…")


def test_caption_card_colours_follow_the_event_id() -> None:
    assert caption_card("a", "x") == caption_card("a", "x")
    assert caption_card("a", "x").hue != caption_card("b", "x").hue
