"""Cross-origin sign-ups: pages on CORS_ORIGINS may call the registration API from a browser.

Only /api/register/, its status URLs and /api/challenge, without cookies or credentials
(the API uses none). With no origins configured nothing is registered, so no answer carries
a CORS header.
"""

import re

from flask import Flask, request
from flask_cors import CORS

#: The registration routes only (POST /api/register/, GET /api/register/<id>), and the
#: challenge a sign-up may need (GET /api/challenge).
ROUTES = r"/api/(register(/.*)?|challenge)$"


def origins(configured: str) -> list[str]:
    """The origins of a comma-separated setting, blanks dropped."""
    return [origin.strip().rstrip("/") for origin in configured.split(",") if origin.strip()]


def init_cors(app: Flask) -> None:
    """Answer preflights and add CORS headers for the configured origins, if any."""
    allowed = origins(app.config["SETTINGS"].cors_origins)
    if not allowed:
        return
    CORS(
        app,
        resources={ROUTES: {"origins": allowed}},
        methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type"],
        # The 202's status URL, and how long a 503 or 429 asks the page to wait.
        expose_headers=["Location", "Retry-After"],
        supports_credentials=False,
        # Browsers may keep a preflight's answer this long (seconds).
        max_age=600,
    )
    app.after_request(_vary_on_origin)


def _vary_on_origin(response):
    # flask-cors says so only for several origins; with one, a cache could still hand the
    # answer it kept for a request without Origin (no CORS header) to that origin's page.
    if re.match(ROUTES, request.path):
        response.vary.add("Origin")
    return response
