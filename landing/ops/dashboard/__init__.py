"""The task dashboard: dramatiq-dashboard on our RabbitMQ, behind HTTP basic auth.

Its own WSGI process, never part of the public app (nginx does not proxy it):
    gunicorn -c gunicorn.conf.py --bind 127.0.0.1:8001 'landing.ops.dashboard:create_dashboard()'
Every path asks for DASHBOARD_USER / DASHBOARD_PASSWORD; the pages live under /dashboard/.
From the outside in: BasicAuth (failed logins logged and limited, auth.py), CsrfProtect
(csrf.py), then _routed and the dashboard itself (app.py, which writes the audit lines), or
the campaign page under /dashboard/campaign/ (landing.ops.campaign).
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any

import pika
import pika.exceptions
from dramatiq.errors import BrokerConnectionError
from werkzeug.wrappers import Response

from landing.ops.campaign import PATH as CAMPAIGN
from landing.ops.dashboard.app import AUDIT, RabbitmqDashboardApp
from landing.ops.dashboard.auth import REALM, BasicAuth, FailedLogins
from landing.ops.dashboard.csrf import CsrfProtect
from landing.ops.dashboard.errors import error_response
from landing.ops.dashboard.interface import RabbitmqInterface
from landing.ops.dashboard.management_api import ManagementAPI
from landing.shared.rabbitmq import publishing_broker
from landing.shared.settings import Settings, load

__all__ = [
    "AUDIT",
    "PREFIX",
    "REALM",
    "BasicAuth",
    "CsrfProtect",
    "FailedLogins",
    "RabbitmqDashboardApp",
    "create_dashboard",
]

PREFIX = "/dashboard"
# RabbitMQ (AMQP or its management API) unreachable, or refusing us: a 503, not a 500.
UNAVAILABLE = (OSError, pika.exceptions.AMQPError, BrokerConnectionError)

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


def create_dashboard(settings: Settings | None = None) -> WSGIApp:
    """The dashboard's WSGI app, from the environment's settings unless given others (tests)."""
    settings = load(process="dashboard") if settings is None else settings
    if not settings.dashboard_user or not settings.dashboard_password:
        raise RuntimeError("the task dashboard needs DASHBOARD_USER and DASHBOARD_PASSWORD")
    # Audit lines are kept even when LOG_LEVEL asks for warnings only.
    logging.getLogger(AUDIT).setLevel(logging.INFO)
    broker = publishing_broker(settings)
    vhost = pika.URLParameters(settings.rabbitmq_url.split(",")[0]).virtual_host
    api = ManagementAPI(settings.rabbitmq_management_url, vhost)
    dashboard = RabbitmqDashboardApp(RabbitmqInterface(broker, api), PREFIX)
    # Here, not at the top: the campaign page imports this package's modules.
    from landing.ops.campaign.app import create_campaign

    campaign = create_campaign(settings, api)
    protected = CsrfProtect(_routed(dashboard, campaign), PREFIX)
    return BasicAuth(protected, settings.dashboard_user, settings.dashboard_password)


def _routed(dashboard: RabbitmqDashboardApp, campaign: WSGIApp) -> WSGIApp:
    """/dashboard/campaign... to the campaign page, the rest of /dashboard/... to the
    dashboard; / and /dashboard redirect there; the rest is a 404."""

    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX + "/"):
            script_name = environ.get("SCRIPT_NAME", "") + PREFIX
            inner = {**environ, "SCRIPT_NAME": script_name, "PATH_INFO": path[len(PREFIX) :]}
            if inner["PATH_INFO"] == CAMPAIGN or inner["PATH_INFO"].startswith(CAMPAIGN + "/"):
                return campaign(inner, start_response)  # its own errors, in the same shape
            try:
                return dashboard(inner, start_response)
            except UNAVAILABLE as error:
                log.warning("task dashboard: RabbitMQ unavailable (%s)", type(error).__name__)
                response = error_response(503, "unavailable", "RabbitMQ did not answer; try again.")
        elif path in ("", "/", PREFIX):
            response = Response(status=302, headers={"Location": PREFIX + "/"})
        else:
            response = error_response(404, "not_found", "The task dashboard is at /dashboard/.")
        return response(environ, start_response)

    return app
