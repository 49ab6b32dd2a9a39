"""A local SMS gateway for development and tests: `python -m landing.ops.sms_gateway`.

It answers Kavenegar's and Twilio's HTTP APIs as their documentation describes them
(Kavenegar: `/v1/{API-KEY}/verify/lookup.json` and `/v1/{API-KEY}/sms/send.json`, their
parameters in the query or a form body, the answer's `return.status`; Twilio:
`/2010-04-01/Accounts/{AccountSid}/Messages.json`, basic auth with the SID, form fields
To/From/Body, 201 and the message's JSON), records every message instead of sending it, and
shows them at `/` (newest first; `/messages.json` for tests). `POST /control/fail` with
`{"status": 503, "times": 2}` answers the next sends with that status, as a provider that
is down would. Nothing leaves the machine; nothing is kept past the process.
"""

import argparse
import base64
import html
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

KAVENEGAR = re.compile(r"^/v1/(?P<key>[^/]+)/(?P<method>verify/lookup|sms/send)\.json$")
TWILIO = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
NEEDS = {"verify/lookup": ("receptor", "token", "template"), "sms/send": ("receptor", "message")}


class Outbox:
    """What the gateway was asked to send, and the failures it was told to answer with."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.failures: list[int] = []
        self.lock = threading.Lock()

    def record(self, message: dict[str, Any]) -> int | None:
        """Keep message, unless a failure is due: then its status, and nothing kept."""
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.messages.append({**message, "at": time.time()})
            return None


class Handler(BaseHTTPRequestHandler):
    server: "Gateway"

    def log_message(self, format: str, *args: Any) -> None:
        """Only the method and route: the path holds Kavenegar's key, the query a number."""
        route = "kavenegar" if self.path.startswith("/v1/") else urlsplit(self.path).path[:40]
        print(f"sms-gateway {self.command} {route} {args[1] if len(args) > 1 else ''}")

    def _answer(self, status: int, body: Any, kind: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _form(self) -> dict[str, str]:
        """The query's parameters, then the form body's (urlencoded) over them."""
        params = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if body and self.headers.get("Content-Type", "").startswith("application/json"):
            params.update({k: str(v) for k, v in json.loads(body).items()})
        elif body:
            params.update({k: v[-1] for k, v in parse_qs(body).items()})
        return params

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/messages.json":
            with self.server.outbox.lock:
                self._answer(200, list(self.server.outbox.messages))
        elif path == "/":
            self._answer(200, page(self.server.outbox.messages), "text/html; charset=utf-8")
        elif match := KAVENEGAR.match(path):
            self._kavenegar(match, self._form())
        else:
            self._answer(404, {"error": "not_found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if match := KAVENEGAR.match(path):
            self._kavenegar(match, self._form())
        elif match := TWILIO.match(path):
            self._twilio(match, self._form())
        elif path == "/control/fail":
            order = self._form()
            with self.server.outbox.lock:
                self.server.outbox.failures += [int(order["status"])] * int(order["times"])
            self._answer(200, {"failing": len(self.server.outbox.failures)})
        elif path == "/control/reset":
            with self.server.outbox.lock:
                self.server.outbox.messages.clear()
                self.server.outbox.failures.clear()
            self._answer(200, {"messages": 0})
        else:
            self._answer(404, {"error": "not_found"})

    def _kavenegar(self, match: re.Match, form: dict[str, str]) -> None:
        method = match["method"]
        missing = [name for name in NEEDS[method] if not form.get(name)]
        if missing:
            return self._answer(400, {"return": {"status": 400, "message": "پارامترها ناقص هستند"}})
        text = form.get("message") or f"{form['template']}: {form['token']}"
        message = {
            "provider": "kavenegar",
            "method": method,
            "to": form["receptor"],
            "text": text,
            "token": form.get("token"),
            "template": form.get("template"),
            "sender": form.get("sender"),
        }
        if (status := self.server.outbox.record(message)) is not None:
            return self._answer(status, {"return": {"status": status, "message": "خطا"}})
        entry = {
            "messageid": len(self.server.outbox.messages),
            "status": 5,
            "receptor": message["to"],
        }
        self._answer(200, {"return": {"status": 200, "message": "تایید شد"}, "entries": [entry]})

    def _twilio(self, match: re.Match, form: dict[str, str]) -> None:
        if not self.server.twilio_allows(self.headers.get("Authorization", ""), match["sid"]):
            return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        missing = [name for name in ("To", "From", "Body") if not form.get(name)]
        if missing:
            return self._answer(400, {"code": 21604, "message": f"{missing[0]} is required"})
        message = {
            "provider": "twilio",
            "to": form["To"],
            "from": form["From"],
            "text": form["Body"],
        }
        if (status := self.server.outbox.record(message)) is not None:
            return self._answer(status, {"code": 20500, "message": "Internal error"})
        sid = "SM" + uuid.uuid4().hex
        body = {"sid": sid, "account_sid": match["sid"], "to": form["To"], "status": "queued"}
        self._answer(201, {**body, "from": form["From"], "body": form["Body"]})


class Gateway(ThreadingHTTPServer):
    """The gateway on (host, port); twilio_token is the auth token Twilio's calls must carry
    (empty: any)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], twilio_token: str = "") -> None:
        super().__init__(address, Handler)
        self.outbox = Outbox()
        self.twilio_token = twilio_token

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def twilio_allows(self, header: str, sid: str) -> bool:
        """Whether an Authorization header is basic auth as sid with the token (any
        non-empty token when the gateway was given none)."""
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, token = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        wanted = self.twilio_token or token
        return scheme == "Basic" and user == sid and bool(token) and token == wanted


def page(messages: list[dict[str, Any]]) -> str:
    """The messages, newest first, as a page a developer reads codes from."""
    rows = "".join(
        f"<tr><td>{time.strftime('%H:%M:%S', time.localtime(m['at']))}</td>"
        f"<td>{html.escape(m['provider'])}</td><td>{html.escape(str(m['to']))}</td>"
        f"<td>{html.escape(str(m['text']))}</td></tr>"
        for m in reversed(messages)
    )
    return (
        "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=3>"
        "<title>SMS gateway</title><h1>Messages the SMS gateway was asked to send</h1>"
        "<table border=1 cellpadding=4><tr><th>at</th><th>provider</th><th>to</th>"
        f"<th>text</th></tr>{rows or '<tr><td colspan=4>none yet</td></tr>'}</table>"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1:8025", help="host:port to listen on")
    parser.add_argument("--twilio-token", default="", help="the auth token Twilio calls carry")
    args = parser.parse_args()
    host, _, port = args.bind.rpartition(":")
    server = Gateway((host or "127.0.0.1", int(port)), args.twilio_token)
    print(f"SMS gateway on {server.url}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
