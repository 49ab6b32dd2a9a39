"""Exports: a CSV written by the real worker, its progress, its file; and the shell commands."""

import csv
import hashlib
import io
import json
import time

import pytest

from landing.shared.exports import COLUMNS, export_dir, export_path
from tests.support.admin import AUTH, DIGEST, HOSTILE_TEXT, opens_as_text, phone_number, seed
from tests.support.config import settings

ROWS = 3_000


@pytest.fixture
def admin(clean, make_app):
    return make_app(admin_tokens=DIGEST)


@pytest.fixture
def api(admin):
    return admin.test_client()


def wait_until_finished(api, location: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = api.get(location, headers=AUTH).json
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.05)
    raise AssertionError(f"export still {state['status']} after {timeout} s")


def test_an_export_is_written_by_the_worker_and_streamed(api, owner, worker):
    seed(owner, ROWS, referrer="ads")
    seed(owner, 10, referrer="mail", first=ROWS)

    answer = api.post("/api/admin/exports", json={"referrer": "ads"}, headers=AUTH)

    assert answer.status_code == 202
    job_id = answer.json["job_id"]
    assert answer.headers["Location"] == f"/api/admin/exports/{job_id}"
    state = wait_until_finished(api, answer.headers["Location"])
    assert state == {
        "job_id": job_id,
        "status": "done",
        "rows": ROWS,
        "total": ROWS,
        "file": f"/api/admin/exports/{job_id}/file",
    }
    download = api.get(state["file"], headers=AUTH)
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert download.is_streamed or download.direct_passthrough
    table = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert tuple(table[0]) == COLUMNS
    assert [row[1] for row in table[1:]] == [phone_number(n) for n in range(ROWS)]
    assert {row[2] for row in table[1:]} == {"ads"}
    directory = export_dir(settings)
    assert not export_path(directory, job_id).with_suffix(".part").exists()


def test_an_export_not_done_has_no_file_yet(api):
    # No worker: the job stays queued (clean empties its queue for the next test).
    answer = api.post("/api/admin/exports", headers=AUTH)
    location = answer.headers["Location"]
    assert api.get(location, headers=AUTH).json == {
        "job_id": answer.json["job_id"],
        "status": "queued",
        "rows": 0,
    }
    refused = api.get(f"{location}/file", headers=AUTH)
    assert refused.status_code == 409 and refused.json["error"] == "not_ready"


@pytest.mark.parametrize("job_id", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_export_is_a_404(api, job_id):
    for path in (f"/api/admin/exports/{job_id}", f"/api/admin/exports/{job_id}/file"):
        answer = api.get(path, headers=AUTH)
        assert answer.status_code == 404 and answer.json["error"] == "not_found"


def test_bad_export_filters_are_a_400(api):
    answer = api.post("/api/admin/exports", json={"created_after": "soon"}, headers=AUTH)
    assert answer.status_code == 400 and "created_after" in answer.json["message"]
    for body in (["ads"], {"referrer": 5}, {"created_before": 20261101}):
        answer = api.post("/api/admin/exports", json=body, headers=AUTH)
        assert answer.status_code == 400, body


def test_export_command_writes_the_csv(admin, owner, tmp_path):
    seed(owner, 5, referrer="ads")
    seed(owner, 3, referrer="mail", first=5)
    out = tmp_path / "mail.csv"
    result = admin.test_cli_runner().invoke(args=["export", "--referrer", "mail", "--out", out])
    assert result.exit_code == 0, result.output
    table = list(csv.reader(out.open()))
    assert [row[1] for row in table[1:]] == [phone_number(n) for n in range(5, 8)]
    refused = admin.test_cli_runner().invoke(args=["export", "--created-after", "soon"])
    assert refused.exit_code != 0


def test_stats_command_prints_the_report(admin, owner, mongo):
    seed(owner, 4, referrer="ads")
    result = admin.test_cli_runner().invoke(args=["stats"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["total"] == 4
    assert report["per_referrer"] == [{"referrer": "ads", "registrations": 4}]


def test_hash_token_prints_a_token_and_its_digest(admin):
    result = admin.test_cli_runner().invoke(args=["hash-token"])
    lines = dict(line.split(": ", 1) for line in result.output.strip().splitlines())
    token, digest = lines["token"].strip(), lines["digest"].strip()
    assert len(token) >= 40 and hashlib.sha256(token.encode()).hexdigest() == digest
    assert digest != DIGEST


def test_a_referrer_a_spreadsheet_would_run_is_exported_as_text(admin, owner, tmp_path):
    seed(owner, 1, referrer='=HYPERLINK("http://evil")')
    out = tmp_path / "all.csv"
    admin.test_cli_runner().invoke(args=["export", "--out", out])
    assert list(csv.reader(out.open()))[1][2] == '\'=HYPERLINK("http://evil")'


def test_an_export_opens_as_text_whatever_visitors_sent(api, owner, worker):
    """Hostile referrers and user agents, through the worker's export: no cell of the file
    a spreadsheet could run, and a legitimate referrer and agent left as they were."""
    for n, text in enumerate(HOSTILE_TEXT):
        seed(owner, 1, referrer=text, user_agent=text, first=n)
    agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    seed(owner, 1, referrer="google-ads", user_agent=agent, first=len(HOSTILE_TEXT))

    answer = api.post("/api/admin/exports", headers=AUTH)
    state = wait_until_finished(api, answer.headers["Location"])

    assert state["status"] == "done" and state["rows"] == len(HOSTILE_TEXT) + 1
    text = api.get(state["file"], headers=AUTH).get_data(as_text=True)
    *hostile, legitimate = list(csv.reader(io.StringIO(text, newline="")))[1:]
    for row in hostile:
        assert all(opens_as_text(cell) for cell in row), row
    referrer, user_agent = COLUMNS.index("referrer"), COLUMNS.index("user_agent")
    assert (legitimate[referrer], legitimate[user_agent]) == ("google-ads", agent)
