"""The one retry policy of every actor: dramatiq's retry_when, decided by a failure's kind.

Bad data (Kind.PERMANENT) is never retried: its message goes straight to its queue's XQ,
where an operator can fix the cause and requeue it, instead of holding it through every
backoff first. Anything else is retried max_retries times, an outage (Kind.TRANSIENT)
included, unless the actor's work is a promise already made (a 202 answered for a sign-up):
then an outage is retried until it ends.

Why retry_when and not dramatiq's `throws`: Retries fails a message whose error is in
`throws` before it records the traceback and the retry count in the message's options
(dramatiq 1.18 and 2.2 alike), so its dead letter would not say why it failed, and the task
dashboard shows exactly that. retry_when sees every failure and, when set, decides alone
(an actor's max_retries option is then not read); the Retries middleware's backoff still
spaces the retries.
"""

from dataclasses import dataclass

from landing.shared.failures import Kind, classify


@dataclass(frozen=True)
class RetryPolicy:
    """retry_when(retries, error): whether a message that failed with error after `retries`
    retries is tried again."""

    max_retries: int
    outages_until_over: bool = False

    def __call__(self, retries: int, error: BaseException) -> bool:
        kind = classify(error)
        if kind is Kind.PERMANENT:
            return False
        if kind is Kind.TRANSIENT and self.outages_until_over:
            return True
        return retries < self.max_retries
