"""The operator API never passes the public door: nginx answers /api/admin/ itself."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from harness.door import nginx_command, render_nginx
from harness.local import free_port
from tests.support.door import request, serving, start


class Recorder(BaseHTTPRequestHandler):
    """A stand-in gunicorn: answers 200 and remembers every path that reached it."""

    seen: ClassVar[list[str]] = []

    def do_GET(self):
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_DELETE = do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def door(tmp_path_factory):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    folder, port = tmp_path_factory.mktemp("admin-door"), free_port()
    config = render_nginx(folder, upstream.server_port, f"listen 127.0.0.1:{port};\n")
    nginx = start(nginx_command(config), folder / "nginx.out")
    with serving([nginx], lambda: request(port, "GET", "/health").status == 200):
        yield port
    upstream.shutdown()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/admin/registrations"),
        ("GET", "/api/admin"),
        ("POST", "/api/admin/exports"),
        ("DELETE", "/api/admin/phones/09123456789"),
        ("GET", "/api/%61dmin/stats"),
        ("GET", "//api/admin/stats"),
    ],
)
def test_nginx_answers_the_operator_api_with_a_json_404(door, method, path):
    Recorder.seen.clear()
    answer = request(door, method, path, headers={"Authorization": "Bearer x"})
    assert answer.status == 404
    assert answer.json["error"] == "not_found"
    assert Recorder.seen == []
    assert request(door, "GET", "/api/register/x").status == 200  # the rest still passes
    assert Recorder.seen == ["/api/register/x"]
