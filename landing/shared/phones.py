"""How a typed phone number becomes digits: the web's schema, the operators' filters and the
workers' erasure checks read Persian and Arabic-Indic digits, separators and the country
prefix the same way."""

import re

# Persian (U+06F0-06F9) and Arabic-Indic (U+0660-0669) digits read as ASCII digits.
DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
SEPARATORS = re.compile(r"[ \t\-()]")


def ascii_digits(typed: str) -> str:
    """typed with its digits in ASCII and spaces, tabs, dashes and parentheses dropped."""
    return SEPARATORS.sub("", typed.translate(DIGITS))


COUNTRY_PREFIXES = ("+98", "0098", "98")
CANONICAL = re.compile(r"0[0-9]{10}")


def canonical(typed: str) -> str | None:
    """The stored 0XXXXXXXXXX form of a typed mobile number, or None if it is not one."""
    phone = ascii_digits(typed)
    for prefix in COUNTRY_PREFIXES:
        rest = phone[len(prefix) :]
        if phone.startswith(prefix) and len(rest) == 10:
            phone = "0" + rest
            break
    return phone if CANONICAL.fullmatch(phone) else None
