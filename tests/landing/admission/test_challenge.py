"""The sign-up challenge on the tests' own Redis db (TEST_REDIS_DB), and in memory when Redis
refuses: signed, expiring, single-use solutions (challenge.py) and when one is required
(pressure.py: off, always, auto per client network and for everyone, off again when calm).

Every challenge has a random salt and every network here is random, so the keys never meet
another test's; what a test writes expires within seconds to minutes.
"""

import base64
import itertools
import json
import random
import time
import uuid

import pytest
import redis
from altcha.v1 import hash_hex, hmac_hex, solve_challenge

from harness.local import free_port
from landing.admission.challenge import CLAIMED_IN_MEMORY, Challenges, Verdict, solution
from landing.admission.pressure import ENGAGED, EVERYONE, Pressure
from landing.visitor import client_network

pytestmark = pytest.mark.fast  # the fast tier: `make unit`

SECRET = "test-challenge-key"
MAX = 2_000  # small work: these tests are about the rules, not the cost


@pytest.fixture
def down():
    """A Redis client for a port nothing listens on, built as the app builds its own
    (from_url: redis-py's retries with backoff apply only to clients constructed directly),
    so every call fails at once."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.2)
    yield client
    client.close()


def solved(challenges: Challenges, challenge: dict | None = None) -> str:
    challenge = challenge or challenges.issue()
    found = solve_challenge(challenge["challenge"], challenge["salt"], "SHA-256", MAX)
    assert found is not None
    return solution(challenge, found.number)


def fields(payload: str) -> dict:
    return json.loads(base64.b64decode(payload))


def encoded(fields_: dict) -> str:
    return base64.b64encode(json.dumps(fields_).encode()).decode()


def request_id() -> str:
    return str(uuid.uuid4())


def test_a_challenge_is_signed_and_expires_within_its_minutes(store):
    challenges = Challenges(SECRET, MAX, 300, store)
    issued = challenges.issue()
    assert set(issued) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
    assert issued["algorithm"] == "SHA-256" and issued["maxnumber"] == MAX
    assert issued["signature"] == hmac_hex("SHA-256", issued["challenge"].encode(), SECRET)
    expires = int(issued["salt"].split("expires=")[1].rstrip("&"))
    assert 295 <= expires - time.time() <= 301
    assert challenges.issue()["salt"] != issued["salt"]  # a fresh salt each time


def test_a_solution_passes_once_and_its_own_sign_up_may_retry_it(store):
    challenges = Challenges(SECRET, MAX, 300, store)
    payload, first = solved(challenges), request_id()
    assert challenges.verify(payload, first) == Verdict.SOLVED
    # The same sign-up sent again (a 503, a lost answer): still its solution.
    assert challenges.verify(payload, first) == Verdict.SOLVED
    assert challenges.verify(payload, request_id()) == Verdict.REPLAYED
    assert challenges.verify(None, first) == Verdict.MISSING


def test_forged_solutions_are_invalid(store):
    challenges = Challenges(SECRET, MAX, 300, store)
    payload = solved(challenges)
    good = fields(payload)
    # Signed with another key: a challenge the attacker made up, with its own easy number.
    salt = f"{'ab' * 12}?expires={int(time.time()) + 300}&"
    made = hash_hex("SHA-256", f"{salt}1".encode())
    own_key = {**good, "salt": salt, "number": 1, "challenge": made}
    own_key["signature"] = hmac_hex("SHA-256", made.encode(), "not-our-key")
    later = good["salt"].replace("expires=", "expires=9")  # a later expiry, same signature
    forged = [
        encoded({**good, "number": good["number"] + 1}),  # the wrong number
        encoded({**good, "number": str(good["number"])}),  # a string, not a number
        encoded({**good, "number": True}),
        encoded({**good, "signature": "0" * 64}),
        encoded({**good, "salt": later}),
        encoded({**good, "algorithm": "SHA-1"}),
        encoded(own_key),
        encoded({key: value for key, value in good.items() if key != "signature"}),
        encoded([good]),
        "not base64!",
        base64.b64encode(b"\xff\xfe").decode(),
        "A" * 2000,
    ]
    for forgery in forged:
        assert challenges.verify(forgery, request_id()) == Verdict.INVALID, forgery
    # None of them spent the real one.
    assert challenges.verify(encoded(good), request_id()) == Verdict.SOLVED


def test_another_servers_secret_makes_every_solution_invalid(store):
    ours = Challenges(SECRET, MAX, 300, store)
    theirs = Challenges("another-key", MAX, 300, store)
    assert theirs.verify(solved(ours), request_id()) == Verdict.INVALID


def test_an_expired_challenge_is_refused_even_when_solved(store):
    challenges = Challenges(SECRET, MAX, -5, store)  # issued already five seconds past
    payload = solved(challenges)
    assert challenges.verify(payload, request_id()) == Verdict.EXPIRED


def test_a_claim_lasts_until_the_challenge_expires(store):
    challenges = Challenges(SECRET, MAX, 120, store)
    payload = solved(challenges)
    assert challenges.verify(payload, request_id()) == Verdict.SOLVED
    key = f"landing:challenge-used:{fields(payload)['challenge']}"
    assert 100 <= store.ttl(key) <= 122


def test_without_redis_the_work_is_still_checked_and_replays_caught_in_this_process(down):
    challenges = Challenges(SECRET, MAX, 300, down)
    before = CLAIMED_IN_MEMORY._value.get()
    payload, first = solved(challenges), request_id()
    assert challenges.verify(payload, first) == Verdict.SOLVED
    assert challenges.verify(payload, first) == Verdict.SOLVED
    assert challenges.verify(payload, request_id()) == Verdict.REPLAYED
    assert challenges.verify(encoded({**fields(payload), "number": 0}), first) in {
        Verdict.INVALID,
        Verdict.SOLVED,  # only if 0 was the number: then it is the same solution
    }
    assert CLAIMED_IN_MEMORY._value.get() >= before + 3


def test_an_empty_secret_is_refused(store):
    with pytest.raises(ValueError, match="CHALLENGE_SECRET"):
        Challenges("", MAX, 300, store)


# Each call a /24 of its own: drawn at random from 256 of them, two tests' networks met
# within a hold often enough to flake (one engaged by the last test, the next saw it on).
_NETWORKS = itertools.count(random.randrange(1 << 16))


def network() -> str:
    n = next(_NETWORKS) % (1 << 16)
    return client_network(f"10.{n >> 8}.{n & 255}.7")


def test_off_never_and_always_always_requires_a_challenge(down):
    assert not Pressure("off", "1/minute", "1/minute", 60, down).required(network())
    always = Pressure("always", "1/minute", "1/minute", 60, down)
    assert all(always.required(network()) for _ in range(3))
    with pytest.raises(ValueError, match="CHALLENGE_MODE"):
        Pressure("sometimes", "1/minute", "1/minute", 60, down)


def everyone_keys(store) -> None:
    store.delete("landing:challenge:count:everyone", "landing:challenge:on:everyone")


def test_auto_engages_for_everyone_past_the_overall_rate(store, caplog):
    everyone_keys(store)
    pressure = Pressure("auto", "1000/minute", "5/minute", 2, store)
    before = ENGAGED.labels("everyone")._value.get()
    answers = [pressure.required(network()) for _ in range(8)]
    assert answers == [False] * 5 + [True] * 3  # each from its own network
    assert ENGAGED.labels("everyone")._value.get() == before + 1
    assert EVERYONE._value.get() == 1
    assert "challenge required for every sign-up" in caplog.text
    everyone_keys(store)  # calm: the window and the held state gone
    assert not pressure.required(network())
    assert EVERYONE._value.get() == 0
    assert "no longer required for every sign-up" in caplog.text
    everyone_keys(store)


def test_auto_without_redis_counts_in_this_process(down):
    pressure = Pressure("auto", "2/minute", "1000/minute", 60, down)
    busy = network()
    assert [pressure.required(busy) for _ in range(4)] == [False, False, True, True]
    assert not pressure.required(network())


def test_a_client_network_is_an_ipv4_24_or_an_ipv6_48():
    assert client_network("203.0.113.77") == "203.0.113.0/24"
    assert client_network("2001:db8:1:2:3::9") == "2001:db8:1::/48"
    assert client_network(None) == "unknown"
