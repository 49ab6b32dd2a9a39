"""gunicorn's gevent worker with our answers, our sockets and a deadline on bodies."""

import json
from datetime import datetime
from http import HTTPStatus

from gunicorn import util
from gunicorn.http.message import Request
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers import ggevent
from gunicorn.workers.ggevent import GeventWorker

from landing.error_body import error_body
from landing.server.answers import error_answer, read_body_ahead
from landing.server.sockets import EagerAcceptServer, HeadWithBody, NamedListener


class JsonErrorWorker(GeventWorker):
    """gevent's worker (why gevent: see gunicorn.conf.py), with gunicorn's own answers in
    the one shape (landing.error_body), a deadline on bodies, and each answer in one send
    (HeadWithBody), accepting new connections in bursts (EagerAcceptServer) and serving
    those accepted as it recycles (NamedListener)."""

    read_ahead = 4_097  # bytes; json_error_worker sets it from MAX_BODY_BYTES

    def handle(self, listener, client, addr) -> None:
        name = self._listener_names.get(listener)
        super().handle(listener if name is None else NamedListener(listener, name), client, addr)

    def handle_request(self, listener_name, req, sock, addr) -> None:
        client = HeadWithBody(sock)
        try:
            super().handle_request(listener_name, req, client, addr)
        finally:
            client.flush()

    def run(self) -> None:
        # gunicorn lowers the burst to 1 only for a process with siblings; alone (one process
        # per pod, the dashboard) gevent's own 100 applies. Its run() builds its servers from
        # this module attribute, in this process only.
        if self.cfg.workers > 1:
            ggevent.StreamServer = EagerAcceptServer
        # Named now, while they are open: a recycle closes them under accepted connections.
        self._listener_names = {sock: sock.getsockname() for sock in self.sockets}
        super().run()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        # gunicorn ships no types, so mypy cannot see the WSGI app load_wsgi has just set.
        app, read_ahead = self.wsgi, self.read_ahead  # type: ignore[has-type]

        def with_body_read(environ, start_response):
            # Raised here, a parse error or BodyTimeout reaches handle_error below.
            read_body_ahead(environ, read_ahead)
            return app(environ, start_response)

        self.wsgi = with_body_read

    def handle_error(self, req, client, addr, exc) -> None:
        """Replaces gunicorn's: the same decisions, a JSON body, no client address or raw
        request text in the log (it may carry a phone number)."""
        started = datetime.now()
        status, code, message = error_answer(exc)
        if status == 500:
            self.log.exception("error handling a request")
        else:
            self.log.info("refused a request: %s %s (%s)", status, code, type(exc).__name__)
        body = json.dumps(error_body(status, message, code)).encode() + b"\n"
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except Exception:
            self.log.debug("failed to send the error answer")
        # A header error carries the request it was found in (InvalidRequestLine's `req` is
        # the line's text); without a request there is no access line, as in gunicorn's.
        if not isinstance(req, Request):
            req = getattr(exc, "req", None)
        if isinstance(req, Request):
            self._log_refusal(req, client, status, len(body), started)

    def _log_refusal(self, req, client, status, length, started) -> None:
        environ = default_environ(req, client, self.cfg)
        for name, value in req.headers:
            if name == "X-REQUEST-ID":
                environ["HTTP_X_REQUEST_ID"] = value
        response = Response(req, client, self.cfg)
        response.status = f"{status} {HTTPStatus(status).phrase}"
        response.status_code = status
        response.sent = length
        self.log.access(response, req, environ, datetime.now() - started)


def json_error_worker(max_body_bytes: int) -> type[JsonErrorWorker]:
    """The worker class for a MAX_BODY_BYTES: it reads one byte more ahead of the app."""
    return type("JsonErrorWorker", (JsonErrorWorker,), {"read_ahead": max_body_bytes + 1})
