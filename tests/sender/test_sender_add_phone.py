"""Add a phone: the sender shows a QR code that a phone reads and claims, joining the account
with no password and learning which computer paired it (issue 14)."""

from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image

from shared.pairing import parse_qr_payload
from shared.relay_client import DeviceInfo, RelayClient
from shared.relay_errors import RelayError
from shared.signing import fingerprint
from tests.sender.sender_helpers import WAIT_MS

pytestmark = pytest.mark.qt


def _read_qr(pixmap, path) -> str:
    """What a phone's camera would read from the code on the screen."""
    assert pixmap.save(str(path), "PNG")
    (barcode,) = zxingcpp.read_barcodes(Image.open(path))
    return barcode.text


def test_a_phone_joins_by_scanning_the_code_on_the_screen(qtbot, sender, relay, tmp_path):
    app = sender.app
    with qtbot.waitSignal(app.pairing_shown, timeout=WAIT_MS) as shown:
        dialog = app.show_add_phone()
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)

    payload = parse_qr_payload(_read_qr(dialog.qr.pixmap(), tmp_path / "qr.png"))
    assert payload["code"] == dialog.code_label.text() == shown.args[0].code
    assert payload["fp"] == fingerprint(app.client.key.public_key)
    assert dialog.expiry_label.text() == "Works once, for the next 10 minutes."

    phone = RelayClient(payload["relay"])
    answer = phone.claim_pairing(payload["code"], DeviceInfo("paired-phone", "Paired phone", "Pixel 9", "android"))

    assert answer.account.username == app.username
    assert answer.paired_by.device_id == app.profile.settings.device_id
    assert answer.paired_by.public_key == app.client.key.public_key
    assert "paired-phone" in {d.id for d in app.client.devices()}
    with pytest.raises(RelayError) as again:  # the same code cannot sign in a second phone
        RelayClient(payload["relay"]).claim_pairing(payload["code"], DeviceInfo("x", "X", "X", "android"))
    assert again.value.code == "code_used"


def test_new_code_gives_a_different_code(qtbot, sender):
    app = sender.app
    with qtbot.waitSignal(app.pairing_shown, timeout=WAIT_MS) as first:
        dialog = app.show_add_phone()
    with qtbot.waitSignal(app.pairing_shown, timeout=WAIT_MS) as second:
        dialog.new_button.click()
    assert first.args[0].code != second.args[0].code == dialog.code_label.text()
