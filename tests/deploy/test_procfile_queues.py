"""The Procfile's workers, read as the dramatiq CLI reads them: every queue has a consumer,
and webhooks has a process of its own (a hanging receiver never holds a sign-up's thread)."""

import shlex
from pathlib import Path

from dramatiq.cli import make_argument_parser

from landing.shared.signup import QUEUES, SMS, WEBHOOKS

ROOT = Path(__file__).resolve().parents[2]


def consumed() -> dict[str, list[str]]:
    """Each dramatiq process of the Procfile, and the queues it consumes."""
    found = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(": ")
        if line.startswith("#") or not command:
            continue
        words = shlex.split(command)
        if "dramatiq" in words:  # after the shell's VARIABLE=value prefixes, if any
            found[name] = (
                make_argument_parser().parse_args(words[words.index("dramatiq") + 1 :]).queues
            )
    return found


def test_webhooks_have_their_own_worker_and_every_queue_a_consumer():
    queues = consumed()
    assert queues["webhooks"] == [WEBHOOKS, SMS]
    assert WEBHOOKS not in queues["worker"]
    assert sorted(queues["worker"] + queues["webhooks"]) == sorted(QUEUES)
