"""Prometheus metrics of the web: requests by route and status, latency, queue depths.

`GET /metrics` serves them on the app's own port; nginx does not proxy it, so only the
internal network reaches it. Under gunicorn every worker process writes its samples to files
in PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py makes a fresh one per master), and a scrape,
whichever process answers it, adds up all of them, including processes gunicorn has
recycled. Elsewhere (tests, `flask run`) the app's own registry answers.

Routes are labelled by their rule (`/api/register/<request_id>`), never the raw path, so ids
cannot multiply the time series.

ADMITTED_IN_MEMORY is counted where it happens, in admission's fallback
(landing/admission/fallback.py), so it is one per process (every app a process builds
registers the same one).
"""

import logging
import time
from collections.abc import Callable, Iterable

from flask import Blueprint, Flask, Response, current_app, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from landing.admission.challenge import CLAIMED_IN_MEMORY
from landing.admission.fallback import ADMITTED_IN_MEMORY
from landing.admission.pressure import ENGAGED, EVERYONE
from landing.admission.proof import VERDICTS
from landing.ops.queue_depths import QueueDepths, queue_names
from landing.shared.signup import QUEUES

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # 404s: no route, and no raw path in a label

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)


class WebMetrics:
    """The app's metrics and the registry a scrape reads."""

    def __init__(self, rabbitmq_url: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "landing_http_requests_total",
            "HTTP requests answered, by method, route and status.",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "landing_http_request_duration_seconds",
            "Time from the request reaching Flask to its response, by method and route.",
            ["method", "endpoint"],
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "landing_http_requests_inprogress",
            "Requests being handled.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.not_logged = Counter(
            "landing_attempts_not_logged_total",
            "Turned-away attempts counted but not stored: their address was over"
            " TURNED_AWAY_LOG_LIMIT.",
            ["status"],
            registry=self.registry,
        )
        # Counted where they happen, one per process, like ADMITTED_IN_MEMORY: the
        # challenge's verdicts, auto mode's engagements and state, claims held in memory.
        for collector in (ADMITTED_IN_MEMORY, VERDICTS, ENGAGED, EVERYONE, CLAIMED_IN_MEMORY):
            self.registry.register(collector)
        self.queues = QueueDepths(rabbitmq_url, queue_names(QUEUES))
        self.registry.register(self.queues)
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def series(self, method: str, endpoint: str, status: int) -> tuple[Counter, Histogram]:
        """The request counter and latency histogram of one label set.

        Remembered: labels() takes a lock and builds its key on every call, and the label
        sets are few (methods x routes x statuses).
        """
        key = (method, endpoint, status)
        if (found := self._series.get(key)) is None:
            found = self._series[key] = (
                self.requests.labels(method, endpoint, str(status)),
                self.latency.labels(method, endpoint),
            )
        return found

    def scrape_registry(self) -> CollectorRegistry:
        """This process's registry, or, under gunicorn, every worker process's files."""
        if not getattr(values.ValueClass, "_multiprocess", False):
            return self.registry
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(self.queues)
        return registry


@bp.get("/metrics")
def metrics():
    """Prometheus's scrape: HTTP counters and histograms, queue depths (absent if unknown)."""
    registry = current_app.extensions["metrics"].scrape_registry()
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


class Instrumented:
    """WSGI middleware: every request counted by method, route and status, timed until its
    response starts, and counted in progress while the app handles it.

    Middleware rather than three Flask hooks: one wrapper per request instead of three
    hooks' calls and their lookups through g (`make bench-instructions`, docs/benchmark.md).
    The route is read while the app starts its response, inside the request's context. A
    sample that cannot be written (a new label set's file could not grow: the multiprocess
    directory full) is logged and skipped: the visitor still gets the app's answer.
    """

    def __init__(self, app: Callable, web: WebMetrics) -> None:
        self.app, self.web = app, web

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        began = time.perf_counter()
        web = self.web

        def start(status: str, headers: list, exc_info=None):
            method = environ["REQUEST_METHOD"]
            rule = request.url_rule if has_request_context() else None
            try:
                counter, latency = web.series(
                    method if method in METHODS else "other",
                    rule.rule if rule is not None else UNMATCHED,
                    int(status[:3]),
                )
                counter.inc()
                latency.observe(time.perf_counter() - began)
            except OSError as error:
                log.warning("request not counted: %s", error)
            return start_response(status, headers, exc_info)

        web.in_progress.inc()
        try:
            return self.app(environ, start)
        finally:
            web.in_progress.dec()


def init_metrics(app: Flask) -> None:
    """Count and time every request (Instrumented) and serve /metrics."""
    web = app.extensions["metrics"] = WebMetrics(app.config["SETTINGS"].rabbitmq_url)
    app.wsgi_app = Instrumented(app.wsgi_app, web)  # type: ignore[method-assign]  # as Flask documents
    app.register_blueprint(bp)
