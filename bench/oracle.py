"""`python -m bench.oracle`: does the status endpoint tell a duplicate from a new sign-up?

Stores N statuses of each kind (registered, duplicate) in the tests' Redis db, reads them
back through the app in alternating order, and prints each kind's answers and latency
medians. Answers must be identical and medians within noise. Uses the tests' settings
(tests/support/config.py), so run it where `make test` runs.
"""

import statistics
import sys
import time
import uuid

from dramatiq.results.backend import wrap_result

from landing.app import close_app, create_app
from landing.shared.signup import Outcome, status_key
from tests.support.config import settings

KINDS = (Outcome.REGISTERED, Outcome.DUPLICATE)
TTL_MS = 600_000


def main(n: int = 400) -> None:
    """Print, per kind, the set of (status code, status) answered and latency medians."""
    app = create_app(settings.replace(status_rate_limit="1000000/minute"))
    backend, client = app.extensions["results"], app.test_client()
    ids = {kind: [str(uuid.uuid4()) for _ in range(n)] for kind in KINDS}
    for kind, requests in ids.items():
        for request_id in requests:
            key = backend.build_message_key(status_key(request_id))
            backend._store(key, wrap_result(kind), TTL_MS)
    seconds, answers = {kind: [] for kind in KINDS}, {kind: set() for kind in KINDS}
    for i in range(n):
        for kind in KINDS if i % 2 else reversed(KINDS):
            started = time.perf_counter()
            response = client.get(f"/api/register/{ids[kind][i]}")
            seconds[kind].append(time.perf_counter() - started)
            body = response.get_json()
            answers[kind].add((response.status_code, body["status"], tuple(sorted(body))))
    for kind in KINDS:
        median = statistics.median(seconds[kind]) * 1000
        print(f"{kind}: median {median:.3f} ms, answers {sorted(answers[kind])}")
    close_app(app)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
