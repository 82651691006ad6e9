"""The app-message page in a real Kivy window, driven by taps, with a fake relay client."""

from __future__ import annotations

import pytest
from receiver.fakes import RECEIVER_ID, FakeRelayClient, fake_platform, push_message, trusted_keyring
from receiver.package_server import PackageServer

from mobile_receiver.profile import Profile, ProfileStore
from mobile_receiver.service import Connection, ReceiverService
from receiver_ui.gated_server import GatedPackageServer
from relay_server.demo_catalog import build_package
from tests.helpers.messages import listed_device

BODY = build_package("apk", "org.example.app", "Example", "1.0", 10, size=700_000)  # a real apk: the phone checks
FAST = {"backoff_initial": 0.01, "backoff_max": 0.05, "chunk_size": 16384}


@pytest.fixture
def make_app(tmp_path):
    """A ReceiverApp over a logged-in profile, a fake relay client and a fake network."""
    from mobile_receiver.ui.app import ReceiverApp

    def make(metered=False):
        data_dir = tmp_path / "phone"
        data_dir.mkdir(exist_ok=True)
        trusted_keyring(data_dir)  # logged in after the fake laptop: its key is pinned
        ProfileStore(data_dir).save(
            Profile(
                device_id=RECEIVER_ID,
                device_name="Test phone",
                relay_url="http://127.0.0.1:1",
                username="anna",
                token="tok",
            )
        )
        client = FakeRelayClient()
        service = ReceiverService(
            data_dir, platform=fake_platform(data_dir, metered=metered), client=client, download_options=FAST
        )
        return ReceiverApp(service), client

    return make


def test_tap_pause_then_resume(make_app, drive, tmp_path):
    app, client = make_app()
    ui = drive(app)
    inbox = app.service.inbox
    # The server holds the download after 200 kB until the test lets it go on: the card is
    # "Downloading" with its Pause button for as long as the test needs, on any machine.
    with GatedPackageServer(BODY, hold_at=200_000) as srv:
        inbox.receive(push_message("p1", srv.url, BODY, name="VLC"))
        ui.wait_until(
            lambda: ui.card("p1") and ui.card("p1").state_text.startswith("Downloading"), what="downloading card"
        )
        ui.wait_until(lambda: srv.holding.is_set() and inbox.get("p1").bytes_done >= srv.hold_at, what="progress")
        card = ui.card("p1")
        assert card.title == "VLC"
        # The card refreshes progress a few times a second: wait for it rather than race it.
        ui.wait_until(lambda: card.show_progress and card.progress > 0, what="progress on the card")
        ui.tap(card.button("pause"))
        ui.wait_until(lambda: card.state_text == "Paused", what="Paused on the card")
        assert inbox.get("p1").state == "paused"
        ui.wait_until(lambda: card.button("resume") is not None, what="the Resume button")
        assert card.button("pause") is None
        ui.screenshot(tmp_path / "paused.png")
        srv.open()
        ui.tap(card.button("resume"))
        ui.wait_until(lambda: card.state_text == "Installed", what="Installed on the card")
    assert client.states("p1") == [
        "delivered",
        "downloading",
        "paused",
        "downloading",
        "verifying",
        "installing",
        "installed",
    ]
    assert (tmp_path / "paused.png").stat().st_size > 10_000


def test_tap_download_on_notify_push(make_app, drive):
    app, client = make_app()
    ui = drive(app)
    with PackageServer(BODY) as srv:
        app.service.inbox.receive(push_message("p1", srv.url, BODY, mode="notify", name="F-Droid"))
        ui.wait_until(lambda: ui.card("p1") is not None, what="the card")
        card = ui.card("p1")
        assert card.state_text == "Ready to download"
        assert srv.requests == []
        ui.tap(card.button("download"))
        ui.wait_until(lambda: card.state_text == "Installed", what="Installed")
    assert app.service.platform.installer.installed("org.example.app") is not None


def test_tap_dismiss_on_notify_push(make_app, drive):
    app, client = make_app()
    ui = drive(app)
    app.service.inbox.receive(push_message("p1", "http://127.0.0.1:9/x.apk", BODY, mode="notify"))
    ui.wait_until(lambda: ui.card("p1") is not None)
    ui.tap(ui.card("p1").button("dismiss"))
    ui.wait_until(lambda: ui.card("p1").state_text == "Declined")
    assert client.states("p1") == ["delivered", "declined"]


def test_metered_dialog_wait_for_wifi_then_resume_on_wifi(make_app, drive):
    app, client = make_app(metered=True)
    ui = drive(app)
    with PackageServer(BODY) as srv:
        app.service.inbox.receive(push_message("p1", srv.url, BODY))
        ui.wait_until(lambda: app.inbox_screen.dialog is not None, what="the metered dialog")
        dialog = app.inbox_screen.dialog
        assert "0.7 MB" in dialog.message.replace("\u00a0", " ")  # the number and its unit never part
        ui.tap(dialog.ids.wait)
        ui.wait_until(lambda: ui.card("p1").state_text == "Waiting for Wi-Fi")
        assert srv.requests == []
        app.service.platform.network.set_metered(False)
        ui.wait_until(lambda: ui.card("p1").state_text == "Installed", what="installed on Wi-Fi")


