"""Request bodies: validation and normalisation, no I/O.

Only storable sign-ups are accepted: whatever a 202 puts in a message must be text that
PostgreSQL and BSON both take, or the worker could never store it. A field the client
controls (referrer) that is not valid Unicode (a lone surrogate, which JSON's "\\udc00"
escape produces) is refused with a 400 naming the field, rather than silently repaired:
the client learns its text was broken, and what we store is what it sent. A phone is
normalised to ASCII digits, so any other character in it is the usual phone error. What
the client cannot fix, or only logs (headers, a rejected phone), is cleaned instead:
see storable_text.
"""

import re
import uuid

from marshmallow import Schema, ValidationError, fields, validate

from landing.shared.phones import ascii_digits, canonical
from landing.shared.verification import DIGITS

PHONE_HELP = "Enter an Iranian mobile number such as 09123456789."
MAX_REFERRER = 2048  # schema.sql: varchar(2048)
MAX_SOLUTION = 1024  # a challenge's solution, base64: a real one is ~300 characters
# Unicode's control characters (Cc): C0, DEL and C1. NUL is the one PostgreSQL text refuses.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The only code points a Python str can hold that UTF-8 (hence PostgreSQL and BSON) cannot.
_SURROGATES = re.compile("[\ud800-\udfff]")


def storable_text(value: str, limit: int, control: str = "") -> str:
    """value cut to limit characters, surrogates as U+FFFD, control characters as control.

    The result always encodes as strict UTF-8 and holds no NUL, so PostgreSQL and BSON
    both take it.
    """
    return _CONTROL.sub(control, _SURROGATES.sub("\ufffd", value))[:limit]


def normalize_phone(raw: str) -> str:
    """The canonical 0XXXXXXXXXX form of a typed mobile number, or ValidationError."""
    phone = canonical(raw)
    if phone is None:
        raise ValidationError(PHONE_HELP)
    return phone


class Phone(fields.String):
    """A mobile number, normalised before it is validated."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return normalize_phone(super()._deserialize(value, attr, data, **kwargs))


def _no_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError("Must not contain control characters.")


def _valid_unicode(value: str) -> None:
    if _SURROGATES.search(value):
        raise ValidationError("Must be valid Unicode text.")


class RegistrationSchema(Schema):
    """POST /api/register/: phone required; referrer, request_id and altcha optional."""

    phone = Phone(required=True)
    referrer = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=MAX_REFERRER), _no_control_characters, _valid_unicode],
    )
    request_id = fields.UUID(load_default=uuid.uuid4)
    # A solved challenge (landing/admission/challenge.py), when one is required.
    altcha = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_SOLUTION)
    )


def without_unknown_fields(error: ValidationError, schema: Schema) -> ValidationError:
    """error with the fields the schema does not know folded into one _schema message.

    marshmallow keys an unknown field's error by the client's own key, which can be
    anything (a phone number): an error body never echoes what we did not ask for.
    """
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    known = {name: text for name, text in messages.items() if name in schema.fields}
    unknown = [name for name in messages if name not in schema.fields and name != "_schema"]
    general = list(messages.get("_schema", []))
    if unknown:
        general.append(f"Only {', '.join(sorted(schema.fields))} are accepted.")
    if general:
        known["_schema"] = general
    return ValidationError(known)


# What the API answers, described for its OpenAPI document (landing/openapi.py); the views
# build these bodies themselves, so nothing here runs on a request. The statuses are
# Outcome's but duplicate, which public_status answers as registered.
PUBLIC_STATUSES = ("queued", "registered", "failed", "conflict")
VERIFICATION_STATES = ("pending", "verified", "unavailable")


class AcceptedSchema(Schema):
    """202 to POST /api/register/."""

    message = fields.String(required=True)
    request_id = fields.UUID(required=True)
    # Only with VERIFICATION=sms: a code is on its way once the sign-up is stored, so the
    # page polls the status (Location) until it says so. Without it there is nothing to wait
    # for: the 202 is the promise, and the page polls nothing (docs/api.md).
    verify_by = fields.String(validate=validate.OneOf(["sms"]))


class RegistrationStatusSchema(Schema):
    """200 to GET /api/register/<request_id>: a duplicate answers registered too."""

    request_id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(PUBLIC_STATUSES))
    # Only with VERIFICATION=sms, and only once registered (landing/verification.py).
    verification = fields.String(validate=validate.OneOf(VERIFICATION_STATES))


class ChallengeSchema(Schema):
    """200 to GET /api/challenge: ALTCHA's challenge (landing/admission/challenge.py)."""

    algorithm = fields.String(required=True, validate=validate.OneOf(["SHA-256"]))
    challenge = fields.String(required=True)
    maxnumber = fields.Integer(required=True)
    salt = fields.String(required=True)
    signature = fields.String(required=True)


class HealthSchema(Schema):
    """200 to GET /health."""

    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


class ErrorSchema(Schema):
    """Every error body (landing/errors.py): a stable code and a sentence for people."""

    error = fields.String(required=True)
    message = fields.String(required=True)


class InvalidFieldsSchema(ErrorSchema):
    """400 to POST /api/register/: each refused field's messages; _schema for the body's."""

    field_errors = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.List(fields.String()), required=True
    )


class Code(fields.String):
    """A code as typed: Persian or Arabic-Indic digits and separators read as ASCII digits."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        # Whitespace around it (a pasted code's newline) is not part of it: Python's "$"
        # would let "123456\n" through, to be compared, and counted, as a wrong code.
        return ascii_digits(super()._deserialize(value, attr, data, **kwargs)).strip()


class VerifySchema(Schema):
    """POST /api/register/<request_id>/verify: the code the SMS carried."""

    code = Code(
        required=True,
        validate=validate.Regexp(f"^[0-9]{{{DIGITS}}}$", error=f"Enter the {DIGITS}-digit code."),
    )


class VerifiedSchema(Schema):
    """200 to POST /api/register/<request_id>/verify."""

    request_id = fields.UUID(required=True)
    verification = fields.String(required=True, validate=validate.OneOf(["verified"]))


class ResendSchema(Schema):
    """202 to POST /api/register/<request_id>/resend."""

    request_id = fields.UUID(required=True)
    message = fields.String(required=True)


class CodeRefusedSchema(ErrorSchema):
    """400 to POST /api/register/<request_id>/verify: a wrong code says the guesses left, a
    malformed one (or body) which field and why, a malformed request_id neither."""

    attempts_left = fields.Integer(validate=validate.Range(min=0))
    field_errors = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.List(fields.String())
    )
