"""Cleaning and normalising what reaches a message: pure functions, no services.

Whatever they return must be storable: text that encodes as strict UTF-8 and holds no NUL
(PostgreSQL's text and BSON both refuse otherwise), and addresses PostgreSQL's inet takes.
"""

import ipaddress
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from landing.schemas import storable_text
from landing.visitor import MAX_USER_AGENT, clean_user_agent, normalize_ip

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


# Any code point a Python str can hold, lone surrogates and controls included.
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())


def _storable(value: str) -> bool:
    value.encode("utf-8")  # strict: raises on a surrogate
    return "\x00" not in value


@pytest.mark.parametrize(
    ("raw", "control", "cleaned"),
    [
        ("bot\x00/1\x07", "", "bot/1"),
        ("a\ud800b\udfffc", "", "a\ufffdb\ufffdc"),
        ("next\x85line\x9f", "", "nextline"),  # C1 controls too
        ("0912\x00345\n", "\ufffd", "0912\ufffd345\ufffd"),
        ("کمپین 🚀", "", "کمپین 🚀"),
    ],
)
def test_storable_text_replaces_surrogates_and_drops_or_marks_controls(raw, control, cleaned):
    assert storable_text(raw, 64, control) == cleaned


@given(
    st.text(ANY_CHARACTER, max_size=100),
    st.integers(0, 80),
    st.sampled_from(["", "\ufffd", "?"]),
)
def test_storable_text_always_gives_storable_text_within_its_limit(raw, limit, control):
    cleaned = storable_text(raw, limit, control)
    assert _storable(cleaned) and len(cleaned) <= limit
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in cleaned)


def test_user_agent_is_cleaned_cut_to_its_column_or_none():
    assert clean_user_agent("bot\x00/1\x07" + "x" * 600) == "bot/1" + "x" * 507
    assert len(clean_user_agent("é" * 600)) == MAX_USER_AGENT  # characters, as varchar counts
    assert clean_user_agent("") is None
    assert clean_user_agent("\x00\x1b\x7f") is None


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("fe80::1%eth0", "fe80::1"),
        ("FE80:0:0:0:0:0:0:1%25", "fe80::1"),
        ("::ffff:10.1.2.3", "10.1.2.3"),
        ("::FFFF:1.2.3.4%eth0", "1.2.3.4"),
        ("2001:DB8::0001", "2001:db8::1"),
        ("192.0.2.1", "192.0.2.1"),
        ("::1", "::1"),
        ("fe80::1%", None),
        ("192.0.2.1/32", None),
        ("01.2.3.4", None),  # a leading zero may mean octal: ambiguous, refused
        ("10.0.0.1, 10.0.0.2", None),
        ("", None),
        ("'; DROP TABLE--", None),
        ("١.٢.٣.٤", None),
    ],
)
def test_normalize_ip_gives_what_postgres_inet_takes(text, address):
    assert normalize_ip(text) == address


@given(st.ip_addresses(), st.none() | st.from_regex(r"[A-Za-z0-9._-]{1,12}", fullmatch=True))
def test_every_address_normalises_to_itself_without_zone_or_mapping(ip, zone):
    text = f"{ip}%{zone}" if zone and ip.version == 6 else str(ip)
    normalised = normalize_ip(text)
    assert "%" not in normalised
    expected = getattr(ip, "ipv4_mapped", None) or ip
    assert ipaddress.ip_address(normalised) == expected


@given(st.text(ANY_CHARACTER, max_size=50))
def test_any_text_normalises_to_a_plain_address_or_none(text):
    normalised = normalize_ip(text)
    if normalised is not None:
        address = ipaddress.ip_address(normalised)
        assert "%" not in normalised and normalised.isascii()
        assert getattr(address, "ipv4_mapped", None) is None


@given(st.lists(st.from_regex(r"0?[0-9]{1,3}", fullmatch=True), min_size=3, max_size=5))
def test_dotted_numbers_normalise_as_ipaddress_reads_them(octets):
    text = ".".join(octets)  # leading zeros, octets past 255, too few or too many parts
    try:
        expected = str(ipaddress.ip_address(text))
    except ValueError:
        expected = None
    assert normalize_ip(text) == expected
