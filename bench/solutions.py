"""The challenge scenario's solutions: challenges issued and solved here, before a wrk run, one
per request it may send, written one payload per line for harness/post.lua.

The web under test runs with CHALLENGE_MODE=always and the secret we sign with here
(server_env), so each of its sign-ups verifies one solution and claims it in Redis.
"""

import math
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from altcha.v1 import solve_challenge
from redis import Redis

from landing.admission.challenge import ALGORITHM, Challenges, solution

# The bench's CHALLENGE_MAX_NUMBER. The server's cost per sign-up does not depend on it: it
# checks the one number it is sent (base64 and JSON of the payload, one SHA-256, the HMAC,
# the expiry, the claim in Redis with SET NX), it never searches. Only the solver's work
# grows with it, so a small one keeps solving here at ~20 us each and measures the same
# server as production's 100 000 would.
MAX_NUMBER = 16
# Seconds a solution stays valid past its run's own length: solving, wrk's start, slack.
EXPIRY_MARGIN_S = 300
# Solutions per second of run, as a multiple of the ceiling (bare Flask's req/s at the same
# concurrency): the challenge run is slower than that, so it never runs short.
HEADROOM = 1.25
MIN_SOLUTIONS = 1_000


def server_env(secret: str) -> dict[str, str]:
    """What the challenge scenario's web gets on top of Stores.child_env."""
    return {
        "CHALLENGE_MODE": "always",
        "CHALLENGE_SECRET": secret,
        "CHALLENGE_MAX_NUMBER": str(MAX_NUMBER),
    }


def solutions_needed(seconds: int, ceiling_rps: float) -> int:
    """Enough solutions for a run of `seconds` that cannot go faster than ceiling_rps."""
    return max(MIN_SOLUTIONS, math.ceil(ceiling_rps * HEADROOM * seconds))


def solved(challenges: Challenges, count: int) -> list[str]:
    """count solutions of fresh challenges, each the payload a page would send as altcha."""
    payloads = []
    for _ in range(count):
        challenge = challenges.issue()
        found = solve_challenge(
            challenge["challenge"], challenge["salt"], ALGORITHM, challenge["maxnumber"]
        )
        if found is None:  # the secret number is at most maxnumber: this is a bug
            raise RuntimeError(f"no solution found below {challenge['maxnumber']}")
        payloads.append(solution(challenge, found.number))
    return payloads


def write_solutions(path: Path, payloads: list[str]) -> Path:
    """payloads one per line (base64: no newline inside one), as post.lua reads them."""
    path.write_text("".join(payload + "\n" for payload in payloads))
    return path


@dataclass
class Solutions:
    """Each run's solutions, written to path (a temporary file, rewritten for every run),
    signed with secret: the one server_env gives the challenge scenario's web."""

    path: Path = field(
        default_factory=lambda: Path(tempfile.gettempdir()) / f"bench-solutions-{os.getpid()}.txt"
    )
    secret: str = field(default_factory=lambda: secrets.token_hex(32))

    def write(self, seconds: int, ceiling_rps: float) -> Path:
        """A fresh file for a run of `seconds`, valid for it and EXPIRY_MARGIN_S more.

        ceiling_rps: bare Flask's req/s at the run's concurrency, which no run of the
        landing app reaches, let alone one that verifies a solution per request.
        """
        # Challenges.issue never touches Redis (nothing is stored when one is issued), so
        # this client never connects.
        challenges = Challenges(self.secret, MAX_NUMBER, seconds + EXPIRY_MARGIN_S, Redis())
        count = solutions_needed(seconds, ceiling_rps)
        return write_solutions(self.path, solved(challenges, count))

    def remove(self) -> None:
        """The file gone (tens of MB at a full run's rates)."""
        self.path.unlink(missing_ok=True)
