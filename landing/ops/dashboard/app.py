"""dramatiq-dashboard's app on RabbitmqInterface, with our CSRF field and an audit line per action.

The package wraps its queue, job, delete and requeue handlers in its own CSRF check (see
csrf.py for why we replace it); they are redefined here without it, and any route we have
not redefined or reviewed stops the app at start-up. CsrfProtect, around this app, checks
every POST before it gets here.
"""

import logging
from collections.abc import Callable
from unittest import mock

from dramatiq.common import q_name
from dramatiq_dashboard import DashboardApp, application
from dramatiq_dashboard.application import queue_for_tab, tab_from_q_name
from dramatiq_dashboard.http import handler, redirect, templated
from werkzeug.datastructures import Authorization

from landing.ops.dashboard.csrf import hidden_field
from landing.ops.dashboard.errors import handler_error
from landing.ops.dashboard.interface import RabbitmqInterface

AUDIT = "landing.ops.dashboard.audit"

audit_log = logging.getLogger(AUDIT)
Action = Callable[[str, str], tuple[str, object]]  # (queue, message id) -> (outcome, response)


class RabbitmqDashboardApp(DashboardApp):
    """DashboardApp reading and acting through RabbitmqInterface instead of RedisInterface."""

    def __init__(self, iface: RabbitmqInterface, prefix: str) -> None:
        # DashboardApp.__init__ builds a RedisInterface from the broker (it needs a Redis
        # client); for the length of the call the name builds ours instead.
        with mock.patch.object(application, "RedisInterface", lambda broker: iface):
            super().__init__(iface.broker, prefix)
        if self.iface is not iface:
            raise RuntimeError("dramatiq-dashboard no longer takes its interface as expected")
        # The forms' `csrf_token()|safe`: ours renders our token, escaped.
        self.templates.globals["csrf_token"] = hidden_field
        reviewed = {DashboardApp.dashboard, *(vars(RabbitmqDashboardApp)[n] for n in OURS)}
        if any(route.__func__ not in reviewed for _, route in self._dispatch_table):
            raise RuntimeError("dramatiq-dashboard has a route this app has not reviewed")

    @handler
    @templated("queue.html")
    def queue(self, req, *, name, current_tab="standard"):
        """A queue's tabs; the Failed one lists its dead letters with their buttons."""
        cursor = int(req.params.get("cursor", 0))
        qft = queue_for_tab(name, current_tab)
        queue = self.iface.get_queue(q_name(name))
        next_cursor, jobs = self.iface.get_jobs(qft, cursor)
        return {
            "queue": queue,
            "jobs": jobs,
            "cursor": next_cursor,
            "current_tab": current_tab,
            "queue_for_tab": qft,
        }

    @handler
    @templated("job.html")
    def job(self, req, *, name, current_tab, message_id):
        """One dead letter; anything else goes back to its queue's page."""
        qft = queue_for_tab(name, current_tab)
        queue = self.iface.get_queue(q_name(name))
        job = self.iface.get_job(qft, message_id)
        if not job:
            return redirect(self.make_uri("queues", name, current_tab))
        return {"queue": queue, "job": job, "queue_for_tab": qft}

    @handler
    def delete_message(self, req):
        """Remove a dead letter for good, then back to its tab (also when it was gone)."""
        return self._audited(req, "delete", self._delete)

    @handler
    def requeue_message(self, req):
        """Requeue with the real (unmasked) message, publishing before removing the dead letter.

        The package's own handler would enqueue the Job it displays, masked phone and all.
        """
        return self._audited(req, "requeue", self._requeue)

    @handler
    def not_found(self, req):
        return handler_error(404, "not_found", "No such page in the task dashboard.")

    def _delete(self, queue: str, message_id: str) -> tuple[str, object]:
        deleted = self.iface.delete_message(queue, message_id)
        back = redirect(self.make_uri("queues", q_name(queue), tab_from_q_name(queue)))
        return ("deleted" if deleted else "not_found"), back

    def _requeue(self, queue: str, message_id: str) -> tuple[str, object]:
        if self.iface.requeue_message(queue, message_id) is None:
            gone = "The requested message no longer exists."
            return "not_found", handler_error(410, "gone", gone)
        return "requeued", redirect(self.make_uri("queues", q_name(queue), "failed"))

    def _audited(self, req, action: str, act: Action):
        """Run a POSTed action and write its audit line, whatever the outcome."""
        if req.method != "POST":
            return handler_error(405, "method_not_allowed", "Expected a POST request.")
        queue, message_id = req.post_data.get("queue"), req.post_data.get("id")
        if not queue or not message_id:
            return handler_error(400, "invalid", "The form needs a queue and an id.")
        try:
            outcome, response = act(queue, message_id)
        except Exception as error:
            audit(req, action, queue, message_id, f"failed ({type(error).__name__})")
            raise
        audit(req, action, queue, message_id, outcome)
        return response


OURS = ("queue", "job", "delete_message", "requeue_message", "not_found")


def audit(req, action: str, queue: str, message_id: str, outcome: str) -> None:
    """One INFO line: who did what to which message; ids only, never the message itself."""
    auth = Authorization.from_header(req.headers.get("authorization"))
    audit_log.info(
        "task dashboard audit: user=%r action=%s queue=%r message_id=%r outcome=%s",
        (auth.username if auth else None) or "?",
        action,
        queue[:200],
        message_id[:200],
        outcome,
    )
