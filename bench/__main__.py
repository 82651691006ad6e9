"""``python -m bench [--smoke] [--only NAME ...] [--results DIR]``: run the benchmarks, write
``results.json`` and ``RESULTS.md`` to the results dir (default ``bench/results``)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.common import REPO, load_average, log, raise_nofile

BENCHMARKS = [
    "push_latency",
    "push_throughput",
    "push_processes",
    "connections",
    "reconnect_storm",
    "package_serving",
    "download_engine",
    "sender",
    "abuse",
]


class Context:
    def __init__(self, smoke: bool, work: Path):
        self.smoke = smoke
        self.work = work
        self._seeded = {}

    def seeded(self, devices: int):
        """A template relay database with at least ``devices`` devices (made once per run)."""
        from bench.relay import seed

        for size, seeded in self._seeded.items():
            if size >= devices:
                return seeded
        self._seeded[devices] = seed(self.work, devices)
        return self._seeded[devices]


def _function(name: str):
    from bench import b_abuse, b_connections, b_files, b_push, b_sender

    return {
        "push_latency": b_push.push_latency,
        "push_throughput": b_push.push_throughput,
        "push_processes": b_push.push_processes,
        "connections": b_connections.connections,
        "reconnect_storm": b_connections.reconnect_storm,
        "package_serving": b_files.package_serving,
        "download_engine": b_files.download_engine,
        "sender": b_sender.sender,
        "abuse": b_abuse.abuse,
    }[name]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a check that every benchmark runs")
    parser.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS,
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "results", help="where to write results")
    parser.add_argument("--workdir", type=Path, help="scratch dir (default: a temp dir, removed after)")
    args = parser.parse_args(argv)

    from bench.prepare import ensure_python_deps

    ensure_python_deps()
    nofile = raise_nofile(65536)
    names = args.only or BENCHMARKS
    work = args.workdir or Path(tempfile.mkdtemp(prefix="appbeam-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ctx = Context(args.smoke, work)
    args.results.mkdir(parents=True, exist_ok=True)
    json_path = args.results / "results.json"
    # --only merges into an existing results file, so single benchmarks can be re-measured
    results = {}
    if args.only and json_path.exists():
        try:
            results = json.loads(json_path.read_text())
        except ValueError:
            results = {}
    results.setdefault("benchmarks", {})
    results["machine"] = _machine(nofile)
    results["mode"] = "smoke" if args.smoke else "full"
    failed = []
    total = time.perf_counter()
    try:
        for name in names:
            # The files an earlier benchmark wrote (a 500 MB package, a 1 GB download) are
            # written out now, not in the middle of the next one's fsyncs and timings.
            os.sync()
            log(f"=== {name} (load {load_average()})")
            started = time.perf_counter()
            entry = {"load_before": load_average()}
            try:
                entry.update(_function(name)(ctx))
                entry["status"] = "ok"
            except Exception as exc:  # noqa: BLE001 - the others still run
                traceback.print_exc()
                entry.update(status="error", error=f"{type(exc).__name__}: {exc}")
                failed.append(name)
            entry["seconds"] = round(time.perf_counter() - started, 1)
            entry["load_after"] = load_average()
            entry["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            results["benchmarks"][name] = entry
            json_path.write_text(json.dumps(results, indent=2) + "\n")
            log(f"=== {name}: {entry['status']} in {entry['seconds']} s")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    results["total_seconds"] = round(time.perf_counter() - total, 1)
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    from bench.report import write_markdown

    write_markdown(results, args.results / "RESULTS.md")
    from bench.report import push_path_table

    table = push_path_table(results)
    if table:
        print("\n" + "\n".join(table) + "\n", flush=True)
    log(f"results in {json_path} and {args.results / 'RESULTS.md'} ({results['total_seconds']} s)")
    return 1 if failed else 0


def _machine(nofile: int) -> dict:
    import os
    import platform

    import psutil

    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "open_files_limit": nofile,
        "load_at_start": load_average(),
        **_revision(),
    }


def _revision() -> dict:
    """The commit measured, and whether product code had uncommitted changes at the time."""
    import subprocess

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = git("status", "--porcelain", "--", "relay_server", "shared", "desktop_sender", "mobile_receiver")
    return {"commit": git("rev-parse", "--short", "HEAD"), "product_code_uncommitted_changes": len(dirty.splitlines())}


if __name__ == "__main__":
    sys.exit(main())
