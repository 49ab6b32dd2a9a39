"""The campaign page's audit lines, on the task dashboard's AUDIT logger: who did what,
with ids and outcomes only, never a phone number (masked or not)."""

import logging

from flask import request

from landing.ops.dashboard.app import AUDIT

audit_log = logging.getLogger(AUDIT)


def audit(action: str, outcome: str, **ids: str | int) -> None:
    """One INFO line for an operator's action on the campaign page."""
    auth = request.authorization
    details = " ".join(f"{name}={value!r}" for name, value in ids.items())
    audit_log.info(
        "task dashboard audit: user=%r action=%s %s outcome=%s",
        (auth.username if auth else None) or "?",
        action,
        details,
        outcome,
    )
