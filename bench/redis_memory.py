"""Redis memory per accepted sign-up, measured (`make bench-redis`, or
`python -m bench.redis_memory [SIGNUPS]`).

A private redis-server on a free port (nothing on disk, compose's `noeviction`, so small
counters share Redis's integer objects as they do there) takes SIGNUPS synthetic sign-ups
(100,000 by default; distinct phones, a spread of client addresses) through the real
admission script (Gate.run), in batches as the web sends them. used_memory before
and after, less the clients' buffers, is the cost; deleting each kind of key in turn splits
it (what the deletions leave is the key tables' growth, shared out per key; keys that stay
throughout keep the tables from shrinking meanwhile). Measured twice: as the code stands,
and without the one key per sign-up that binds its request_id to a fingerprint of
its phone (kept RESULT_TTL). Then, from those figures and Settings' windows: how
long a Redis of 256 MB, 1 GB or 4 GB holds at 100-2,000 sign-ups/s, for RESULT_TTL's
default, an hour and a day. Nothing here touches the shared stores.
"""

import random
import subprocess
import sys
import uuid

import redis
from dramatiq.results.backends import RedisBackend
from limits import parse

from harness.services import private_redis
from landing.admission.gate import Gate
from landing.admission.keys import Keys, PhoneKeys
from landing.admission.scripts import ADMIT
from landing.shared.settings import Settings
from landing.shared.signup import SignUp

SIGNUPS = 100_000
BATCH = 15  # sign-ups per admission call: c=64's measured b (docs/capacity.md, M2)
RATES = (100, 300, 1_000, 2_000)  # sign-ups/s
SIZES_MB = (256, 1_024, 4_096)  # maxmemory
ADDRESS_WINDOW = 60  # RATE_LIMIT's window (20/minute), seconds
# Redis's active expiry leaves up to ~10% of expiring keys dead but not yet freed.
STALE = 1.10


def addresses(count: int, rng: random.Random) -> list[str]:
    """Client addresses for count sign-ups: ~60% alone on their IPv4 address, ~25% behind
    shared ones (carrier NAT, offices: 2-10 sign-ups each, under RATE_LIMIT), ~15% IPv6
    (one /64 each, as the limiter buckets them)."""
    found: list[str] = []
    while len(found) < count:
        draw = rng.random()
        if draw < 0.60:
            found.append(f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}")
        elif draw < 0.85:
            shared = f"100.{64 + rng.randrange(64)}.{rng.randrange(256)}.{rng.randrange(256)}"
            found += [shared] * rng.randint(2, 10)
        else:
            found.append(f"2a01:{rng.randrange(65536):x}:{rng.randrange(65536):x}::1")
    found = found[:count]
    rng.shuffle(found)
    return found


def signups(count: int, seed: int = 7) -> list[SignUp]:
    rng = random.Random(seed)
    phones = rng.sample(range(10**9), count)  # distinct numbers: 09 + nine digits
    return [
        SignUp(str(uuid.UUID(int=rng.getrandbits(128), version=4)), f"09{phone:09d}", None, ip,
               None, "2026-12-05T00:00:00.000Z")
        for phone, ip in zip(phones, addresses(count, rng), strict=True)
    ]  # fmt: skip


def used(client: redis.Redis) -> int:
    """used_memory without the clients' buffers (a batch's query buffer comes and goes)."""
    info = client.info("memory")
    return info["used_memory"] - client.memory_stats()["clients.normal"]


def ballast(client: redis.Redis, signups: int) -> None:
    """Keys that stay throughout, so deleting the sign-ups' keys never shrinks the key
    tables (Redis halves a table under 10% full) and each deletion frees only its keys."""
    with client.pipeline(transaction=False) as pipe:
        for i in range(signups):
            pipe.set(f"ballast:{i}", i, ex=86_400)
        pipe.execute()


