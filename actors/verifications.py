"""The verification actors (VERIFICATION=sms): codes sent by SMS, verified numbers stored.

send_code runs after a sign-up is stored (the register actors publish it with the
sign-up's outcome), or when the page asks for another code. It sends nothing to a number
outside the country's mobile prefixes or past any budget (landing.shared.sms_budgets),
and it never touches the registration: an SMS that fails, or never goes, leaves the sign-up
stored as it was. A provider that is down is retried a few times (RETRIES), then the
message waits in sms.XQ; by then its code would have expired anyway, and the page offers a
new one.

record_verification inserts the verified registration's row into verifications once and
announces registration.verified to the webhook (its delivery id is fixed per registration,
so a redelivery announces it again under the same id).
"""

import logging
from collections.abc import Callable

import dramatiq

from actors.retries import RetryPolicy
from actors.sms import SmsProvider, SmsRefused, provider_for, unusable
from landing.shared.db import db
from landing.shared.results import build_result_backend
from landing.shared.settings import Settings
from landing.shared.signup import (
    RECORD_VERIFICATION,
    REGISTRATIONS,
    SEND_CODE,
    SMS,
    verified_webhook_message,
)
from landing.shared.sms_budgets import Budgets, network_of
from landing.shared.verification import Codes, budgets_for, codes_for

log = logging.getLogger(__name__)

# A code lives minutes (VERIFICATION_CODE_TTL): past a few backed-off retries, a late SMS
# would carry a code about to expire.
RETRIES = 3
TARGET_SQL = "SELECT request_id FROM registrations WHERE phone = %s"
PHONE_SQL = "SELECT phone FROM registrations WHERE request_id = %s::uuid"
INSERT_SQL = """
    INSERT INTO verifications (request_id, verified_at)
    SELECT request_id, %(at)s::timestamptz FROM registrations WHERE request_id = %(id)s::uuid
    ON CONFLICT (request_id) DO NOTHING
"""
VERIFIED_SQL = """
    SELECT r.request_id, r.phone, r.referrer, r.created_at, v.verified_at
    FROM verifications v JOIN registrations r USING (request_id)
    WHERE v.request_id = %s::uuid
"""


def _one(sql: str, value: str) -> tuple | None:
    with db.atomic():
        cursor = db.cursor()
        cursor.execute(sql, (value,))
        return cursor.fetchone()


class Sender:
    """Decides whether a sign-up gets a code, and sends it."""

    def __init__(
        self,
        codes: Codes,
        budgets: Budgets,
        provider: SmsProvider,
        prefixes: tuple[str, ...],
        unusable: str | None = None,
    ):
        self.codes, self.budgets, self.provider, self.prefixes = codes, budgets, provider, prefixes
        self.unusable = unusable  # why the provider cannot be used (actors.sms.unusable)

    def __call__(self, request_id: str, phone: str | None, ip: str | None) -> str:
        """Send request_id's sign-up a code; what happened (sent, or why not)."""
        first = phone is not None
        found = self._number(request_id, phone, ip)
        if found is None:
            return "gone"  # not stored (erased meanwhile), or its record expired
        phone, network = found
        record = self.codes.read(request_id)
        if record.get("verified"):
            return "verified"
        if first and record.get("state") == "sent":
            return "sent"  # a first send seen again (its batch redelivered): one SMS is enough
        if not phone.startswith(self.prefixes):
            self.codes.note(request_id, "not_mobile")
            return "not_mobile"
        if self.unusable:  # into sms.XQ, where the dashboard says why
            self.codes.note(request_id, "failed")
            raise SmsRefused(self.unusable)
        if over := self.budgets.charge(phone, network):
            self.codes.note(request_id, "over_budget")
            log.warning("code for %s not sent: the %s budget is spent", request_id, over)
            return "over_budget"
        try:
            self.provider.send(phone, self.codes.issue(request_id))
        except Exception as error:
            self.budgets.refund(phone, network)
            self.codes.withdraw(request_id)  # never guessable: it was not sent
            log.warning("code for %s not sent: %s", request_id, error)
            raise
        log.info("code for %s sent", request_id)
        return "sent"

    def _number(self, request_id: str, phone: str | None, ip: str | None) -> tuple | None:
        """(phone, network) to send to: a first send's own (its record opened for the row
        the number is stored in), a resend's from its record and that row."""
        if phone is not None:
            row = _one(TARGET_SQL, phone)
            if row is None:
                return None
            network = network_of(ip)
            self.codes.open(request_id, str(row[0]), network)
            return phone, network
        record = self.codes.read(request_id)
        row = _one(PHONE_SQL, record["target"]) if record else None
        return None if row is None else (row[0], record["network"])


def record_verification(
    request_id: str, verified_at: str, forward: Callable[[dramatiq.Message], None], announce: bool
) -> None:
    """Store that request_id's registration was verified (once), and announce it."""
    with db.atomic():
        db.cursor().execute(INSERT_SQL, {"id": request_id, "at": verified_at})
    row = _one(VERIFIED_SQL, request_id)
    if row is None:
        log.info("verification of %s not stored: no such registration", request_id)
        return
    if announce:
        rid, phone, referrer, created_at, at = row
        event = {
            "request_id": str(rid),
            "phone": phone,
            "referrer": referrer,
            "created_at": created_at.isoformat(timespec="milliseconds"),
            "verified_at": at.isoformat(timespec="milliseconds"),
        }
        forward(verified_webhook_message(event))


def declare(
    broker: dramatiq.Broker,
    config: Settings,
    forward: Callable[[dramatiq.Message], None],
    announce: bool,
) -> tuple[dramatiq.Actor, dramatiq.Actor]:
    """send_code (sms queue) and record_verification (registrations queue) on broker;
    declared whatever VERIFICATION says, so messages queued before it was turned off are
    still handled."""
    client = build_result_backend(config).client
    prefixes = tuple(p.strip() for p in config.sms_mobile_prefixes.split(",") if p.strip())
    sender = Sender(
        codes_for(config, client),
        budgets_for(config, client),
        provider_for(config),
        prefixes,
        unusable(config),
    )

    def send(request_id: str, phone: str | None = None, ip: str | None = None) -> str:
        return sender(request_id, phone, ip)

    def record(request_id: str, verified_at: str) -> None:
        record_verification(request_id, verified_at, forward, announce)

    return (
        dramatiq.actor(
            actor_name=SEND_CODE, queue_name=SMS, retry_when=RetryPolicy(RETRIES), broker=broker
        )(send),
        dramatiq.actor(
            actor_name=RECORD_VERIFICATION,
            queue_name=REGISTRATIONS,
            # A verification answered 200 is a promise, like a sign-up's 202.
            retry_when=RetryPolicy(config.max_retries, outages_until_over=True),
            broker=broker,
        )(record),
    )
