"""The landing page at / for the dev stack (compose's nginx serves the same files itself).

The page is three static files in landing/static/, which Flask's own static route serves at
/static/; this adds / and the headers a strict page needs (nginx.conf sends the same).
"""

from flask import Blueprint, Flask, current_app, request

bp = Blueprint("page", __name__)

#: Only our own origin, and nothing inline: the page has no inline script or style.
PAGE_CSP = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; "
    "frame-ancestors 'none'"
)
PAGE_ENDPOINTS = frozenset({"page.index", "static"})


@bp.get("/")
def index():
    response = current_app.send_static_file("index.html")
    # A new deploy's page must reach visitors at once: revalidate every time (ETag).
    response.headers["Cache-Control"] = "no-cache"
    return response


def _page_headers(response):
    if request.endpoint in PAGE_ENDPOINTS:
        response.headers["Content-Security-Policy"] = PAGE_CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
    return response


def init_page(app: Flask) -> None:
    """Serve the page at / and its files at /static/, each with the page's headers."""
    app.register_blueprint(bp)
    app.after_request(_page_headers)
