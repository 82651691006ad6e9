"""The sender's command line: light imports, and a headless run that signs in and takes a screenshot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.relay_client import DeviceInfo, RelayClient

REPO = Path(__file__).resolve().parents[2]


def test_cli_module_does_not_import_qt():
    code = "import sys, argparse, desktop_sender.cli as c; c.add_arguments(argparse.ArgumentParser()); assert 'PySide6' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


@pytest.mark.qt
def test_headless_run_signs_in_registers_the_computer_and_writes_a_screenshot(relay, tmp_path):
    shot = tmp_path / "sender.png"
    env = {**os.environ, "APPBEAM_PASSWORD": "demo password 1"}
    # --quit-after quits at that time whatever happened: it must leave room for Chromium to
    # start, sign in and load the page on a busy machine (10 s left little room).
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_sender",
            "--headless",
            "--relay",
            relay.url,
            "--username",
            "clidemo",
            "--create-account",
            "--device-name",
            "Demo laptop",
            "--data-dir",
            str(tmp_path / "sender"),
            "--downloads-dir",
            str(tmp_path / "downloads"),
            "--screenshot",
            str(shot),
            "--quit-after",
            "30",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "screenshot saved" in result.stderr, result.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 10_000
    phone = RelayClient(relay.url)
    phone.login("clidemo", "demo password 1", DeviceInfo("cli-phone", "Phone", "Pixel", "android"))
    (laptop,) = phone.devices()
    assert (laptop.name, laptop.platform, laptop.relation) == ("Demo laptop", "linux", "self")
    # The token was kept, 0600, for the next start.
    token = tmp_path / "sender" / "token"
    assert token.exists() and (token.stat().st_mode & 0o777) == 0o600


@pytest.mark.qt
def test_headless_tour_sends_one_app_to_an_own_device_and_saves_screenshots(relay, accounts, tmp_path):
    shots = tmp_path / "shots"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_sender",
            "--headless",
            "--relay",
            relay.url,
            "--username",
            accounts.username,
            "--password",
            accounts.password,
            "--data-dir",
            str(tmp_path / "sender"),
            "--tour",
            str(shots),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (shots / "sender-picker.png").stat().st_size > 10_000
    assert (shots / "sender-pushes.png").stat().st_size > 10_000
    # The online phone got it as "install now"; the offline tablet and the friend were not chosen.
    assert [p.mode for p in accounts.phone.pushes("received")] == ["install_now"]
    assert accounts.tablet.pushes("received") == []
    assert accounts.friend_phone.pushes("received") == []
