"""The operator API's routes, under /api/admin/ (tokens and their scopes: landing.admin.auth).

Phones are returned in full: this API is for the operators who may see them.
"""

import logging
import uuid
from dataclasses import asdict

import psycopg2
from flask import Blueprint, current_app, jsonify, request, send_file, url_for
from marshmallow import ValidationError
from peewee import PeeweeException as PeeweeError
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError
from werkzeug.exceptions import NotFound

from landing.admin import reads
from landing.admin.auth import needs
from landing.admin.exporting import queue_export
from landing.admin.queries import StatementTimeout
from landing.admin.stats import attempts, registrations
from landing.errors import error_response
from landing.ops.erasure import erase_phone
from landing.schemas import normalize_phone
from landing.shared.exports import Filters, export_dir, export_path, read_progress
from landing.shared.mongo import ATTEMPTS, DEFAULT_DATABASE

log = logging.getLogger(__name__)
bp = Blueprint("admin", __name__, url_prefix="/api/admin")


class BadArgument(ValueError):
    """A query argument or body field the API cannot use: a 400 with its reason."""


@bp.errorhandler(BadArgument)
def bad_argument(error: BadArgument):
    return error_response(400, str(error))


@bp.errorhandler(StatementTimeout)
def too_slow(error: StatementTimeout):
    log.warning("operator API: a query ran past %d ms and was cancelled", error.timeout_ms)
    return error_response(
        503,
        f"The query ran past {error.timeout_ms} ms (ADMIN_STATEMENT_TIMEOUT_MS) and was "
        "stopped; narrow the filters, or use an export.",
    )


@bp.errorhandler(RedisError)
@bp.errorhandler(psycopg2.Error)
@bp.errorhandler(PeeweeError)
@bp.errorhandler(PyMongoError)
def store_unavailable(error: Exception):
    log.warning("operator API: a store is unavailable: %s", type(error).__name__)
    return error_response(503, "A store this needs is unavailable; try again shortly.")


def _filters(args) -> Filters:
    try:
        return Filters.from_args(args)
    except ValueError as error:
        raise BadArgument(str(error)) from None


@bp.get("/registrations")
@needs("read")
def list_registrations():
    filters = _filters(request.args)
    try:
        limit = reads.parse_limit(request.args.get("limit"))
        cursor = request.args.get("cursor")
        after = reads.decode_cursor(cursor) if cursor else None
    except ValueError as error:
        raise BadArgument(str(error)) from None
    rows, next_cursor = _queries().run(reads.page, filters, limit, after)
    return jsonify(registrations=rows, next_cursor=next_cursor)


@bp.get("/stats")
@needs("read")
def stats():
    window = {name: request.args.get(name) for name in ("created_after", "created_before")}
    filters = _filters(window)
    collection = current_app.extensions["mongo"].get_default_database(DEFAULT_DATABASE)[ATTEMPTS]
    # Only PostgreSQL's part goes off the loop: pymongo's sockets cooperate with gevent.
    report = _queries().run(registrations, filters)
    return jsonify({**report, "attempts_per_day": attempts(collection, filters)})


@bp.post("/exports")
@needs("export")
def start_export():
    # A chunked body has no Content-Length: read it whatever its framing; none means {}.
    body = request.get_json(silent=True)
    body = {} if body is None and not request.get_data() else body
    if not isinstance(body, dict):
        raise BadArgument("the body must be a JSON object of filters")
    client = current_app.extensions["results"].client
    job_id = queue_export(client, current_app.extensions["publisher"], _filters(body))
    if job_id is None:
        return error_response(503, "The export could not be queued; try again shortly.")
    location = url_for("admin.export_status", job_id=job_id)
    return jsonify(job_id=job_id, status="queued"), 202, {"Location": location}


@bp.get("/exports/<job_id>")
@needs("export")
def export_status(job_id: str):
    state = _progress(job_id)
    if state["status"] == "done":
        state["file"] = url_for("admin.export_file", job_id=job_id)
    return jsonify(job_id=job_id, **state)


@bp.get("/exports/<job_id>/file")
@needs("export")
def export_file(job_id: str):
    directory = export_dir(current_app.config["SETTINGS"])
    state, path = _progress(job_id), export_path(directory, job_id)
    if state["status"] != "done" or not path.exists():
        return error_response(409, f"The export is {state['status']}.", code="not_ready")
    # send_file streams the file in blocks: memory stays flat whatever its size.
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=path.name)


@bp.delete("/phones/<phone>")
@needs("erase")
def erase(phone: str):
    owner_url = current_app.config["SETTINGS"].migrate_database_url
    if not owner_url:
        return error_response(503, "Erasure needs MIGRATE_DATABASE_URL (the schema's owner).")
    try:
        normalised = normalize_phone(phone)
    except ValidationError:
        raise BadArgument("not a mobile number") from None
    return jsonify(asdict(erase_phone(current_app, owner_url, normalised)))


def _queries():
    return current_app.extensions["admin_queries"]


def _progress(job_id: str) -> dict:
    """The job's state; a 404 for an id that is no job of ours (or one expired)."""
    try:
        uuid.UUID(job_id)
    except ValueError:
        state = None
    else:
        state = read_progress(current_app.extensions["results"].client, job_id)
    if state is None:
        raise NotFound("No such export.")
    return state
