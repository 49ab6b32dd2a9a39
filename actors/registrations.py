"""The register actors: sign-ups stored in PostgreSQL exactly once, alone or in batches."""

import logging
from collections.abc import Callable
from typing import Any

import dramatiq
from redis.exceptions import RedisError

from actors.histories import apart, failed_entry, fingerprint, history_messages, history_of
from actors.retries import RetryPolicy
from actors.rows import Rows, describe
from landing.shared.failures import Kind, Permanent, Transient, classify
from landing.shared.publisher import Publisher
from landing.shared.results import StatusWriter
from landing.shared.settings import Settings
from landing.shared.signup import (
    REGISTER,
    REGISTER_BATCH,
    REGISTRATIONS,
    Outcome,
    SignUp,
    attempt_message,
    attempts_message,
    registration_message,
    send_code_message,
    turned_away_message,
    webhook_message,
)
from landing.shared.tombstones import Tombstones

log = logging.getLogger(__name__)
# The outcomes whose number gets a code (VERIFICATION=sms): a duplicate's too, since its
# visitor answers registered alike and the code proves the row the number already has.
CODED = (Outcome.REGISTERED, Outcome.DUPLICATE)


class StoreFailed(Exception):
    """Storing failed, and nobody knows whether a retry would help. Says why without values:
    the error's class and SQLSTATE (rows.describe)."""

    @staticmethod
    def from_error(error: Exception) -> "StoreFailed":
        """error as a store failure of its kind: an outage, a refusal, or neither."""
        kind = classify(error)
        failed = {Kind.TRANSIENT: StoreOutage, Kind.PERMANENT: StoreRefused}.get(kind, StoreFailed)
        return failed(describe(error))


class StoreOutage(StoreFailed, Transient):
    """PostgreSQL (or RabbitMQ, forwarding the outcome) was out: stored once it is back."""


class StoreRefused(StoreFailed, Permanent):
    """PostgreSQL refused the sign-up, or it is not one: every retry would fail the same way."""


def register(
    attempt: dict[str, Any],
    forward: Callable[[dramatiq.Message], None],
    rows: Rows,
    announce: bool = False,
    verify: bool = False,
) -> str:
    """Store one sign-up (registered or duplicate) and forward the outcome to its history.

    forward returns once RabbitMQ has the history message: the outcome is recorded before
    the registration's own message is acknowledged. With announce, so is a new
    registration's webhook message (never a duplicate's). An erased number's sign-up leaves
    no trace at all.
    """
    try:
        signup = SignUp.from_message(attempt)
        outcome, stored_at = rows.store(signup)
    except Exception as error:
        forward(attempt_message(attempt, [failed_entry(error)]))
        raise StoreFailed.from_error(error) from None
    if outcome == Outcome.ERASED:
        return outcome
    entries = history_of(signup, outcome, stored_at)
    if outcome == Outcome.CONFLICT:
        forward(turned_away_message([(apart(signup), entries)]))
    else:
        forward(attempt_message(signup, entries))
    if announce and outcome == Outcome.REGISTERED:
        assert stored_at is not None  # a new registration always has its time
        forward(webhook_message(signup, stored_at))
    if verify and outcome in CODED:
        forward(send_code_message(signup.request_id, signup.phone, signup.ip))
    return outcome


