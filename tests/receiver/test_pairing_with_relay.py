"""Pairing by code against a real relay process (issue 14, receiver side): the code read from a
rendered QR image, the pairing computer trusted at once (install_now with no tap), used and
expired codes refused in a sentence, and the installed list reported to the relay."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
import segno

from mobile_receiver import pairing
from mobile_receiver.service import ReceiverService
from shared.explain import explain, relay_place
from shared.relay_client import DeviceInfo, RelayClient
from shared.relay_errors import RelayError
from shared.signing import DeviceKey
from tests.helpers.relay_process import relay_with_laptop

from .fakes import fake_platform, wait_until

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse"
FAST = {"backoff_initial": 0.05, "backoff_max": 0.2}


@pytest.fixture
def relay(tmp_path):
    """A relay with Alex's account and desktop (``relay.desktop``, a RelayClient with its own key)."""
    with relay_with_laptop(
        tmp_path / "relay", "alex", PASSWORD, device_id="alex-desktop", name="Alex's desktop"
    ) as process:
        process.desktop = process.laptop
        yield process


@pytest.fixture
def phone(tmp_path):
    data_dir = tmp_path / "phone"
    data_dir.mkdir()
    service = ReceiverService(
        data_dir,
        platform=fake_platform(data_dir),
        download_options=FAST,
        reporter_options=FAST,
        stream_options={"max_backoff": 0.5},
        installed_options=FAST,
    )
    service.start()
    yield service
    service.stop()


def qr_image(tmp_path, payload: str):
    path = tmp_path / "pairing-qr.png"
    segno.make(payload, error="m", micro=False).save(str(path), scale=6, border=4)
    return path


def test_a_phone_paired_by_qr_image_installs_the_computers_push_with_no_tap(relay, phone, tmp_path):
    made = relay.desktop.create_pairing()
    text = pairing.read_qr_image(qr_image(tmp_path, made.qr_payload))
    request = pairing.parse(text)
    assert request.relay_url == relay.url.rstrip("/") and request.fingerprint == relay.desktop.key.fingerprint

    answer = phone.pair(request, device_name="Alex's Pixel")

    assert phone.profile.logged_in and phone.profile.username == "alex"
    assert answer.paired_by.device_id == "alex-desktop"
    key = phone.keyring.get("alex-desktop")
    assert key.trusted and key.public_key == relay.desktop.key.public_key
    wait_until(lambda: phone.connection.state == "connected", what="the stream to connect")

    push = relay.desktop.push({"id": "org.videolan.vlc"}, "install_now", [phone.profile.device_id])[0]
    wait_until(lambda: relay.desktop.get_push(push.id).state == "installed", timeout=60, what="installed at the relay")
    rec = phone.inbox.get(push.id)
    assert rec.mode == "install_now" and rec.downgraded is None  # nobody tapped anything

    # the installed list reaches the relay: the computer's picker sees the version
    version = relay.desktop.app("org.videolan.vlc").version

    def installed_at_relay():
        device = next(d for d in relay.desktop.devices(app_id="org.videolan.vlc") if d.id == phone.profile.device_id)
        return device.installed

    wait_until(
        lambda: getattr(installed_at_relay(), "version", None) == version,
        timeout=30,
        what="the installed version at the relay",
    )

    phone.uninstall("org.videolan.vlc")  # and an uninstall, too
    wait_until(lambda: installed_at_relay() is None, timeout=30, what="the uninstall at the relay")


def test_a_typed_code_with_dashes_and_lower_case_pairs(relay, phone):
    code = relay.desktop.create_pairing().code
    typed = f"  {code.lower().replace('-', ' - ')} "
    phone.pair(pairing.parse(typed, relay.url.replace("http://", "")), device_name="Alex's Pixel")
    assert phone.keyring.get("alex-desktop").trusted


def test_a_used_code_is_refused_with_its_sentence(relay, phone, tmp_path):
    code = relay.desktop.create_pairing().code
    other = RelayClient(relay.url)
    other.claim_pairing(code, DeviceInfo("someone-else", "Tablet", "Tab", "android"))

    with pytest.raises(RelayError) as refused:
        phone.pair(pairing.parse(code, relay.url))

    assert refused.value.code == "code_used"
    sentence = explain(refused.value, place=relay_place(relay.url)).text
    assert sentence == "This pairing code was used already; make a new one on your computer."
    assert not phone.profile.logged_in


def test_an_expired_code_is_refused_with_its_sentence(relay, phone):
    if relay.database_url:
        pytest.skip("expires the code in the relay's SQLite file")
    code = relay.desktop.create_pairing().code
    past = (datetime.now(UTC) - timedelta(seconds=1)).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(relay.data_dir / "relay.db") as db:  # ten minutes and a second later
        db.execute("UPDATE pairing SET expires_at = ?", (past,))

    with pytest.raises(RelayError) as refused:
        phone.pair(pairing.parse(code, relay.url))

    assert refused.value.code == "code_expired"
    assert explain(refused.value).text == "This pairing code has expired; make a new one on your computer."


def test_a_qr_code_whose_fingerprint_is_not_the_pairing_computers_pairs_nothing(relay, phone):
    made = relay.desktop.create_pairing()
    request = pairing.parse(made.qr_payload)
    forged = pairing.PairingRequest(request.relay_url, request.code, DeviceKey.generate().fingerprint)
    with pytest.raises(pairing.FingerprintMismatch):
        phone.pair(forged)
    assert not phone.profile.logged_in and phone.keyring.get("alex-desktop") is None
