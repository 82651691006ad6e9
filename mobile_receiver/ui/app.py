"""The Kivy application: screens over the background service, and the glue between threads.

The service's threads (stream, downloads, network) call listeners from wherever they
run; every such call is handed to the UI thread with ``Clock.schedule_once`` (changes
to one push are coalesced into one redraw per frame). User actions that may block
(log in, log out) run in threads; the others are quick and call the inbox directly.

The language is set before the screens are built (Settings' choice, else the system's) and can
change while they show: ``set_language`` makes the ``.kv`` rules re-evaluate (``ui/language.py``)
and redraws what the Python code wrote (cards, connection line, Settings, an open question).
"""

from __future__ import annotations

import glob
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import NoTransition, ScreenManager, SlideTransition

from mobile_receiver import devices, i18n
from mobile_receiver.cardview import INBOX_ACTIONS, then
from mobile_receiver.i18n import _
from mobile_receiver.icons import IconCache
from mobile_receiver.service import Connection, ReceiverService
from mobile_receiver.ui import theme
from mobile_receiver.ui.main_thread import mainthread
from mobile_receiver.ui.screens.inbox import InboxScreen
from mobile_receiver.ui.screens.login import LoginScreen
from mobile_receiver.ui.screens.pairing import PairingScreen
from mobile_receiver.ui.screens.settings import SettingsScreen

log = logging.getLogger(__name__)


