"""From review of the upload route, the package route and the store (real relay processes):
a package made to overload the relay is refused without stopping anyone else; a cancelled or
expired push no longer unlocks its package, and a device not entitled to a package cannot tell
whether the relay keeps it; a restarted relay process leaves its siblings' uploads alone."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time

import pytest
import requests

from relay_server.request_deadlines import MinimumRate, UploadTooSlow
from shared.relay_client import DeviceInfo, RelayClient
from shared.relay_errors import RelayError
from tests.helpers.polling import wait_for
from tests.helpers.relay_process import RelayProcess, anna_with_laptop_and_phone
from tests.helpers.streams import StreamReader
from tests.relay.test_uploads import _answer, _start_upload, notes_apk
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
    assert relay.laptop.upload_package(notes_apk(tmp_path)).uploaded is True


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


@pytest.fixture
def pushed_upload(app, api, client, tmp_path):
    """Anna uploads a package from her laptop and pushes it to her phone and to Ben's."""
    anna, ben = api.account("anna"), api.account("ben")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    ben_phone = api.login(ben, "ben-phone")
    api.befriend(anna, laptop, ben, ben_phone)
    body = notes_apk(tmp_path).read_bytes()
    sha = hashlib.sha256(body).hexdigest()
    assert client.put(f"/api/v1/packages/{sha}?format=apk", data=body, headers=laptop).status_code == 201
    app_info = {
        "id": "org.example.notes",
        "packages": [{"format": "apk", "url": f"/api/v1/packages/{sha}", "sha256": sha}],
    }
    resp = api.push(laptop, ["anna-phone", "ben-phone"], app=app_info, mode="notify")
    assert resp.status_code == 201, resp.get_json()
    pushes = {p["device_id"]: p["id"] for p in resp.get_json()["pushes"]}
    return {
        "sha": sha,
        "body": body,
        "laptop": laptop,
        "phones": {"anna-phone": phone, "ben-phone": ben_phone},
        "pushes": pushes,
    }


def _get(client, sha: str, headers: dict, method: str = "GET"):
    with client.open(f"/api/v1/packages/{sha}", method=method, headers=headers) as resp:
        return resp.status_code, resp.get_data(), resp.get_json(silent=True)


@pytest.mark.parametrize("phone", ["anna-phone", "ben-phone"])
@pytest.mark.parametrize("ended", ["cancelled", "expired"])
def test_a_withdrawn_push_no_longer_unlocks_its_package(client, pushed_upload, phone, ended):
    """The sender cancels (or the push expires): its phone cannot download the package any more,
    even one of the uploading account; the laptop's "already here" check still says yes."""
    from relay_server.db import database
    from relay_server.models import Push

    sha, headers, push_id = pushed_upload["sha"], pushed_upload["phones"][phone], pushed_upload["pushes"][phone]
    assert _get(client, sha, headers)[:2] == (200, pushed_upload["body"])
    if ended == "cancelled":
        assert client.delete(f"/api/v1/pushes/{push_id}", headers=pushed_upload["laptop"]).status_code == 200
    else:
        with database.connection_context():
            Push.update(state="expired").where(Push.id == push_id).execute()

    status, _body, error = _get(client, sha, headers)
    assert status == 404 and error["error"]["code"] == "unknown_package"
    assert _get(client, sha, pushed_upload["laptop"], method="HEAD")[0] == 200


def test_a_cancelled_push_cannot_be_pushed_on_to_regain_its_package(api, client, pushed_upload):
    """Ben's push was cancelled: his laptop cannot push the relay's copy to his phone instead."""
    sha = pushed_upload["sha"]
    push_id = pushed_upload["pushes"]["ben-phone"]
    assert client.delete(f"/api/v1/pushes/{push_id}", headers=pushed_upload["laptop"]).status_code == 200
    ben_laptop = api.login("ben", "ben-laptop", platform="linux")
    app_info = {
        "id": "org.example.notes",
        "packages": [{"format": "apk", "url": f"/api/v1/packages/{sha}", "sha256": sha}],
    }

    resp = api.push(ben_laptop, ["ben-phone"], app=app_info, mode="notify")

    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "not_entitled"
    assert _get(client, sha, pushed_upload["phones"]["ben-phone"])[0] == 404


