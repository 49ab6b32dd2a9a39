"""The operator API: /api/admin/, behind bearer tokens (ADMIN_TOKENS), off when there are none.

Its reads (and `flask --app landing export|stats`) go to DATABASE_READ_URL when set, else
to the primary, through pools of their own: the API's runs off the event loop and under
ADMIN_STATEMENT_TIMEOUT_MS (landing.admin.queries), the CLI's has no time limit.
"""

from flask import Flask, request

from landing.admin.auth import log_access, parse_tokens, require_token
from landing.admin.queries import Queries
from landing.admin.reads import read_database
from landing.shared.exports import read_url

PREFIX = "/api/admin/"


def init_admin(app: Flask) -> None:
    """The CLI's read pool; the API's own pool and routes when tokens are set."""
    config = app.config["SETTINGS"]
    app.extensions["admin_reads"] = read_database(read_url(config))
    tokens = parse_tokens(config.admin_tokens)
    if not tokens:
        return  # no route at all: /api/admin/ answers the app's own 404
    from landing.admin import views

    app.extensions["admin_queries"] = Queries(read_url(config), config.admin_statement_timeout_ms)
    check = require_token(tokens)
    # On the app, not the blueprint: a path under /api/admin/ that matches no route is
    # refused (and audited) like any other, so probing one learns nothing.
    app.before_request(lambda: check() if _is_admin() else None)
    app.after_request(lambda response: log_access(response) if _is_admin() else response)
    app.register_blueprint(views.bp)


def _is_admin() -> bool:
    return request.path.startswith(PREFIX) or request.path == PREFIX.rstrip("/")
