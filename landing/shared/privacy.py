"""Phone numbers shown to people (logs, the task dashboard) are masked: 0912***6789.

The one place that decides what a masked number looks like, so every page and log line
agrees. Stored data and queued messages keep the real number; only what is displayed hides it.
"""

import re
from typing import Any

MASK = "***"
KEPT = 4  # digits kept at each end of an 11-digit number (0912***6789)

# In free text (a traceback, a driver's error message): 7+ digits that are not part of a
# longer word or of a UUID (whose all-digit groups sit between hyphens).
PHONE_IN_TEXT = re.compile(r"(?<![\w-])\+?\d{7,}(?![\w-])")


def mask_phone(value: str | int) -> str:
    """Keep at most 4 characters at each end and always hide at least 3 in between.

    Works on anything a visitor may have typed, valid or not: '12' becomes '***'.
    """
    value = str(value)
    kept = max(0, min(KEPT, (len(value) - len(MASK)) // 2))
    return f"{value[:kept]}{MASK}{value[len(value) - kept :]}" if kept else MASK


def mask_phones_in(obj: Any) -> Any:
    """A copy of nested dicts, lists and tuples with every phone number masked.

    A value under a key that names a phone is masked whole; other strings have their
    phone-shaped digit runs masked. Numbers, None and other values are left alone.
    """
    if isinstance(obj, dict):
        return {
            key: mask_phone(value)
            if _names_a_phone(key) and isinstance(value, str | int)
            else mask_phones_in(value)
            for key, value in obj.items()
        }
    if isinstance(obj, list | tuple):
        return type(obj)(mask_phones_in(item) for item in obj)
    if isinstance(obj, str):
        return PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group()), obj)
    return obj


def _names_a_phone(key: Any) -> bool:
    return isinstance(key, str) and ("phone" in key.lower() or "mobile" in key.lower())
