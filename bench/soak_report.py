"""What `make soak` keeps: a sample per window, the verdict on them, and the plot."""

import statistics
from dataclasses import dataclass, field
from pathlib import Path

RSS_GROWTH = 0.10  # of a process's RSS, over the second half
BACKLOG_SECONDS = 2.0  # a backlog at the end under this much load is not creeping
P99_FACTOR, P99_SLACK_MS = 1.5, 5.0  # later p99 within 1.5x the earlier, or 5 ms of it


@dataclass
class Sample:
    """One window of the soak: its wrk run, then the stack as the window ended."""

    t_s: float  # seconds since the soak started, at the window's end
    window_s: float  # how long wrk ran
    requests: int
    answered: int  # 2xx
    non2xx: int
    socket_errors: int
    p99_ms: float
    rss_mib: dict[str, float]  # "role:pid" -> VmRSS
    queue_ready: int  # messages (batches) ready in `registrations`
    rows: int
    backlog: int  # 202s so far minus rows: sign-ups accepted, not yet stored


@dataclass
class Verdict:
    """Each check with what it measured, and whether it held."""

    rss_growth: dict[str, float]  # process -> growth over the second half (fraction)
    rss_flat: bool
    backlog_end: int
    backlog_limit: int
    no_creeping_backlog: bool
    p99_first_half_ms: float | None
    p99_second_half_ms: float | None
    p99_stable: bool

    @property
    def ok(self) -> bool:
        """Every check held."""
        return self.rss_flat and self.no_creeping_backlog and self.p99_stable


@dataclass
class Soak:
    """Everything soak.json keeps."""

    rate_target: float
    rate_achieved: float
    seconds: float
    verdict: Verdict
    samples: list[Sample] = field(default_factory=list)


def verdict(samples: list[Sample], rate: float) -> Verdict:
    """Flat RSS, no creeping backlog, stable p99, judged on the samples of a soak."""
    half = len(samples) // 2
    early, late = samples[:half], samples[half:]
    growth = _growth(late)
    limit = round(BACKLOG_SECONDS * rate)
    backlog = samples[-1].backlog if samples else 0
    before = _median([s.p99_ms for s in early[1:] or early])  # the first window warms up
    after = _median([s.p99_ms for s in late])
    stable = (
        before is not None
        and after is not None
        and (after <= before * P99_FACTOR or after - before <= P99_SLACK_MS)
    )
    return Verdict(
        rss_growth=growth, rss_flat=bool(late) and all(g < RSS_GROWTH for g in growth.values()),
        backlog_end=backlog, backlog_limit=limit, no_creeping_backlog=backlog < limit,
        p99_first_half_ms=before, p99_second_half_ms=after, p99_stable=stable,
    )  # fmt: skip


def _growth(late: list[Sample]) -> dict[str, float]:
    """Per process alive through the whole second half: RSS at its end over at its start."""
    if not late:
        return {}
    first, last = late[0].rss_mib, late[-1].rss_mib
    lasted = [p for p in first if p in last and all(p in s.rss_mib for s in late)]
    return {p: round(last[p] / first[p] - 1, 3) for p in lasted if first[p]}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def summary_lines(soak: Soak) -> list[str]:
    """What the soak prints at the end."""
    v = soak.verdict
    worst = max(v.rss_growth.items(), key=lambda item: item[1], default=("-", 0.0))
    return [
        f"soak: {soak.seconds:.0f} s at {soak.rate_achieved:.0f} req/s "
        f"(asked {soak.rate_target:.0f}/s)",
        f"soak: RSS flat (< {RSS_GROWTH:.0%} over the second half): {_word(v.rss_flat)}; "
        f"largest growth {worst[1]:.1%} ({worst[0]})",
        f"soak: no creeping backlog ({v.backlog_end:,} sign-ups at the end, limit "
        f"{v.backlog_limit:,} = {BACKLOG_SECONDS:.0f} s of load): {_word(v.no_creeping_backlog)}",
        f"soak: p99 stable ({v.p99_first_half_ms} ms first half, {v.p99_second_half_ms} ms "
        f"second half): {_word(v.p99_stable)}",
        f"soak: {'PASS' if v.ok else 'FAIL'}",
    ]


def _word(ok: bool) -> str:
    return "yes" if ok else "NO"


def plot(soak: Soak, path: Path) -> None:
    """RSS per process, window p99, and queue depth and backlog, over time."""
    import matplotlib

    matplotlib.use("Agg")  # no display on our machines
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(16, 4), constrained_layout=True)
    times = [s.t_s for s in soak.samples]
    for process in sorted({p for s in soak.samples for p in s.rss_mib}):
        points = [(s.t_s, s.rss_mib[process]) for s in soak.samples if process in s.rss_mib]
        axes[0].plot(*zip(*points, strict=True), label=process)
    axes[0].set_ylabel("RSS (MiB)")
    axes[0].legend(fontsize=6)
    axes[1].plot(times, [s.p99_ms for s in soak.samples])
    axes[1].set_ylabel("p99 of the window (ms)")
    axes[2].plot(times, [s.queue_ready for s in soak.samples], label="ready messages")
    axes[2].plot(times, [s.backlog for s in soak.samples], label="sign-ups not yet rows")
    axes[2].set_ylabel("registrations backlog")
    axes[2].legend(fontsize=8)
    for axis in axes:
        axis.set_xlabel("seconds")
    figure.suptitle(f"soak at {soak.rate_achieved:.0f} req/s")
    figure.savefig(path, dpi=110)
    plt.close(figure)
