"""The relay takes a package file from a device (issue 14, item 5: push any file).

A real relay process behind each HTTP front (lean and pywsgi). Anna's laptop uploads a package
the relay's store has never seen, pushes the relay's copy, and her phone downloads exactly those
bytes; a second upload of the same file sends nothing; a wrong hash, a web page named .apk, a
body over the limit or the account's quota, a slow uploader and a full disk are each refused
with a sentence and leave nothing half-written; a hash someone else uploaded stays theirs.
"""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path

import pytest
import requests

from relay_server.demo_catalog import build_package
from shared.api_messages import PackageUpload
from shared.messages import InstallInfo
from shared.relay_client import DeviceInfo, RelayClient
from shared.relay_errors import RelayError
from tests.helpers.polling import wait_for
from tests.helpers.relay_process import RelayProcess, anna_with_laptop_and_phone

MAX_BYTES = 4_000_000  # above the 1 MiB a JSON request may take: uploads are not held to that
QUOTA = 5_000_000
MIN_RATE, WINDOW = 20_000, 2.0  # bytes/s, averaged over seconds
ENV = {
    "APPBEAM_UPLOAD_MAX_BYTES": str(MAX_BYTES),
    "APPBEAM_UPLOAD_QUOTA_BYTES": str(QUOTA),
    "APPBEAM_UPLOAD_MIN_RATE": str(MIN_RATE),
    "APPBEAM_UPLOAD_RATE_WINDOW": str(WINDOW),
}


def notes_apk(tmp_path: Path, version: str = "3.0", size: int = 100_000) -> Path:
    """A package built on this computer: an app id the relay's store does not have."""
    path = tmp_path / f"notes-{version}.apk"
    path.write_bytes(build_package("apk", "org.example.notes", "Notes", version, 30, size=size))
    return path


@pytest.fixture(params=["lean", "pywsgi"])
def relay(request, tmp_path):
    with RelayProcess(tmp_path / "relay", env=ENV, extra_args=["--http-server", request.param]) as process:
        process.laptop, process.phone = anna_with_laptop_and_phone(process.url)
        yield process


@pytest.fixture(params=["lean", "pywsgi"])
def roomy_relay(request, tmp_path):
    """As ``relay``, with room for 40 uploads of one account at once (``upload_per_account``)."""
    env = {**ENV, "APPBEAM_UPLOAD_PER_ACCOUNT": "64", "APPBEAM_UPLOAD_CONCURRENCY": "64"}
    with RelayProcess(tmp_path / "relay", env=env, extra_args=["--http-server", request.param]) as process:
        process.laptop, process.phone = anna_with_laptop_and_phone(process.url)
        yield process


def leftovers(relay) -> list[Path]:
    """Half-written files in the package store's folder."""
    return list((relay.data_dir / "packages" / "tmp").glob("*"))


def stored(relay, sha: str) -> Path:
    return relay.data_dir / "packages" / sha[:2] / sha


def test_an_uploaded_package_is_pushed_and_the_phone_gets_those_bytes(relay, tmp_path):
    apk = notes_apk(tmp_path, size=3_000_000)
    sha = hashlib.sha256(apk.read_bytes()).hexdigest()
    progress = []
    first = relay.laptop.upload_package(apk, progress=lambda done, total: progress.append((done, total)))
    again = relay.laptop.upload_package(apk)

    assert first == PackageUpload(sha, apk.stat().st_size, "apk", f"/api/v1/packages/{sha}", uploaded=True)
    assert progress[-1] == (apk.stat().st_size, apk.stat().st_size)
    assert again.uploaded is False  # already there: nothing was sent the second time
    info = InstallInfo(id="org.example.notes", name="Notes", version="3.0")
    (push,) = relay.laptop.push_file(apk, info, "install_now", ["anna-phone"])
    assert push.app.name == "Notes" and push.app.version == "3.0"
    package = push.app.packages[0]
    assert package.url == f"/api/v1/packages/{sha}" and package.sha256 == sha
    download = requests.get(relay.phone.url(package.url), headers=relay.phone._headers(), timeout=30)
    assert download.status_code == 200
    assert download.content == apk.read_bytes()


