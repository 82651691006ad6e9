"""`appbeam demo --headless` twice in a row, as a person tries it: the second run shows the
download and the install again (a fresh start), not "Already installed" beside the first run's
push; a run's folder goes away at the end unless --keep."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from appbeam_devtools.demo import PID_FILE, fresh_run_folder
from appbeam_devtools.local_relay import free_port
from mobile_receiver.storage import ReceiverDB

REPO = Path(__file__).resolve().parents[2]


def _demo(home: Path, shots: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["APPBEAM_HOME"] = str(home)  # the demo's default folders, under the test's own
    return subprocess.run(
        [sys.executable, "-m", "appbeam_devtools", "demo", "--headless", "--screenshots", str(shots)]
        + ["--demo-scale", "0.05", "--port", str(free_port()), *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=220,
    )


def _phone_pushes(run: Path) -> list[dict]:
    db = ReceiverDB(run / "receivers" / "phone" / "receiver.sqlite3")
    try:
        return db.load_pushes()
    finally:
        db.close()


@pytest.mark.timeout(480)
def test_a_second_demo_run_shows_the_install_again_from_a_fresh_start(tmp_path):
    home, shots = tmp_path / "home", tmp_path / "shots"
    runs = home / "demo" / "runs"

    first = _demo(home, shots)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "a fresh start in" in first.stdout
    assert "Click 'Free download'" not in first.stdout  # nobody can click: it says what the tour does
    assert "the tour clicks 'Free download'" in first.stdout
    assert list(runs.iterdir()) == []  # its folder is gone: nothing left to pile up

    second = _demo(home, shots, "--keep")
    assert second.returncode == 0, second.stdout + second.stderr
    (run,) = runs.iterdir()
    assert f"The demo's data and logs stay in {run}." in second.stdout
    pushes = _phone_pushes(run)
    assert [p["state"] for p in pushes] == ["installed"]  # downloaded and installed, not "already_installed"
    assert (shots / "receiver-phone.png").stat().st_size > 10_000


def test_a_run_killed_before_it_tidied_up_is_removed_by_the_next_and_a_kept_one_stays(tmp_path, monkeypatch):
    monkeypatch.setenv("APPBEAM_HOME", str(tmp_path))
    killed = fresh_run_folder()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (killed / PID_FILE).write_text(str(dead.pid))
    kept = fresh_run_folder()  # a kept run names no pid
    running = fresh_run_folder()
    (running / PID_FILE).write_text(str(os.getpid()))

    new = fresh_run_folder()

    assert not killed.exists()
    assert kept.is_dir() and running.is_dir() and new.is_dir()
    assert list(new.iterdir()) == []
