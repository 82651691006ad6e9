"""The headless demo's tour: take the running sender through one push and save screenshots.

``appbeam sender --headless --tour DIR`` (what ``appbeam demo --headless`` runs): once
signed in and the store is shown, click the first Android download, save the picker
(``sender-picker.png``), choose this account's online device(s) that can take it, press
"Install now", follow the push for a while, save ``sender-pushes.png`` and quit. Every
step waits on the event loop (timers), never blocks it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from desktop_sender.app import SenderApp
from shared.messages import Push

log = logging.getLogger(__name__)

CLICK_FIRST_APK = """
(function () {
  var link = document.querySelector('a.download[data-format="apk"]') || document.querySelector('a.download');
  if (!link) { return 'missing'; }
  link.scrollIntoView({block: 'center'});
  link.click();
  return link.dataset.appId || link.href;
})()
"""


#: States that show the push made it to the device and is moving.
class SenderTour(QObject):
    """Drives one push through the sender's real UI and writes PNG files into ``outdir``."""

    def __init__(self, sender: SenderApp, outdir: str | Path, *, follow_seconds: float = 25.0):
        super().__init__(sender)
        self.sender_app = sender
        self.outdir = Path(outdir)
        self.outdir.mkdir(parents=True, exist_ok=True)
        self.follow_seconds = follow_seconds
        self._pushes: list[Push] = []
        self._loaded = False
        sender.push_sent.connect(self._on_push_sent)
        sender.window.browser.loadFinished.connect(self._on_load_finished)

    def start(self) -> None:
        """Begin the tour once the sender is signed in, the store is shown and a phone is online."""
        self._wait(
            lambda: bool(self.sender_app.username) and self._page_ready(),
            60,
            self._wait_for_phone,
            "sign-in and the store",
        )

    # ------------------------------------------------------------------ steps

    def _wait_for_phone(self) -> None:
        """The demo starts the phones after this laptop logged in: give them a moment to connect."""
        online = {"seen": False}

        def ask() -> None:
            call = self.sender_app.worker.call(self.sender_app.client.devices)
            call.succeeded.connect(
                lambda devices: online.update(seen=any(d["relation"] == "self" and d["online"] for d in devices))
            )

        poll = QTimer(self)
        poll.setInterval(500)
        poll.timeout.connect(ask)
        poll.start()
        ask()

        def then() -> None:
            poll.stop()
            self._click_download()

        self._wait(lambda: online["seen"], 45, then, "a phone to come online", fail=then)

    def _click_download(self) -> None:
        QTimer.singleShot(
            1500,
            self,
            lambda: self.sender_app.window.browser.page().runJavaScript(CLICK_FIRST_APK, 0, self._on_clicked),
        )

    def _on_clicked(self, result: object) -> None:
        if result == "missing":
            self._finish("the start page has no download link")
            return
        log.info("tour: clicked the download of %s", result)
        picker = self.sender_app.window.picker
        self._wait(
            lambda: picker.isVisible() and (bool(picker.rows) or picker.retry_button.isVisible()),
            30,
            self._choose_devices,
            "the device list",
        )

    def _choose_devices(self) -> None:
        picker = self.sender_app.window.picker
        own = [r for r in picker.rows if r.compatible and not r.is_friend]
        chosen = [r for r in own if r.online][:1] or own[:1]
        for row in chosen:
            row.checkbox.setChecked(True)
        QTimer.singleShot(1200, self, lambda: self._picker_shot(bool(chosen)))

    def _picker_shot(self, can_send: bool) -> None:
        self._save("sender-picker.png")
        picker = self.sender_app.window.picker
        if not can_send or not picker.install_button.isEnabled():
            self._finish("no own device can take the app")
            return
        picker.install_button.click()
        self._wait(lambda: bool(self._pushes), 30, self._follow, "the relay to take the push")

    def _follow(self) -> None:
        ids = {p.id for p in self._pushes}
        board = self.sender_app.board

        def progressed() -> bool:
            entries = [board.get(i) for i in ids]
            # The picture is worth most once the phone is done (Installed), not mid-way.
            return all(e is not None and e.finished for e in entries)

        self._wait(
            progressed, self.follow_seconds, self._pushes_shot, "the device to report progress", fail=self._pushes_shot
        )

    def _pushes_shot(self) -> None:
        self._save("sender-pushes.png")
        QTimer.singleShot(1500, self, lambda: self._finish(None))

    # ------------------------------------------------------------------ helpers

    def _on_push_sent(self, pushes: list[Push]) -> None:
        self._pushes.extend(pushes)

    def _on_load_finished(self, ok: bool) -> None:
        self._loaded = self._loaded or ok

    def _page_ready(self) -> bool:
        return self._loaded and self.sender_app.window.browser.url().scheme() in ("http", "https")

    def _wait(
        self,
        condition: Callable[[], bool],
        seconds: float,
        then: Callable[[], None],
        what: str,
        fail: Callable[[], None] | None = None,
    ) -> None:
        deadline = time.monotonic() + seconds
        timer = QTimer(self)
        timer.setInterval(100)

        def check() -> None:
            if condition():
                timer.stop()
                timer.deleteLater()
                then()
            elif time.monotonic() > deadline:
                timer.stop()
                timer.deleteLater()
                log.warning("tour: gave up waiting for %s", what)
                (fail or (lambda: self._finish(f"timed out waiting for {what}")))()

        timer.timeout.connect(check)
        timer.start()

    def _save(self, name: str) -> None:
        path = self.outdir / name
        if self.sender_app.window.grab().save(str(path)):
            log.info("tour: saved %s", path)
        else:
            log.error("tour: could not save %s", path)

    def _finish(self, problem: str | None) -> None:
        if problem:
            log.error("tour: %s", problem)
            if not (self.outdir / "sender-pushes.png").exists():
                self._save("sender-pushes.png")  # the demo waits for this file
        app = QApplication.instance()
        if app is not None:
            app.exit(0 if problem is None else 1)
