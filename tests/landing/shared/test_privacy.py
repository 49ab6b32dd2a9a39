"""Masking phone numbers: what the logs and the task dashboard show of them."""

import pytest

from landing.shared.privacy import mask_phone, mask_phones_in

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


def test_mask_phone_keeps_four_digits_at_each_end_and_hides_at_least_three():
    assert mask_phone("09123456789") == "0912***6789"
    assert mask_phone("+989123456789") == "+989***6789"
    assert mask_phone("1234567") == "12***67"
    assert mask_phone("12") == "***"


def test_mask_phones_in_masks_phone_fields_and_phone_shaped_text_only():
    request_id = "12345678-1234-1234-1234-123456789012"  # all-digit UUID groups stay
    data = {
        "phone": "0912 345 6789",
        "request_id": request_id,
        "received_at": "2026-11-24T10:00:00.000+00:00",
        "history": [{"error": 'dup key: { phone: "09123456789" }'}],
    }
    masked = mask_phones_in((data, 42))
    assert masked[0]["phone"] == "0912***6789"
    assert masked[0]["request_id"] == request_id
    assert masked[0]["received_at"] == data["received_at"]
    assert masked[0]["history"][0]["error"] == 'dup key: { phone: "0912***6789" }'
    assert masked[1] == 42 and data["phone"] == "0912 345 6789"  # a copy, not in place
