"""The campaign page's words and numbers: both languages say the same things, Persian digits,
and a referrer read as its UTM source and campaign."""

import pytest

from landing.ops.campaign.texts import EN, FA, language, persian_digits
from landing.ops.campaign.views import referrer_parts

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


def test_both_languages_have_every_text() -> None:
    assert EN.keys() == FA.keys()
    assert all(FA[key].strip() for key in FA)


def test_persian_digits_and_signs() -> None:
    assert persian_digits(1234567890) == "۱۲۳۴۵۶۷۸۹۰"
    assert persian_digits("66.7%") == "۶۶٫۷٪"


def test_an_unknown_language_is_english() -> None:
    assert [language(x) for x in ("fa", "en", "de", None)] == ["fa", "en", "en", "en"]


def test_a_referrer_reads_as_its_source_and_campaign() -> None:
    assert referrer_parts("utm_source=ads&utm_campaign=winter") == ("ads", "winter")
    assert referrer_parts("utm_campaign=spring") == ("", "spring")
    assert referrer_parts("partner-site") == ("partner-site", "")
    assert referrer_parts("") == ("", "")
