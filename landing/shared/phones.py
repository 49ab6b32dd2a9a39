"""How a typed phone number becomes digits: the web's schema and the operators' filters
read Persian and Arabic-Indic digits and drop separators the same way."""

import re

# Persian (U+06F0-06F9) and Arabic-Indic (U+0660-0669) digits read as ASCII digits.
DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
SEPARATORS = re.compile(r"[ \t\-()]")


def ascii_digits(typed: str) -> str:
    """typed with its digits in ASCII and spaces, tabs, dashes and parentheses dropped."""
    return SEPARATORS.sub("", typed.translate(DIGITS))
