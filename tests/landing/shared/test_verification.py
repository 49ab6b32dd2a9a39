"""Codes sent by SMS, on the tests' Redis: stored as HMACs, used once, a few guesses each,
expiring, and sent again only after the cooldown."""

import time
import uuid

import pytest
import redis

from landing.shared.verification import Check, Codes, new_code, record_key

pytestmark = pytest.mark.fast  # the fast tier: Redis only


@pytest.fixture
def client(settings):
    with redis.Redis.from_url(settings.redis_url) as client:
        yield client


def codes(client, ttl=300, attempts=3, cooldown=60) -> Codes:
    return Codes(client, "secret", ttl, attempts, cooldown, record_ttl=600)


def issued(store: Codes) -> tuple[str, str]:
    request_id = str(uuid.uuid4())
    store.open(request_id, target=request_id, network="10.0.0.0/24")
    return request_id, store.issue(request_id)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_codes_are_six_digits():
    assert all(len(c) == 6 and c.isdigit() for c in (new_code() for _ in range(200)))


def test_only_a_keyed_hash_of_the_code_is_stored(client):
    store = codes(client)
    request_id, code = issued(store)
    record = store.read(request_id)
    assert code not in str(record)
    assert record["digest"] == store.digest(request_id, code)
    assert store.digest(str(uuid.uuid4()), code) != record["digest"]  # per sign-up
    assert 0 < client.ttl(record_key(request_id)) <= 600


def test_the_right_code_verifies_once_and_says_so_again(client):
    store = codes(client)
    request_id, code = issued(store)
    first = store.guess(request_id, code)
    assert first.check is Check.VERIFIED and first.target == request_id
    again = store.guess(request_id, code)  # a client retrying its request
    assert again.check is Check.VERIFIED and again.at == first.at
    assert store.verified(request_id)


def test_wrong_codes_past_the_limit_lock_even_the_right_one(client):
    store = codes(client, attempts=3)
    request_id, code = issued(store)
    answers = [store.guess(request_id, wrong(code)) for _ in range(3)]
    assert [(a.check, a.left) for a in answers] == [
        (Check.WRONG, 2),
        (Check.WRONG, 1),
        (Check.LOCKED, 0),
    ]
    assert store.guess(request_id, code).check is Check.LOCKED
    assert not store.verified(request_id)


def test_a_new_code_gets_new_guesses_and_voids_the_old(client):
    store = codes(client, attempts=2)
    request_id, old = issued(store)
    store.guess(request_id, wrong(old))
    store.guess(request_id, wrong(old))
    new = store.issue(request_id)
    if new != old:  # one time in a million they match
        assert store.guess(request_id, old).check is Check.WRONG
    assert store.guess(request_id, new).check is Check.VERIFIED


def test_an_expired_code_is_refused(client):
    store = codes(client, ttl=0)
    request_id, code = issued(store)
    time.sleep(0.01)
    assert store.guess(request_id, code).check is Check.EXPIRED


def test_a_code_whose_sms_failed_is_never_guessable(client):
    """Issuing resets the guesses; a failed send withdraws the code, so resends that never
    reach a phone hand out no fresh guesses."""
    store = codes(client)
    request_id, code = issued(store)
    store.withdraw(request_id)
    assert store.guess(request_id, code).check is Check.EXPIRED
    assert store.read(request_id).get("state") == "failed"


def test_no_code_sent_is_unknown_and_leaves_nothing(client):
    store = codes(client)
    request_id = str(uuid.uuid4())
    assert store.guess(request_id, "123456").check is Check.UNKNOWN
    assert not client.exists(record_key(request_id))
    with pytest.raises(KeyError):
        store.claim_resend(request_id)


def test_a_resend_waits_for_the_cooldown(client):
    store = codes(client, cooldown=60)
    request_id, _ = issued(store)
    left = store.claim_resend(request_id)
    assert left is not None and 59 < left <= 60.001  # "sent" is kept to the millisecond
    ready = codes(client, cooldown=0)
    assert ready.claim_resend(request_id) is None
    assert codes(client, cooldown=60).claim_resend(request_id) > 59  # the claim restarted it