class ReceiverApp(App):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """The phone app: login, the app-message page, settings."""

    title = "Appbeam"

    def __init__(
        self,
        service: ReceiverService,
        *,
        start_service: bool = True,
        screenshot: str | None = None,
        screenshot_delay: float = 3.0,
        quit_after: float | None = None,
        prefill: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.service = service
        self.start_service = start_service
        self.screenshot_path = screenshot
        self.screenshot_delay = screenshot_delay
        self.quit_after = quit_after
        self.prefill = prefill or {}
        self.icons = IconCache(service.data_dir / "icons", self._resolve_icon_url)
        self._dirty: set[str | None] = set()
        self._dirty_lock = threading.Lock()
        self._redraw: Callable[[], None] = lambda: None  # Kivy's trigger once build() made it
        self._service_started = False

    # ------------------------------------------------------------------ building

    def build(self) -> Any:
        i18n.set_language(getattr(self.service.profile, "language", i18n.SYSTEM))
        Window.clearcolor = theme.BACKGROUND
        self.manager = ScreenManager(transition=NoTransition())  # no slide at start-up
        self.login_screen = LoginScreen(name="login", app=self)
        self.inbox_screen = InboxScreen(name="inbox", app=self)
        self.settings_screen = SettingsScreen(name="settings", app=self)
        self.pairing_screen = PairingScreen(name="pairing", app=self)
        for screen in (self.login_screen, self.inbox_screen, self.settings_screen, self.pairing_screen):
            self.manager.add_widget(screen)
        self.login_screen.prefill(self.prefill.get("password", ""))
        if not self.service.profile.logged_in:
            self.login_screen.notice = self._removed_notice()  # removed while it was closed
        self.manager.current = "inbox" if self.service.profile.logged_in else "login"
        self.manager.transition = SlideTransition(duration=0.18)
        self._redraw = Clock.create_trigger(self._apply_changes, 0)
        self.service.inbox.subscribe(self._on_push_changed)
        self.service.inbox.on_notice(self._on_notice)
        self.service.on_connection(self._on_connection)
        self._update_device_text()
        self.inbox_screen.refresh_all()
        Clock.schedule_interval(self._tick_connection, 1.0)
        Clock.schedule_interval(self.inbox_screen.tick, 1.0)  # times on the cards age, countdowns count
        return self.manager

    def on_start(self) -> None:
        if self.start_service:
            self.service.start()
            self._service_started = True
        self._show_connection(self.service.connection)
        if self.screenshot_path:
            Clock.schedule_once(lambda dt: self.take_screenshot(), self.screenshot_delay)
            if hasattr(signal, "SIGUSR1") and threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGUSR1, lambda *_: Clock.schedule_once(lambda dt: self.take_screenshot()))
        if self.quit_after:
            Clock.schedule_once(lambda dt: self.stop(), self.quit_after)

    def on_stop(self) -> None:
        if self._service_started:
            self.service.stop()
            self._service_started = False
        self.icons.join(2)

    def take_screenshot(self, path: str | None = None) -> str:
        """Save the window as PNG at ``path`` (default: the --screenshot path); returns the file."""
        target = path or self.screenshot_path
        if not target:
            raise ValueError("no file to save the screenshot to: give a path or --screenshot")
        Window.screenshot(name=target)
        # Kivy numbers screenshots (x0001.png); keep the name the caller asked for.
        written = _numbered(target)
        if written and written != target:
            os.replace(written, target)
        log.info("screenshot saved to %s", target)
        return target

    # ------------------------------------------------------------------ listeners (any thread)

    def _on_push_changed(self, push_id: str | None) -> None:
        with self._dirty_lock:
            self._dirty.add(push_id)
        self._redraw()

    def _apply_changes(self, *_: Any) -> None:
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, set()
        if None in dirty:
            self.inbox_screen.refresh_all()
            return
        for push_id in dirty:
            if push_id is not None:
                self.inbox_screen.refresh_one(push_id)

    @mainthread
    def _on_notice(self, text: str) -> None:
        self.inbox_screen.show_snackbar(text)

    @mainthread
    def _on_connection(self, connection: Connection) -> None:
        self._show_connection(connection)

    def _show_connection(self, connection: Connection) -> None:
        self.inbox_screen.show_connection(connection_text(connection), connection.state)
        if connection.state == "signed_out" and connection.explanation:
            self.signed_out(connection.explanation)

    def _removed_notice(self) -> str:
        """Why this phone is signed out, kept in the profile: said again in the language spoken now."""
        profile = self.service.profile
        if not profile.removed_notice:
            return ""
        return devices.removed_sentence(profile.username, profile.relay_url)

    def signed_out(self, sentence: str) -> None:
        """The relay no longer accepts this phone (removed from the account, here or elsewhere):
        back to the first screen, which says what happened and offers Pair and Log in."""
        self.login_screen.notice = sentence
        if self.manager.current in ("login", "pairing"):
            return
        for dialog in list(Window.children):  # a question about this account means nothing now
            if isinstance(dialog, ModalView):
                dialog.dismiss(animation=False)
        self.login_screen.prefill()
        self.manager.transition.direction = "right"
        self.manager.current = "login"

    def _tick_connection(self, *_: Any) -> None:
        # the "Reconnecting in N s" countdown
        if self.service.connection.state == "reconnecting":
            self._show_connection(self.service.connection)

    def _update_device_text(self) -> None:
        profile = self.service.profile
        self.inbox_screen.device_text = profile.device_name or profile.model

    def _resolve_icon_url(self, url: str) -> str:
        client = self.service.client
        return client.absolute_url(url) if client is not None else url

    # ------------------------------------------------------------------ user actions

    def on_card_action(self, action: str, push_id: str) -> None:
        """A card's button: what ``cardview.INBOX_ACTIONS`` says it does to the inbox."""
        INBOX_ACTIONS[action](self.service.inbox, push_id)

    def refresh(self) -> None:
        """Pull to refresh / the Refresh button."""
        self.inbox_screen.show_snackbar(_("Refreshing..."), 1.5)
        threading.Thread(target=self.service.refresh, name="refresh", daemon=True).start()

    def set_language(self, choice: str) -> str:
        """Speak ``choice`` ("" for the system's language) from now on, on every screen at once."""
        lang = i18n.set_language(choice)  # the .kv rules re-evaluate (ui/language.py)
        self.inbox_screen.relabel()
        self._show_connection(self.service.connection)
        if self.manager.current == "settings":
            self.settings_screen.load()
            self.settings_screen.load_people()
            self.settings_screen.load_devices()
        return lang

    def show_settings(self) -> None:
        self.manager.transition.direction = "left"
        self.manager.current = "settings"

    def show_pairing(self) -> None:
        """Pair with a computer (the login screen's first button)."""
        self.pairing_screen.prefill()
        self.manager.transition.direction = "left"
        self.manager.current = "pairing"

    def show_login(self) -> None:
        self.manager.transition.direction = "right"
        self.manager.current = "login"

    def show_inbox(self) -> None:
        self.manager.transition.direction = "right"
        self.manager.current = "inbox"
        self.inbox_screen.refresh_all()

    def logged_in(self) -> None:
        """Called on the UI thread after a successful login."""
        if not self._service_started and self.start_service:
            self.service.start()
            self._service_started = True
        self.login_screen.notice = ""
        self._update_device_text()
        self.show_inbox()

    def log_out(self) -> None:
        def work() -> None:
            self.service.log_out()
            Clock.schedule_once(lambda dt: self._logged_out())

        threading.Thread(target=work, name="logout", daemon=True).start()

    def _logged_out(self) -> None:
        self.login_screen.prefill()
        self.manager.transition.direction = "right"
        self.manager.current = "login"


def connection_text(connection: Connection, now: float | None = None) -> str:
    """The connection line in the language spoken now: ``Connected``, ``Reconnecting in 4 s``...
    (``Connection.describe`` says it in English for the log; ``explanation`` is
    ``shared.explain``'s sentence, in the language ``shared.i18n`` had when it was made)."""
    state = connection.state
    if state == "connected":
        return _("Connected")
    if state == "reconnecting":
        left = None
        if connection.retry_at is not None:
            left = max(0, round(connection.retry_at - (now if now is not None else time.monotonic())))
        if connection.explanation:
            again = _("Retrying in {seconds}\u00a0s.").format(seconds=left) if left else _("Retrying now.")
            return then(connection.explanation, again)
        return _("Reconnecting in {seconds}\u00a0s").format(seconds=left) if left else _("Reconnecting")
    if state == "connecting":
        return _("Connecting")
    if state == "signed_out":
        return _("Signed out: log in again")
    return connection.explanation or _("Offline")


def _numbered(name: str) -> str | None:
    """The file Window.screenshot actually wrote for ``name`` (it appends a counter)."""
    root, ext = os.path.splitext(name)
    candidates = sorted(glob.glob(f"{glob.escape(root)}[0-9][0-9][0-9][0-9]{ext}"), key=os.path.getmtime)
    return candidates[-1] if candidates else None
