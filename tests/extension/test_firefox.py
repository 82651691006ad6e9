"""The extension in Debian's Firefox ESR, headless: it installs, and its background script runs
without an error. (Playwright drives only its own patched Firefox, which cannot be downloaded
here, so the push itself is tested in Chromium; this checks what differs in Firefox: the manifest,
``background.scripts`` as an ES module, the APIs used at start-up.)

``web-ext run`` starts Firefox with a throwaway profile and installs the extension as a temporary
add-on; Firefox starts the background script as part of that install and prints any uncaught
error of an extension page to stderr ("JavaScript error: moz-extension://…"), which web-ext's
``--verbose`` passes on, before "Installed … as a temporary add-on".
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.extension.browser import SOURCE, stage_extension

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
WEB_EXT = SOURCE / "node_modules" / ".bin" / "web-ext"
INSTALLED = "as a temporary add-on"
EXTENSION_ERROR = "JavaScript error: moz-extension://"

pytestmark = [
    pytest.mark.skipif(FIREFOX is None, reason="Firefox is not installed (apt-get install firefox-esr)"),
    pytest.mark.skipif(not WEB_EXT.exists(), reason="web-ext is not installed (npm ci in browser_extension)"),
]


def _install_in_firefox(source: Path, log: Path, timeout: float = 120.0) -> list[str]:
    """Run the extension in headless Firefox until it is installed; Firefox's and web-ext's lines."""
    lines: list[str] = []
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                str(WEB_EXT),
                "run",
                "--no-input",
                "--no-reload",
                "--verbose",
                f"--firefox={FIREFOX}",
                "--arg=-headless",
                f"--source-dir={source}",
            ],
            cwd=SOURCE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            env={**os.environ, "MOZ_HEADLESS": "1"},
        )
        try:
            deadline = time.monotonic() + timeout
            for line in proc.stdout:
                out.write(line)
                lines.append(line.rstrip("\n"))
                if INSTALLED in line:
                    return lines
                if time.monotonic() > deadline:
                    break
            raise AssertionError(f"Firefox did not install the extension; see {log}")
        finally:
            _stop_group(proc)


def _stop_group(proc: subprocess.Popen) -> None:
    """web-ext, Firefox and its helpers are one process group: all of it goes."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    if proc.stdout:
        proc.stdout.close()


def test_firefox_installs_the_extension_and_its_background_starts_cleanly(tmp_path):
    lines = _install_in_firefox(stage_extension(tmp_path / "extension"), tmp_path / "web-ext.log")
    assert [line for line in lines if EXTENSION_ERROR in line] == []


def test_an_error_in_the_background_script_would_be_seen(tmp_path):
    """The check above can fail: a background script that throws is caught by it."""
    broken = stage_extension(tmp_path / "extension")
    with open(broken / "background.js", "a") as script:
        script.write('\nthrow new Error("a broken background script");\n')
    lines = _install_in_firefox(broken, tmp_path / "web-ext.log")
    assert any(EXTENSION_ERROR in line and "a broken background script" in line for line in lines), lines[-20:]
