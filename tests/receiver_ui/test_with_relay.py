"""The receiver window against a real relay process: log in on the form, then tap through pushes."""

from __future__ import annotations

import hashlib

import pytest
from receiver.fakes import fake_platform

from mobile_receiver.service import ReceiverService
from receiver_ui.gated_server import GatedPackageServer
from relay_server.demo_catalog import build_package
from tests.helpers.relay_process import relay_with_laptop

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse"


@pytest.fixture
def relay(tmp_path):
    with relay_with_laptop(tmp_path / "relay", "anna", PASSWORD) as process:
        yield process


@pytest.fixture
def logged_in(relay, tmp_path, drive):
    """A receiver window that logged in through its own login screen."""
    from mobile_receiver.ui.app import ReceiverApp

    data_dir = tmp_path / "phone"
    data_dir.mkdir()
    service = ReceiverService(
        data_dir,
        platform=fake_platform(data_dir),
        # 16 KiB reads, as the package servers send: progress shows block by block
        download_options={"backoff_initial": 0.05, "backoff_max": 0.2, "chunk_size": 16384},
    )
    app = ReceiverApp(service)
    ui = drive(app)
    assert app.manager.current == "login"
    form = app.login_screen.ids
    form.relay.text = relay.url
    form.username.text = "anna"
    form.password.text = PASSWORD
    form.device_name.text = "Anna's test phone"
    ui.tap(form.submit)
    ui.show_screen("inbox")  # after the login
    ui.wait_until(lambda: app.inbox_screen.connection_text == "Connected", what="Connected")
    device = next(d for d in relay.laptop.devices() if d.name == "Anna's test phone")
    assert device.platform == "android" and device.online
    return app, ui, device.id


def state_at_relay(relay, push_id):
    return relay.laptop.get_push(push_id).state


def test_wrong_password_is_shown_on_the_form(relay, tmp_path, drive):
    from mobile_receiver.ui.app import ReceiverApp

    data_dir = tmp_path / "phone"
    data_dir.mkdir()
    app = ReceiverApp(ReceiverService(data_dir, platform=fake_platform(data_dir)))
    ui = drive(app)
    form = app.login_screen.ids
    form.relay.text, form.username.text, form.password.text = relay.url, "anna", "wrong password"
    ui.tap(form.submit)
    ui.wait_until(lambda: app.login_screen.error != "", what="an error")
    assert app.manager.current == "login"


def test_notify_push_from_relay_then_tap_download(relay, logged_in):
    app, ui, device_id = logged_in
    push = relay.laptop.push({"id": "org.fdroid.fdroid"}, "notify", [device_id])[0]
    ui.wait_until(lambda: ui.card(push.id) is not None, what="the card")
    card = ui.card(push.id)
    assert card.title == "F-Droid" and card.state_text == "Ready to download"
    assert "From anna on Anna's laptop" in card.origin
    ui.wait_until(lambda: state_at_relay(relay, push.id) == "delivered", what="acknowledged")
    ui.tap(card.button("download"))
    ui.wait_until(lambda: card.state_text == "Installed", what="Installed on the card")
    ui.wait_until(lambda: state_at_relay(relay, push.id) == "installed", what="installed at the relay")
    ui.wait_until(lambda: card.icon_source != "", what="the icon from the relay")


def test_pause_and_resume_taps_are_reported_to_the_sender(relay, logged_in):
    app, ui, device_id = logged_in
    body = build_package("apk", "org.example.big", "Big", "1.0", 1, size=1_500_000)
    # Held after 300 kB until the test lets it go on: the Pause button is there for the tap.
    with GatedPackageServer(body, hold_at=300_000) as srv:
        info = {
            "id": "org.example.big",
            "name": "Big",
            "version": "1.0",
            "packages": [
                {"format": "apk", "url": srv.url, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
            ],
        }
        push = relay.laptop.push(info, "install_now", [device_id])[0]
        ui.wait_until(
            lambda: ui.card(push.id) is not None and ui.card(push.id).button("pause") is not None,
            what="the card with Pause",
        )
        ui.wait_until(
            lambda: srv.holding.is_set() and app.service.inbox.get(push.id).bytes_done >= srv.hold_at,
            what="the download held mid-way",
        )
        ui.tap(ui.card(push.id).button("pause"))
        ui.wait_until(lambda: state_at_relay(relay, push.id) == "paused", what="paused at the relay")
        # The card is looked up afresh each time: the inbox may draw it anew when its state changes.
        ui.wait_until(
            lambda: ui.card(push.id) is not None and ui.card(push.id).button("resume") is not None,
            what="the Resume button",
        )
        srv.open()
        ui.tap(ui.card(push.id).button("resume"))
        ui.wait_until(lambda: state_at_relay(relay, push.id) == "installed", what="installed at the relay")
    states = [h.state for h in relay.laptop.get_push(push.id).history]
    assert states.index("paused") < len(states) - 1 - states[::-1].index("downloading")
