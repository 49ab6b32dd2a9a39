"""Every JSON error body we answer, in one shape: {"error": code, "message": text[, extra]}.

One table lists every code and the statuses it is answered with, whoever answers it: the API
and the operator API (landing/errors.py), the task dashboard (landing/ops/dashboard/errors.py),
gunicorn itself (landing/server/), and nginx (nginx.conf, which writes its bodies out; a
unit test holds them to this table). error_body builds the body and refuses a code the table
does not list, or one listed for another status. Each server encodes it its own way.

Plain Python, no Flask: gunicorn's worker and the dashboard import it without the app.
"""

from typing import Any

# code: the statuses it is answered with. A status's own code (code_for) is the first one
# listing it; the others are named by whoever answers them.
CODES: dict[str, tuple[int, ...]] = {
    # A field, the body, a query argument or a form that is not valid; a request HTTP
    # cannot parse (gunicorn, nginx); plain HTTP on the HTTPS port (nginx).
    "invalid": (400,),
    "unauthorized": (401,),  # no credentials, or wrong ones (operator API, dashboard)
    # A token without the scope; a cross-site form (dashboard); a proxy request (gunicorn).
    "forbidden": (403,),
    # A sign-up that must carry a solved challenge (landing/admission/proof.py): none sent;
    # one forged, expired or used already. The page solves one and sends the sign-up again.
    "challenge_required": (403,),
    "challenge_invalid": (403,),
    "not_found": (404,),
    "method_not_allowed": (405,),
    # A body that did not arrive in time (gunicorn, nginx: 408); the app too slow (nginx: 504).
    "timeout": (408, 504),
    "conflict": (409,),  # a request_id sent before with another number
    "not_ready": (409,),  # an export asked for before it is done (operator API)
    "gone": (410,),  # a dead letter requeued that is no longer there (dashboard)
    "length_required": (411,),  # nginx
    "too_large": (413,),
    "uri_too_long": (414,),  # gunicorn, nginx
    "unsupported_media_type": (415,),
    "expectation_failed": (417,),  # an Expect other than 100-continue (gunicorn)
    "rate_limited": (429,),
    "headers_too_large": (431,),  # gunicorn, nginx
    "internal": (500,),
    "not_implemented": (501,),  # a Transfer-Encoding not served (gunicorn, nginx)
    "bad_gateway": (502,),  # the app restarting (nginx)
    "unavailable": (503,),  # a store or the broker did not answer in time
    "http_version_not_supported": (505,),  # gunicorn, nginx
}


def code_for(status: int) -> str:
    """The code of an error answered with status: the first listed with it, or for a status
    nobody lists (an HTTP error a library raises), the client's fault or ours."""
    for code, statuses in CODES.items():
        if status in statuses:
            return code
    return "invalid" if 400 <= status < 500 else "internal"


def error_body(status: int, message: str, code: str | None = None, /, **extra: Any) -> dict:
    """The body of an error answered with status: its code (status's own unless named),
    message, and extra keys beside them (the API's `fields`)."""
    if code is None:
        code = code_for(status)
    elif status not in CODES.get(code, ()):
        raise ValueError(f"error code {code!r} is not listed for status {status}")
    if "error" in extra or "message" in extra:
        raise ValueError("extra keys may not replace error or message")
    return {"error": code, "message": message, **extra}
