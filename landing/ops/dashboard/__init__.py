"""The task dashboard: dramatiq-dashboard on our RabbitMQ, behind HTTP basic auth.

Its own WSGI process, never part of the public app (nginx does not proxy it):
    gunicorn -c gunicorn.conf.py --bind 127.0.0.1:8001 'landing.ops.dashboard:create_dashboard()'
Every path asks for DASHBOARD_USER / DASHBOARD_PASSWORD; the pages live under /dashboard/.
"""

import hmac
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from unittest import mock

import pika
from dramatiq.common import q_name
from dramatiq.errors import ConnectionError as BrokerConnectionError
from dramatiq_dashboard import DashboardApp, application
from dramatiq_dashboard.csrf import csrf_protect
from dramatiq_dashboard.http import HTTP_405, HTTP_410, handler, redirect
from werkzeug.datastructures import Authorization
from werkzeug.wrappers import Response

from landing.ops.dashboard.interface import RabbitmqInterface
from landing.ops.dashboard.management_api import ManagementAPI
from landing.shared.rabbitmq import publishing_broker
from landing.shared.settings import Settings, load

PREFIX = "/dashboard"
REALM = 'Basic realm="landing task dashboard", charset="UTF-8"'
# RabbitMQ (AMQP or its management API) unreachable, or refusing us: a 503, not a 500.
UNAVAILABLE = (OSError, pika.exceptions.AMQPError, BrokerConnectionError)

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


class RabbitmqDashboardApp(DashboardApp):
    """DashboardApp reading and acting through RabbitmqInterface instead of RedisInterface."""

    def __init__(self, iface: RabbitmqInterface, prefix: str) -> None:
        # DashboardApp.__init__ builds a RedisInterface from the broker (it needs a Redis
        # client); for the length of the call the name builds ours instead.
        with mock.patch.object(application, "RedisInterface", lambda broker: iface):
            super().__init__(iface.broker, prefix)
        if self.iface is not iface:
            raise RuntimeError("dramatiq-dashboard no longer takes its interface as expected")

    @handler
    @csrf_protect
    def requeue_message(self, req):
        """Requeue with the real (unmasked) message, publishing before removing the dead letter.

        The package's own handler would enqueue the Job it displays, masked phone and all.
        """
        if req.method != "POST":
            return HTTP_405, "Expected a POST request."
        queue = req.post_data["queue"]
        if self.iface.requeue_message(queue, req.post_data["id"]) is None:
            return HTTP_410, "The requested message no longer exists."
        return redirect(self.make_uri("queues", q_name(queue), "failed"))


def create_dashboard(settings: Settings | None = None) -> WSGIApp:
    """The dashboard's WSGI app, from the environment's settings unless given others (tests)."""
    settings = load() if settings is None else settings
    if not settings.dashboard_user or not settings.dashboard_password:
        raise RuntimeError("the task dashboard needs DASHBOARD_USER and DASHBOARD_PASSWORD")
    broker = publishing_broker(settings)
    vhost = pika.URLParameters(settings.rabbitmq_url.split(",")[0]).virtual_host
    api = ManagementAPI(settings.rabbitmq_management_url, vhost)
    dashboard = RabbitmqDashboardApp(RabbitmqInterface(broker, api), PREFIX)
    return BasicAuth(_routed(dashboard), settings.dashboard_user, settings.dashboard_password)


def _routed(dashboard: DashboardApp) -> WSGIApp:
    """/dashboard/... to the dashboard; / and /dashboard redirect there; the rest is a 404."""

    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX + "/"):
            script_name = environ.get("SCRIPT_NAME", "") + PREFIX
            inner = {**environ, "SCRIPT_NAME": script_name, "PATH_INFO": path[len(PREFIX) :]}
            try:
                return dashboard(inner, start_response)
            except UNAVAILABLE as error:
                log.warning("task dashboard: RabbitMQ unavailable (%s)", type(error).__name__)
                response = _error(503, "unavailable", "RabbitMQ did not answer; try again.")
        elif path in ("", "/", PREFIX):
            response = Response(status=302, headers={"Location": PREFIX + "/"})
        else:
            response = _error(404, "not_found", "The task dashboard is at /dashboard/.")
        return response(environ, start_response)

    return app


class BasicAuth:
    """Every request needs the configured user and password (HTTP basic auth) or gets a 401."""

    def __init__(self, app: WSGIApp, user: str, password: str) -> None:
        self.app = app
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if self.allows(Authorization.from_header(environ.get("HTTP_AUTHORIZATION"))):
            return self.app(environ, start_response)
        message = "The task dashboard needs a user name and password."
        response = _error(401, "unauthorized", message, {"WWW-Authenticate": REALM})
        return response(environ, start_response)

    def allows(self, auth: Authorization | None) -> bool:
        if auth is None or auth.type != "basic":
            return False
        # Compare both, always, in constant time: no timing hint about which one was wrong.
        user_ok = hmac.compare_digest((auth.username or "").encode(), self.user)
        password_ok = hmac.compare_digest((auth.password or "").encode(), self.password)
        return user_ok and password_ok


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    """The API's error shape: {"error": code, "message": text}."""
    body = json.dumps({"error": code, "message": message})
    return Response(body, status=status, headers=headers, mimetype="application/json")