def test_a_wrong_hash_is_refused_and_nothing_is_kept(relay, tmp_path):
    body = notes_apk(tmp_path).read_bytes()
    wrong = hashlib.sha256(b"something else").hexdigest()
    resp = _put(relay, wrong, body)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "hash_mismatch"
    assert not stored(relay, wrong).exists()
    assert not stored(relay, hashlib.sha256(body).hexdigest()).exists()
    assert leftovers(relay) == []


def test_a_web_page_named_apk_is_refused_with_the_reason(relay, tmp_path):
    page = tmp_path / "notes-3.0.apk"
    page.write_bytes(b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>" * 20)
    with pytest.raises(RelayError) as refused:
        relay.laptop.upload_package(page)
    assert refused.value.status == 422 and refused.value.code == "not_a_package"
    assert refused.value.message.startswith("This file is a web page, not an Android app (apk)")
    assert not stored(relay, hashlib.sha256(page.read_bytes()).hexdigest()).exists()
    assert leftovers(relay) == []


def test_a_package_over_the_limit_is_refused_before_a_byte_is_read(relay):
    sha = "ab" * 32
    sock = socket.create_connection(("127.0.0.1", relay.port), timeout=30)
    try:
        sock.sendall(
            f"PUT /api/v1/packages/{sha}?format=apk HTTP/1.1\r\nHost: relay\r\n"
            f"Authorization: Bearer {relay.laptop.token}\r\n"
            f"Content-Length: {MAX_BYTES + 1}\r\n\r\n".encode()
        )
        answer = _answer(sock)  # no body was sent: the answer comes from the announced length
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert b'"too_large"' in answer and b"the relay takes packages of up to 4.0 MB" in answer
    assert leftovers(relay) == []


def test_the_accounts_quota_is_kept_and_says_how_much_is_used(relay, tmp_path):
    relay.laptop.upload_package(notes_apk(tmp_path, "3.0", size=3_000_000))
    with pytest.raises(RelayError) as refused:
        relay.laptop.upload_package(notes_apk(tmp_path, "3.1", size=3_000_000))
    assert refused.value.status == 507 and refused.value.code == "quota_exceeded"
    assert "your account keeps 3.0 MB of uploaded packages on the relay and may keep 5.0 MB" in refused.value.message
    # Another account has a quota of its own.
    sam = RelayClient(relay.url)
    sam.create_account("sam", "correct horse")
    sam.login("sam", "correct horse", DeviceInfo("sam-laptop", "Laptop", "ThinkPad", "linux"))
    assert sam.upload_package(notes_apk(tmp_path, "3.1", size=3_000_000)).uploaded is True


def test_uploads_at_once_cannot_pass_the_quota_or_take_every_slot(relay, tmp_path):
    """Uploads in progress hold their announced bytes: one that would take the account past its
    quota together with them, or one past the account's two at once, is refused before a byte
    of its body is read; another account uploads meanwhile, and the first two complete."""
    bodies = {
        "big": notes_apk(tmp_path, "3.0", size=3_000_000).read_bytes(),
        "small": notes_apk(tmp_path, "3.1", size=1_000_000).read_bytes(),
    }
    socks, refused = {}, []
    try:
        socks["big"] = _start_upload(relay, bodies["big"])
        wait_for(lambda: len(leftovers(relay)) == 1, 30, "the first upload writing")
        refused.append(_start_upload(relay, bodies["big"][:-1] + b"x", send=0))  # 3 MB more: 6 of 5 MB
        answer = _answer(refused[-1])
        assert answer.startswith(b"HTTP/1.1 507") and b'"quota_exceeded"' in answer, answer[:200]
        assert b"and is uploading 3.0 MB more" in answer
        socks["small"] = _start_upload(relay, bodies["small"])  # 4 of 5 MB: fits
        wait_for(lambda: len(leftovers(relay)) == 2, 30, "the second upload writing")
        refused.append(_start_upload(relay, notes_apk(tmp_path, "3.2", size=50_000).read_bytes(), send=0))
        answer = _answer(refused[-1])
        assert answer.startswith(b"HTTP/1.1 429") and b'"too_many_uploads"' in answer, answer[:200]

        sam = RelayClient(relay.url)
        sam.create_account("sam", "correct horse")
        sam.login("sam", "correct horse", DeviceInfo("sam-laptop", "Laptop", "ThinkPad", "linux"))
        assert sam.upload_package(notes_apk(tmp_path, "3.3", size=3_000_000)).uploaded is True

        for name, sock in socks.items():
            sock.sendall(bodies[name][100_000:])
        answers = [_answer(sock) for sock in socks.values()]
    finally:
        for sock in [*socks.values(), *refused]:
            sock.close()
    assert all(a.startswith(b"HTTP/1.1 201") for a in answers), [a[:60] for a in answers]
    assert all(stored(relay, hashlib.sha256(body).hexdigest()).exists() for body in bodies.values())
    assert leftovers(relay) == []


def test_someone_elses_upload_cannot_be_pushed_or_read_by_naming_its_hash(relay, tmp_path):
    apk = notes_apk(tmp_path)
    sha = relay.laptop.upload_package(apk).sha256
    sam = RelayClient(relay.url)
    sam.create_account("sam", "correct horse")
    sam.login("sam", "correct horse", DeviceInfo("sam-laptop", "Laptop", "ThinkPad", "linux"))
    sam_phone = RelayClient(relay.url)
    sam_phone.login("sam", "correct horse", DeviceInfo("sam-phone", "Phone", "Pixel 8", "android"))
    app = {"id": "org.example.notes", "packages": [{"format": "apk", "url": f"/api/v1/packages/{sha}", "sha256": sha}]}

    with pytest.raises(RelayError) as refused:
        sam.push(app, "notify", ["sam-phone"])
    assert refused.value.status == 403 and refused.value.code == "not_entitled"
    assert requests.head(sam.url(f"/packages/{sha}"), headers=sam._headers(), timeout=30).status_code == 404

    # Sending the bytes themselves makes them Sam's too (without sending them twice to disk).
    assert sam.upload_package(apk).uploaded is True
    assert sam.push(app, "notify", ["sam-phone"])[0].state in ("sent", "queued")


def test_a_slow_uploader_does_not_stall_anyone_and_is_told_so(roomy_relay, tmp_path):
    relay = roomy_relay
    slow = []
    for i in range(40):  # more than the relay's 32 pooled database connections
        sha = hashlib.sha256(b"slow %d" % i).hexdigest()
        sock = socket.create_connection(("127.0.0.1", relay.port), timeout=60)
        sock.sendall(
            f"PUT /api/v1/packages/{sha}?format=apk HTTP/1.1\r\nHost: relay\r\n"
            f"Authorization: Bearer {relay.laptop.token}\r\nContent-Length: 100000\r\n\r\nPK".encode()
        )
        slow.append(sock)
    try:
        # While every slow upload is open: other people are served, uploads included.
        started = time.monotonic()
        assert requests.get(f"{relay.url}/healthz", timeout=60).status_code == 200
        other = RelayClient(relay.url)
        other.create_account("sam", "correct horse")
        other.login("sam", "correct horse", DeviceInfo("sam-laptop", "Laptop", "ThinkPad", "linux"))
        assert other.upload_package(notes_apk(tmp_path)).uploaded is True
        assert relay.laptop.push({"id": "org.videolan.vlc"}, "notify", ["anna-phone"])[0].state == "queued"
        assert time.monotonic() - started < WINDOW * 5

        answers = [_answer(sock) for sock in slow]
        assert all(a.startswith(b"HTTP/1.1 408") for a in answers), {a[:40] for a in answers}
        assert all(b"the upload was too slow" in a or b"arrived in" in a for a in answers), answers[0]
    finally:
        for sock in slow:
            sock.close()
    assert leftovers(relay) == []


def test_a_full_disk_answers_507_and_leaves_nothing(tmp_path):
    from tests.relay.test_mirror_disk_full import TinyDisk

    disk = TinyDisk(tmp_path / "relay" / "packages")  # 512 KiB
    disk.mount()
    try:
        env = {**ENV, "APPBEAM_UPLOAD_MAX_BYTES": str(2_000_000), "APPBEAM_UPLOAD_QUOTA_BYTES": str(4_000_000)}
        # No demo store: its packages alone would fill the tiny disk.
        with RelayProcess(tmp_path / "relay", env=env, extra_args=["--no-demo-catalog"]) as relay:
            laptop, _ = anna_with_laptop_and_phone(relay.url)
            apk = notes_apk(tmp_path, size=800_000)
            with pytest.raises(RelayError) as refused:
                laptop.upload_package(apk)
            assert refused.value.status == 507 and refused.value.code == "storage_full"
            assert leftovers(relay) == []
            assert not stored(relay, hashlib.sha256(apk.read_bytes()).hexdigest()).exists()
            # Room again: the same upload goes through.
            small = notes_apk(tmp_path, "3.1", size=100_000)
            assert laptop.upload_package(small).uploaded is True
    finally:
        disk.unmount()


def test_uploads_are_collected_like_mirror_copies_once_no_push_needs_them(app, api, client, tmp_path):
    """In-process relay: housekeeping deletes an upload (file, row, ownership) once its grace
    period passed and no unfinished push uses it; one a queued push uses stays."""
    from datetime import timedelta

    from relay_server import uploads
    from relay_server.db import database, utcnow
    from relay_server.models import Package

    relay = app.extensions["appbeam_relay"]
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    kept, dropped = (notes_apk(tmp_path, version).read_bytes() for version in ("3.0", "3.1"))
    shas = [hashlib.sha256(body).hexdigest() for body in (kept, dropped)]
    for sha, body in zip(shas, (kept, dropped), strict=True):
        resp = client.put(f"/api/v1/packages/{sha}?format=apk", data=body, headers=laptop)
        assert resp.status_code == 201, resp.get_json()
    resp = api.push(
        laptop,
        ["anna-phone"],
        mode="notify",
        app={
            "id": "org.example.notes",
            "packages": [{"format": "apk", "url": f"/api/v1/packages/{shas[0]}", "sha256": shas[0]}],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    old = utcnow() - timedelta(seconds=relay.config.package_grace + 5)
    with database.connection_context():
        Package.update(created_at=old).where(Package.sha256.in_(shas)).execute()

    assert relay.janitor.run_once()["packages_removed"] == 1

    assert relay.store.has(shas[0]) and not relay.store.has(shas[1])
    with database.connection_context():
        account_id = uploads.PackageUpload.get().account_id  # the one upload left: Anna's
        assert uploads.owns(account_id, shas[0]) and not uploads.owns(account_id, shas[1])
        assert uploads.stored_bytes(account_id) == len(kept)


def _put(relay, sha: str, body: bytes) -> requests.Response:
    return requests.put(
        relay.laptop.url(f"/packages/{sha}"),
        params={"format": "apk"},
        data=body,
        headers=relay.laptop._headers(),
        timeout=60,
    )


def _start_upload(relay, body: bytes, send: int = 100_000) -> socket.socket:
    """Anna's laptop announces an upload of ``body`` and sends its first ``send`` bytes."""
    sha = hashlib.sha256(body).hexdigest()
    sock = socket.create_connection(("127.0.0.1", relay.port), timeout=60)
    sock.sendall(
        f"PUT /api/v1/packages/{sha}?format=apk HTTP/1.1\r\nHost: relay\r\n"
        f"Authorization: Bearer {relay.laptop.token}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n\r\n".encode()
        + body[:send]
    )
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the relay sends before it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data
