"""From review of the upload route, the package route and the store (real relay processes):
a package made to overload the relay is refused without stopping anyone else; a cancelled or
expired push no longer unlocks its package, and a device not entitled to a package cannot tell
whether the relay keeps it; a restarted relay process leaves its siblings' uploads alone."""

from __future__ import annotations

import hashlib
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


def _in_process_upload(app, api, client, tmp_path, monkeypatch, failure: Exception):
    """Anna's laptop uploads a package while recording it fails with ``failure``."""
    from relay_server import uploads

    def fail(*_args, **_kwargs):
        raise failure

    monkeypatch.setattr(uploads, "record", fail)
    laptop = api.login(api.account("anna"), "anna-laptop", platform="linux")
    body = notes_apk(tmp_path).read_bytes()
    sha = hashlib.sha256(body).hexdigest()
    return sha, body, client.put(f"/api/v1/packages/{sha}?format=apk", data=body, headers=laptop)


def test_an_upload_whose_row_cannot_be_written_leaves_no_file(app, api, client, tmp_path, monkeypatch):
    """Database busy (or no pooled connection) while recording: the store keeps no file that no
    row knows of (housekeeping would never delete it)."""
    import peewee

    store = app.extensions["appbeam_relay"].store
    sha, _body, resp = _in_process_upload(
        app, api, client, tmp_path, monkeypatch, peewee.OperationalError("database is locked")
    )
    assert resp.status_code >= 500, resp.get_json()
    assert not store.has(sha)
    assert list(store.tmp.glob("*")) == []


def test_an_upload_over_the_quota_leaves_someone_elses_copy_of_the_same_file(app, api, client, tmp_path, monkeypatch):
    """Another account's upload of the same bytes has just put the file in place and not yet
    written its row: Anna's upload, refused by the quota when recorded, must not delete it."""
    from relay_server import uploads

    store = app.extensions["appbeam_relay"].store
    body = notes_apk(tmp_path).read_bytes()
    sha = hashlib.sha256(body).hexdigest()
    theirs = store.path_for(sha)
    theirs.parent.mkdir(parents=True, exist_ok=True)
    theirs.write_bytes(body)
    _sha, _body, resp = _in_process_upload(app, api, client, tmp_path, monkeypatch, uploads.OverQuota())
    assert resp.status_code == 507 and resp.get_json()["error"]["code"] == "quota_exceeded"
    assert theirs.read_bytes() == body
    assert list(store.tmp.glob("*")) == []
