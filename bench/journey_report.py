"""The journey benchmark's arithmetic and page: what the polls cost the front door.

The split of the web's CPU between sign-ups and polls is a difference: a POST-only run
(every visitor's POST and its retries, no polls) at the same visitor rate gives the web's
CPU per accepted sign-up; a journey run's web CPU less its accepted sign-ups at that price
is what its polls cost. Measuring a poll's CPU alone (polls only, at some rate) would miss
what polls do to sign-ups: a POST shares its Redis trips with the POSTs beside it, and
polls taking the web's time thin those batches, which is the polls' cost too.
"""

from bench.targets import JOURNEY_CASES as CASES
from bench.targets import journey_targets


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
    if not polls:  # nothing polled costs nothing: the difference is the runs' noise alone
        return {"signups_cpu_s": round(web_cpu_s, 3), "polls_cpu_s": 0.0, "share": 0.0,
                "ms_per_poll": None}  # fmt: skip
    signups_s = accepted * per_signup_ms / 1000
    polls_s = max(0.0, web_cpu_s - signups_s)
    return {
        "signups_cpu_s": round(signups_s, 3),
        "polls_cpu_s": round(polls_s, 3),
        "share": round(polls_s / web_cpu_s, 4),
        "ms_per_poll": round(polls_s * 1000 / polls, 4) if polls else None,
    }


def lines(journey: dict) -> list[str]:
    """The journey's section: its setting, one row per run, its targets."""
    setting = journey["setting"]
    found = [
        f"Visitors arrive at {setting['rate']}/s for {setting['seconds']} s over "
        f"{setting['connections']} keep-alive connections; each does what page.js does. "
        f"Backlog case: {setting['backlog_seconds']} s of arrivals at that rate are queued "
        "first with the workers stopped, who start only once the run is over. The polls' "
        "CPU is the web's CPU less the run's accepted sign-ups at the POST-only run's price "
        "(docs/benchmark.md). Every run then waits until PostgreSQL holds every sign-up "
        "accepted (all stored).",
        "",
        "| run | visitors | most at once | served/s | queued ahead | all stored | outcomes | "
        "polls/visitor | POST→registered p50 / p99 ms | web CPU s | polls' CPU s | "
        "polls' share | ms/poll | client CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in journey["post_only"]:
        found.append(_row("POST only", run))
    for case in CASES:
        for run in journey.get(case, []):
            found.append(_row(case.replace("_", " "), run))
    return found


def page(info: dict, journey: dict) -> str:
    """journey.md: the run, the section, its targets."""
    found = [
        "# The visitor's journey",
        "",
        f"{info['date_utc']} · `{info['command']}` · {info['machine']}",
        "",
        *lines(journey),
        "",
        "| target | measured (median) | result |",
        "|---|---|---|",
        *(f"| {t.target} | {t.measured} | **{t.result}** |" for t in journey_targets(journey)),
    ]
    return "\n".join(found) + "\n"


def _row(name: str, run: dict) -> str:
    load, split = run["load"], run.get("split") or {}
    outcomes = ", ".join(f"{k} {v}" for k, v in load["outcomes"].items())
    share = split.get("share")
    return (
        f"| {name} | {load['visitors']} | {load.get('peak_visitors_in_flight', '')} | "
        f"{load['served_per_s']} | {run.get('queued_ahead', 0)} | "
        f"{'yes' if run.get('all_stored') else 'NO'} | {outcomes} | "
        f"{load['polls_per_visitor']} | {load['to_registered_p50_ms']} / "
        f"{load['to_registered_p99_ms']} | {run['web_cpu_s']} | "
        f"{split.get('polls_cpu_s', '')} | {'' if share is None else f'{share:.1%}'} | "
        f"{split.get('ms_per_poll', '')} | {load['client_cpu_s']} |"
    )
