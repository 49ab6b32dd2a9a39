"""Typed drill results, written as results.json and summary.md (counts only, no phones)."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.oracle import Duplicates, Statuses
from harness.reports import table
from harness.supervisor import Restart

COLUMNS = (
    "drill", "202s", "503s", "other", "gave up", "lost", "duplicated",
    "p99 ms", "max ms", "backlog gone s", "restarts", "worker RSS MiB", "result",
)  # fmt: skip
RSS_OF = "worker-registrations"  # the worker whose peak the table shows


@dataclass
class LostPhases:
    """When the lost sign-ups got their 202, against the fault's window."""

    before: int = 0  # answered before the breaking command began
    during: int = 0  # from then until the undo was finished
    after: int = 0  # once the fault was undone


@dataclass
class LostSignUp:
    """A 202'd sign-up with no row: its id and its last (the 202) exchange, load clock."""

    request_id: str
    sent_s: float
    answered_s: float
    attempts: int


@dataclass
class Check:
    """One pass/fail condition of a drill, with what was measured."""

    name: str
    passed: bool
    detail: str


@dataclass
class Window:
    """When the fault happened, in seconds since the load started."""

    injected_s: float = 0.0  # we began to break it
    broken_s: float = 0.0  # the breaking command itself began (after any look beforehand)
    held_from_s: float = 0.0  # it was broken (e.g. the alarm confirmed)
    held_to_s: float = 0.0  # we began to mend it
    undone_s: float = 0.0  # mended (e.g. the node back up)


@dataclass
class DrillResult:
    """Everything one drill measured, and its verdict."""

    name: str
    passed: bool = False
    signups: int = 0  # sign-ups the clients started
    accepted: int = 0  # definite 202s
    answers_503: int = 0  # 503 responses, retries included
    answers_other: int = 0  # other HTTP answers, plus connection errors and timeouts
    no_answer: int = 0  # of those: connection errors and timeouts
    gave_up: int = 0  # sign-ups without a definite answer by the end of the grace period
    rows: int = 0
    lost: int = 0
    lost_phases: LostPhases = field(default_factory=LostPhases)
    duplicates: Duplicates = field(default_factory=lambda: Duplicates(0, 0, 0))
    stored_without_202: int = 0
    p99_ms: float | None = None
    max_ms: float | None = None
    backlog_gone_s: float | None = None  # from the undo until every earlier 202 was a row
    drained: bool = False  # the queue settled and the row count stopped, within the bound
    load_s: float = 0.0
    load_started_utc: str = ""  # load-clock 0, to line the window up with the logs
    window: Window = field(default_factory=Window)
    restarts: list[Restart] = field(default_factory=list)
    statuses: Statuses = field(default_factory=Statuses)
    log_missing: int | None = None  # mongo-down only: 202s without a stored-log document
    dead_letters: int | None = None  # messages in registrations.XQ after the drain
    worker_rss_mib: dict[str, float] = field(default_factory=dict)  # peak, master + children
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lost_signups: list["LostSignUp"] = field(default_factory=list)  # the first few, to dig
    odd_status_ids: list[str] = field(default_factory=list)  # stored, yet queued/failed/...
    error: str | None = None


@dataclass
class RunInfo:
    """What the run was: when, how it was started, where, with what settings."""

    date_utc: str
    command: str
    machine: str
    settings: str
    duration_s: float = 0.0
    shared_services: list[Check] = field(default_factory=list)
    phone_like_strings: int = 0  # in the results folder, logs included: must stay 0


def _cell(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if isinstance(value, int) or value >= 100 else f"{value:.1f}"


def row(result: DrillResult) -> list[str]:
    """One drill's row of the Markdown table."""
    numbers = (
        result.accepted, result.answers_503, result.answers_other, result.gave_up,
        result.lost, result.duplicates.total, result.p99_ms, result.max_ms,
        result.backlog_gone_s, len(result.restarts), result.worker_rss_mib.get(RSS_OF),
    )  # fmt: skip
    return [f"`{result.name}`", *map(_cell, numbers), "PASS" if result.passed else "**FAIL**"]


def markdown(info: RunInfo, results: list[DrillResult]) -> str:
    """The table, then one line per failed check or error, then the run's settings."""
    lines = table(list(COLUMNS), [row(result) for result in results])
    details = [_details(result) for result in results]
    lines += ["", *[line for block in details for line in block]]
    lines += ["", f"{info.date_utc}, `{info.command}`, {info.machine}; {info.settings}."]
    shared = ", ".join(f"{c.name} {'ok' if c.passed else 'NOT OK'}" for c in info.shared_services)
    lines.append(f"Shared services afterwards: {shared}. Run took {info.duration_s:.0f} s.")
    lines.append(f"Phone-number-like strings in the results and logs: {info.phone_like_strings}.")
    return "\n".join(lines) + "\n"


def _details(result: DrillResult) -> list[str]:
    """Bullets under the table: errors, failed checks, where losses fell, notes."""
    lines = [f"error: {result.error}"] if result.error else []
    lines += [f"{c.name} FAILED: {c.detail}" for c in result.checks if not c.passed]
    if result.lost:
        p, w = result.lost_phases, result.window
        lines.append(
            f"the lost 202s were answered {p.before} before the breaking command "
            f"(at {w.broken_s} s), {p.during} from then until the undo was done "
            f"({w.undone_s} s), {p.after} after; first 202s sent/answered at "
            + ", ".join(f"{x.sent_s}/{x.answered_s}" for x in result.lost_signups[:5])
            + f" s (load clock 0 = {result.load_started_utc})"
        )
    s = result.statuses
    if result.accepted and s.registered != result.accepted:
        lines.append(
            f"statuses of the 202s: {s.registered} registered, {s.missing} missing, "
            f"{s.queued} queued, {s.duplicate} duplicate, {s.failed} failed, {s.other} other"
        )
    if result.dead_letters:
        lines.append(f"{result.dead_letters} messages in registrations.XQ after the drain")
    if result.worker_rss_mib:
        peaks = ", ".join(f"{name} {mib:,.0f}" for name, mib in result.worker_rss_mib.items())
        lines.append(f"peak worker RSS, MiB (master + children, sampled each second): {peaks}")
    lines += result.notes
    return [f"- `{result.name}`: {line}" for line in lines]


def write(folder: Path, info: RunInfo, results: list[DrillResult]) -> str:
    """results.json and summary.md in folder; returns the Markdown."""
    text = markdown(info, results)
    (folder / "summary.md").write_text(text)
    payload = {"run": asdict(info), "drills": [asdict(result) for result in results]}
    (folder / "results.json").write_text(json.dumps(payload, indent=2) + "\n")
    return text
