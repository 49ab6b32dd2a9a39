"""Results -> summary.md (one Markdown page) and throughput.png."""

from pathlib import Path

from bench import journey_report
from bench.results import Results, RunInfo
from bench.runs import E2eRun, Scenario
from bench.targets import P99_TARGET_MS, TARGET_CONCURRENCY
from harness.reports import table

CPU_ORDER = ("web", "nginx", "worker-registrations", "worker-attempts", "mongo-standin",
             "rabbitmq", "redis", "postgresql", "wrk")  # fmt: skip


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{2 if abs(value) < 10 else digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _table(header: list[str], rows: list[list]) -> list[str]:
    return table(header, rows, _fmt)


def markdown(results: Results) -> str:
    """The page a reviewer reads: setup, the matrix, CPU, end to end, memory, targets."""
    error = results.run.e2e_error
    sections = [
        _header(results.run),
        ["## Throughput and latency", "", *_matrix_table(results)],
        ["## CPU per request (ms, median)", "", *_cpu_table(results)],
        ["## The sign-up challenge's cost to the web", "", *_challenge_lines(results)]
        if results.challenge else [],
        ["## Drain only (d)", "", *_drain_lines(results)] if results.drain else [],
        ["## End to end", "", *_e2e_lines(results)] if results.e2e else [],
        [f"**End to end failed**: {error}"] if error else [],
        ["## The visitor's journey", "", *journey_report.lines(results.journey)]
        if results.journey else [],
        [f"**The journey failed**: {results.run.journey_error}"]
        if results.run.journey_error else [],
        ["## Memory (peak RSS per process, VmHWM)", "", *_memory_lines(results)],
        ["## Targets", "", *_table(
            ["target", "measured (median)", "result"],
            [[t.target, t.measured, f"**{t.result}**"] for t in results.targets],
        )],
    ]  # fmt: skip
    return "\n\n".join("\n".join(section) for section in sections if section) + "\n"


def _header(run: RunInfo) -> list[str]:
    return [
        f"# landing benchmark, {run.date_utc}",
        "",
        f"`{run.command}` on {run.machine}. {run.web}; wrk -t{run.wrk_threads} "
        f"on the same cores. Medians of {run.repeat} runs of {run.duration_s} s "
        f"(+{run.warmup_s} s warm-up). Background load (other processes) before/after: "
        f"{run.background_busy_cores_before} / {run.background_busy_cores_after} "
        f"busy cores; load average {run.loadavg_before} -> {run.loadavg_after}.",
    ]


def _memory_lines(results: Results) -> list[str]:
    rows = [[r, m.processes, m.max_mib, m.median_mib] for r, m in results.memory.items()]
    return [
        *_table(["role", "processes", "max MiB", "median MiB"], rows),
        "",
        "Workers restart for every (c) and e2e run; a worker role counts every child of its "
        "`dramatiq` master (worker processes and the metrics-server fork).",
    ]


def _matrix_table(results: Results) -> list[str]:
    """Per scenario and concurrency; via nginx adds nginx's CPU per request, the scenarios
    without workers the sign-ups per message, (c) the rows it stored and the whole stack's
    CPU (every tree but wrk and mongo-standin) per row; then (b)/(a), direct and via nginx."""
    header = ["scenario", "c", "req/s", "p50 ms", "p99 ms", "max ms", "non-2xx",
              "socket errors", "web CPU ms/req", "nginx CPU ms/req", "machine busy cores",
              "sign-ups/message", "persisted rows/s", "stack CPU ms/row"]  # fmt: skip
    rows = []
    for scenario, by_c in sorted(results.matrix.items()):
        for c, cell in sorted(by_c.items()):
            rows.append([scenario.label, c, cell.rps, cell.p50_ms, cell.p99_ms, cell.max_ms,
                         cell.non2xx, cell.socket_errors, cell.web_cpu_ms_per_request,
                         cell.nginx_cpu_ms_per_request, cell.machine_busy_cores,
                         cell.signups_per_message, cell.persisted_rps,
                         cell.total_cpu_ms_per_row])  # fmt: skip
    for label, ratios in (("**(b)/(a)**", results.ratios),
                          ("**(b)/(a) via nginx**", results.nginx_ratios or {})):  # fmt: skip
        for c, ratio in sorted(ratios.items()):
            runs = ", ".join(f"{value:.2f}" for value in ratio.runs)
            median = "-" if ratio.median is None else f"{ratio.median:.2f}"
            rows.append([label, c, f"**{median}** (runs: {runs})", *[""] * (len(header) - 3)])
    lines = _table(header, rows)
    if results.nginx_ratios:
        lines += ["", VIA_NGINX_NOTE]
    return lines


VIA_NGINX_NOTE = (
    "Via nginx: our nginx.conf, unchanged, in front of the same web, its limits on; each "
    "request names a visitor of its own in X-Forwarded-For (trusted from 127.0.0.1, as from "
    "a load balancer), so the limits are per visitor. Web CPU is the web's alone; nginx's "
    "(master and workers) is its own column. Each ratio pairs the runs of one repetition "
    "through the same door."
)


def _cpu_table(results: Results) -> list[str]:
    """Where the cores went, per request. The services may be shared with other
    test runs, so their columns are an upper bound of what we cost them."""
    cells = [(s, c, cell) for s, by_c in results.matrix.items() for c, cell in by_c.items()]
    cells.sort(key=lambda item: item[:2])
    present = {name for _, _, cell in cells for name in cell.cpu_ms_per_request}
    names = [name for name in CPU_ORDER if name in present]
    rows = [[s.label, c, *(cell.cpu_ms_per_request.get(n) for n in names)] for s, c, cell in cells]
    return _table(["scenario", "c", *names], rows)


def _challenge_lines(results: Results) -> list[str]:
    """(b) + challenge beside (b): 202s/s and web CPU per sign-up, their ratios, the CPU a
    verified solution adds, and every answer that was not a 202."""
    header = ["c", "(b) 202s/s", "+ challenge 202s/s", "ratio", "(b) web CPU ms",
              "+ challenge web CPU ms", "ratio", "added ms per sign-up", "non-202",
              "socket errors"]  # fmt: skip
    rows = []
    for c, cost in sorted(results.challenge.items()):
        refused = f"{cost.non202:,} ({cost.unsolved:,} sent unsolved)"
        rows.append([c, cost.plain_accepted_rps, cost.challenge_accepted_rps, cost.accepted_ratio,
                     cost.plain_web_cpu_ms, cost.challenge_web_cpu_ms, cost.web_cpu_ratio,
                     cost.web_cpu_added_ms, refused, cost.socket_errors])  # fmt: skip
    return [
        "(b) + challenge is (b) against a web with `CHALLENGE_MODE=always`: every request "
        "carries a solution of a fresh challenge, solved before the run, which the web "
        "verifies (one SHA-256, the HMAC, the expiry) and claims in Redis (`SET NX`). "
        "Beside (b) of the same run; ratios and the added CPU paired by repetition. Web CPU "
        "in ms per request: per sign-up while every answer is a 202.",
        "",
        *_table(header, rows),
    ]


def _drain_lines(results: Results) -> list[str]:
    """Drain only: how fast the workers alone empty what ingest only left, at what cost."""
    drains = results.drain
    names = [n for n in CPU_ORDER if any(n in d.cpu_ms_per_row for d in drains.values())]
    rows = []
    for c, drain in sorted(drains.items()):
        cell = results.cell(Scenario.INGEST_ONLY, c)
        rows.append([c, drain.backlog, drain.rows_per_s, cell.rps if cell else None,
                     *(drain.cpu_ms_per_row.get(name) for name in names)])  # fmt: skip
    return [
        "After each (b) run, workers start on the sign-ups it accepted (its 202s, warm-up "
        "included); timed from when they consume until PostgreSQL holds every row. CPU in ms "
        "per row.",
        "",
        *_table(["after (b) at c", "backlog", "rows/s", "(b) req/s", *names], rows),
    ]


def _e2e_lines(results: Results) -> list[str]:
    e2e, run = results.e2e, results.run
    kept_up = e2e.drain_rps is None
    lines = [
        f"{run.signups:,} sign-ups per run at c={run.e2e_concurrency}, workers running; "
        f"medians of {e2e.runs} runs. Accepted = 202s in gunicorn's access log.",
        "",
    ]
    lines += _table(
        ["accepted", "rows", "missing (max)", "ingest req/s", "persisted rows/s during load",
         "backlog at load end", "drain rows/s after load", "drain s", "worker CPU ms/row",
         "web CPU ms/req", "stack CPU ms/row"],
        [[e2e.accepted, e2e.rows, e2e.max_missing, e2e.ingest_rps,
          e2e.persisted_during_load_rps, e2e.backlog_at_load_end,
          "kept up" if kept_up else e2e.drain_rps, "-" if kept_up else e2e.drain_s,
          e2e.worker_cpu_ms_per_row, e2e.web_cpu_ms_per_request, e2e.total_cpu_ms_per_row]],
    )  # fmt: skip
    lines += [
        "",
        "Stack CPU: every process tree but wrk and mongo-standin, over load and drain, per "
        "row stored.",
        "",
        f"MongoDB attempt log ({run.mongo}, its own worker: 1 process x 2 threads), not "
        f"waited for: {_fmt(e2e.mongo_documents)} documents when PostgreSQL was done, "
        f"{_fmt(e2e.mongo_docs_per_s)} docs/s over the watched period, "
        f"{_fmt(e2e.attempts_ready)} messages still ready in `attempts`.",
    ]
    return lines


def plot(results: Results, path: Path) -> None:
    """Median req/s (and drain only's rows/s) and p99 per scenario and concurrency; e2e rows
    over time if measured."""
    import matplotlib

    matplotlib.use("Agg")  # no display on our machines
    import matplotlib.pyplot as plt

    panels = 3 if results.e2e_runs else 2
    figure, axes = plt.subplots(1, panels, figsize=(5 * panels, 4), constrained_layout=True)
    rps = {s: {c: cell.rps for c, cell in by_c.items()} for s, by_c in results.matrix.items()}
    rps[Scenario.DRAIN_ONLY] = {c: d.rows_per_s for c, d in results.drain.items()}
    p99 = {s: {c: cell.p99_ms for c, cell in by_c.items()} for s, by_c in results.matrix.items()}
    _bars(axes[0], rps, "median requests/s (rows/s for d)")
    _bars(axes[1], p99, "median p99 latency (ms)")
    axes[1].axhline(
        P99_TARGET_MS, color="red", linestyle="--", linewidth=1,
        label=f"target {P99_TARGET_MS:.0f} ms at c={TARGET_CONCURRENCY}",
    )  # fmt: skip
    axes[1].legend(fontsize=8)
    if panels == 3:
        _rows_over_time(axes[2], results.e2e_runs)
    figure.suptitle(f"landing benchmark {results.run.date_utc} ({results.run.machine})")
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _bars(axis, values: dict[Scenario, dict[int, float | None]], label: str) -> None:
    levels = sorted({c for by_c in values.values() for c in by_c})
    width = 0.8 / max(len(values), 1)
    for index, scenario in enumerate(sorted(values)):
        xs = [position + index * width for position in range(len(levels))]
        heights = [values[scenario].get(c) or 0 for c in levels]
        axis.bar(xs, heights, width, label=scenario.label, color=scenario.colour)
    axis.set_xticks([p + width * (len(values) - 1) / 2 for p in range(len(levels))])
    axis.set_xticklabels([f"c={c}" for c in levels])
    axis.set_ylabel(label)
    axis.legend(fontsize=8)


def _rows_over_time(axis, reps: list[E2eRun]) -> None:
    for index, rep in enumerate(reps):
        seconds, rows = zip(*rep.samples, strict=True) if rep.samples else ((), ())
        axis.plot(seconds, rows, label=f"run {index + 1}: load ends {rep.load_s:.1f} s")
    axis.set_xlabel("seconds since load started")
    axis.set_ylabel("rows in PostgreSQL")
    axis.set_title("end to end", fontsize=10)
    axis.legend(fontsize=8)


if __name__ == "__main__":
    # Re-render a run's page and plot from its results.json (e.g. after changing this file).
    import json
    import sys

    source = Path(sys.argv[1] if len(sys.argv) > 1 else "results/latest/results.json")
    data = Results.from_json(json.loads(source.read_text()))
    (source.parent / "summary.md").write_text(markdown(data))
    plot(data, source.parent / "throughput.png")
    print(markdown(data))
