"""`honcho start` runs our Procfile for real: the web answers, the dashboard asks for a
password, the worker stores, the webhooks worker starts beside it, and saving a Python file
reloads the worker."""

import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

from harness.local import free_port
from landing.shared.db import Registration
from tests.support.config import BIN, child_environment
from tests.support.services import ROOT, wait_for


@pytest.fixture
def honcho(clean, mongo_server, tmp_path):
    port, dashboard_port = free_port(), free_port()
    log = tmp_path / "honcho.log"
    env = child_environment(
        WEB_BIND=f"127.0.0.1:{port}",
        DASHBOARD_BIND=f"127.0.0.1:{dashboard_port}",
        SMS_GATEWAY_BIND=f"127.0.0.1:{free_port()}",
    )
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(BIN / "honcho"), "start"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{dashboard_port}", log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def register(base: str, phone: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/register/",
        data=json.dumps({"phone": phone}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return json.load(response)["request_id"]


def stored(request_id: str):
    return lambda: Registration.get_or_none(Registration.request_id == request_id)


def ready(log, process: str) -> int:
    """How many times honcho's process (worker, webhooks) has logged its worker ready."""
    pattern = rf"^\S+ {process}\.1\s+\|.*Worker process is ready"
    return len(re.findall(pattern, log.read_text(), re.M))


def test_honcho_runs_web_dashboard_and_a_worker_that_reloads_on_save(honcho):
    base, dashboard, log = honcho
    wait_for(lambda: status(f"{base}/health") == 200, timeout=30)
    wait_for(lambda: status(f"{dashboard}/dashboard/") == 401, timeout=30)
    wait_for(stored(register(base, "09125550201")), timeout=30)

    probe = ROOT / "actors" / f"_reload_probe_{uuid.uuid4().hex}.py"
    try:
        wait_for(lambda: ready(log, "worker") and ready(log, "webhooks"), timeout=30)
        probe.write_text("# written by tests/deploy/test_procfile.py; safe to delete\n")
        wait_for(lambda: "Detected changes to" in log.read_text(), timeout=30)
    finally:
        probe.unlink(missing_ok=True)
    # The reloaded worker still drains the queue.
    wait_for(lambda: ready(log, "worker") >= 2, timeout=60)
    wait_for(stored(register(base, "09125550202")), timeout=30)
