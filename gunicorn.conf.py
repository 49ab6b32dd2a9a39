"""gunicorn settings for landing: the same file for honcho, docker-compose and the benchmark.

Addresses and sizes come from landing/shared/settings.py (WEB_BIND, WEB_WORKERS,
WEB_CONNECTIONS), read once here for the master; a command-line flag still wins, e.g.
`--bind 127.0.0.1:8001` for the dashboard process.
"""

# gevent patches sockets, ssl and threads before anything imports them: landing.shared
# (read below for the settings) brings in pymongo, pika and redis. Patching here, in the master,
# is what gunicorn's gevent worker would do later in each worker, only earlier.
from gevent import monkey

monkey.patch_all()

import multiprocessing
import os
import shutil
import tempfile

from landing.server.access_log import JsonAccessLogger
from landing.server.worker import json_error_worker
from landing.shared.json_logs import JsonFormatter
from landing.shared.settings import load

settings = load(process=None)  # sizes and addresses only: the app checks its secrets
bind = settings.web_bind
# A request is mostly waiting (Redis twice, then RabbitMQ's publisher confirm), and what
# it does in between is CPU-bound Python. Greenlets overlap the waits without the thread
# switches and GIL hand-offs of gthread: measured with wrk at c=64 on 2 cores, gevent with
# one process per core served ~1,600 sign-ups/s at ~0.95 ms CPU each; gthread with
# 2 x cores + 1 processes of 4 threads ~850/s at ~1.9 ms (and sync ~700/s). More processes
# than cores only added switching. The web touches PostgreSQL only in /ready and the
# operator API, whose reads run psycopg2 in gevent's pool of real threads
# (landing/off_loop.py; erasure's one-row DELETE aside), so psycogreen is not needed.
workers = settings.web_workers or multiprocessing.cpu_count()
# worker_class: gevent's, answering gunicorn's own errors as JSON (JsonErrorWorker, below).
worker_connections = settings.web_connections

# A request does at most PUBLISH_TIMEOUT of work; a worker silent for this long is stuck.
timeout = 30
# SIGTERM: stop accepting, finish in-flight requests (each answers within a few seconds).
graceful_timeout = 20
# Longer than nginx's upstream keepalive_timeout (4 s), so nginx always closes an idle
# connection first and never sends a request into one gunicorn is closing. It is also all
# the time a request line and headers get (gevent's worker reads them within it), so a
# client that reaches gunicorn directly and sends nothing, or a byte at a time, is closed
# within 5 s, as nginx would.
keepalive = 5
# Recycle processes now and then so a slow leak can't grow forever (jitter avoids a herd).
max_requests = 100_000
max_requests_jitter = 10_000
# Every master on a machine would share ~/.gunicorn/gunicorn.ctl (tests, benchmarks, honcho).
control_socket_disable = True

# One JSON line per request on stdout, only when asked (WEB_ACCESS_LOG): behind nginx, which
# logs every request, it would be each request twice, and it cost ~8% of a sign-up's CPU.
accesslog = "-" if settings.web_access_log == "on" else None
errorlog = "-"
loglevel = settings.log_level.lower()


logger_class = JsonAccessLogger
# gevent's worker, answering what gunicorn can't parse in the API's JSON shape, with a
# deadline on bodies (landing/server/).
worker_class = json_error_worker(settings.max_body_bytes)


# Every other line (gunicorn's own and the app's) is JSON too, in the same shape plus level
# and message (landing/shared/json_logs.py). Access lines are already JSON, so they pass
# through as they are. This replaces the handlers gunicorn sets up: --access-logfile and
# --error-logfile are moot.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": JsonFormatter},
        "as_is": {"format": "%(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "as_is",
            "stream": "ext://sys.stdout",
        },
    },
    "root": {"level": settings.log_level.upper(), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    },
}


# Metrics (landing/ops/metrics.py): each worker process writes its samples to files in one
# directory and a scrape of /metrics, whichever worker answers it, adds them all up. Each
# master makes a fresh directory (so a restart starts from zero and two masters on one
# machine, e.g. web and dashboard, never mix) before it forks a worker: prometheus_client
# reads PROMETHEUS_MULTIPROC_DIR when the app first imports it. Do not preload the app.
def on_starting(server) -> None:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="landing-web-metrics-")


def child_exit(server, worker) -> None:
    # A dead worker's counters still count; its share of the in-progress gauge does not.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(directory, ignore_errors=True)
