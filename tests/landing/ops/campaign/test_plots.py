"""The campaign page's SVG plots: the counts they draw, scaled, escaped, in the page's digits."""

import re
import xml.etree.ElementTree as ET

import pytest

from landing.ops.campaign.plots import HEIGHT, bars
from landing.ops.campaign.texts import persian_digits

pytestmark = pytest.mark.fast  # the fast tier: `make unit`

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(str(svg).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def number(element: ET.Element, attribute: str) -> float:
    return float(element.get(attribute, "nan"))


def test_each_point_is_a_bar_scaled_to_the_largest() -> None:
    root = parsed(bars([("10:00", 2), ("10:01", 0), ("10:02", 4)], "per minute"))
    rects = root.findall(f"{SVG}rect")
    assert [r.get("data-count") for r in rects] == ["2", "0", "4"]
    heights = [number(r, "height") for r in rects]
    assert heights[1] == 0 and heights[2] == 2 * heights[0] > 0
    assert all(number(r, "y") + number(r, "height") <= HEIGHT for r in rects)
    assert rects[2].findtext(f"{SVG}title") == "10:02: 4"


def test_no_points_or_only_zeros_draw_no_bar_height() -> None:
    assert parsed(bars([], "empty")).findall(f"{SVG}rect") == []
    zeros = parsed(bars([("a", 0), ("b", 0)], "zeros")).findall(f"{SVG}rect")
    assert [number(r, "height") for r in zeros] == [0, 0]


def test_labels_and_titles_are_escaped() -> None:
    svg = bars([("<script>", 1)], 'a "title" & more')
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "&amp; more" in svg
    parsed(svg)  # still well-formed XML


def test_persian_digits_and_sparse_labels() -> None:
    svg = bars([(f"{h:02}", h) for h in range(24)], "per hour", persian_digits, label_every=6)
    labels = re.findall(r'class="label">([^<]*)<', svg)
    assert labels == ["۰۰", "۰۶", "۱۲", "۱۸"]
    assert "۲۳</text>" in svg  # the largest count, top right
