"""Prometheus metrics of the workers, served on WORKER_METRICS_HOST:WORKER_METRICS_PORT.

Dramatiq's Prometheus middleware counts messages (processed, errored, retried, dead-lettered),
messages in progress and delayed, and their durations. Each worker process writes its samples
to files in one directory; a process the CLI forks serves them all, added up, over HTTP.

Added deliberately (dramatiq 2 leaves it out of its default middleware) and configured: our
host and port (its own server binds 0.0.0.0:9191), a directory of our own per `dramatiq` run
(its default one in /tmp is shared by every run on the machine and never emptied), and no-ops
in an in-process Worker.

prometheus_client picks its multiprocess mode at import, from PROMETHEUS_MULTIPROC_DIR; the
middleware sets that at process boot, so nothing here imports prometheus_client earlier.
"""

import logging
import os
import shutil
import tempfile
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

from dramatiq.middleware import prometheus

from landing.shared.json_logs import use_json_logs
from landing.shared.settings import load

log = logging.getLogger(__name__)

BIND_ATTEMPTS = 10  # half a second apart
RUNS = Path(tempfile.gettempdir()) / "landing-worker-metrics"


def run_directory() -> Path:
    """This `dramatiq` run's metric files: the master's pid names it.

    Worker processes and the metrics server are all children of the master, so they agree
    without being told; a restarted `dramatiq` starts from empty files (a --watch reload
    keeps the master's pid, and so its counts).
    """
    return RUNS / str(os.getppid())


class WorkerMetrics(prometheus.Prometheus):
    """Dramatiq's Prometheus middleware, active only in `dramatiq actors.worker` processes.

    Only the CLI emits process_boot, which creates the metrics. An in-process Worker never
    does, so there every hook is a no-op (dramatiq's own would raise AttributeError).
    """

    booted = False

    @property
    def forks(self):
        return [serve_metrics]

    def after_process_boot(self, broker):
        directory = run_directory()
        directory.mkdir(parents=True, exist_ok=True)
        # Dramatiq's hooks read the directory from this module global (its dramatiq_prom_db).
        prometheus.DB_PATH = str(directory)
        super().after_process_boot(broker)
        self.booted = True


def _after_boot(hook):
    def guarded(self, *args, **kwargs):
        if self.booted:
            hook(self, *args, **kwargs)

    guarded.__name__ = hook.__name__
    return guarded


for _hook in (
    "after_worker_shutdown",
    "after_nack",
    "after_enqueue",
    "before_delay_message",
    "before_process_message",
    "after_process_message",
    "after_skip_message",
):
    setattr(WorkerMetrics, _hook, _after_boot(getattr(prometheus.Prometheus, _hook)))


def serve_metrics() -> int:
    """Serve every worker process's metrics, added up (runs in a process the CLI forks).

    The CLI imports this function by name in a process of its own, which is where that
    process's settings are read (WORKER_METRICS_HOST and WORKER_METRICS_PORT).
    """
    from prometheus_client import CollectorRegistry, MetricsHandler
    from prometheus_client.multiprocess import MultiProcessCollector

    use_json_logs()
    directory = run_directory()
    directory.mkdir(parents=True, exist_ok=True)
    _remove_finished_runs()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    settings = load(process=None)
    address = (settings.worker_metrics_host, settings.worker_metrics_port)
    server = _listen(address, MetricsHandler.factory(registry))
    if server is None:
        return 1
    log.info("worker metrics at http://%s:%d/metrics", *address)
    try:
        server.serve_forever()  # until the CLI's SIGTERM handler raises SystemExit
    finally:
        server.server_close()
    return 0


def _listen(address: tuple[str, int], handler) -> ThreadingHTTPServer | None:
    """A server on address; a few tries, as the previous run's server may still be exiting."""
    for attempt in range(BIND_ATTEMPTS):
        try:
            return ThreadingHTTPServer(address, handler)
        except OSError as error:
            if attempt == BIND_ATTEMPTS - 1:
                log.error("worker metrics not served: cannot listen on %s:%d: %s", *address, error)
                return None
            time.sleep(0.5)
    return None


def _remove_finished_runs() -> None:
    """Delete the directories of `dramatiq` masters that are gone (restarts, crashes)."""
    for run in RUNS.iterdir():
        if run.name.isdigit() and not _alive(int(run.name)):
            shutil.rmtree(run, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
