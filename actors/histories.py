"""What the attempt log hears of a stored sign-up: its history entries and their messages."""

from dataclasses import replace
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from landing.shared.results import phone_fingerprint
from landing.shared.signup import (
    History,
    Outcome,
    SignUp,
    attempts_message,
    history_entry,
    turned_away_message,
)

FINAL_ENTRY = {
    Outcome.REGISTERED: History.SUCCESS_POSTGRES,
    Outcome.DUPLICATE: History.DUPLICATE_DETECTED,
    Outcome.CONFLICT: History.CONFLICT,
}


def history_of(signup: SignUp, outcome: str, stored_at: str | None) -> list[dict[str, Any]]:
    """A stored sign-up's history entries: queued when received, then what PostgreSQL said."""
    final = history_entry(FINAL_ENTRY[outcome], at=stored_at)
    return [history_entry(History.QUEUED, at=signup.received_at), final]


def history_messages(stored: list[tuple[SignUp, tuple[str, str | None]]]) -> list:
    """The attempt-log messages for sign-ups PostgreSQL answered: one for the batch, and one
    for those whose request_id another number holds, recorded apart (log_turned_away), so
    their number never joins the stored sign-up's history."""
    kept = [(s, history_of(s, *o)) for s, o in stored if o[0] != Outcome.CONFLICT]
    taken = [(apart(s), history_of(s, *o)) for s, o in stored if o[0] == Outcome.CONFLICT]
    return [attempts_message(kept)] * bool(kept) + [turned_away_message(taken)] * bool(taken)


def fingerprint(signup: SignUp) -> str:
    if signup.phone is None:  # PostgreSQL stores no sign-up without a number
        raise ValueError("a stored sign-up without a phone number")
    return phone_fingerprint(signup.request_id, signup.phone)


def apart(signup: SignUp) -> SignUp:
    """The sign-up under an id of its own, the same every time it is seen (replays merge)."""
    name = f"landing:conflict:{signup.request_id}:{fingerprint(signup)}"
    return replace(signup, request_id=str(uuid5(NAMESPACE_URL, name)))


def failed_entry(error: Exception) -> dict[str, Any]:
    return history_entry(History.FAILED_RETRY, error=type(error).__name__)
