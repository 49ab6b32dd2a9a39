"""Filling a DrillResult in from what the clients saw, and deciding PASS or FAIL.

A drill passes when no 202 was lost, nothing was duplicated, the backlog drained within
the bound, a sign-up started after the undo was accepted again, and the fault's own
checks held (answers within PUBLISH_TIMEOUT + 0.5 s while it held; the attempt log;
registrations.XQ empty after the drain).
"""

import math

from drills.env import Fault
from drills.report import Check, DrillResult, LostPhases, LostSignUp, Window
from harness.clients import Exchange, SignUp
from harness.oracle import Verdict
from harness.supervisor import PUBLISH_TIMEOUT

BOUND_S = PUBLISH_TIMEOUT + 0.5
KEEP_LOST_IDS = 20


def tally(result: DrillResult, signups: list[SignUp], rows: list, verdict: Verdict) -> None:
    """Counts of answers, rows, losses and duplicates (request ids only, never phones)."""
    exchanges = [e for s in signups for e in s.exchanges]
    result.signups = len(signups)
    result.accepted = sum(1 for s in signups if s.final == 202)
    result.answers_503 = sum(1 for e in exchanges if e.status == 503)
    result.no_answer = sum(1 for e in exchanges if e.status is None)
    result.answers_other = sum(1 for e in exchanges if e.status not in (202, 503))
    result.gave_up = sum(1 for s in signups if s.final is None)
    result.rows = len(rows)
    result.lost = len(verdict.lost_ids)
    result.lost_phases = _phases(signups, set(verdict.lost_ids), result.window)
    by_id = {s.request_id: s for s in signups}
    result.lost_signups = [_lost(by_id[i]) for i in verdict.lost_ids[:KEEP_LOST_IDS]]
    result.duplicates = verdict.duplicates
    result.stored_without_202 = verdict.stored_without_202
    result.statuses = verdict.statuses
    result.odd_status_ids = verdict.odd_status_ids[:KEEP_LOST_IDS]
    result.checks.append(_recovered(signups, result.window))


def _answered_s(signup: SignUp) -> float:
    last = signup.exchanges[-1]
    return round(last.started_s + last.latency_s, 3)


def _lost(signup: SignUp) -> LostSignUp:
    last = signup.exchanges[-1]
    sent = round(last.started_s, 3)
    return LostSignUp(signup.request_id, sent, _answered_s(signup), len(signup.exchanges))


def _phases(signups: list[SignUp], lost: set[str], window: Window) -> LostPhases:
    phases = LostPhases()
    for signup in signups:
        if signup.request_id in lost:
            answered = _answered_s(signup)
            if answered < window.broken_s:
                phases.before += 1
            elif answered <= window.undone_s:
                phases.during += 1
            else:
                phases.after += 1
    return phases


def _recovered(signups: list[SignUp], window: Window) -> Check:
    after = [s for s in signups if s.exchanges and s.exchanges[0].started_s >= window.undone_s]
    accepted = sum(1 for s in after if s.final == 202)
    detail = f"{accepted} of {len(after)} sign-ups begun after the undo got a 202"
    return Check("accepts again after the undo", accepted > 0, detail)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def latencies(result: DrillResult, signups: list[SignUp], window: Window, bounded: bool) -> None:
    """p99 and max of every HTTP exchange; for a bounded fault, the max while it held."""
    exchanges = [e for s in signups for e in s.exchanges]
    ordered = sorted(e.latency_s for e in exchanges)
    if ordered:
        result.p99_ms = _ms(ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)])
        result.max_ms = _ms(ordered[-1])
    if bounded:
        result.checks.append(_bounded(exchanges, window))


def _bounded(exchanges: list[Exchange], window: Window) -> Check:
    held = [e for e in exchanges if window.held_from_s <= e.started_s <= window.held_to_s]
    worst = max((e.latency_s for e in held), default=0.0)
    statuses = sorted({str(e.status) for e in held})
    detail = (
        f"{len(held)} requests began while it held (answers: {', '.join(statuses) or 'none'}); "
        f"slowest {_ms(worst)} ms, bound {_ms(BOUND_S)} ms"
    )
    return Check("answers within PUBLISH_TIMEOUT + 0.5 s", bool(held) and worst <= BOUND_S, detail)


def judge(result: DrillResult, fault: Fault, failures: list[str]) -> None:
    """The remaining checks, then PASS only if every check passed and nothing errored."""
    if result.error is None:
        result.checks += [
            Check("no 202 lost", result.lost == 0, f"{result.lost} of {result.accepted} lost"),
            Check("nothing duplicated", result.duplicates.total == 0, str(result.duplicates)),
            Check("backlog drained", result.drained, f"within the drain bound: {result.drained}"),
        ]
    if fault.dead_letters and result.error is None:
        count = "could not be counted" if result.dead_letters is None else result.dead_letters
        detail = f"{count} messages in registrations.XQ after the drain"
        result.checks.append(Check("no dead letters", result.dead_letters == 0, detail))
    if fault.log and result.log_missing is not None:
        detail = f"{result.log_missing} of {result.accepted} 202s have no stored-log document"
        result.checks.append(Check("attempt log caught up", result.log_missing == 0, detail))
    result.checks += [Check(failure, False, "see notes") for failure in failures]
    passed = all(check.passed for check in result.checks)
    result.passed = result.error is None and passed and bool(result.checks)