def test_a_device_not_entitled_cannot_tell_whether_a_package_exists(api, client, pushed_upload):
    """Eve knows the hash of Anna's private upload: the relay answers as if it had none."""
    eve = api.login(api.account("eve"), "eve-phone")
    for method in ("GET", "HEAD"):
        private = _get(client, pushed_upload["sha"], eve, method)
        unknown = _get(client, "0" * 64, eve, method)
        assert private[0] == unknown[0] == 404
        if method == "GET":
            assert private[2]["error"]["code"] == unknown[2]["error"]["code"] == "unknown_package"
            assert (
                private[2]["error"]["message"].replace(pushed_upload["sha"], "0" * 64) == unknown[2]["error"]["message"]
            )


def test_a_restarted_relay_process_leaves_its_siblings_uploads_alone(tmp_path):
    """With --processes N a crashed process restarts while the others receive uploads: a live
    sibling's temporary files stay; a dead process's go at once, and any untouched for a day."""
    store = tmp_path / "relay" / "packages" / "tmp"
    store.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process that has ended: the relay that was killed
    in_progress = store / f"{os.getpid()}-upload-in-progress.part"  # this test plays the live sibling
    killed = store / f"{dead.pid}-cut-short.part"
    crashed = store / "crashed-yesterday.part"
    in_progress.write_bytes(b"PK\x03\x04 half of a package")
    killed.write_bytes(b"PK\x03\x04 what a kill left")
    crashed.write_bytes(b"PK\x03\x04 what a crash left")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(crashed, (two_days_ago, two_days_ago))
    with RelayProcess(tmp_path / "relay", env=ENV) as relay:
        assert requests.get(f"{relay.url}/healthz", timeout=30).status_code == 200
        assert in_progress.read_bytes() == b"PK\x03\x04 half of a package"
        assert not killed.exists()
        assert not crashed.exists()


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_minimum_rate_counts_from_the_first_read_not_from_the_request():
    """The upload route may wait up to 30 s for a pooled database connection before it reads the
    body: an upload sending 1,200 bytes/s (the minimum is 1,000) is not judged slow for that wait."""
    clock = _Clock()
    rate = MinimumRate(1000, 2.0, 20.0, clock=clock)  # made with the request's environ
    clock.now += 30  # the application waits for a connection
    rate.begin()  # its first read
    for _ in range(5):
        clock.now += 1.0
        rate.received(1200)  # no UploadTooSlow
    with pytest.raises(UploadTooSlow):  # then nothing more: too slow, as before
        clock.now += 4.0
        rate.timed_out()


def test_pywsgis_reader_starts_the_window_at_its_first_read():
    from relay_server.request_deadlines import _StreamedInput

    class Body:
        chunked_input, content_length, position = False, 3000, 0

        def read(self, size: int) -> bytes:
            clock.now += 0.5
            data = b"x" * min(size, self.content_length - self.position)
            self.position += len(data)
            return data

    clock = _Clock()
    reader = _StreamedInput(Body(), MinimumRate(1000, 1.0, 20.0, clock=clock))
    clock.now += 30  # waiting for a pooled connection
    assert sum(len(reader.read(1000)) for _ in range(3)) == 3000  # 2,000 bytes/s: fast enough


def test_a_relay_process_takes_only_so_many_uploads_at_once_and_frees_their_slots(tmp_path):
    """APPBEAM_UPLOAD_CONCURRENCY 1: while Anna's upload arrives, Sam's is refused (503, before
    its body); once hers is done, or refused, the slot is free again."""
    env = {**ENV, "APPBEAM_UPLOAD_CONCURRENCY": "1"}
    with RelayProcess(tmp_path / "relay", env=env) as relay:
        laptop, _phone = anna_with_laptop_and_phone(relay.url)
        relay.laptop = laptop
        sam = RelayClient(relay.url)
        sam.create_account("sam", "correct horse")
        sam.login("sam", "correct horse", DeviceInfo("sam-laptop", "Laptop", "ThinkPad", "linux"))
        body = notes_apk(tmp_path, "3.0").read_bytes()
        sock = _start_upload(relay, body, send=1000)
        try:
            wait_for(lambda: list((relay.data_dir / "packages" / "tmp").glob("*")), 30, "Anna's upload writing")
            with pytest.raises(RelayError) as refused:
                sam.upload_package(notes_apk(tmp_path, "3.1"))
            assert refused.value.status == 503 and refused.value.code == "relay_busy"
            assert "try again in a minute" in refused.value.message
            sock.sendall(body[1000:])
            assert _answer(sock).startswith(b"HTTP/1.1 201")
        finally:
            sock.close()
        page = tmp_path / "page.apk"
        page.write_bytes(b"<html><body>Sign in</body></html>" * 50)
        with pytest.raises(RelayError):  # refused: its slot is given back too
            laptop.upload_package(page)
        assert sam.upload_package(notes_apk(tmp_path, "3.1")).uploaded is True
