"""The campaign page's routes, under /dashboard/campaign/.

GET pages and JSON read; every POST (start an export, find, reveal, erase) has passed the
dashboard's CsrfProtect before it gets here, and each writes an audit line. A phone number
typed into Find travels in a POST body, never in a URL (URLs end up in access logs).
"""

import json
import logging
import uuid
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qsl

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.exceptions import BadRequest, HTTPException, NotFound
from werkzeug.wrappers import Response as BaseResponse

from landing.admin.exporting import queue_export
from landing.admin.queries import StatementTimeout
from landing.error_body import code_for
from landing.ops.campaign import records
from landing.ops.campaign.audit import audit
from landing.ops.campaign.overview import UNAVAILABLE, overview
from landing.ops.campaign.texts import TEXTS, digits_for, language
from landing.ops.dashboard.csrf import hidden_field
from landing.ops.dashboard.errors import error_response
from landing.ops.erasure import erase_phone
from landing.shared.exports import Filters, export_dir, export_path, read_progress
from landing.shared.phones import canonical
from landing.shared.privacy import mask_phone

log = logging.getLogger(__name__)
bp = Blueprint("campaign", __name__, template_folder="templates", static_folder="static")
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
    " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def _referrer(raw: str | None) -> str | None:
    """The referrer filter: None (any) when absent or "*", else that referrer ('' none).

    A value no stored referrer could be (a NUL, a control character: the intake cleans
    them out) is a 400, never a query PostgreSQL refuses."""
    if raw is None or raw == "*":
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise BadRequest("referrer holds a control character no stored referrer has.")
    return raw


def _context(**extra: Any) -> dict[str, Any]:
    values = request.values
    lang = language(values.get("lang"))
    referrer = _referrer(values.get("referrer"))
    return {
        "lang": lang,
        "t": TEXTS[lang],
        "d": digits_for(lang),
        "referrer": referrer,
        "referrer_arg": "*" if referrer is None else referrer,
        "csrf_field": hidden_field,
        "erase_enabled": bool(current_app.config["SETTINGS"].migrate_database_url),
        **overview(referrer, lang),
        **extra,
    }


def _page(**extra: Any) -> Response:
    return Response(render_template("campaign.html", **_context(**extra)))


@bp.get("/")
def page() -> Response:
    """The whole page; with ?export=<job id>, that export's progress in it."""
    job_id = request.args.get("export")
    job = _job(job_id) if job_id else None
    return _page(job=job)


@bp.get("/live")
def live() -> Response:
    """The parts that change (figures, plots, pipeline): the open page swaps them in."""
    return Response(render_template("live.html", **_context()))


@bp.post("/exports")
def start_export() -> BaseResponse:
    """Start an export of the sign-ups the page shows, then back to the page to watch it."""
    form = request.form
    try:
        filters = Filters.from_args(
            {
                "referrer": _referrer(form.get("referrer")) or None,
                "created_after": form.get("created_after") or None,
                "created_before": form.get("created_before") or None,
            }
        )
    except ValueError as error:
        raise BadRequest(str(error)) from None
    client = current_app.extensions["results"].client
    job_id = queue_export(client, current_app.extensions["publisher"], filters)
    audit("export", "queued" if job_id else "failed (not queued)", job_id=job_id or "-")
    if job_id is None:
        return error_response(503, "unavailable", "The export could not be queued; try again.")
    back = url_for(".page", lang=form.get("lang"), referrer=form.get("referrer"), export=job_id)
    return redirect(f"{back}#export", code=303)


@bp.get("/exports/<job_id>")
def export_status(job_id: str) -> Response:
    """The export's progress as JSON, with its file's address once it is done."""
    return Response(json.dumps(_job(job_id)), mimetype="application/json")


@bp.get("/exports/<job_id>/file")
def export_file(job_id: str) -> BaseResponse:
    """The finished CSV, streamed."""
    job = _job(job_id)
    path = export_path(export_dir(current_app.config["SETTINGS"]), job_id)
    if job["status"] != "done" or not path.exists():
        return error_response(409, "not_ready", f"The export is {job['status']}.")
    audit("export_download", "sent", job_id=job_id)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=path.name)


@bp.post("/find")
def find() -> Response:
    """The registration of a typed number (any form the API accepts) or of a request id;
    its number masked unless the operator asked to reveal it."""
    form, queries = request.form, current_app.extensions["campaign_queries"]
    reveal = form.get("reveal") == "1"
    if form.get("request_id"):
        record = queries.run(records.by_request_id, _request_id(form["request_id"]))
    else:
        phone = canonical(form.get("phone", ""))
        if phone is None:
            audit("find", "not_a_phone")
            return _page(found={"error": "not_a_phone"})
        record = queries.run(records.by_phone, phone)
    action = "reveal" if reveal else "find"
    if record is None:
        audit(action, "not_found")
        return _page(found={"error": "not_found"})
    audit(action, "found", request_id=record["request_id"])
    shown = record["phone"] if reveal else mask_phone(record["phone"])
    return _page(found={"record": {**record, "phone": shown}, "revealed": reveal})


@bp.post("/erase")
def erase() -> BaseResponse:
    """Erase the found registration's number from every store, once the operator confirmed."""
    form = request.form
    owner_url = current_app.config["SETTINGS"].migrate_database_url
    if form.get("confirm") != "yes":
        raise BadRequest("Tick the confirmation to erase.")
    if not owner_url:
        return error_response(503, "unavailable", TEXTS["en"]["erase_off"])
    request_id = _request_id(form.get("request_id", ""))
    queries = current_app.extensions["campaign_queries"]
    record = queries.run(records.by_request_id, request_id)
    if record is None:
        audit("erase", "not_found", request_id=request_id)
        return _page(found={"error": "not_found"})
    erased = erase_phone(current_app, owner_url, record["phone"])
    audit("erase", "erased", request_id=request_id, registrations=erased.registrations)
    return _page(erased=asdict(erased))


def _request_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise BadRequest("Not a request id.") from None


def _job(job_id: str) -> dict[str, Any]:
    """An export's state with its id and file address; a 404 for no job of ours."""
    try:
        uuid.UUID(job_id)
    except ValueError:
        raise NotFound("No such export.") from None
    state = read_progress(current_app.extensions["results"].client, job_id)
    if state is None:
        raise NotFound("No such export.")
    done = state["status"] == "done"
    return {
        "job_id": job_id,
        **state,
        "file": url_for(".export_file", job_id=job_id) if done else None,
        "status_url": url_for(".export_status", job_id=job_id),
    }


def referrer_parts(referrer: str) -> tuple[str, str]:
    """(source, campaign) of a page's referrer (utm_source=...&utm_campaign=...), else
    (the referrer as it is, '')."""
    found = dict(parse_qsl(referrer))
    if "utm_source" in found or "utm_campaign" in found:
        return found.get("utm_source", ""), found.get("utm_campaign", "")
    return referrer, ""


def register_errors(app: Flask) -> None:
    """JSON errors in the dashboard's shape; a store that does not answer is a 503."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> BaseResponse:
        status = error.code or 500
        return error_response(status, code_for(status), error.description or "")

    def unavailable(error: Exception) -> BaseResponse:
        log.warning("campaign page: a store is unavailable (%s)", type(error).__name__)
        return error_response(503, "unavailable", "A store this needs did not answer; try again.")

    for kind in (StatementTimeout, *UNAVAILABLE):
        app.register_error_handler(kind, unavailable)

    @app.after_request
    def harden(response: BaseResponse) -> BaseResponse:
        response.headers["Content-Security-Policy"] = POLICY
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.jinja_env.globals["referrer_parts"] = referrer_parts
