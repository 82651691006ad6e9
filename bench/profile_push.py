"""Profile the relay on the push path: ``python -m bench.profile_push [--n 1000] [--rate 300] [--seconds 8]``.

Starts a bench relay (``bench.relay.fresh_relay``; extra relay flags after ``--``), connects
N acknowledging device streams, pushes open loop at ``rate`` for ``seconds`` while py-spy
samples the relay process(es) (``pip install py-spy``, the bench extra), then prints the
functions with the most samples, inclusive and own, and where the time went by layer.
The collapsed stacks are kept (``--out``) for flame graphs.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.b_push import _relay_run, relay_pids
from bench.common import raise_nofile
from bench.relay import discard, fresh_relay, seed

#: Where a sample's time is charged, by the first matching frame from the top (leaf) down.
LAYERS = [
    ("sqlite (C)", ("execute (", "commit (", "fetchone", "fetchall", "_sqlite3")),
    ("peewee", ("peewee.py", "playhouse/")),
    ("json", ("json/",)),
    ("gevent pywsgi", ("gevent/pywsgi.py",)),
    ("gevent hub / sockets", ("gevent/",)),
    ("werkzeug", ("werkzeug/",)),
    ("flask", ("flask/",)),
    ("relay's HTTP front (lean_http)", ("relay_server/lean_http.py",)),
    ("relay code", ("relay_server/",)),
    ("shared code", ("shared/",)),
]


#: Leaf frames whose own time is spent in C below them (py-spy shows Python frames only).
LEAVES = [
    ("sqlite (C, below peewee's execute/commit)", ("Database._execute_cursor", "Database.commit", "Database.rollback")),
    ("socket syscalls (send/recv)", ("SocketMixin.send ", "SocketMixin.recv", "SocketMixin.sendall", "_sendall")),
]


def _layer(stack: list[str]) -> str:
    for name, marks in LEAVES:
        if any(m in stack[-1] for m in marks):
            return name
    for frame in reversed(stack):
        for name, marks in LAYERS:
            if any(m in frame for m in marks):
                return name
    return "other"


def summarize(raw: Path, top: int = 30) -> str:
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    layers: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_s, _, count_s = line.rpartition(" ")
        if not stack_s:
            continue
        count = int(count_s)
        stack = stack_s.split(";")
        total += count
        own[stack[-1]] += count
        for frame in set(stack):
            incl[frame] += count
        layers[_layer(stack)] += count
    out = [f"{total} samples", "", "by layer (the innermost frame that belongs to one):"]
    out += [f"  {100 * c / total:5.1f} %  {name}" for name, c in layers.most_common()]
    out += ["", "inclusive:"] + [f"  {100 * c / total:5.1f} %  {f}" for f, c in incl.most_common(top)]
    out += ["", "own:"] + [f"  {100 * c / total:5.1f} %  {f}" for f, c in own.most_common(top)]
    return "\n".join(out)


def _write_batches(url: str) -> tuple[float, float] | None:
    """(transactions, writes) from the relay's /metrics (relay_server/group_commit.py)."""
    import requests

    try:
        text = requests.get(f"{url}/metrics", timeout=10).text
    except requests.RequestException:
        return None
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("appbeam_write_transactions_total", "appbeam_writes_total"):
            values[name] = float(value)
    if len(values) != 2:
        return None
    return values["appbeam_write_transactions_total"], values["appbeam_writes_total"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_push", description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="device streams")
    parser.add_argument("--rate", type=float, default=300, help="pushes per second")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--out", type=Path, default=Path("relay-profile.txt"), help="py-spy collapsed stacks")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="on a throwaway PostgreSQL server (bench.peers.Postgres) instead of SQLite",
    )
    parser.add_argument("relay_args", nargs="*", help="extra relay flags (after --)")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    raise_nofile(65536)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="appbeam-profile-"))
    pg = None
    extra = list(args.relay_args)
    if args.postgres:
        from bench.peers import Postgres

        pg = Postgres().start()
        seeded = seed(work, max(args.n, 5), pg.create("bench_template"))
        extra += ["--database-url", pg.create("bench_run", template="bench_template")]
    else:
        seeded = seed(work, max(args.n, 5))
    relay = fresh_relay(seeded, extra_args=extra)
    try:
        pids = relay_pids(relay)
        import psutil

        all_pids = [p.pid for pid in pids for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]]
        duration = int(args.seconds) + 3
        spies = []
        for k, pid in enumerate(all_pids):
            target = args.out if len(all_pids) == 1 else args.out.with_name(f"{args.out.stem}-{k}{args.out.suffix}")
            spies.append(
                (
                    target,
                    subprocess.Popen(
                        [
                            spy,
                            "record",
                            "--pid",
                            str(pid),
                            "--rate",
                            "250",
                            "--duration",
                            str(duration),
                            "--format",
                            "raw",
                            "--nonblocking",
                            "--output",
                            str(target),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    ),
                )
            )
        time.sleep(0.5)
        run = asyncio.run(
            _relay_run(
                relay.url,
                seeded.tokens,
                seeded.sender_token,
                args.n,
                [(args.rate, int(args.rate * args.seconds))],
                pids,
                db_pids=[pg.server_pid] if pg else (),
            )
        )
        for _, proc in spies:
            proc.wait(duration + 30)
        batches = _write_batches(relay.url)
    finally:
        discard(relay)
        if pg is not None:
            pg.stop()
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    step = run["steps"][0]
    print(
        f"N={args.n} rate={args.rate}/s: delivered {step['delivered']}/{step['accepted']}, acked "
        f"{step['acknowledged']}, from send p50 {step['from_send']['p50_ms']} / p99 {step['from_send']['p99_ms']} ms, "
        f"relay CPU {step['server_cpu_ms_per_push']} ms/push, client CPU {step['client_cpu_ms_per_push']} ms/push"
        + (f", PostgreSQL CPU {step.get('db_cpu_ms_per_push')} ms/push" if pg else "")
    )
    if batches:
        print(
            f"group commit: {batches[1]:.0f} writes in {batches[0]:.0f} transactions "
            f"({batches[1] / max(1, batches[0]):.2f} per transaction; one relay process's counters)"
        )
    for target, _ in spies:
        if target.exists():
            print(f"\n== {target}\n" + summarize(target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
