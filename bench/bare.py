"""The ceiling: a Flask endpoint that parses JSON and answers 202, with no I/O at all.

Served by the same `gunicorn -c gunicorn.conf.py` as landing, so the gap between the two is
what durability (Redis, RabbitMQ's confirm) costs, not a difference in server settings.
"""

import uuid

from flask import Flask, request

APP = "bench.bare:create_app()"  # what gunicorn serves


def create_app() -> Flask:
    """A WSGI app with landing's POST path and /health, doing only what any endpoint must."""
    app = Flask(__name__)

    @app.post("/api/register/")
    def register():
        """Parse the body and answer like landing does (similar size), without keeping it."""
        request.get_json()
        request_id = str(uuid.uuid4())
        answer = {"message": "Your phone number has been accepted.", "request_id": request_id}
        return answer, 202, {"Location": f"/api/register/{request_id}"}

    @app.get("/health")
    def health():
        """Always ok: answering at all means the server is up."""
        return {"status": "ok"}

    return app
