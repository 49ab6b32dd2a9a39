"""Export cells a spreadsheet reads as text: a visitor's referrer or user agent runs nothing."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from landing.shared.cells import safe_cell
from tests.support.admin import HOSTILE_TEXT, opens_as_text

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


LEGITIMATE = (
    "ads",
    "google-ads",
    "spring_sale/2026",
    "https://t.me/landing?start=ref-42&utm_source=ads",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15",
    "09123456789",
    "2001:db8::1",
    "203.0.113.5",
    "7d4e9b0a-2c1f-4d7e-9a3b-5f6c8e1d2a4b",
    "2026-11-01T09:00:00+00:00",
    "تبلیغات-پاییز",
    "",
)


@pytest.mark.parametrize("value", LEGITIMATE)
def test_legitimate_values_are_left_as_they_are(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        ("=1+1", "'=1+1"),
        ("x;=HYPERLINK(1)", "x;'=HYPERLINK(1)"),
        ("x,=1", "x,'=1"),
        (" =1", " '=1"),
        ("\t=1", "'\t'=1"),
        ("\rads", "'\rads"),
        ("ads\n@SUM(1)", "ads\n'@SUM(1)"),
        ("=a;=b", "'=a;'=b"),
        ("\u202e=1+1", "'=1+1"),
        ("ads\u202eoc.live", "adsoc.live"),
        ("\u2066ads\u2069", "ads"),
        ("\uff1d1", "'\uff1d1"),
        (
            "Bot/2.1 (compatible; +http://bot.example/)",
            "Bot/2.1 (compatible; '+http://bot.example/)",
        ),
        ("'=1+1", "'=1+1"),  # already text
    ],
)
def test_what_a_spreadsheet_would_run_is_kept_as_text(raw, written):
    assert safe_cell(raw) == written
    assert opens_as_text(written)


@pytest.mark.parametrize("value", HOSTILE_TEXT)
def test_every_hostile_value_opens_as_text(value):
    assert not opens_as_text(value)
    assert opens_as_text(safe_cell(value))


@given(st.text(alphabet=st.sampled_from(" ,;\t\r\nab=+-@'\u202e\u2066\u200f\uff1d")))
def test_any_text_opens_as_text_and_cleaning_twice_changes_nothing(value):
    cleaned = safe_cell(value)
    assert opens_as_text(cleaned)
    assert safe_cell(cleaned) == cleaned
