"""The gate's admission on the tests' own Redis db (TEST_REDIS_DB), and in memory when Redis
refuses: the one service this fast tier talks to, because the admission is a Lua script.

Every sign-up here has an address, a number's secret and a request_id of its own, so the
keys never meet another test's; each test deletes what it wrote.
"""

import random
import uuid

import pytest
import redis
from dramatiq.results.backends import RedisBackend

from harness.local import free_port
from landing.admission.fallback import ADMITTED_IN_MEMORY
from landing.admission.gate import Admitted, Gate
from landing.admission.keys import PhoneKeys
from landing.admission.refusals import AddressLimited, PhoneLimited, RequestIdTaken
from landing.shared.signup import SignUp

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


PHONES = ("09121110001", "09121110002", "09121110003")


def address() -> str:
    return f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"


def signup(ip: str, phone: str = PHONES[0], request_id: str | None = None) -> SignUp:
    request_id = request_id or str(uuid.uuid4())
    return SignUp(request_id, phone, None, ip, None, "2026-12-08T00:00:00.000Z")


class Tracked(Gate):
    """A Gate that remembers the sign-ups it saw, so the test can delete their keys."""

    def admit(self, batch):
        self.seen.extend(batch)
        return super().admit(batch)


@pytest.fixture
def gate(store):
    """make(address limit, phone limit[, redis client]): a Gate with a secret of its own."""
    made: list[Tracked] = []

    def make(address_limit="2/minute", phone_limit="5/hour", client=store):
        gate = Tracked(RedisBackend(client=client), (address_limit, phone_limit), 60,
                       PhoneKeys(uuid.uuid4().hex))  # fmt: skip
        gate.seen = []
        made.append(gate)
        return gate

    yield make
    for gate in made:
        keys = [gate.keys(s) for s in gate.seen]
        written = [key for k in keys for key in (k.address, k.phone, k.status, k.binding)]
        if written and gate.backend.client is store:
            store.delete(*written)


def admitted_in_memory(reason: str) -> float:
    [family] = ADMITTED_IN_MEMORY.collect()
    found = [s.value for s in family.samples if s.name.endswith("_total")
             and s.labels == {"reason": reason}]  # fmt: skip
    return found[0] if found else 0.0


def count(store, key: str) -> int:
    return int(store.get(key) or 0)


def test_the_address_limit_refuses_past_its_amount_until_its_window_ends(gate, store):
    gate = gate(address_limit="2/minute")
    ip = address()
    answers = gate.admit([signup(ip, phone) for phone in PHONES])
    assert [type(answer) for answer in answers] == [Admitted, Admitted, AddressLimited]
    assert str(answers[2]) == "Too many attempts from your address; try again later."
    assert 1 <= answers[2].retry_after <= 60
    assert 55 <= store.ttl(gate.keys(signup(ip)).address) <= 60  # the window: a minute
    # Another address is a counter of its own.
    assert isinstance(gate.admit([signup(address(), PHONES[2])])[0], Admitted)


def test_the_phone_limit_counts_a_number_from_any_address_for_its_window(gate, store):
    gate = gate(address_limit="10/minute", phone_limit="2/hour")
    answers = [gate.admit([signup(address())])[0] for _ in range(3)]
    assert [type(answer) for answer in answers] == [Admitted, Admitted, PhoneLimited]
    assert str(answers[2]) == "Too many attempts for this number; try again later."
    assert 60 < answers[2].retry_after <= 3600
    phone_key = gate.keys(signup(address())).phone
    assert count(store, phone_key) == 2  # the refused attempt is not counted against it
    assert 3590 <= store.ttl(phone_key) <= 3600  # the window: an hour
    assert PHONES[0] not in phone_key


def test_a_request_id_bound_to_another_number_is_refused_and_counts_nothing(gate, store):
    gate = gate()
    request_id = str(uuid.uuid4())
    first = gate.admit([signup(address(), PHONES[0], request_id)])[0]
    assert first == Admitted(first.keys, (True, True))  # its status and binding placed
    other = signup(address(), PHONES[1], request_id)
    [taken] = gate.admit([other])
    assert isinstance(taken, RequestIdTaken)
    assert str(taken) == RequestIdTaken.__doc__
    assert count(store, gate.keys(other).phone) == 0
    assert store.get(first.keys.binding).decode() == first.keys.fingerprint


def test_the_same_id_and_number_again_is_admitted_without_a_second_count(gate, store):
    gate = gate(phone_limit="1/hour")
    request_id = str(uuid.uuid4())
    first = gate.admit([signup(address(), PHONES[0], request_id)])[0]
    # A retry: the same sign-up, even with the number's allowance used up by it.
    again = gate.admit([signup(address(), PHONES[0], request_id)])[0]
    assert again.placed == (False, False)  # its status and binding were there already
    assert count(store, first.keys.phone) == 1
    gate.withdraw(again)  # the retry's broker failed: the first attempt's count and status stay
    assert count(store, first.keys.phone) == 1
    assert store.exists(first.keys.status, first.keys.binding) == 2
    assert isinstance(gate.admit([signup(address())])[0], PhoneLimited)  # another id: counted


def test_a_batch_is_decided_in_order(gate):
    gate = gate(address_limit="3/minute")
    ip, request_id = address(), str(uuid.uuid4())
    batch = [signup(ip, PHONES[0], request_id), signup(ip, PHONES[1], request_id)]
    batch += [signup(ip, PHONES[2]), signup(ip, PHONES[2])]
    answers = gate.admit(batch)
    assert [type(a) for a in answers] == [Admitted, RequestIdTaken, Admitted, AddressLimited]


def test_a_withdrawn_sign_up_gives_back_its_numbers_count_status_and_binding(gate, store):
    gate = gate(phone_limit="1/hour")
    [admitted] = gate.admit([signup(address())])
    gate.withdraw(admitted)
    assert count(store, admitted.keys.phone) == 0
    assert not store.exists(admitted.keys.status, admitted.keys.binding)
    assert isinstance(gate.admit([signup(address())])[0], Admitted)  # the allowance is back


def test_refused_requests_count_against_the_sign_ups_window(gate, store):
    gate = gate(address_limit="2/minute")
    ip = address()
    assert gate.count_refused(ip) is None  # 1 of 2
    assert isinstance(gate.admit([signup(ip)])[0], Admitted)  # 2 of 2
    assert isinstance(gate.admit([signup(ip, PHONES[1])])[0], AddressLimited)
    assert 1 <= gate.count_refused(ip) <= 60  # past it: the seconds until the window ends
    assert count(store, gate.keys(signup(ip)).address) == 4


def test_while_redis_refuses_the_limits_hold_in_memory(gate):
    # A closed port, and a client built as the app builds its own (from_url: redis-py's
    # default retries with backoff apply only to clients constructed directly).
    nowhere = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    gate = gate(address_limit="2/minute", phone_limit="1/hour", client=nowhere)
    before = admitted_in_memory("unavailable")
    ip = address()
    answers = gate.admit([signup(ip), signup(address())])
    assert answers[0] == Admitted(answers[0].keys, None)  # nothing placed: nothing to undo
    assert isinstance(answers[1], PhoneLimited) and 3590 <= answers[1].retry_after <= 3600
    assert admitted_in_memory("unavailable") - before == 2
    # A refused request counts in the same window, in memory too.
    assert gate.count_refused(ip) is None  # 2 of 2
    [limited] = gate.admit([signup(ip, PHONES[1])])
    assert isinstance(limited, AddressLimited) and 1 <= limited.retry_after <= 60
    gate.withdraw(answers[0])  # nothing in Redis to undo: no error, no round trip
    nowhere.close()
