"""Request bodies: validation and normalisation, no I/O."""

import re
import uuid

from marshmallow import Schema, ValidationError, fields, validate

PHONE_HELP = "Enter an Iranian mobile number such as 09123456789."
# Persian (U+06F0-06F9) and Arabic-Indic (U+0660-0669) digits read as ASCII digits.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_SEPARATORS = re.compile(r"[ \t\-()]")
_COUNTRY_PREFIXES = ("+98", "0098", "98")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def normalize_phone(raw: str) -> str:
    """The canonical 0XXXXXXXXXX form of a typed mobile number, or ValidationError."""
    phone = _SEPARATORS.sub("", raw.translate(_DIGITS))
    for prefix in _COUNTRY_PREFIXES:
        rest = phone[len(prefix) :]
        if phone.startswith(prefix) and len(rest) == 10:
            phone = "0" + rest
            break
    if not re.fullmatch(r"0[0-9]{10}", phone):
        raise ValidationError(PHONE_HELP)
    return phone


class Phone(fields.String):
    """A mobile number, normalised before it is validated."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return normalize_phone(super()._deserialize(value, attr, data, **kwargs))


def _no_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError("Must not contain control characters.")


class RegistrationSchema(Schema):
    """POST /api/register/: phone required, referrer and request_id optional."""

    phone = Phone(required=True)
    referrer = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=2048), _no_control_characters],
    )
    request_id = fields.UUID(load_default=uuid.uuid4)