def register_batch(
    attempts: list[Any],
    publisher: Publisher,
    statuses: StatusWriter,
    rows: Rows,
    announce: bool = False,
    verify: bool = False,
) -> None:
    """Store a batch of sign-ups in one statement; each gets its status and history.

    An outage fails the whole batch, retried until it ends: what was stored meanwhile is
    found again by its request_id, so nothing is stored twice. A sign-up PostgreSQL refuses
    for good (or that is not one) goes on as a register message of its own, which fails into
    registrations.XQ with its own failed status, where an operator can see and requeue it.
    A sign-up of a number erased after it was received leaves no trace: no row, no status,
    no history, no webhook.
    """
    if not isinstance(attempts, list):
        raise StoreRefused("a batch is a list of sign-ups")
    signups, refused = _read(attempts)
    stored, failed = _split(signups, rows.store_many(signups))
    if outages := [(s, e) for s, e in failed if classify(e) is not Kind.PERMANENT]:
        publisher.publish(attempts_message([(s, [failed_entry(e)]) for s, e in outages]))
        raise StoreFailed.from_error(outages[0][1])
    refused += [signup.as_message() for signup, _ in failed]
    publisher.publish(*(registration_message(attempt) for attempt in refused))
    erased = [s.request_id for s, (o, _) in stored if o == Outcome.ERASED]
    stored = [(s, outcome) for s, outcome in stored if outcome[0] != Outcome.ERASED]
    # A conflict's status is written last: its request_id must not read registered. The
    # others renew their request_id's binding to their number with their status.
    ordered = sorted(stored, key=lambda item: item[1][0] == Outcome.CONFLICT)
    bindings = [(s.request_id, fingerprint(s)) for s, (o, _) in stored if o != Outcome.CONFLICT]
    try:
        statuses.store([(s.request_id, o) for s, (o, _) in ordered], bindings, forget=erased)
    except RedisError as error:  # the row is the promise; its status page is not
        log.warning("statuses of %d sign-ups not stored: %s", len(stored), error)
    created = [(s, at) for s, (o, at) in stored if o == Outcome.REGISTERED] if announce else []
    # With VERIFICATION=sms each stored number is sent a code, after its row is committed.
    coded = [send_code_message(s.request_id, s.phone, s.ip) for s, (o, _) in stored if o in CODED]
    publisher.publish(
        *history_messages(stored),
        *(webhook_message(s, at) for s, at in created),
        *(coded if verify else ()),
    )


def _split(signups: list[SignUp], outcomes: list) -> tuple[list, list]:
    """(sign-up, (outcome, stored_at)) for those stored, (sign-up, error) for the others."""
    stored: list[tuple[SignUp, Any]] = []
    failed: list[tuple[SignUp, Any]] = []
    for signup, outcome in zip(signups, outcomes, strict=True):
        (failed if isinstance(outcome, Exception) else stored).append((signup, outcome))
    return stored, failed


def _read(attempts: list[Any]) -> tuple[list[SignUp], list[Any]]:
    """The batch's sign-ups, and the items that are not one (as they came)."""
    signups, unreadable = [], []
    for attempt in attempts:
        try:
            signups.append(SignUp.from_message(attempt))
        except (KeyError, TypeError):
            unreadable.append(attempt)
    return signups, unreadable


def declare(
    broker: dramatiq.Broker,
    config: Settings,
    publisher: Publisher,
    statuses: StatusWriter,
    announce: bool = False,
    verify: bool = False,
) -> tuple[dramatiq.Actor, dramatiq.Actor]:
    """The register and register_batch actors on broker.

    publisher forwards (and confirms) history messages and a batch's refused sign-ups;
    with announce, a new registration's webhook message too (actors.webhooks). register
    keeps its outcome in the Results backend under its message id (the request_id); a batch
    writes each of its sign-ups' statuses there itself.
    """
    # An outage until it ends (a 202 is a promise); bad data never; anything else
    # MAX_RETRIES times.
    retry = RetryPolicy(config.max_retries, outages_until_over=True)
    rows = Rows(Tombstones(config.erasure_secret))

    def run(attempt: dict[str, Any]) -> str:
        return register(attempt, publisher.publish, rows, announce, verify)

    def run_batch(attempts: list[Any]) -> None:
        register_batch(attempts, publisher, statuses, rows, announce, verify)

    return (
        dramatiq.actor(
            actor_name=REGISTER,
            queue_name=REGISTRATIONS,
            store_results=True,
            retry_when=retry,
            broker=broker,
        )(run),
        dramatiq.actor(
            actor_name=REGISTER_BATCH,
            queue_name=REGISTRATIONS,
            retry_when=retry,
            broker=broker,
        )(run_batch),
    )
