"""``appbeam push`` from a script: a package file on this computer reaches a real phone and is
installed, with the states printed; a web page saved as .apk is refused with a sentence and a
non-zero exit (issue 14, item 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_sender.profile import SenderProfile
from relay_server.demo_catalog import build_package
from shared.relay_client import DeviceInfo, RelayClient
from tests.helpers.receiver_process import ReceiverProcess
from tests.helpers.relay_process import RelayProcess

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse"


def _appbeam_push(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "appbeam_devtools", "push", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def alex(tmp_path):
    """A relay, Alex's computer signed in (its sender profile) and then Alex's phone, which
    trusts the computer from its first login."""
    with RelayProcess(tmp_path / "relay") as relay:
        RelayClient(relay.url).create_account("alex", PASSWORD)
        profile = SenderProfile("default", tmp_path / "computer")
        client = RelayClient(relay.url, key=profile.signing_key)
        client.login("alex", PASSWORD, DeviceInfo(profile.settings.device_id, "Alex's desktop", "PC", "linux"))
        profile.settings.relay_url, profile.settings.username = relay.url, "alex"
        profile.save()
        profile.tokens.save(client.token)
        phone = ReceiverProcess(
            tmp_path / "phone", relay.url, "alex", PASSWORD, name="Alex's Pixel", model="Pixel 8", platform="android"
        ).start()
        try:
            yield relay, tmp_path / "computer", phone
        finally:
            phone.stop()


def test_a_local_apk_is_pushed_and_installed_with_the_states_printed(alex):
    relay, profile_dir, phone = alex
    apk = next((relay.data_dir / "demo-packages").glob("org.fdroid.fdroid-*.apk"))

    done = _appbeam_push(str(apk), "--to", "Alex's Pixel", "--wait", "--json", "--data-dir", str(profile_dir))

    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    states = [line.get("state") for line in lines]
    assert states[-1] == "installed"
    assert any(line["message"] == "Alex's Pixel: Installed" for line in lines)
    (installed,) = [a for a in phone.state()["installed"] if a["app_id"] == "org.fdroid.fdroid"]
    assert Path(installed["path"]).read_bytes() == apk.read_bytes()  # the very bytes of the file pushed


def test_an_apk_built_here_that_the_store_never_saw_is_uploaded_and_installed(alex, tmp_path):
    relay, profile_dir, phone = alex
    apk = tmp_path / "notes-debug.apk"  # as a build leaves it: the file name says little
    apk.write_bytes(build_package("apk", "org.example.notes", "Notes", "3.0", 30, size=150_000))

    done = _appbeam_push(str(apk), "--to", "Alex's Pixel", "--wait", "--json", "--data-dir", str(profile_dir))

    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["message"] == "Uploading notes-debug.apk (150 kB) to the relay…"
    assert lines[-1]["state"] == "installed"
    (installed,) = [a for a in phone.state()["installed"] if a["app_id"] == "org.example.notes"]
    assert installed["version"] == "3.0"  # what the package says, not its file name
    assert Path(installed["path"]).read_bytes() == apk.read_bytes()

    # The same file again: the relay has it, nothing is uploaded twice, and it arrives again.
    again = _appbeam_push(str(apk), "--to", "Alex's Pixel", "--json", "--data-dir", str(profile_dir))
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_web_page_saved_as_apk_is_refused_with_a_sentence(alex, tmp_path):
    _, profile_dir, _ = alex
    page = tmp_path / "notes-3.0.apk"
    page.write_text("<!DOCTYPE html><html><body>Please sign in to download</body></html>")

    done = _appbeam_push(str(page), "--to", "Alex's Pixel", "--wait", "--data-dir", str(profile_dir))

    assert done.returncode == 1
    assert done.stdout.startswith("This file is a web page, not an Android app (apk)"), done.stdout
    assert "Traceback" not in done.stderr


def test_an_unknown_device_name_lists_the_real_ones(alex):
    _, profile_dir, _ = alex

    done = _appbeam_push("org.videolan.vlc", "--to", "Alex's iPhone", "--data-dir", str(profile_dir))

    assert done.returncode == 2
    assert 'No device called "Alex\'s iPhone" here' in done.stdout and '"Alex\'s Pixel"' in done.stdout
