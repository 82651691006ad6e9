"""Run test suites one after the other, every one even when an earlier one fails, then sum up.

    python tests/run_suites.py core postgres receiver-ui sender e2e extension  # what `make test` does
    python tests/run_suites.py --stress receiver-ui sender e2e           # what `make test-stress` does

Each suite is the Makefile target ``test-<suite>``, run as it is on its own. Its output goes
through unchanged; at the end comes one line per suite with pytest's own closing line (the
counts, as pytest printed them) and a last line naming each suite as passed or FAILED. The exit
status is 0 only when every suite passed.

``--stress`` runs the suites several times in a row (``--rounds``, 3 by default) while busy-loop
processes at normal priority keep every core loaded (``--burners``, one per core by default):
the machine a test must survive is a busy one. The burners are stopped when the run ends, on
failure and on Ctrl+C too; should this script itself be killed, they notice and end themselves.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: pytest's closing line, e.g. "===== 3 failed, 40 passed, 2 skipped in 61.20s (0:01:01) ====="
PYTEST_CLOSING = re.compile(r"^=+ (?P<text>.*\bin \d+(?:\.\d+)?s\b.*?) =+$")

#: A process that keeps one core busy until it is stopped or its parent is gone.
BURNER = """
import os, sys
parent = int(sys.argv[1])
while os.getppid() == parent:
    for _ in range(2_000_000):
        pass
"""


class SuiteResult:
    def __init__(
        self, name: str, returncode: int | None, closing: str = "", last_line: str = "", interrupted: bool = False
    ):
        self.name = name
        self.returncode = returncode  # None: interrupted, or not run (interrupted before it started)
        self.interrupted = interrupted
        self.closing = closing  # pytest's closing line ("" if pytest printed none)
        self.last_line = last_line  # the suite's last line of output

    @property
    def detail(self) -> str:
        if self.closing:
            return f"pytest: {self.closing}"
        return f"last line: {self.last_line}" if self.last_line else ""

    @property
    def passed(self) -> bool:
        return self.returncode == 0

    @property
    def word(self) -> str:
        if self.returncode is None:
            return "interrupted" if self.interrupted else "not run"
        return "passed" if self.passed else "FAILED"


def run_suite(name: str) -> SuiteResult:
    """``make test-<name>``, its output passed through line by line; returns how it ended."""
    make = os.environ.get("MAKE") or shutil.which("make") or "make"
    command = [make, "--no-print-directory", f"test-{name}"]
    print(f"\n>>> suite {name}: {' '.join(command)}", flush=True)
    seen = {"closing": "", "last_line": ""}

    def pass_output_through() -> None:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            stripped = line.strip()
            if stripped:
                seen["last_line"] = stripped
            match = PYTEST_CLOSING.match(stripped)
            if match:
                seen["closing"] = match.group("text")

    # A process group of its own: on Ctrl+C (or SIGTERM) this script interrupts the whole suite
    # the way Ctrl+C would (pytest then tears its fixtures down) and shows how it ended.
    proc = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
        process_group=0,
    )
    try:
        pass_output_through()
    except KeyboardInterrupt:
        _signal_group(proc, signal.SIGINT)
        # Killed if it has not ended within a minute, or at once on a second interrupt.
        watchdog = threading.Timer(60, _signal_group, (proc, signal.SIGKILL))
        watchdog.start()
        try:
            pass_output_through()
        except KeyboardInterrupt:
            _signal_group(proc, signal.SIGKILL)
        finally:
            watchdog.cancel()
            proc.wait()
        raise
    return SuiteResult(name, proc.wait(), seen["closing"], seen["last_line"])


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:
        pass  # it has ended already


def run_all(names: list[str]) -> tuple[list[SuiteResult], bool]:
    """Every suite in turn; returns the results and whether the run was interrupted."""
    results: list[SuiteResult] = []
    try:
        for name in names:
            results.append(run_suite(name))
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        if len(results) < len(names):
            results.append(SuiteResult(names[len(results)], None, interrupted=True))
            results.extend(SuiteResult(n, None) for n in names[len(results) :])
        return results, True
    return results, False


def one_line(results: list[SuiteResult]) -> str:
    return ", ".join(f"{r.name} {r.word}" for r in results)


def print_summary(results: list[SuiteResult], heading: str) -> None:
    width = max(len(r.name) for r in results)
    print(f"\n{heading}")
    for r in results:
        print(f"  {r.name:<{width}}  {r.word:<7}  {r.detail}".rstrip())


# --------------------------------------------------------------------------- CPU burners


def start_burners(count: int) -> list[subprocess.Popen]:
    # Their own process group, so that Ctrl+C does not print their tracebacks: stop_burners ends them.
    burners = [
        subprocess.Popen([sys.executable, "-c", BURNER, str(os.getpid())], process_group=0) for _ in range(count)
    ]
    print(f"stress: {count} CPU burner process(es) started: {[b.pid for b in burners]}", flush=True)
    return burners


def stop_burners(burners: list[subprocess.Popen]) -> None:
    for burner in burners:
        if burner.poll() is None:
            burner.terminate()
    for burner in burners:
        try:
            burner.wait(10)
        except subprocess.TimeoutExpired:
            burner.kill()
            burner.wait()
    if burners:
        print(f"stress: CPU burners stopped: {[b.pid for b in burners]}", flush=True)


def _exit_on_signal(signum, frame):
    # SIGTERM/SIGHUP: end like Ctrl+C, so that the burners are stopped on the way out.
    raise KeyboardInterrupt


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suites", nargs="+", help="Makefile test targets without 'test-' (core, e2e...)")
    parser.add_argument("--stress", action="store_true", help="several rounds with every core kept busy")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of a stress run (default 3)")
    parser.add_argument(
        "--burners",
        type=int,
        default=os.cpu_count() or 2,
        help="CPU burner processes of a stress run (default: one per core)",
    )
    args = parser.parse_args(argv)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)

    if not args.stress:
        results, interrupted = run_all(args.suites)
        print_summary(results, "Suites (with pytest's closing line of each):")
        print(f"suites: {one_line(results)}", flush=True)
        if interrupted:
            return 130
        return 0 if all(r.passed for r in results) else 1

    rounds: list[list[SuiteResult]] = []
    interrupted = False
    burners: list[subprocess.Popen] = []
    try:
        burners = start_burners(args.burners)
        for number in range(1, args.rounds + 1):
            print(f"\n=== stress round {number}/{args.rounds} (CPU burners: {args.burners}) ===", flush=True)
            results, interrupted = run_all(args.suites)
            rounds.append(results)
            print_summary(results, f"Stress round {number}/{args.rounds} (with pytest's closing line of each):")
            print(f"stress round {number}/{args.rounds}: {one_line(results)}", flush=True)
            if interrupted:
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stop_burners(burners)

    print(f"\nStress run, {args.burners} CPU burner(s):")
    for number, results in enumerate(rounds, 1):
        green = "green" if all(r.passed for r in results) else "NOT green"
        print(f"  round {number}: {green}: {one_line(results)}")
    green_rounds = sum(all(r.passed for r in results) for results in rounds)
    print(
        f"stress: {green_rounds} of {args.rounds} rounds green" + (" (interrupted)" if interrupted else ""), flush=True
    )
    if interrupted:
        return 130
    return 0 if green_rounds == args.rounds else 1


if __name__ == "__main__":
    sys.exit(main())
