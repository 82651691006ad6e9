"""The receiver window against a real relay process: Create an account, friend invitations, Download
again after a cancel, and this account's devices (rename, remove another, removed from elsewhere)."""

from __future__ import annotations

import hashlib
import threading

import pytest
from receiver.fakes import fake_platform

from mobile_receiver.service import ReceiverService
from receiver_ui.gated_server import GatedPackageServer
from relay_server.demo_catalog import build_package
from shared.relay_client import DeviceInfo, RelayClient
from shared.relay_errors import RelayError
from tests.helpers.relay_process import relay_with_laptop

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    """One relay for these tests (a relay process takes seconds to start): each test uses
    accounts or devices of its own."""
    with relay_with_laptop(tmp_path_factory.mktemp("relay"), "anna", PASSWORD) as process:
        yield process


def open_phone(relay, tmp_path, drive, username="anna", *, create=False, name="Anna's test phone"):
    """A receiver window that signs in (or creates the account) through its own login screen."""
    from mobile_receiver.ui.app import ReceiverApp

    data_dir = tmp_path / f"phone-{username}"
    data_dir.mkdir()
    service = ReceiverService(
        data_dir,
        platform=fake_platform(data_dir),
        download_options={"backoff_initial": 0.05, "backoff_max": 0.2, "chunk_size": 16384},
        stream_options={"max_backoff": 0.5},
    )
    app = ReceiverApp(service)
    ui = drive(app)
    form = app.login_screen.ids
    form.relay.text, form.username.text, form.password.text = relay.url, username, PASSWORD
    form.device_name.text = name
    ui.tap(form.create_account if create else form.submit)
    ui.show_screen("inbox")
    ui.wait_until(lambda: app.inbox_screen.connection_text == "Connected", what="Connected")
    return app, ui


def tap_in_settings(ui, widget, what=None):
    """Scroll Settings to ``widget`` (it may be below the fold), then tap it."""
    from kivy.uix.scrollview import ScrollView

    parent = widget.parent
    while parent is not None and not isinstance(parent, ScrollView):
        parent = parent.parent
    if parent is not None:
        parent.scroll_to(widget, padding=40, animate=False)
        ui.frames(3)
    ui.tap(widget, what)


def signed_in(relay, username, device_id, name, *, create=False) -> RelayClient:
    client = RelayClient(relay.url)
    if create:
        client.create_account(username, PASSWORD)
    client.login(username, PASSWORD, DeviceInfo(device_id, name, "Model X", "android"))
    return client


class StreamWatch:
    """A device's event stream read in a thread, remembering how it ended."""

    def __init__(self, client: RelayClient):
        self.connected = threading.Event()
        self.ended: list[BaseException | None] = []
        self.stream = client.stream(
            read_timeout=10, max_backoff=0.5, on_status=lambda s: s.state == "connected" and self.connected.set()
        )
        self.thread = threading.Thread(target=self._run, name="watched-stream", daemon=True)
        self.thread.start()
        assert self.connected.wait(30), "the stream did not connect"

    def _run(self):
        try:
            for _ in self.stream:
                pass
        except RelayError as exc:
            self.ended.append(exc)
        else:
            self.ended.append(None)

    def close(self):
        self.stream.close()
        self.thread.join(15)


def test_create_an_account_from_the_phone(relay, tmp_path, drive):
    app, ui = open_phone(relay, tmp_path, drive, "bea", create=True, name="Bea's phone")

    # The account exists at the relay with this phone in it: another device of Bea's signs in and sees it.
    other = signed_in(relay, "bea", "bea-tablet", "Bea's tablet")
    assert [d.name for d in other.devices() if d.relation == "self" and d.online] == ["Bea's phone"]
    assert app.service.profile.username == "bea"


def test_accept_one_invitation_and_decline_another(relay, tmp_path, drive):
    ben = signed_in(relay, "ben", "ben-phone", "Ben's phone", create=True)
    cleo = signed_in(relay, "cleo", "cleo-phone", "Cleo's phone", create=True)
    ben.request_friend("anna")
    cleo.request_friend("anna")
    app, ui = open_phone(relay, tmp_path, drive, name="Anna's phone for People")
    ui.tap(app.inbox_screen.ids.settings)
    ui.show_screen("settings")
    rows = app.settings_screen.ids.people
    row = lambda name: next((r for r in rows.children if r.username == name), None)  # noqa: E731
    ui.wait_until(lambda: row("ben") is not None and row("cleo") is not None, what="both invitations")
    assert row("ben").hint == "Invited you"

    tap_in_settings(ui, row("ben").children[1], "Accept")  # (Kivy keeps children last first: Decline, Accept, text)
    ui.wait_until(lambda: row("ben") is not None and row("ben").hint == "Friend", what="ben a friend")
    tap_in_settings(ui, row("cleo").children[0], "Decline")
    ui.wait_until(lambda: row("cleo") is None, what="cleo's invitation gone")

    assert [(f.username, f.status) for f in ben.friends()] == [("anna", "accepted")]
    assert cleo.friends() == []


