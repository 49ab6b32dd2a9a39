"""The real `dramatiq actors` command, as honcho and compose start it, in a child process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from actors.db import Registration
from tests.conftest import wait_for

BIN = Path(sys.executable).parent
PHONE = "09121234567"


@pytest.fixture
def worker_process(clean, tmp_path):
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(BIN / "dramatiq"), "actors", "--processes", "1", "--threads", "2"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"},
        )
        yield log
        process.terminate()
        process.wait(timeout=30)


def test_cli_worker_stores_a_registration_and_logs_no_phone(client, worker_process, broker):
    response = client.post(
        "/api/register/", data=json.dumps({"phone": PHONE}), content_type="application/json"
    )
    assert response.status_code == 202
    request_id = response.json["request_id"]
    wait_for(lambda: Registration.get_or_none(Registration.request_id == request_id), timeout=30)

    # A message that fails: the worker logs the failure, by message id only.
    from actors.attempts import now_iso
    from actors.registrations import registration_message

    failing = {
        "request_id": request_id.replace(request_id[:8], "0" * 8),
        "phone": "9" * 11,
        "referrer": None,
        "ip": None,
        "user_agent": None,
        "received_at": now_iso(),
    }
    broker.enqueue(registration_message(failing["request_id"], failing))
    wait_for(lambda: "Failed to process message" in worker_process.read_text(), timeout=30)
    text = worker_process.read_text()
    assert failing["request_id"] in text
    assert "9" * 11 not in text and PHONE not in text
