"""register_batch messages: every sign-up of a batch, in order, each message small enough
for a classic queue to keep in its index."""

import uuid

from landing.intake import MAX_MESSAGE_BYTES, sized_messages
from landing.shared.signup import SignUp, now_iso


def signup(user_agent: str | None = None, referrer: str = "campaign") -> SignUp:
    return SignUp(str(uuid.uuid4()), "09123456789", referrer, "203.0.113.7", user_agent, now_iso())


def test_a_batch_is_split_into_messages_under_the_limit_keeping_every_sign_up_in_order():
    browser = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120.0 Mobile" * 2
    for batch in ([signup() for _ in range(100)], [signup(browser) for _ in range(37)]):
        messages = list(sized_messages(batch))
        assert len(messages) > 1
        assert [s for _, _, chunk in messages for s in chunk] == batch
        for message, body, chunk in messages:
            assert len(body) < MAX_MESSAGE_BYTES
            assert body == message.encode()
            assert message.args[0] == [s.as_message() for s in chunk]


def test_a_small_batch_is_one_message_and_a_large_sign_up_travels_alone():
    small = [signup() for _ in range(3)]
    assert [len(chunk) for _, _, chunk in sized_messages(small)] == [3]
    huge = signup(referrer="ۍ" * 2048)  # escaped in JSON: ~12 KB on its own
    batch = [signup(), huge, signup()]
    messages = list(sized_messages(batch))
    assert [s for _, _, chunk in messages for s in chunk] == batch
    assert [len(body) >= MAX_MESSAGE_BYTES for _, body, _ in messages].count(True) == 1
