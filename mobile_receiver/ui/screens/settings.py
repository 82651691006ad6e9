"""Settings: the language, Wi-Fi only, the emulated metered switch, relay and account, log out,
this account's devices (rename, remove), friends, trusted device keys, installed apps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from mobile_receiver import devices, i18n
from mobile_receiver.i18n import _, ngettext
from mobile_receiver.platform.base import InstalledApp
from mobile_receiver.ui import widgets  # noqa: F401
from mobile_receiver.ui.main_thread import mainthread
from mobile_receiver.ui.questions import ConfirmDialog, RenameDialog
from mobile_receiver.verify import platform_label
from shared.explain import explain, relay_place

if TYPE_CHECKING:
    from shared.api_messages import Friend
    from shared.relay_client import RelayClient

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class InstalledAppRow(BoxLayout):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """One installed app with an Uninstall button."""

    app_id = StringProperty("")
    title = StringProperty("")
    hint = StringProperty("")
    screen = ObjectProperty(None)


class DeviceKeyRow(BoxLayout):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """One device of the account and its signing key, with Trust for a key not trusted yet."""

    device_id = StringProperty("")
    title = StringProperty("")
    hint = StringProperty("")
    trusted = BooleanProperty(True)
    screen = ObjectProperty(None)


class FriendRow(BoxLayout):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """A friend, or an invitation with Accept and Decline."""

    username = StringProperty("")
    hint = StringProperty("")
    incoming = BooleanProperty(False)
    screen = ObjectProperty(None)


class AccountDeviceRow(BoxLayout):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """One of the account's devices with Rename and Remove; this phone is marked and first."""

    device_id = StringProperty("")
    title = StringProperty("")
    hint = StringProperty("")
    this = BooleanProperty(False)
    busy = BooleanProperty(False)
    screen = ObjectProperty(None)