def test_metered_dialog_download_now(make_app, drive):
    app, client = make_app(metered=True)
    ui = drive(app)
    with PackageServer(BODY) as srv:
        app.service.inbox.receive(push_message("p1", srv.url, BODY))
        ui.wait_until(lambda: app.inbox_screen.dialog is not None)
        ui.tap(app.inbox_screen.dialog.ids.now)
        ui.wait_until(lambda: ui.card("p1").state_text == "Installed")


def test_connection_state_is_shown(make_app, drive):
    app, _ = make_app()
    ui = drive(app)
    # An hour away: the countdown still shows "Reconnecting in" however long the frame takes.
    app._on_connection(Connection("reconnecting", retry_at=__import__("time").monotonic() + 3600))
    ui.wait_until(lambda: app.inbox_screen.connection_text.startswith("Reconnecting in"))
    app._on_connection(Connection("connected"))
    ui.wait_until(lambda: app.inbox_screen.connection_text == "Connected")


def test_settings_switch_flips_metered_and_lists_installed_apps(make_app, drive):
    app, _ = make_app()
    ui = drive(app)
    with PackageServer(BODY) as srv:
        app.service.inbox.receive(push_message("p1", srv.url, BODY, name="VLC"))
        ui.wait_until(lambda: ui.card("p1") and ui.card("p1").state_text == "Installed")
    ui.tap(app.inbox_screen.ids.settings)
    ui.show_screen("settings")
    screen = app.settings_screen
    assert [row.title for row in screen.ids.installed.children] == ["VLC"]
    assert not app.service.platform.network.is_metered()
    ui.tap(screen.ids.metered, "the metered switch")
    ui.wait_until(lambda: app.service.platform.network.is_metered(), what="a metered network")
    row = screen.ids.installed.children[0]
    _scroll_into_view(row)
    ui.wait_until(lambda: _on_screen(row.children[0]), what="the Uninstall button in view")
    ui.tap(row.children[0])  # Uninstall
    ui.wait_until(lambda: app.service.platform.installer.installed("org.example.app") is None, what="the uninstall")


def test_unsigned_install_now_shows_why_and_settings_trusts_a_new_key(make_app, drive, tmp_path):
    from shared.signing import DeviceKey

    app, _ = make_app()
    ui = drive(app)
    with PackageServer(BODY) as srv:
        app.service.inbox.receive(push_message("p1", srv.url, BODY, name="VLC", signed=False))
        ui.wait_until(lambda: ui.card("p1") is not None, what="the card")
        card = ui.card("p1")
        ui.wait_until(lambda: card.notice, what="the notice on the card")
        assert card.state_text == "Ready to download"
        assert card.notice == "Not installed by itself: the push is not signed"
        assert srv.requests == []
        ui.screenshot(tmp_path / "downgraded.png")

    work_laptop = DeviceKey.generate()
    app.service.keyring.observe(
        [
            listed_device(
                "laptop-anna",
                name="Anna's laptop",
                platform="",
                public_key=app.service.keyring.get("laptop-anna").public_key,
            ),
            listed_device("laptop-work", name="Work laptop", platform="", public_key=work_laptop.public_key),
        ]
    )
    ui.tap(app.inbox_screen.ids.settings)
    ui.show_screen("settings")
    rows = {row.device_id: row for row in app.settings_screen.ids.key_rows.children}
    assert rows["laptop-anna"].trusted and not rows["laptop-work"].trusted
    assert rows["laptop-work"].hint == f"New: not trusted · {work_laptop.fingerprint}"
    ui.screenshot(tmp_path / "settings-keys.png")
    trust = next(w for w in rows["laptop-work"].children if getattr(w, "text", "") == "Trust")
    app.settings_screen.ids.key_rows.parent.parent.scroll_to(trust, padding=40, animate=False)  # below the fold
    ui.frames(3)
    ui.tap(trust)
    assert app.service.keyring.get("laptop-work").trusted

    def trusted_hint():
        rows = {row.device_id: row for row in app.settings_screen.ids.key_rows.children}
        return rows["laptop-work"].hint.startswith("Trusted")

    ui.wait_until(trusted_hint, what="the key row to say Trusted")


def _scroll_view_of(widget):
    from kivy.uix.scrollview import ScrollView

    parent = widget.parent
    while parent is not None and not isinstance(parent, ScrollView):
        parent = parent.parent
    return parent


def _on_screen(widget) -> bool:
    """The widget's centre lies inside the visible part of its ScrollView."""
    view = _scroll_view_of(widget)
    x, y = widget.to_window(*widget.center)
    left, bottom = view.to_window(view.x, view.y)
    return left <= x < left + view.width and bottom <= y < bottom + view.height


def _scroll_into_view(widget) -> None:
    _scroll_view_of(widget).scroll_to(widget, padding=0, animate=False)
