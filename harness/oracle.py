"""The oracle, after the drain: every 202 held against the rows and the statuses.

lost: a 202'd request_id with no row. duplicated: a row whose request_id no client sent,
a phone stored twice, or a 202'd sign-up whose status says `duplicate` (each phone was
sent once, so a duplicate means one sign-up was stored under two ids).
"""

from collections import Counter
from dataclasses import dataclass

import redis
from dramatiq import Message
from dramatiq.results import ResultFailure
from dramatiq.results.backends import RedisBackend

from harness.clients import SignUp

ODD = ("queued", "duplicate", "failed")  # for a stored sign-up, its status should say registered


@dataclass
class Duplicates:
    """The three ways a sign-up could have been stored more than once."""

    unknown_rows: int  # rows whose request_id no client ever sent
    repeated_phones: int  # rows beyond the first for a phone (the unique constraint forbids)
    duplicate_status: int  # 202'd sign-ups whose status reads `duplicate`

    @property
    def total(self) -> int:
        """All duplicates together: what the table shows."""
        return self.unknown_rows + self.repeated_phones + self.duplicate_status


@dataclass
class Statuses:
    """What the status endpoint says for the 202'd sign-ups, after the drain."""

    registered: int = 0
    duplicate: int = 0
    queued: int = 0
    failed: int = 0
    missing: int = 0  # no status key (Redis lost it, or the worker could not store it)
    other: int = 0

    @classmethod
    def of(cls, counts: Counter) -> "Statuses":
        """Statuses from a Counter of status names."""
        known = {name: counts.get(name, 0) for name in ("registered", "duplicate", "queued")}
        known |= {name: counts.get(name, 0) for name in ("failed", "missing")}
        return cls(**known, other=sum(counts.values()) - sum(known.values()))


def read_statuses(redis_url: str, request_ids: list[str]) -> dict[str, str]:
    """What GET /api/register/<id> would say, read from the Results keys in one pipeline:
    registered, duplicate, queued, failed, or missing (no key, e.g. after Redis restarted)."""
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    backend = RedisBackend(client=client)
    pipe = client.pipeline(transaction=False)
    for request_id in request_ids:
        stub = Message("registrations", "register", (), {}, {}, message_id=request_id)
        pipe.lindex(backend.build_message_key(stub), 0)
    values = pipe.execute()
    client.close()
    return dict(zip(request_ids, (_status(backend, v) for v in values), strict=True))


def _status(backend: RedisBackend, raw: bytes | None) -> str:
    if raw is None:
        return "missing"
    try:
        return str(backend.unwrap_result(backend.encoder.decode(raw)))
    except ResultFailure:
        return "failed"


@dataclass
class Verdict:
    """The comparison of what clients were promised with what PostgreSQL holds."""

    lost_ids: list[str]
    duplicates: Duplicates
    stored_without_202: int  # a 503'd or abandoned attempt the broker had kept anyway
    statuses: Statuses
    odd_status_ids: list[str]  # 202'd, stored, yet queued/duplicate/failed (not missing)


def compare(signups: list[SignUp], rows: list[tuple[str, str]], redis_url: str) -> Verdict:
    """Lost and duplicated sign-ups, from the rows and the statuses."""
    sent = {s.request_id for s in signups}
    accepted = [s.request_id for s in signups if s.final == 202]
    stored = {request_id for request_id, _ in rows}
    statuses = read_statuses(redis_url, accepted) if accepted else {}
    per_phone = Counter(phone for _, phone in rows)
    duplicates = Duplicates(
        unknown_rows=len(stored - sent),
        repeated_phones=sum(n - 1 for n in per_phone.values() if n > 1),
        duplicate_status=sum(1 for s in statuses.values() if s == "duplicate"),
    )
    return Verdict(
        lost_ids=sorted(set(accepted) - stored),
        duplicates=duplicates,
        stored_without_202=len(stored & (sent - set(accepted))),
        statuses=Statuses.of(Counter(statuses.values())),
        odd_status_ids=sorted(i for i, s in statuses.items() if s in ODD and i in stored),
    )
