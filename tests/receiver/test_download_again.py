"""Download again on a push this phone declined, against a real relay process: the sender sees it
downloading and then installed; a package the relay let go since is said in a sentence."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from mobile_receiver.cardview import card_view
from mobile_receiver.service import ReceiverService
from relay_server.demo_catalog import build_package
from tests.helpers.database import test_database_url
from tests.helpers.relay_process import relay_with_laptop

from .fakes import fake_platform, wait_until
from .package_server import PackageServer

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse"


@pytest.fixture
def relay(tmp_path):
    with relay_with_laptop(tmp_path / "relay", "anna", PASSWORD) as process:
        yield process


def make_phone(relay, data_dir, *, start=True):
    data_dir.mkdir()
    service = ReceiverService(
        data_dir,
        platform=fake_platform(data_dir),
        download_options={"backoff_initial": 0.05, "backoff_max": 0.2},
        reporter_options={"backoff_initial": 0.05, "backoff_max": 0.5},
        stream_options={"max_backoff": 0.5},
    )
    service.log_in(relay.url, "anna", PASSWORD, "Anna's Pixel")
    if start:
        start_phone(service)
    return service


def start_phone(service):
    service.start()
    wait_until(lambda: service.connection.state == "connected", what="the stream to connect")


@pytest.fixture
def phones():
    made = []
    yield made
    for service in made:
        service.stop()


def _state(relay, push_id):
    return relay.laptop.get_push(push_id).state


def _dismissed_notify_push(relay, phone, app_id=None, push=None):
    push = push or relay.laptop.push({"id": app_id}, "notify", [phone.profile.device_id])[0]
    wait_until(
        lambda: (rec := phone.inbox.get(push.id)) is not None and rec.prompt is not None,
        what="the push offering Download",
    )
    phone.inbox.dismiss(push.id)
    wait_until(lambda: _state(relay, push.id) == "declined", what="declined at the relay")
    return push


def test_download_again_after_a_dismiss_is_installed_and_the_sender_sees_it(relay, tmp_path, phones):
    phones.append(phone := make_phone(relay, tmp_path / "phone"))
    push = _dismissed_notify_push(relay, phone, "org.fdroid.fdroid")

    phone.inbox.download_again(push.id)

    wait_until(lambda: phone.inbox.get(push.id).state == "installed", what="installed on the phone")
    wait_until(lambda: _state(relay, push.id) == "installed", what="installed at the relay")
    states = [h.state for h in relay.laptop.get_push(push.id).history]
    assert states[states.index("declined") + 1] == "downloading"
    assert phone.platform.installer.installed("org.fdroid.fdroid") is not None


@pytest.mark.skipif(bool(test_database_url()), reason="reaches into the relay's SQLite file")
def test_download_again_when_the_relay_let_the_package_go_says_so(relay, tmp_path, phones):
    body = build_package("apk", "org.example.kept", "Kept", "1.0", 1, size=50_000)
    sha = hashlib.sha256(body).hexdigest()
    phone = make_phone(relay, tmp_path / "phone", start=False)  # offline: the relay keeps a copy
    phones.append(phone)
    with PackageServer(body) as srv:
        push = relay.laptop.push(
            {
                "id": "org.example.kept",
                "name": "Kept",
                "version": "1.0",
                "packages": [{"format": "apk", "url": srv.url, "sha256": sha, "size": len(body)}],
            },
            "notify",
            [phone.profile.device_id],
        )[0]
        wait_until(
            lambda: relay.laptop.get_push(push.id).package.url.endswith(f"/packages/{sha}"),
            what="the relay's copy",
        )
    start_phone(phone)
    push = _dismissed_notify_push(relay, phone, push=push)
    # What housekeeping does once a declined push is older than the queue TTL: row and file go.
    with sqlite3.connect(relay.data_dir / "relay.db") as db:
        db.execute("DELETE FROM package WHERE sha256 = ?", (sha,))
    (relay.data_dir / "packages" / sha[:2] / sha).unlink()

    phone.inbox.download_again(push.id)

    wait_until(lambda: phone.inbox.get(push.id).package_gone, what="the package found gone")
    rec = phone.inbox.get(push.id)
    sentence = rec.notice
    assert sentence.startswith("The relay at 127.0.0.1") and "no longer keeps this app's package" in sentence
    assert "Ask the sender to send it again." in sentence and "HTTP" not in sentence
    # Declined again, here and at the relay (which refused the re-opening with 410): nothing to tap
    # but Remove; the sender reads the same sentence and can Resend.
    assert rec.state == "declined" and card_view(rec).actions == ("forget",)  # Remove
    wait_until(lambda: relay.laptop.get_push(push.id).detail == sentence, what="the sentence at the sender")
    assert _state(relay, push.id) == "declined"
