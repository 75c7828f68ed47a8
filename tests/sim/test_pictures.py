"""The generated pictures: valid SVG, one picture per number."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from sim.pictures import picture_svg


@pytest.mark.parametrize("number", [1, 2, 3, 999_999])
def test_picture_is_well_formed_svg(number: int) -> None:
    root = ElementTree.fromstring(picture_svg(number))

    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_picture_is_the_same_for_the_same_number() -> None:
    assert picture_svg(42) == picture_svg(42)


def test_pictures_differ_between_numbers() -> None:
    assert picture_svg(42) != picture_svg(43)
