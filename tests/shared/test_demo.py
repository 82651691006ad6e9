"""`appbeam demo` end to end, headless: every part starts, one push is installed, screenshots are written."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from appbeam_devtools.demo import has_screen
from appbeam_devtools.local_relay import free_port

REPO = Path(__file__).resolve().parents[2]


def test_no_display_means_no_screen_on_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not has_screen()
    monkeypatch.setenv("DISPLAY", ":0")
    assert has_screen()


@pytest.mark.timeout(240)
def test_headless_demo_installs_an_app_and_writes_every_screenshot(tmp_path):
    shots = tmp_path / "shots"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "appbeam_devtools.cli",
            "demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "--screenshots",
            str(shots),
            "--demo-scale",
            "0.05",
            "--port",
            str(free_port()),  # not the demo's usual port: someone may be running the demo here
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=220,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "running the demo headless" in result.stdout
    names = {p.name for p in shots.glob("*.png")}
    assert names == {
        "sender-picker.png",
        "sender-pushes.png",
        "receiver-phone.png",
        "receiver-tablet.png",
        "receiver-sam-phone.png",
    }
    assert all((shots / n).stat().st_size > 10_000 for n in names)  # real pictures, not empty files
    installed = json.loads((tmp_path / "demo" / "receivers" / "phone" / "installed.json").read_text())
    assert len(installed) == 1  # the tour's one push, installed on the phone, verified
    (app,) = installed.values()
    assert hashlib.sha256(Path(app["path"]).read_bytes()).hexdigest() == app["sha256"]
    assert "stopped unexpectedly" not in result.stdout


def test_the_demo_keeps_its_port_from_one_run_to_the_next_when_it_is_free():
    import socket

    port = free_port()
    assert free_port(port) == port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        other = free_port(port)
    assert other != port and other > 0
