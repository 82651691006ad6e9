"""Settings: Wi-Fi only, the emulated metered switch, relay and account, log out, trusted device keys,
installed apps."""

from __future__ import annotations

import threading
from pathlib import Path

from kivy.clock import mainthread
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from shared.explain import explain, relay_place

from mobile_receiver.platform.base import InstalledApp
from mobile_receiver.ui import widgets  # noqa: F401

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class InstalledAppRow(BoxLayout):
    """One installed app with an Uninstall button."""

    app_id = StringProperty("")
    title = StringProperty("")
    hint = StringProperty("")
    screen = ObjectProperty(None)


class DeviceKeyRow(BoxLayout):
    """One device of the account and its signing key, with Trust for a key not trusted yet."""

    device_id = StringProperty("")
    title = StringProperty("")
    hint = StringProperty("")
    trusted = BooleanProperty(True)
    screen = ObjectProperty(None)


class FriendRow(BoxLayout):
    """A friend, or an invitation with Accept and Decline."""

    username = StringProperty("")
    hint = StringProperty("")
    incoming = BooleanProperty(False)
    screen = ObjectProperty(None)


class SettingsScreen(Screen):
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

    def on_pre_enter(self, *args) -> None:
        self.load()

    def load(self) -> None:
        """Show the current settings and installed apps."""
        service = self.app.service
        profile = service.profile
        network = service.platform.network
        self.wifi_only = profile.wifi_only
        self.treat_as_metered = network.treat_as_metered
        self.has_metered_switch = network.has_metered_switch
        status = network.status()
        self.network_text = (
            "Now: metered (mobile data)" if status.metered else "Now: Wi-Fi (not metered)"
        ) + ("" if status.source in ("setting", "test") else f" · from {status.source}")
        self.relay_text = profile.relay_url or "not set"
        self.account_text = profile.username or "not logged in"
        self.device_text = f"{profile.device_name or profile.device_id} · {profile.model} · {profile.platform}"
        self.device_id_text = profile.device_id
        self.own_key_text = f"Fingerprint {service.own_fingerprint}"
        keys = self.ids.key_rows
        keys.clear_widgets()
        for key in service.keyring.senders():  # phones never send: they are no senders to trust
            state = "Trusted" if key.trusted else ("Key changed: not trusted" if key.changed else "New: not trusted")
            keys.add_widget(DeviceKeyRow(device_id=key.device_id, title=key.name, trusted=key.trusted,
                                         hint=f"{state} · {key.fingerprint}", screen=self))
        box = self.ids.installed
        box.clear_widgets()
        apps = service.platform.installer.installed_apps()
        for app in apps:
            box.add_widget(InstalledAppRow(app_id=app.app_id, title=app.name or app.app_id, hint=_describe(app), screen=self))
        self.ids.no_apps.height = 0 if apps else self.ids.no_apps.texture_size[1] + 24
        self.ids.no_apps.opacity = 0 if apps else 1

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

    def on_enter(self, *args) -> None:
        self.load_people()

    def load_people(self) -> None:
        """Friends and invitations, read off the UI thread."""
        client = self.app.service.client
        if client is None or not hasattr(client, "friends"):
            return

        def work():
            try:
                friends = client.friends()
            except Exception as exc:  # noqa: BLE001 - the section says why instead
                self._show_people(None, explain(exc, place=relay_place(client.base_url)).text)
            else:
                self._show_people(friends, "")

        threading.Thread(target=work, name="friends", daemon=True).start()

    @mainthread
    def _show_people(self, friends: list[dict] | None, error: str) -> None:
        box = self.ids.people
        box.clear_widgets()
        for friend in friends or []:
            status = friend.get("status")
            hint = {"pending_incoming": "Invited you",
                    "pending_outgoing": "Invited: waiting for them",
                    "accepted": "Friend"}.get(status, status or "")
            box.add_widget(FriendRow(username=friend["username"], hint=hint,
                                     incoming=status == "pending_incoming", screen=self))
        self.people_text = error or ("" if friends else "No friends yet. Invite people from your computer.")

    def answer_friend(self, username: str, accept: bool) -> None:
        """Accept or Decline on an invitation."""
        client = self.app.service.client

        def work():
            try:
                client.accept_friend(username) if accept else client.remove_friend(username)
            except Exception as exc:  # noqa: BLE001
                self._people_error(explain(exc, place=relay_place(client.base_url)).text)
            self.load_people()

        threading.Thread(target=work, name="friend-answer", daemon=True).start()

    @mainthread
    def _people_error(self, text: str) -> None:
        self.people_text = text


def _describe(app: InstalledApp) -> str:
    version = f"Version {app.version}" if app.version else "Unknown version"
    when = (app.installed_at or "")[:10]
    return f"{version} · {app.app_id}" + (f" · {when}" if when else "")
