"""What the workers run: one module per message family, its actor a verb.

    dramatiq actors.worker     # both queues; -Q registrations or -Q attempts for one

actors.worker builds the broker and its middleware (actors.broker) when dramatiq imports it;
importing any other module here sets nothing up. The workers stand on landing.shared (the
sign-up record, queues, settings, the publisher), never on the web's modules.
"""

import sys
from types import FrameType


def _named_as_dramatiqs_broker_module() -> bool:
    """Whether dramatiq's CLI is importing this package itself as its broker module
    (`dramatiq actors`), rather than a module inside it (`dramatiq actors.worker`)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "dramatiq.cli":
            return frame.f_locals.get("modname") == __name__
        frame = frame.f_back
    return False


# `dramatiq actors` is what a dramatiq user types first. This package sets no broker and
# imports no actor (that is actors.worker's job), so dramatiq would fall back to its
# default broker and run a worker that consumes nothing, without a word. Refuse instead:
# dramatiq reports a failed import and exits with its import error's code.
if _named_as_dramatiqs_broker_module():
    raise ImportError("`dramatiq actors` runs no actors: run `dramatiq actors.worker`")