class SettingsScreen(Screen):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """Reads and writes the profile and the device layer through the app."""

    app = ObjectProperty(None)
    wifi_only = BooleanProperty(False)
    treat_as_metered = BooleanProperty(False)
    has_metered_switch = BooleanProperty(True)
    network_text = StringProperty("")
    relay_text = StringProperty("")
    account_text = StringProperty("")
    device_text = StringProperty("")
    device_id_text = StringProperty("")
    own_key_text = StringProperty("")
    people_text = StringProperty("")
    devices_text = StringProperty("")
    devices_error = BooleanProperty(False)
    installed_text = StringProperty("")
    #: Settings' language choice: "" (the system's), "en" or "zh_CN".
    language_choice = StringProperty(i18n.SYSTEM)

    def on_pre_enter(self, *args: Any) -> None:
        self.load()

    def load(self) -> None:
        """Show the current settings and installed apps."""
        service = self.app.service
        profile = service.profile
        network = service.platform.network
        self.wifi_only = profile.wifi_only
        self.language_choice = getattr(profile, "language", i18n.SYSTEM) or i18n.SYSTEM
        self.treat_as_metered = network.treat_as_metered
        self.has_metered_switch = network.has_metered_switch
        status = network.status()
        now = _("Now: metered (mobile data)") if status.metered else _("Now: Wi-Fi (not metered)")
        source = "" if status.source in ("setting", "test") else _("from {source}").format(source=status.source)
        self.network_text = f"{now} · {source}" if source else now
        self.relay_text = profile.relay_url or _("not set")
        self.account_text = profile.username or _("not logged in")
        self.device_text = " · ".join(
            x for x in (profile.device_name or profile.device_id, profile.model, platform_label(profile.platform)) if x
        )
        self.device_id_text = profile.device_id
        self.own_key_text = _("Fingerprint {fingerprint}").format(fingerprint=service.own_fingerprint)
        keys = self.ids.key_rows
        keys.clear_widgets()
        for key in service.keyring.senders():  # phones never send: they are no senders to trust
            if key.trusted:
                state = _("Trusted")
            else:
                state = _("Key changed: not trusted") if key.changed else _("New: not trusted")
            keys.add_widget(
                DeviceKeyRow(
                    device_id=key.device_id,
                    title=key.name,
                    trusted=key.trusted,
                    hint=f"{state} · {key.fingerprint}",
                    screen=self,
                )
            )
        box = self.ids.installed
        box.clear_widgets()
        apps = service.platform.installer.installed_apps()
        for app in apps:
            box.add_widget(
                InstalledAppRow(app_id=app.app_id, title=app.name or app.app_id, hint=_describe(app), screen=self)
            )
        if apps:
            self.installed_text = ngettext(
                "{count} app installed through Appbeam.", "{count} apps installed through Appbeam.", len(apps)
            ).format(count=len(apps))
        else:
            self.installed_text = _("No apps installed through Appbeam yet.")

    def choose_language(self, choice: str) -> None:
        """System, English or 简体中文: kept in the profile, and every screen speaks it at once."""
        profile = self.app.service.profile
        if getattr(profile, "language", i18n.SYSTEM) != choice:
            profile.language = choice
            self.app.service.save_profile()
        self.language_choice = choice
        self.app.set_language(choice)

    def set_wifi_only(self, value: bool) -> None:
        profile = self.app.service.profile
        if profile.wifi_only != value:
            profile.wifi_only = value
            self.app.service.save_profile()

    def set_treat_as_metered(self, value: bool) -> None:
        network = self.app.service.platform.network
        if network.has_metered_switch and network.treat_as_metered != value:
            network.set_treat_as_metered(value)
        self.load()

    def trust(self, device_id: str) -> None:
        self.app.service.trust_key(device_id)
        self.load()

    def uninstall(self, app_id: str) -> None:
        self.app.service.uninstall(app_id)  # the relay hears of it
        self.load()
        self.load_people()

    # ------------------------------------------------------------------ people (friends)

    def on_enter(self, *args: Any) -> None:
        self.load_people()
        self.load_devices()

    def load_people(self) -> None:
        """Friends and invitations, read off the UI thread."""
        client = self.app.service.client
        if client is None or not hasattr(client, "friends"):
            return

        def work() -> None:
            try:
                friends = client.friends()
            except Exception as exc:  # noqa: BLE001 - the section says why instead
                self._show_people(None, explain(exc, place=relay_place(client.base_url)).text)
            else:
                self._show_people(friends, "")

        threading.Thread(target=work, name="friends", daemon=True).start()

    @mainthread
    def _show_people(self, friends: list[Friend] | None, error: str) -> None:
        box = self.ids.people
        box.clear_widgets()
        for friend in friends or []:
            status = friend.status
            hint = {
                "pending_incoming": _("Invited you"),
                "pending_outgoing": _("Invited: waiting for them"),
                "accepted": _("Friend"),
            }.get(status, status)
            box.add_widget(
                FriendRow(username=friend.username, hint=hint, incoming=status == "pending_incoming", screen=self)
            )
        self.people_text = error or ("" if friends else _("No friends yet. Invite people from your computer."))

    def answer_friend(self, username: str, accept: bool) -> None:
        """Accept or Decline on an invitation."""
        client = self.app.service.client

        def work() -> None:
            try:
                client.accept_friend(username) if accept else client.remove_friend(username)
            except Exception as exc:  # noqa: BLE001
                self._people_error(explain(exc, place=relay_place(client.base_url)).text)
            self.load_people()

        threading.Thread(target=work, name="friend-answer", daemon=True).start()

    @mainthread
    def _people_error(self, text: str) -> None:
        self.people_text = text

    # ------------------------------------------------------------------ this account's devices

    def load_devices(self, message: str = "") -> None:
        """The account's devices, read off the UI thread; ``message`` says what just happened."""
        client = self.app.service.client
        if client is None or not hasattr(client, "devices"):
            return

        def work() -> None:
            try:
                found = client.devices()
            except Exception as exc:  # noqa: BLE001 - the section says why instead
                self._show_devices(None, explain(exc, place=relay_place(client.base_url)).text, True)
            else:
                profile = self.app.service.profile
                this = {
                    "id": profile.device_id,
                    "name": profile.device_name or profile.device_id,
                    "model": profile.model,
                    "platform": profile.platform,
                }
                self._show_devices(devices.own_devices(found, this), message, False)

        threading.Thread(target=work, name="devices", daemon=True).start()

    @mainthread
    def _show_devices(self, lines: list[devices.DeviceLine] | None, text: str, error: bool) -> None:
        box = self.ids.devices
        if lines is not None:
            box.clear_widgets()
            for line in lines:
                box.add_widget(
                    AccountDeviceRow(
                        device_id=line.device_id, title=line.name, hint=line.hint, this=line.this, screen=self
                    )
                )
        self.devices_text, self.devices_error = text, error

    def device_row(self, device_id: str) -> AccountDeviceRow | None:
        return next((row for row in self.ids.devices.children if row.device_id == device_id), None)

    def ask_rename(self, device_id: str, current: str) -> None:
        """Rename: a new name, then the relay renames the device for every device of the account."""
        RenameDialog(
            current,
            lambda name: self._device_call(
                device_id,
                lambda client: client.rename_device(device_id, name),
                done=_("Renamed to {name}.").format(name=name),
            ),
        ).open()

    def ask_remove(self, device_id: str, name: str, this: bool) -> None:
        """Remove asks first; removing this phone signs it out to the first screen."""
        question = devices.remove_question(name, this, self.app.service.profile.username)
        ConfirmDialog(
            _("Remove this phone?") if this else _("Remove {device}?").format(device=name),
            question,
            _("Remove"),
            lambda: self._device_call(
                device_id,
                lambda client: client.remove_device(device_id),
                done=_("Removed {device}: it is signed out.").format(device=name),
                signs_out=this,
            ),
        ).open()

    def _device_call(
        self, device_id: str, call: Callable[[RelayClient], object], done: str, signs_out: bool = False
    ) -> None:
        """Run ``call`` with the relay client off the UI thread; ``done`` is said when it worked.
        ``signs_out``: this phone removed itself, so the first screen takes over."""
        service = self.app.service
        client = service.client
        if client is None:
            return
        row = self.device_row(device_id)
        if row is not None:
            row.busy = True

        def work() -> None:
            try:
                call(client)
            except Exception as exc:  # noqa: BLE001 - the section says why
                self._show_devices(None, explain(exc, place=relay_place(client.base_url)).text, True)
                self._unbusy(device_id)
                return
            if signs_out:
                service.removed_here()  # the first screen takes over, with the sentence
                return
            self.load_devices(done)

        threading.Thread(target=work, name=f"device-{device_id}", daemon=True).start()

    @mainthread
    def _unbusy(self, device_id: str) -> None:
        row = self.device_row(device_id)
        if row is not None:
            row.busy = False


def _describe(app: InstalledApp) -> str:
    version = _("Version {version}").format(version=app.version) if app.version else _("Unknown version")
    when = (app.installed_at or "")[:10]
    return f"{version} · {app.app_id}" + (f" · {when}" if when else "")
