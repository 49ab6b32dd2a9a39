"""harness.door: the benchmark's nginx (our nginx.conf, unchanged) in front of a real
gunicorn keys each address wrk names in X-Forwarded-For as a client of its own, as nginx
behind production's load balancer does, so its per-client limits see visitors, not wrk."""

from harness.door import start_nginx
from harness.stores import RATE_LIMIT
from tests.support.processes import http, running_gunicorn

# nginx.conf: 10 r/s per client, a burst of 20 taken at once (nodelay), then 429.
BURST = 20


def register(url: str, n: int, visitor: str) -> tuple[int, str]:
    """(status, Retry-After) of one sign-up sent as harness/post.lua sends it."""
    status, headers, _ = http(
        f"{url}/api/register/", {"phone": f"09{n:09d}"}, {"X-Forwarded-For": visitor}
    )
    return status, headers.get("Retry-After", "")


def test_each_forwarded_address_is_a_client_with_limits_of_its_own(tmp_path, clean):
    # The app's own per-client limit out of the way: this is about nginx's.
    with running_gunicorn(tmp_path, env={"RATE_LIMIT": RATE_LIMIT}) as web:
        door = start_nginx(web.url, "nginx-bench", tmp_path)
        try:
            visitors = [register(door.url, n, f"10.0.0.{n}") for n in range(BURST + 10)]
            one = [register(door.url, 100 + n, "10.0.1.1") for n in range(BURST + 10)]
        finally:
            door.stop()
    assert [status for status, _ in visitors] == [202] * (BURST + 10)
    # From one address: the burst, then nginx's own 429 (its Retry-After, not the app's).
    assert [status for status, _ in one[:BURST]] == [202] * BURST
    assert (429, "1") in one[BURST + 1 :]
