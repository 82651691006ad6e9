"""Server-side prepared statements on PostgreSQL, before and after, in the same minutes (issue 16).

Two source trees of the relay run in turn against one throwaway PostgreSQL server (fsync on,
``bench.peers.Postgres``), each on its own copy of one seeded template database: one relay
process, 300 acknowledging devices, ``bench.b_push.relay_throughput`` at 100, then at 200
pushes/s (3 s steps, each on a fresh relay), alternating the order each round so that what else
runs on the machine falls on both. Then, for each tree, the statements PostgreSQL receives for 40 pushes at 20/s (10
devices, ``log_statement = all``): calls (one log line each; deferred statements travel joined
with the next) and statements within them.

    git worktree add --detach /tmp/pg-before <commit before>
    git worktree add --detach /tmp/pg-after <commit after>
    PYTHONPATH=. .venv/bin/python -m bench.pg_prepared_ab /tmp/pg-before /tmp/pg-after --rounds 3

(Two committed trees: a working tree with other uncommitted changes would measure those too.)

Prints one line per run (relay and PostgreSQL CPU per push, achieved/s, p99, load average).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import tempfile
from pathlib import Path

from appbeam_devtools.local_relay import LocalRelay
from bench.b_push import relay_throughput
from bench.clients import Arrivals, Pusher, SseFleet, wait_acks, wait_for
from bench.peers import Postgres
from bench.relay import discard, fresh_relay, push_body, seed


def _use_tree(tree: Path) -> dict[str, str]:
    """Relays started from now on run the code of ``tree`` (its env for ``fresh_relay``)."""
    LocalRelay.workdir = tree
    return {"PYTHONPATH": str(tree)}


def _throughput(pg: Postgres, seeded, tree: Path, label: str, run: int, rate: int) -> None:
    """One step on a fresh relay and database (a step after a failed one would not run)."""
    name = f"ab_{run}"
    url = pg.create(name, template="ab_template")
    try:
        result = relay_throughput(
            seeded,
            300,
            [rate],
            3.0,
            extra_args=["--processes", "1"],
            env=_use_tree(tree),
            database_url=url,
            db_pids=[pg.server_pid],
        )
    finally:
        pg.drop(name)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    for step in result["steps"]:
        print(
            f"{label:7} {step['offered_rate']:>4}/s offered: achieved {step['achieved_rate']}/s, "
            f"relay {step['server_cpu_ms_per_push']} ms/push, PostgreSQL {step.get('db_cpu_ms_per_push')} ms/push, "
            f"p99 {step['p99_ms']} ms, ok={step['ok']}  (load {load})",
            flush=True,
        )


async def _forty_pushes(url: str, seeded, log: Path) -> tuple[int, int, int]:
    """Push 40 times at 20/s to 10 connected devices (each acknowledges); returns the calls,
    statements and EXECUTEs PostgreSQL logged meanwhile."""
    rng = random.Random(1)
    arrivals = Arrivals()
    async with SseFleet(url, seeded.tokens, arrivals, ack=True) as fleet, Pusher(url, seeded.sender_token) as pusher:
        await fleet.connect(range(10))
        warm = [i for a in await pusher.open_loop(20, 10, lambda k: push_body([f"dev-{k:05d}"])) for i in a[1]]
        await wait_acks(warm, arrivals, 10)
        await asyncio.sleep(0.5)
        start = log.stat().st_size
        answers = await pusher.open_loop(20, 40, lambda k: push_body([f"dev-{rng.randrange(10):05d}"]))
        keys = [i for a in answers if a[0] == 201 for i in a[1]]
        assert len(keys) == 40, answers
        await wait_for(keys, arrivals, 30)
        await wait_acks(keys, arrivals, 30)
        await asyncio.sleep(0.5)
        with open(log, "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
    calls = re.findall(r"LOG:  statement: (.*)", text)
    statements = [s for call in calls for s in call.split("; ")]
    return len(calls), len(statements), sum(s.startswith("EXECUTE ") for s in statements)


def _statements(pg: Postgres, seeded, tree: Path, label: str) -> None:
    url = pg.create("ab_count", template="ab_template")
    pg._sql("ALTER DATABASE ab_count SET log_statement = 'all'")
    relay = fresh_relay(seeded, extra_args=["--processes", "1", "--database-url", url], env=_use_tree(tree))
    try:
        calls, statements, executes = asyncio.run(_forty_pushes(relay.url, seeded, pg.tmp / "server.log"))
    finally:
        discard(relay)
        pg.drop("ab_count")
    print(
        f"{label:7} 40 pushes: {calls} calls ({calls / 40:.1f} per push), {statements} statements "
        f"({statements / 40:.1f} per push), of which EXECUTE {executes}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="source tree of the code before")
    parser.add_argument("after", type=Path, help="source tree of the code after")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = [("before", args.before.resolve()), ("after", args.after.resolve())]
    with Postgres() as pg, tempfile.TemporaryDirectory(prefix="pg-ab-") as work:
        template = pg.create("ab_template")
        seeded = seed(Path(work), 300, template)
        for label, tree in trees:
            _statements(pg, seeded, tree, label)
        for run in range(args.rounds):
            for rate in (100, 200):
                for label, tree in trees if run % 2 == 0 else trees[::-1]:
                    _throughput(pg, seeded, tree, label, run, rate)


if __name__ == "__main__":
    main()
