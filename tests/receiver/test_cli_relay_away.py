"""`appbeam receiver --relay ... --password ...` when nothing answers at the relay's address: it says
at once that it waits and why (in shared.explain's words, never the exception's text), and
``--quit-after`` ends the wait."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from appbeam_devtools.local_relay import free_port

REPO = Path(__file__).resolve().parents[2]


def _receiver(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    relay = f"http://127.0.0.1:{free_port()}"  # free: nothing listens there
    cmd = [sys.executable, "-m", "appbeam_devtools", "receiver", "--headless", "--data-dir", str(tmp_path / "phone")]
    cmd += ["--relay", relay, "--username", "anna", "--password", "correct horse", *extra]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
    )
    return proc, relay.removeprefix("http://")


def _lines(proc: subprocess.Popen) -> tuple[queue.Queue[str], threading.Thread]:
    """What the receiver prints, line by line as it comes; the thread ends when the process does."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    reader = threading.Thread(target=read, name="receiver-output")
    reader.start()
    return lines, reader


@pytest.mark.timeout(60)
def test_it_says_at_once_that_it_waits_for_the_relay_and_why(tmp_path):
    proc, host = _receiver(tmp_path, "--quit-after", "600")
    lines, reader = _lines(proc)
    try:
        try:
            line = lines.get(timeout=25)  # the first thing it says; the old code said nothing for 30 s
        except queue.Empty:
            pytest.fail("the receiver said nothing while it waited for the relay")
        assert proc.poll() is None, "it is still waiting, not gone"
        assert "Waiting for the relay" in line
        assert f"Can't reach the relay at {host}: nothing answers there. Is it running?" in line
        assert "Trying again" in line
        assert "HTTPConnectionPool" not in line and "Max retries" not in line
    finally:
        proc.terminate()
        proc.wait(10)
        reader.join(10)
        assert proc.stdout is not None
        proc.stdout.close()


@pytest.mark.timeout(60)
def test_quit_after_ends_the_wait_with_the_reason(tmp_path):
    started = time.monotonic()
    proc, host = _receiver(tmp_path, "--quit-after", "2")
    try:
        output, _ = proc.communicate(timeout=25)  # the old code waited its 30 s whatever --quit-after said
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert time.monotonic() - started < 25
    assert proc.returncode == 2
    assert "Gave up logging in after 2 s (--quit-after)" in output
    assert f"Can't reach the relay at {host}: nothing answers there." in output
    assert "HTTPConnectionPool" not in output and "Traceback" not in output
