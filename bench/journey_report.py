"""The journey benchmark's arithmetic and page: what the polls cost the front door.

The split of the web's CPU between sign-ups and polls is a difference: a POST-only run
(every visitor's POST and its retries, no polls) at the same visitor rate gives the web's
CPU per accepted sign-up; a journey run's web CPU less its accepted sign-ups at that price
is what its polls cost. Measuring a poll's CPU alone (polls only, at some rate) would miss
what polls do to sign-ups: a POST shares its Redis trips with the POSTs beside it, and
polls taking the web's time thin those batches, which is the polls' cost too.
"""

from statistics import median

from bench.results import Target
from bench.targets import journey_targets

CASES = ("keeping_up", "backlog")


def signup_ms(web_cpu_s: float | None, accepted: int) -> float | None:
    """The web's CPU per accepted sign-up of a POST-only run, in ms."""
    if web_cpu_s is None or accepted <= 0:
        return None
    return round(web_cpu_s * 1000 / accepted, 4)


def poll_split(
    web_cpu_s: float | None, accepted: int, polls: int, per_signup_ms: float | None
) -> dict[str, float | None]:
    """A journey run's web CPU split: sign-ups at the POST-only run's price, the rest polls.

    share is the polls' part of the web's CPU (0 when the journey cost no more than its
    sign-ups would alone: the difference is noise then, never a negative cost).
    """
    if web_cpu_s is None or per_signup_ms is None or web_cpu_s <= 0:
        return {"signups_cpu_s": None, "polls_cpu_s": None, "share": None, "ms_per_poll": None}
    signups_s = accepted * per_signup_ms / 1000
    polls_s = max(0.0, web_cpu_s - signups_s)
    return {
        "signups_cpu_s": round(signups_s, 3),
        "polls_cpu_s": round(polls_s, 3),
        "share": round(polls_s / web_cpu_s, 4),
        "ms_per_poll": round(polls_s * 1000 / polls, 4) if polls else None,
    }


def median_share(runs: list[dict]) -> float | None:
    """The median of the runs' poll shares (runs without one left out)."""
    shares = [run["split"]["share"] for run in runs if run["split"]["share"] is not None]
    return round(median(shares), 4) if shares else None


def targets(cases: dict[str, list[dict]]) -> list[Target]:
    """PASS or FAIL on each case's median share."""
    return journey_targets({case: median_share(cases.get(case, [])) for case in CASES})


def markdown(info: dict, baseline: list[dict], cases: dict[str, list[dict]]) -> str:
    """The journey's page: the setting, one row per run, the targets."""
    lines = [
        "# The visitor's journey",
        "",
        f"{info['date_utc']} · `{info['command']}` · {info['machine']}",
        "",
        f"Visitors arrive at {info['rate']}/s for {info['seconds']} s (backlog case: for "
        f"{info['backlog_seconds']} s more, before the workers start), over "
        f"{info['connections']} keep-alive connections; each does what page.js does.",
        "",
        "| run | visitors | registered/s | outcomes | polls/visitor | POST→registered "
        "p50 / p99 ms | web CPU s | polls' CPU s | polls' share | ms/poll | client CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in baseline:
        lines.append(_row("POST only", run))
    for case in CASES:
        for run in cases.get(case, []):
            lines.append(_row(case.replace("_", " "), run))
    lines += ["", "| target | measured | result |", "|---|---|---|"]
    lines += [f"| {t.target} | {t.measured} | {t.result} |" for t in targets(cases)]
    return "\n".join(lines) + "\n"


def _row(name: str, run: dict) -> str:
    load, split = run["load"], run.get("split") or {}
    outcomes = ", ".join(f"{k} {v}" for k, v in load["outcomes"].items())
    share = split.get("share")
    return (
        f"| {name} | {load['visitors']} | {load['registered_per_s']} | {outcomes} | "
        f"{load['polls_per_visitor']} | {load['to_registered_p50_ms']} / "
        f"{load['to_registered_p99_ms']} | {run['web_cpu_s']} | "
        f"{split.get('polls_cpu_s', '')} | {'' if share is None else f'{share:.1%}'} | "
        f"{split.get('ms_per_poll', '')} | {load['client_cpu_s']} |"
    )