def test_download_again_after_a_cancel_is_installed_and_the_sender_sees_it(relay, tmp_path, drive):
    app, ui = open_phone(relay, tmp_path, drive, name="Anna's phone for Download again")
    device_id = app.service.profile.device_id
    body = build_package("apk", "org.example.again", "Again", "1.0", 1, size=400_000)
    with GatedPackageServer(body, hold_at=100_000) as srv:
        info = {
            "id": "org.example.again",
            "name": "Again",
            "version": "1.0",
            "packages": [
                {"format": "apk", "url": srv.url, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
            ],
        }
        push = relay.laptop.push(info, "install_now", [device_id])[0]
        ui.wait_until(
            lambda: ui.card(push.id) is not None and ui.card(push.id).button("cancel") is not None,
            what="the card with Cancel",
        )
        ui.wait_until(lambda: srv.holding.is_set(), what="the download held mid-way")
        ui.tap(ui.card(push.id).button("cancel"))
        ui.wait_until(lambda: relay.laptop.get_push(push.id).state == "declined", what="declined at the relay")
        ui.wait_until(lambda: ui.card(push.id).button("download_again") is not None, what="Download again")

        srv.open()
        ui.tap(ui.card(push.id).button("download_again"))

        ui.wait_until(lambda: ui.card(push.id).state_text == "Installed", what="Installed on the card")
        ui.wait_until(lambda: relay.laptop.get_push(push.id).state == "installed", what="installed at the relay")
    states = [h.state for h in relay.laptop.get_push(push.id).history]
    assert states[states.index("declined") + 1] == "downloading"


def test_devices_rename_and_remove_another_then_this_phone(relay, tmp_path, drive):
    from kivy.core.window import Window

    from mobile_receiver.ui.questions import ConfirmDialog, RenameDialog

    tablet = signed_in(relay, "anna", "anna-tablet", "Anna's tablet")
    watch = StreamWatch(tablet)
    try:
        app, ui = open_phone(relay, tmp_path, drive, name="Anna's phone for devices")
        ui.tap(app.inbox_screen.ids.settings)
        ui.show_screen("settings")
        screen = app.settings_screen
        ui.wait_until(lambda: screen.device_row("anna-tablet") is not None, what="the tablet in Your devices")
        mine = screen.device_row(app.service.profile.device_id)
        assert mine.this and mine.hint.startswith("This phone") and screen.ids.devices.children[-1] is mine

        dialog = lambda kind: next((w for w in Window.children if isinstance(w, kind)), None)  # noqa: E731
        tap_in_settings(ui, screen.device_row("anna-tablet").ids.rename_button)
        ui.wait_until(lambda: dialog(RenameDialog) is not None, what="the rename question")
        dialog(RenameDialog).ids.name.text = "Kitchen tablet"
        ui.tap(dialog(RenameDialog).ids.save)
        ui.wait_until(lambda: screen.device_row("anna-tablet").title == "Kitchen tablet", what="the new name")
        assert screen.devices_text == "Renamed to Kitchen tablet."
        assert {d.id: d.name for d in relay.laptop.devices()}["anna-tablet"] == "Kitchen tablet"

        tap_in_settings(ui, screen.device_row("anna-tablet").ids.remove_button)
        ui.wait_until(lambda: dialog(ConfirmDialog) is not None, what="the remove question")
        assert "signed out at once" in dialog(ConfirmDialog).message
        ui.tap(dialog(ConfirmDialog).ids.yes)
        ui.wait_until(lambda: watch.ended, what="the tablet's stream to close")
        assert isinstance(watch.ended[0], RelayError) and watch.ended[0].status == 401
        ui.wait_until(lambda: screen.device_row("anna-tablet") is None, what="the tablet gone from the list")
        assert screen.devices_text == "Removed Kitchen tablet: it is signed out."

        # This phone: asked first, then signed out to the first screen, which says why.
        tap_in_settings(ui, screen.device_row(app.service.profile.device_id).ids.remove_button)
        ui.wait_until(lambda: dialog(ConfirmDialog) is not None, what="the remove question")
        assert dialog(ConfirmDialog).title == "Remove this phone?"
        ui.tap(dialog(ConfirmDialog).ids.yes)
        ui.show_screen("login")
        assert app.login_screen.notice.startswith("This phone was signed out of anna's account on the relay at")
        assert app.service.profile.token is None
        assert app.service.profile.device_id not in [d.id for d in relay.laptop.devices()]
    finally:
        watch.close()


def test_removed_from_another_device_the_phone_says_so_on_the_first_screen(relay, tmp_path, drive):
    app, ui = open_phone(relay, tmp_path, drive, name="Anna's phone removed elsewhere")
    ui.tap(app.inbox_screen.ids.settings)
    ui.show_screen("settings")  # a screen other than the inbox: the first screen takes over from anywhere

    relay.laptop.remove_device(app.service.profile.device_id)

    ui.show_screen("login")
    assert app.login_screen.notice == (
        f"This phone was signed out of anna's account on the relay at {relay.url.split('//')[1]}: it was removed "
        "from the account, or the password was changed. Pair again or sign in."
    )
    assert app.login_screen.ids.notice.opacity == 1 and app.login_screen.ids.notice.height > 0
    # The next start opens the first screen too, with the same sentence; the next login clears it.
    from mobile_receiver.profile import ProfileStore

    kept = ProfileStore(app.service.data_dir).load()
    assert kept.token is None and kept.removed_notice == app.login_screen.notice
    form = app.login_screen.ids
    form.password.text = PASSWORD
    ui.tap(form.submit)
    ui.show_screen("inbox")
    ui.wait_until(lambda: app.inbox_screen.connection_text == "Connected", what="Connected again")
    assert app.login_screen.notice == "" and ProfileStore(app.service.data_dir).load().removed_notice == ""
