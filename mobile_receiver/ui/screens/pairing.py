"""Pair with a computer: the code it shows (typed, with the relay address), the QR code's text
pasted, a picture of the QR code opened, or (on Android) the camera. No password."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile_receiver import pairing
from mobile_receiver.i18n import _
from mobile_receiver.ui import widgets  # noqa: F401
from mobile_receiver.ui.main_thread import mainthread
from mobile_receiver.ui.screens import login  # noqa: F401 - its FormField and FieldLabel rules
from shared.explain import explain, host_of, relay_place
from shared.relay_errors import RelayError

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

log = logging.getLogger(__name__)


class PairingScreen(Screen):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """Claims a pairing code in a thread; the form says why when the relay refuses it."""

    app = ObjectProperty(None)
    error = StringProperty("")
    busy = BooleanProperty(False)
    can_scan = BooleanProperty(False)
    #: What was read from a QR code (picture or camera), shown under the field.
    found = StringProperty("")

    def prefill(self) -> None:
        profile = self.app.service.profile
        self.ids.relay.text = profile.relay_url or ""
        self.ids.device_name.text = profile.device_name
        self.can_scan = self.app.service.platform.scanner is not None
        self.error = self.found = ""

    def take_text(self, text: str) -> None:
        """A QR code's text (from a picture or the camera): fill the form from it and pair."""
        try:
            request = pairing.parse(text)
        except pairing.PairingInputError as exc:
            self.error = str(exc)
            return
        self.ids.code.text = text.strip()
        self.ids.relay.text = request.relay_url
        self.found = _("Read the QR code: code {code} for the relay at {host}.").format(
            code=f"{request.code[:4]}-{request.code[4:]}", host=host_of(request.relay_url)
        )
        self.submit()

    def open_image(self, path: str) -> None:
        """Open a picture of the QR code (a screenshot or a photo of the computer's screen)."""
        try:
            text = pairing.read_qr_image(path)
        except pairing.PairingInputError as exc:
            self.error = str(exc)
            return
        self.take_text(text)

    def choose_image(self) -> None:
        from mobile_receiver.ui.image_chooser import ImageChooser  # noqa: PLC0415

        ImageChooser(on_chosen=self.open_image).open()

    def scan(self) -> None:
        scanner = self.app.service.platform.scanner
        if scanner is not None:
            scanner.scan(self._scanned)

    @mainthread
    def _scanned(self, text: str | None) -> None:
        if text:
            self.take_text(text)

    def submit(self) -> None:
        try:
            request = pairing.parse(self.ids.code.text, self.ids.relay.text)
        except pairing.PairingInputError as exc:
            self.error = str(exc)
            return
        self.error = ""
        self.busy = True
        name = self.ids.device_name.text.strip() or None
        threading.Thread(target=self._pair, args=(request, name), name="pairing", daemon=True).start()

    def _pair(self, request: pairing.PairingRequest, name: str | None) -> None:
        try:
            self.app.service.pair(request, name)
        except pairing.PairingInputError as exc:
            self._done(str(exc))
        except Exception as exc:  # noqa: BLE001 - whatever it was, the form says why and stays usable
            if not isinstance(exc, RelayError):
                log.exception("pairing with %s failed", request.relay_url)
            self._done(explain(exc, place=relay_place(request.relay_url)).text)
        else:
            self._done(None)

    @mainthread
    def _done(self, error: str | None) -> None:
        self.busy = False
        if error:
            self.error = error
        else:
            self.app.logged_in()
