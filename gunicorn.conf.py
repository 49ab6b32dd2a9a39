"""gunicorn settings for landing: the same file for honcho, docker-compose and the benchmark.

Addresses and sizes come from actors/settings.py (WEB_BIND, WEB_WORKERS, WEB_THREADS); a
command-line flag still wins, e.g. `--bind 127.0.0.1:8001` for the dashboard process.
"""

import json
import multiprocessing
import time

from gunicorn.glogging import Logger

from actors.settings import settings

bind = settings.web_bind
workers = settings.web_workers or 2 * multiprocessing.cpu_count() + 1
# A request waits on I/O (Redis, RabbitMQ's publisher confirm); threads overlap those waits
# without gevent's monkey-patching of pika and psycopg2.
worker_class = "gthread"
threads = settings.web_threads

# A request does at most PUBLISH_TIMEOUT of work; a worker silent for this long is stuck.
timeout = 30
# SIGTERM: stop accepting, finish in-flight requests (each answers within a few seconds).
graceful_timeout = 20
# Longer than nginx's upstream keepalive_timeout, so nginx always closes an idle connection
# first and never sends a request into one gunicorn is closing.
keepalive = 75
# Recycle processes now and then so a slow leak can't grow forever (jitter avoids a herd).
max_requests = 100_000
max_requests_jitter = 10_000
# Every master on a machine would share ~/.gunicorn/gunicorn.ctl (tests, benchmarks, honcho).
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = settings.log_level.lower()


class JsonAccessLogger(Logger):
    """Access log lines as JSON objects; no client address, query string or body (privacy)."""

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "logger": "gunicorn.access",
            "method": req.method,
            "path": req.path,
            "status": resp.status_code,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "request_id": environ.get("HTTP_X_REQUEST_ID"),
        }
        self.access_log.info(json.dumps(record))


logger_class = JsonAccessLogger