def fill(client: redis.Redis, batch: list[SignUp]) -> dict:
    """Admit every sign-up through the real script; the memory it took, split by key kind."""
    settings = Settings()
    backend = RedisBackend(client=client)
    gate = Gate(
        backend,
        (settings.rate_limit, settings.phone_rate_limit),
        settings.result_ttl,
        PhoneKeys(settings.limit_key_secret),  # keys as long as production's
    )
    client.flushall()
    client.script_load(ADMIT)  # the script cache is not the sign-ups' cost
    ballast(client, len(batch))
    before = used(client)
    admitted: list[Keys] = []
    for i in range(0, len(batch), BATCH):
        keys = [gate.keys(signup) for signup in batch[i : i + BATCH]]
        answers = gate.run(keys)
        admitted += [k for k, answer in zip(keys, answers, strict=True) if answer[0]]
    total = used(client) - before
    kinds = {
        # request_id -> the phone's fingerprint, where the admission script writes one
        "binding": [k.binding for k in admitted if getattr(k, "binding", None)],
        "status": [k.status for k in admitted],
        "phone": [k.phone for k in admitted],
        "address": sorted({k.address for k in admitted}),
    }
    sample = {kind: keys[:1000] for kind, keys in kinds.items()}
    usage = {
        kind: sum(client.memory_usage(k, samples=0) or 0 for k in keys) / max(1, len(keys))
        for kind, keys in sample.items()
    }
    drops = {}
    for kind, keys in kinds.items():
        start = used(client)
        for j in range(0, len(keys), 10_000):
            client.delete(*keys[j : j + 10_000])
        drops[kind] = start - used(client)
    count = sum(len(keys) for keys in kinds.values())
    tables = total - sum(drops.values())  # bucket arrays of the key and expiry tables
    per_key = {
        kind: (drops[kind] + tables * len(keys) / count) / len(keys)
        for kind, keys in kinds.items()
        if keys
    }
    return {
        "accepted": len(admitted),
        "total": total,
        "per_signup": total / len(admitted),
        "keys": {kind: len(keys) for kind, keys in kinds.items()},
        "per_key": per_key,
        "memory_usage": usage,
        "tables": tables,
    }


def held_at(run: dict, rate: float, ttl: int, seconds: float) -> float:
    """Bytes held seconds after a start from empty at rate sign-ups/s; each kind of key
    stops adding once its first ones expire (the plateau: seconds past an hour)."""
    per_key, phone_window = run["per_key"], parse(Settings().phone_rate_limit).get_expiry()
    addresses_per_signup = run["keys"]["address"] / run["accepted"]
    return (
        STALE
        * rate
        * (
            (per_key["status"] + per_key.get("binding", 0.0)) * min(seconds, ttl)
            + per_key["phone"] * min(seconds, phone_window)
            + per_key["address"] * addresses_per_signup * min(seconds, ADDRESS_WINDOW)
        )
    )


def cell(run: dict, rate: float, ttl: int, mb: int) -> str:
    """ "holds (NN%)" of maxmemory at the plateau, or how long until it is full."""
    limit, plateau = mb * 2**20, held_at(run, rate, ttl, 10 * 86_400)
    if plateau < limit:
        return f"holds ({plateau / limit:.0%})"
    low, high = 0.0, 10 * 86_400.0
    while high - low > 1:
        middle = (low + high) / 2
        low, high = (middle, high) if held_at(run, rate, ttl, middle) < limit else (low, middle)
    return f"full in {high / 60:.0f} min" if high < 5_400 else f"full in {high / 3600:.1f} h"


def report(runs: dict[str, dict], count: int) -> None:
    print(f"redis-server {redis_version()}, {count:,} sign-ups, batches of {BATCH}")
    for name, run in runs.items():
        print(f"\n{name}: {run['accepted']:,} accepted, {run['total']:,} B in all,")
        print(f"  {run['per_signup']:.0f} B per accepted sign-up (key tables: {run['tables']:,} B)")
        for kind, count in run["keys"].items():
            if count:
                print(
                    f"  {kind:8} {count:>7,} keys  {run['per_key'][kind]:6.0f} B each"
                    f"  (MEMORY USAGE {run['memory_usage'][kind]:.0f})"
                )
    for ttl in sorted({Settings().result_ttl, 3_600, 86_400}):
        for name, run in runs.items():
            print(f"\nRESULT_TTL={ttl} s, {name} (expired keys not yet reclaimed: +10%)")
            print("  sign-ups/s  plateau MB" + "".join(f"{f'{mb} MB':>18}" for mb in SIZES_MB))
            for rate in RATES:
                plateau = held_at(run, rate, ttl, 10 * 86_400) / 2**20
                cells = "".join(f"{cell(run, rate, ttl, mb):>18}" for mb in SIZES_MB)
                print(f"  {rate:>10,}  {plateau:>10,.0f}{cells}")


def redis_version() -> str:
    found = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    return found.stdout.split()[2].removeprefix("v=")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else SIGNUPS
    batch = signups(count)
    with private_redis("--maxmemory", "8gb", "--maxmemory-policy", "noeviction") as server:
        client = server.client(timeout=30)
        try:
            measured = fill(client, batch)
        finally:
            client.close()
    runs = {"as the code stands": measured}
    if measured["keys"].get("binding"):  # and as it stood before the request_id bindings
        binding = measured["per_key"]["binding"] * measured["keys"]["binding"]
        without = {**measured, "keys": {**measured["keys"], "binding": 0}}
        without["per_key"] = {k: v for k, v in measured["per_key"].items() if k != "binding"}
        without["total"] = round(measured["total"] - binding)
        without["per_signup"] = without["total"] / measured["accepted"]
        runs["without the request_id -> phone binding"] = without
    report(runs, count)


if __name__ == "__main__":
    main()
