"""Normalising and validating a registration body: pure functions, no services."""

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from landing.schemas import PHONE_HELP, RegistrationSchema, normalize_phone

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


PHONE = "09123456789"
# Any code point a Python str can hold, lone surrogates and controls included (what
# json.loads makes of "\\udc00"); hypothesis leaves surrogates out unless told.
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"


@pytest.mark.parametrize(
    "typed",
    [
        "09123456789",
        "0912 345 6789",
        "0912-345-6789",
        "(0912) 345-6789",
        "+989123456789",
        "+98 912 345 6789",
        "00989123456789",
        "989123456789",
        "۰۹۱۲۳۴۵۶۷۸۹",
        "٠٩١٢٣٤٥٦٧٨٩",
        "+۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹",
    ],
)
def test_typed_forms_normalise_to_one_number(typed):
    assert normalize_phone(typed) == "09123456789"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "9123456789",  # no leading 0
        "0912345678",  # 10 digits
        "091234567890",  # 12 digits
        "98912345678",  # 98 prefix on an 11-digit number
        "+9809123456789",  # prefix plus a leading zero
        "0912345678a",
        "0912.345.6789",
        "०९१२३४५६७८९",  # Devanagari digits are not ours to accept
        "0912345678\n9",
    ],
)
def test_malformed_numbers_are_rejected(bad):
    with pytest.raises(ValidationError):
        normalize_phone(bad)


def _scripts():
    return st.sampled_from(
        [
            str.maketrans("", ""),
            str.maketrans("0123456789", PERSIAN),
            str.maketrans("0123456789", ARABIC_INDIC),
        ]
    )


@given(
    suffix=st.text(alphabet="0123456789", min_size=10, max_size=10),
    prefix=st.sampled_from(["0", "+98", "0098", "98"]),
    separators=st.lists(st.sampled_from([" ", "-", "(", ")", ""]), min_size=14, max_size=14),
    script=_scripts(),
)
def test_any_typed_form_of_a_number_normalises_to_it(suffix, prefix, separators, script):
    typed = "".join(s + c for s, c in zip(separators, prefix + suffix, strict=False))
    assert normalize_phone(typed.translate(script)) == "0" + suffix


@given(st.text(max_size=40))
def test_arbitrary_text_is_either_a_canonical_number_or_a_validation_error(text):
    try:
        phone = normalize_phone(text)
    except ValidationError:
        return
    assert len(phone) == 11 and phone.startswith("0") and phone.isascii() and phone.isdigit()


def test_schema_fills_request_id_and_referrer():
    data = RegistrationSchema().load({"phone": "09123456789"})
    assert data["phone"] == "09123456789"
    assert data["referrer"] is None
    assert uuid.UUID(str(data["request_id"])).version == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": 9123456789}, "phone"),
        ({}, "phone"),
        ({"phone": None}, "phone"),
        ({"phone": "09123456789", "referrer": "x" * 2049}, "referrer"),
        ({"phone": "09123456789", "referrer": "ad\x00campaign"}, "referrer"),
        ({"phone": "09123456789", "referrer": "ad\ncampaign"}, "referrer"),
        ({"phone": "09123456789", "request_id": "not-a-uuid"}, "request_id"),
        ({"phone": "09123456789", "admin": True}, "admin"),
    ],
)
def test_schema_rejects(body, field):
    with pytest.raises(ValidationError) as caught:
        RegistrationSchema().load(body)
    assert field in caught.value.messages


def test_schema_accepts_a_long_referrer_url():
    referrer = "https://example.com/?" + "a" * 2000
    assert (
        RegistrationSchema().load({"phone": "09123456789", "referrer": referrer})["referrer"]
        == referrer
    )


def test_a_lone_surrogate_in_the_referrer_is_a_field_error():
    with pytest.raises(ValidationError) as caught:
        RegistrationSchema().load({"phone": PHONE, "referrer": "camp\udc00aign"})
    assert caught.value.messages == {"referrer": ["Must be valid Unicode text."]}


@pytest.mark.parametrize("phone", ["\ud800", "0912345678\udc00", "\udbff\udfff", "09\ud8001234567"])
def test_a_lone_surrogate_in_the_phone_is_the_usual_phone_error(phone):
    with pytest.raises(ValidationError) as caught:
        RegistrationSchema().load({"phone": phone})
    assert caught.value.messages == {"phone": [PHONE_HELP]}


def test_a_referrer_in_any_script_with_emoji_is_accepted_as_sent():
    referrer = "کمپین-بهار 🚀 \u200c ﷽"
    assert RegistrationSchema().load({"phone": PHONE, "referrer": referrer})["referrer"] == referrer


def _storable(value: str) -> bool:
    value.encode("utf-8")  # strict: raises on a surrogate
    return "\x00" not in value


@given(st.text(ANY_CHARACTER, max_size=60) | st.text(ANY_CHARACTER, min_size=2040, max_size=2060))
def test_every_referrer_the_schema_accepts_fits_postgres_and_bson(referrer):
    try:
        data = RegistrationSchema().load({"phone": PHONE, "referrer": referrer})
    except ValidationError as error:
        assert set(error.messages) == {"referrer"}
        return
    assert data["referrer"] == referrer
    assert _storable(referrer) and len(referrer) <= 2048  # varchar(2048)
