"""Pair with a computer, in a real Kivy window against a real relay process: the QR code rendered
(segno) and opened as a picture, then the computer's install_now push installs with no tap; a used
code typed on the form is refused with the relay's sentence."""

from __future__ import annotations

import pytest
import segno
from receiver.fakes import fake_platform

from mobile_receiver.service import ReceiverService
from shared.relay_client import DeviceInfo, RelayClient
from tests.helpers.relay_process import relay_with_laptop

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse"


@pytest.fixture
def relay(tmp_path):
    """A relay with Alex's account and desktop (``relay.desktop``, a RelayClient with its own key)."""
    with relay_with_laptop(
        tmp_path / "relay", "alex", PASSWORD, device_id="alex-desktop", name="Alex's desktop"
    ) as process:
        process.desktop = process.laptop
        yield process


@pytest.fixture
def window(tmp_path, drive):
    from mobile_receiver.ui.app import ReceiverApp

    data_dir = tmp_path / "phone"
    data_dir.mkdir()
    service = ReceiverService(
        data_dir, platform=fake_platform(data_dir), download_options={"backoff_initial": 0.05, "backoff_max": 0.2}
    )
    app = ReceiverApp(service)
    ui = drive(app)
    assert app.manager.current == "login"
    ui.tap(app.login_screen.ids.pair)
    ui.show_screen("pairing")
    return app, ui


def test_paired_from_a_qr_picture_the_computers_push_installs_with_no_tap(relay, window, tmp_path):
    app, ui = window
    picture = tmp_path / "qr.png"
    segno.make(relay.desktop.create_pairing().qr_payload, error="m").save(str(picture), scale=6)
    screen = app.pairing_screen
    screen.ids.device_name.text = "Alex's Pixel"
    screen.open_image(str(picture))  # what the picture chooser's Open does

    ui.show_screen("inbox")
    ui.wait_until(lambda: app.inbox_screen.connection_text == "Connected", what="Connected")
    phone_id = app.service.profile.device_id
    assert app.service.keyring.get("alex-desktop").trusted

    push = relay.desktop.push({"id": "org.videolan.vlc"}, "install_now", [phone_id])[0]
    ui.wait_until(lambda: ui.card(push.id) is not None, what="the card")
    card = ui.card(push.id)
    ui.wait_until(lambda: card.state_text == "Installed", what="Installed on the card, with no tap")
    ui.wait_until(lambda: relay.desktop.get_push(push.id).state == "installed", what="installed at the relay")

    app.show_settings()
    ui.show_screen("settings")
    names = [row.title for row in app.settings_screen.ids.key_rows.children]
    assert names == ["Alex's desktop"]  # trusted at once; the phone itself is never listed


def test_a_used_code_typed_on_the_form_is_refused_with_its_sentence(relay, window):
    app, ui = window
    code = relay.desktop.create_pairing().code
    RelayClient(relay.url).claim_pairing(code, DeviceInfo("other-phone", "Tablet", "Tab", "android"))
    screen = app.pairing_screen
    screen.ids.code.text = code.lower()
    screen.ids.relay.text = relay.url
    ui.tap(screen.ids.submit)
    ui.wait_until(lambda: screen.error != "", what="the refusal")
    assert screen.error == "This pairing code was used already; make a new one on your computer."
    assert app.manager.current == "pairing" and not screen.busy


def test_something_that_is_not_a_code_is_named_before_asking_the_relay(window):
    app, ui = window
    screen = app.pairing_screen
    screen.ids.code.text = "HELLO"
    ui.tap(screen.ids.submit)
    assert screen.error == "A pairing code is 8 letters and digits, like ABCD-EFGH."
