"""Run by ``b_sender`` in its own process: the real sender, offscreen, against a relay.

argv: relay_url username password clicks out_json launched_at (time.time() of the parent's Popen)
"""

from __future__ import annotations

import os
import sys
import time

T_PROCESS = time.perf_counter()
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")
os.environ.setdefault("QT_LOGGING_RULES", "qt.webenginecontext.debug=false;js.debug=false")

import json  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from PySide6 import QtWebEngineWidgets  # noqa: E402,F401  (before the QApplication)
from PySide6.QtWidgets import QApplication  # noqa: E402


def main() -> int:
    relay_url, username, password, clicks, out_path, launched_at = sys.argv[1:7]
    clicks = int(clicks)
    app = QApplication(["appbeam-sender-bench"])
    t_imports = time.perf_counter()
    from desktop_sender.app import SenderApp, SenderOptions
    from desktop_sender.profile import SenderProfile

    data = Path(tempfile.mkdtemp(prefix="bench-sender-"))
    t_construct = time.perf_counter()
    profile = SenderProfile("bench", data, use_keyring=False)
    sender = SenderApp(
        profile,
        SenderOptions(
            relay_url=relay_url,
            username=username,
            password=password,
            device_name="Bench laptop",
            downloads_dir=str(data / "dl"),
            interactive=False,
            off_the_record=True,
        ),
    )
    sender.window.resize(1280, 820)
    marks: dict[str, float] = {}
    sender.signed_in.connect(lambda _u: marks.setdefault("signed_in", time.perf_counter()))
    sender.sign_in_failed.connect(lambda m: marks.setdefault("sign_in_failed", time.perf_counter()))
    sender.window.browser.loadFinished.connect(lambda ok: marks.setdefault("first_page", time.perf_counter()))
    sender.start()

    def wait(pred, timeout=30.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            app.processEvents()
            if pred():
                return time.perf_counter()
            time.sleep(0.0005)
        raise TimeoutError("timed out")

    wait(lambda: "first_page" in marks and ("signed_in" in marks or "sign_in_failed" in marks))
    if "sign_in_failed" in marks:
        raise SystemExit("sign-in failed")
    t_wall_first_page = time.time() - (time.perf_counter() - marks["first_page"])
    page = sender.window.browser.page()
    results = []
    ready = []
    page.runJavaScript("document.readyState", 0, ready.append)
    wait(lambda: ready and ready[-1] == "complete")
    count = []
    page.runJavaScript("document.querySelectorAll('a.download').length", 0, count.append)
    wait(lambda: bool(count))
    n_links = int(count[0])
    picker = sender.window.picker
    time.sleep(0.3)
    for k in range(clicks):
        js = f"document.querySelectorAll('a.download')[{k % n_links}].click(); 'ok'"
        t_click = time.perf_counter()
        page.runJavaScript(js, 0, lambda _r: None)
        t_visible = wait(lambda: picker.isVisible())
        t_filled = wait(lambda: bool(picker.rows))
        results.append(
            {
                "visible_ms": (t_visible - t_click) * 1000,
                "filled_ms": (t_filled - t_click) * 1000,
                "devices": len(picker.rows),
            }
        )
        picker.dismiss()
        wait(lambda: not picker.isVisible())
        end = time.perf_counter() + 0.2
        wait(lambda: time.perf_counter() > end)
    out = {
        "process_to_qapp_ms": (t_imports - T_PROCESS) * 1000,
        "construct_to_first_page_ms": (marks["first_page"] - t_construct) * 1000,
        "construct_to_signed_in_ms": (marks["signed_in"] - t_construct) * 1000,
        "launch_to_first_page_ms": (t_wall_first_page - float(launched_at)) * 1000,
        "links_on_page": n_links,
        "clicks": results,
    }
    Path(out_path).write_text(json.dumps(out))
    sender.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
