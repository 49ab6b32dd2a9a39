"""harness/post.lua under real wrk, against a small server here that records each body: the
challenge scenario's solutions are each sent once, split between the threads, and a run
that outlasts them says so; each request names a visitor of its own (not a fast test: it
starts wrk)."""

import json
import re
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from bench.solutions import write_solutions
from harness.wrk import Phones, Wrk


class _Recorder(BaseHTTPRequestHandler):
    """202 for a body carrying `altcha`, 403 for one without, as CHALLENGE_MODE=always."""

    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    bodies: ClassVar[list[dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.bodies.append(body)
        self.send_response(202 if "altcha" in body else 403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


def needs_wrk():
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed here (make bench installs it)")


@pytest.fixture
def recorder():
    needs_wrk()
    _Recorder.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_each_solution_is_sent_once_then_requests_go_without(recorder, tmp_path: Path):
    # Solutions are opaque to the Lua: base64 lines, here made distinct and recognisable.
    payloads = [f"c29sdXRpb24{n:04d}" for n in range(41)]  # odd: thread 0 gets one more
    path = write_solutions(tmp_path / "solutions.txt", payloads)
    url = f"http://127.0.0.1:{recorder.server_address[1]}"
    run = Wrk(url, connections=2, threads=2, phones=Phones(2), solutions=path).run(1)

    sent = [body["altcha"] for body in _Recorder.bodies if "altcha" in body]
    # Every one, none twice (the threads took distinct lines), but thread 0's first: wrk
    # calls request() once before the run to check the script, and never sends that one.
    assert sorted(sent) == payloads[1:]
    assert run.requests - run.non202 == len(sent)  # the 202s: one per solution sent
    assert run.unsolved > 0 and run.non202 > 0  # ran out: visible, and refused
    assert run.non202 == run.non2xx  # the 403s
    without = [body for body in _Recorder.bodies if "altcha" not in body]
    assert run.unsolved >= len(without) - 2  # at most one in flight per connection
    assert {body["referrer"] for body in _Recorder.bodies} == {"bench"}


def test_without_a_solutions_file_no_body_carries_altcha(recorder):
    url = f"http://127.0.0.1:{recorder.server_address[1]}"
    run = Wrk(url, connections=1, threads=1, phones=Phones(1)).run(1)
    assert _Recorder.bodies and not any("altcha" in body for body in _Recorder.bodies)
    assert (run.unsolved, run.non202) == (0, run.requests)  # all 403 here, none unsolved


@pytest.fixture
def silent():
    """A server that reads each connection's first request and never answers: each of wrk's
    connections sends one request, then waits out the run (no load). Yields the port and the
    requests, raw."""
    needs_wrk()
    listener = socket.create_server(("127.0.0.1", 0))
    requests: list[bytes] = []
    held: list[socket.socket] = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # closed: the test is over
            held.append(connection)
            connection.settimeout(5)
            data = b""
            while not _whole(data) and (chunk := connection.recv(4096)):
                data += chunk
            if data:  # wrk may open and close a connection without a request on it
                requests.append(data)

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], requests
    listener.close()
    for connection in held:
        connection.close()


def _whole(data: bytes) -> bool:
    head, found, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(found and length and len(body) >= int(length.group(1)))


def test_each_request_names_a_visitor_of_its_own_from_its_phone_number(silent):
    port, requests = silent
    # Past 65,536: the address's second octet counts too.
    phones = Phones(2, next_offset=70_000)
    Wrk(f"http://127.0.0.1:{port}", connections=4, threads=2, phones=phones).run(1)

    assert len(requests) == 4  # one per connection, none answered
    visitors = {}
    for data in requests:
        head, _, body = data.partition(b"\r\n\r\n")
        n = int(json.loads(body)["phone"][2:])
        forwarded = re.search(rb"(?im)^x-forwarded-for:\s*(\S+)", head).group(1).decode()
        visitors[n] = forwarded
    assert visitors == {n: f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in visitors}
    assert len(set(visitors.values())) == 4
    # Thread 1's first (thread 0's, 70,000, went to wrk's check of the script).
    assert visitors[70_001] == "10.1.17.113"
