"""From review of the upload route, the package route and the store (real relay processes):
a package made to overload the relay is refused without stopping anyone else; a cancelled or
expired push no longer unlocks its package, and a device not entitled to a package cannot tell
whether the relay keeps it; a restarted relay process leaves its siblings' uploads alone."""

from __future__ import annotations

import threading

import pytest

from shared.relay_errors import RelayError
from tests.helpers.relay_process import RelayProcess, anna_with_laptop_and_phone
from tests.helpers.streams import StreamReader
from tests.relay.test_uploads import notes_apk
from tests.shared.test_package_check_zip_limits import many_entries_apk

ENV = {"APPBEAM_UPLOAD_MAX_BYTES": str(40_000_000), "APPBEAM_UPLOAD_QUOTA_BYTES": str(100_000_000)}


@pytest.fixture
def relay(tmp_path):
    with RelayProcess(tmp_path / "relay", env=ENV) as process:
        process.laptop, process.phone = anna_with_laptop_and_phone(process.url)
        yield process


def test_an_apk_made_of_300000_entries_is_refused_while_streams_keep_going(relay, tmp_path):
    bomb = tmp_path / "bomb.apk"
    bomb.write_bytes(many_entries_apk(300_000))  # 26 MB
    outcome: dict[str, object] = {}

    def upload() -> None:
        try:
            relay.laptop.upload_package(bomb)
        except RelayError as exc:
            outcome["refused"] = exc

    uploader = threading.Thread(target=upload)
    with StreamReader(relay.phone) as phone_events:
        uploader.start()
        pushed = 0
        while uploader.is_alive() or not pushed:
            relay.laptop.push({"id": "org.videolan.vlc"}, "notify", ["anna-phone"])
            phone_events.next("push", timeout=10)  # the phone keeps hearing of pushes meanwhile
            pushed += 1
        uploader.join(60)
    refused = outcome["refused"]
    assert isinstance(refused, RelayError)
    assert refused.status == 422 and refused.code == "not_a_package"
    assert "its table of contents is far larger than any app's" in refused.message
    assert list((relay.data_dir / "packages" / "tmp").glob("*")) == []
    # The relay is itself afterwards: an ordinary upload goes through.
    assert relay.laptop.upload_package(notes_apk(tmp_path))["uploaded"] is True
