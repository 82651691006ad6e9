"""First run: relay address, account and device name; logs in and registers this device."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile_receiver.i18n import _
from mobile_receiver.ui import widgets  # noqa: F401
from mobile_receiver.ui.main_thread import mainthread
from mobile_receiver.verify import platform_label
from shared.assets import LOGO
from shared.explain import explain, relay_place
from shared.relay_errors import RelayError

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

log = logging.getLogger(__name__)


class LoginScreen(Screen):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """The login form; logging in runs in a thread so the window never freezes."""

    app = ObjectProperty(None)
    error = StringProperty("")
    #: Why this screen is shown again (the phone was removed from its account), above the buttons.
    notice = StringProperty("")
    busy = BooleanProperty(False)
    logo = StringProperty(str(LOGO) if LOGO.exists() else "")
    device_line = StringProperty("")

    def prefill(self, password: str = "") -> None:
        """Fill the form from the profile (and flags)."""
        profile = self.app.service.profile
        self.ids.relay.text = profile.relay_url or "http://127.0.0.1:8765"
        self.ids.username.text = profile.username
        self.ids.password.text = password
        self.ids.device_name.text = profile.device_name
        self.device_line = " · ".join(x for x in (profile.model, platform_label(profile.platform)) if x)

    def submit(self, create: bool = False) -> None:
        """Log in (or, with ``create``, make the account with this username and password first)."""
        relay = self.ids.relay.text.strip()
        username = self.ids.username.text.strip()
        password = self.ids.password.text
        device_name = self.ids.device_name.text.strip()
        if not relay or not username or not password:
            self.error = _("Enter the relay address, your username and your password.")
            return
        if not relay.startswith(("http://", "https://")):
            relay = "http://" + relay
        self.error = ""
        self.busy = True
        threading.Thread(
            target=self._log_in, args=(relay, username, password, device_name, create), name="login", daemon=True
        ).start()

    def _log_in(self, relay: str, username: str, password: str, device_name: str, create: bool = False) -> None:
        service = self.app.service
        try:
            (service.create_account if create else service.log_in)(relay, username, password, device_name or None)
        except Exception as exc:  # noqa: BLE001 - whatever it was, the form says why and stays usable
            if not isinstance(exc, RelayError):
                log.exception("logging in to %s failed", relay)
            self._done(explain(exc, place=relay_place(relay)).text)
        else:
            self._done(None)

    @mainthread
    def _done(self, error: str | None) -> None:
        self.busy = False
        if error:
            self.error = error
        else:
            self.app.logged_in()
