"""A webhook receiver in a thread: what a CRM would be to our webhooks worker."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver(ThreadingHTTPServer):
    """Records every POST; each delivery id's first `failures` attempts answer `status`."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_port}/hooks"
        self.lock = threading.Lock()
        self.reset()

    def reset(self, failures: int = 0, status: int = 500, delay: float = 0.0) -> None:
        self.failures, self.status, self.delay, self.received = failures, status, delay, []

    def answer(self, headers, body: bytes) -> int:
        with self.lock:
            delivery = headers["webhook-id"]
            tried = sum(1 for _, h, _ in self.received if h["webhook-id"] == delivery)
            code = self.status if tried < self.failures else 200
            self.received.append((code, headers, body))
            return code

    def delivered(self) -> list[tuple[dict, bytes]]:
        with self.lock:
            return [(h, body) for code, h, body in self.received if code == 200]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(self.server.delay)
        code = self.server.answer(self.headers, body)  # looked up case-insensitively
        self.send_response(code)
        if code == 302:
            self.send_header("Location", self.server.url + "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST  # a followed redirect would show up as a GET

    def log_message(self, *args) -> None:
        pass
