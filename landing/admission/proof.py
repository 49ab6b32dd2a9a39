"""A sign-up's proof of work: whether it must carry one now, and the refusal when it does not.

pressure.py says whether a challenge is required (CHALLENGE_MODE), challenge.py whether the
solution sent is one. A sign-up refused here is answered 403 with `challenge_required` (none
sent) or `challenge_invalid` (forged, expired, or spent on another sign-up): the page then
fetches a challenge, solves it and sends the same request again. Like any refused request,
it counts against its address's limit, so past it the answer is 429 instead.
"""

from flask import Response, current_app
from prometheus_client import Counter

from landing.admission.challenge import Verdict
from landing.admission.refused import refused_past_limit
from landing.errors import error_response, handle_http_exception
from landing.shared.signup import History
from landing.turned_away import record_rejected
from landing.visitor import client_ip, client_network

VERDICTS = Counter(
    "landing_challenge_verdicts_total",
    "Sign-ups that had to carry a solved challenge, by what they carried: solved, missing,"
    " invalid, expired, replayed.",
    ["verdict"],
    registry=None,  # each app's registry registers it (WebMetrics)
)
REQUIRED = "challenge_required"
INVALID = "challenge_invalid"
ANSWERS = {
    Verdict.MISSING: (
        REQUIRED,
        "Solve a challenge from GET /api/challenge and send its solution as altcha.",
    ),
    Verdict.INVALID: (INVALID, "That challenge solution is not valid; solve a new challenge."),
    Verdict.EXPIRED: (INVALID, "That challenge has expired; solve a new one."),
    Verdict.REPLAYED: (INVALID, "That challenge solution was used already; solve a new one."),
}


def refusal(solution: str | None, request_id: str) -> Response | None:
    """The answer refusing this sign-up for want of a solved challenge, or None to go on."""
    pressure = current_app.extensions["pressure"]
    if pressure.mode == "off":
        return None
    ip = client_ip()
    if not pressure.required(client_network(ip)):
        return None
    verdict = current_app.extensions["challenges"].verify(solution, request_id)
    VERDICTS.labels(verdict).inc()
    if verdict == Verdict.SOLVED:
        return None
    if (limited := refused_past_limit(403)) is not None:
        record_rejected(History.RATE_LIMITED)
        return handle_http_exception(limited)
    code, message = ANSWERS[verdict]
    return error_response(403, message, code=code)
