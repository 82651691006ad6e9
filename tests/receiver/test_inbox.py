"""The inbox state machine with a fake relay client, a fake network and a real HTTP package server."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from mobile_receiver.platform.base import InstalledApp
from mobile_receiver.record import PROMPT_DOWNLOAD, PROMPT_METERED
from shared.relay_errors import RelayError
from shared.signing import DeviceKey, PushFacts, utc_timestamp
from tests.helpers.messages import listed_device

from . import fakes
from .fakes import RECEIVER_ID, FakeRelayClient, push_message, wait_until
from .package_server import PackageServer
from .rig import BODY, Rig


def test_install_now_downloads_verifies_installs_and_reports_each_step(rigs):
    rig = rigs()
    with PackageServer(BODY) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        rig.wait_state("p1", "installed")
    assert rig.reported("p1") == ["delivered", "downloading", "verifying", "installing", "installed"]
    app = rig.platform.installer.installed("org.example.app")
    assert app.version == "1.0" and app.version_code == 10
    assert Path(app.path).read_bytes() == BODY
    assert not list((rig.data_dir / "downloads").glob("*.part"))  # nothing left behind


def test_progress_reports_are_throttled(rigs):
    rig = rigs()
    with PackageServer(BODY, delay=0.01) as srv:  # ~37 blocks, ~0.4 s
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        rig.wait_state("p1", "installed")
    progress = [r for r in rig.client.reports if r["state"] == "downloading"]
    rig.reporter.flush()
    progress = [r for r in rig.client.reports if r["state"] == "downloading"]
    assert 1 <= len(progress) <= 4
    assert progress[-1]["bytes_done"] == progress[-1]["bytes_total"] == len(BODY)


def test_duplicate_push_is_stored_once(rigs):
    rig = rigs()
    with PackageServer(BODY) as srv:
        msg = push_message("p1", srv.url, BODY, mode="notify")
        assert rig.inbox.receive(msg) is not None
        assert rig.inbox.receive(msg) is None  # replayed by the relay after a reconnect
    assert [r.push_id for r in rig.inbox.records()] == ["p1"]
    assert rig.reported() == ["delivered"]


def test_push_is_stored_before_it_is_acknowledged(rigs):
    rig = rigs()
    seen_in_db = []
    original = rig.reporter.report

    def report(push_id, state, **kw):
        if str(state) == "delivered":
            seen_in_db.append(rig.db.has_push(push_id))
        original(push_id, state, **kw)

    rig.reporter.report = report
    rig.inbox.receive(push_message("p1", "http://127.0.0.1:9/x.apk", BODY, mode="notify"))
    assert seen_in_db == [True]


def test_notify_waits_for_download_then_installs(rigs):
    rig = rigs()
    with PackageServer(BODY) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY, mode="notify"))
        rec = rig.inbox.get("p1")
        assert rec.prompt == PROMPT_DOWNLOAD and rec.label == "Ready to download"
        assert srv.requests == []  # nothing downloaded before the user says so
        assert any("Tap Download" in m for _, m in rig.platform.notifier.shown)
        rig.inbox.download("p1")
        rig.wait_state("p1", "installed")
    assert rig.reported("p1") == ["delivered", "downloading", "verifying", "installing", "installed"]


def test_notify_dismissed_is_declined(rigs):
    rig = rigs()
    rig.inbox.receive(push_message("p1", "http://127.0.0.1:9/x.apk", BODY, mode="notify"))
    rig.inbox.dismiss("p1")
    assert rig.state("p1") == "declined"
    assert rig.reported("p1") == ["delivered", "declined"]


@pytest.mark.parametrize(
    "installed, pushed, already",
    [
        (("1.0", 10), ("1.0", 10), True),
        (("2.0", 20), ("1.0", 10), True),
        (("1.0", 10), ("1.1", 11), False),
        (("3.10", None), ("3.9", None), True),
        (("3.9", None), ("3.10", None), False),
    ],
)
def test_already_installed_same_or_newer(rigs, installed, pushed, already):
    rig = rigs()
    rig.platform.installer.install  # the emulated installer records apps in installed.json
    _preinstall(rig, "org.example.app", *installed)
    with PackageServer(BODY) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY, version=pushed[0], version_code=pushed[1]))
        if already:
            assert rig.state("p1") == "already_installed"
            assert srv.requests == []
        else:
            rig.wait_state("p1", "installed")
    expected = (
        ["delivered", "already_installed"]
        if already
        else ["delivered", "downloading", "verifying", "installing", "installed"]
    )
    assert rig.reported("p1") == expected


def test_metered_network_asks_first_then_download_now(rigs):
    rig = rigs(metered=True)
    with PackageServer(BODY) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        rec = rig.inbox.get("p1")
        assert rec.prompt == PROMPT_METERED
        assert "0.6 MB" in rec.notice
        assert srv.requests == []
        rig.inbox.answer_metered("p1", "now")
        rig.wait_state("p1", "installed")
    # the sender saw the phone ask (a paused report whose detail says so), then go on
    assert rig.reported("p1") == ["delivered", "paused", "downloading", "verifying", "installing", "installed"]
    assert rig.client.reports[1]["detail"] == "asking about mobile data"


def test_metered_wait_for_wifi_then_starts_on_wifi(rigs):
    rig = rigs(metered=True)
    with PackageServer(BODY) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        rig.inbox.answer_metered("p1", "wait")
        assert rig.state("p1") == "waiting_for_wifi"
        assert srv.requests == []
        rig.platform.network.set_metered(False)
        rig.wait_state("p1", "installed")
    assert rig.reported("p1") == [
        "delivered",
        "paused",
        "waiting_for_wifi",
        "downloading",
        "verifying",
        "installing",
        "installed",
    ]


def test_metered_cancel_declines(rigs):
    rig = rigs(metered=True)
    rig.inbox.receive(push_message("p1", "http://127.0.0.1:9/x.apk", BODY))
    rig.inbox.answer_metered("p1", "cancel")
    assert rig.reported("p1") == ["delivered", "paused", "declined"]


def test_wifi_only_setting_waits_without_asking(rigs):
    rig = rigs(metered=True, wifi_only=True)
    rig.inbox.receive(push_message("p1", "http://127.0.0.1:9/x.apk", BODY))
    rec = rig.inbox.get("p1")
    assert rec.prompt is None and rec.state == "waiting_for_wifi"


def test_headless_receiver_waits_for_wifi_instead_of_asking(rigs):
    rig = rigs(metered=True, can_ask=False)
    rig.inbox.receive(push_message("p1", "http://127.0.0.1:9/x.apk", BODY))
    assert rig.state("p1") == "waiting_for_wifi"


def test_download_pauses_when_network_turns_metered_and_resumes_on_wifi(rigs):
    rig = rigs()
    with PackageServer(BODY, delay=0.01) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: rig.inbox.get("p1").bytes_done > 100_000, what="some progress")
        rig.platform.network.set_metered(True)
        assert rig.state("p1") == "waiting_for_wifi"
        wait_until(lambda: not rig.inbox.is_active("p1"), what="the download to stop")
        kept = (rig.data_dir / "downloads" / "p1.part").stat().st_size
        assert 0 < kept < len(BODY)
        assert any("mobile data" in m for _, m in rig.platform.notifier.shown)
        srv.delay = 0
        rig.platform.network.set_metered(False)
        rig.wait_state("p1", "installed")
        assert srv.requests[-1]["Range"] == f"bytes={kept}-"  # resumed from where it stopped
    app = rig.platform.installer.installed("org.example.app")
    assert hashlib.sha256(Path(app.path).read_bytes()).hexdigest() == hashlib.sha256(BODY).hexdigest()
    assert rig.reported("p1") == [
        "delivered",
        "downloading",
        "waiting_for_wifi",
        "downloading",
        "verifying",
        "installing",
        "installed",
    ]


def test_user_pause_and_resume(rigs):
    rig = rigs()
    with PackageServer(BODY, delay=0.01) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: rig.inbox.get("p1").bytes_done > 50_000, what="some progress")
        rig.inbox.pause("p1")
        assert rig.inbox.get("p1").label == "Paused"
        wait_until(lambda: not rig.inbox.is_active("p1"), what="the download to stop")
        kept = rig.inbox.get("p1").bytes_done
        assert (rig.data_dir / "downloads" / "p1.part").exists()
        srv.delay = 0
        rig.inbox.resume("p1")
        rig.wait_state("p1", "installed")
        assert srv.requests[-1]["Range"].startswith("bytes=")
        assert int(srv.requests[-1]["Range"][6:-1]) >= kept - 16384
    assert rig.reported("p1") == [
        "delivered",
        "downloading",
        "paused",
        "downloading",
        "verifying",
        "installing",
        "installed",
    ]


def test_resume_on_metered_network_asks_again(rigs):
    rig = rigs()
    with PackageServer(BODY, delay=0.01) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: rig.inbox.get("p1").bytes_done > 0)
        rig.inbox.pause("p1")
        rig.platform.network.metered = True  # quietly: it was metered before the user came back
        rig.inbox.resume("p1")
        assert rig.inbox.get("p1").prompt == PROMPT_METERED


def test_user_cancel_deletes_partial_and_declines(rigs):
    rig = rigs()
    with PackageServer(BODY, delay=0.01) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: rig.inbox.get("p1").bytes_done > 50_000)
        rig.inbox.cancel("p1")
        wait_until(lambda: not rig.inbox.is_active("p1"))
    assert rig.state("p1") == "declined"
    assert not (rig.data_dir / "downloads" / "p1.part").exists()
    assert rig.reported("p1")[-1] == "declined"


def test_sender_cancel_stops_and_deletes_partial_without_reporting(rigs):
    rig = rigs()
    with PackageServer(BODY, delay=0.01) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: rig.inbox.get("p1").bytes_done > 50_000)
        rig.inbox.sender_cancelled("p1")
        wait_until(lambda: not rig.inbox.is_active("p1"))
    assert rig.state("p1") == "cancelled"
    assert rig.inbox.get("p1").label == "Cancelled"
    assert not list((rig.data_dir / "downloads").glob("p1*"))
    assert rig.reported("p1") == ["delivered", "downloading"]


def test_a_push_declined_here_then_withdrawn_by_its_sender_offers_no_download_again(rigs):
    from mobile_receiver.cardview import DOWNLOAD_AGAIN, card_view

    rig = rigs()
    with PackageServer(BODY, delay=0.01) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: rig.inbox.get("p1").bytes_done > 50_000)
        rig.inbox.cancel("p1")
        wait_until(lambda: not rig.inbox.is_active("p1"))
        assert DOWNLOAD_AGAIN in card_view(rig.inbox.get("p1")).actions

        rig.inbox.sender_cancelled("p1")  # the sender withdrew it meanwhile

        rec = rig.inbox.get("p1")
        assert rec.state == "cancelled" and rec.notice == "The sender withdrew this app"
        assert DOWNLOAD_AGAIN not in card_view(rec).actions
        rig.inbox.download_again("p1")  # a tap that was on its way does nothing
        assert rig.state("p1") == "cancelled" and not rig.inbox.is_active("p1")


def test_a_package_gone_from_its_server_fails_with_a_sentence_then_retry_installs(rigs):
    rig = rigs()
    with PackageServer(BODY, fail_status=404, fail_times=1) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        rig.wait_state("p1", "failed")
        rec = rig.inbox.get("p1")
        assert rec.label == "Failed"
        assert rec.detail == rec.notice == f"The package is no longer on the server at {srv.url[7:-4]} (HTTP 404)."
        rig.inbox.retry("p1")
        rig.wait_state("p1", "installed")
    assert rig.reported("p1") == [
        "delivered",
        "downloading",
        "failed",
        "downloading",
        "verifying",
        "installing",
        "installed",
    ]


def test_checksum_mismatch_fails_and_installs_nothing(rigs):
    rig = rigs()
    with PackageServer(BODY) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY, sha256="0" * 64))
        rig.wait_state("p1", "failed")
    assert "SHA-256" in rig.inbox.get("p1").detail
    assert rig.platform.installer.installed("org.example.app") is None
    assert not (rig.data_dir / "downloads" / "p1.part").exists()  # a bad file is not resumed


def test_wrong_format_for_device_fails(rigs):
    rig = rigs()
    rig.inbox.receive(push_message("p1", "http://127.0.0.1:9/x.ipa", BODY, fmt="ipa"))
    rig.wait_state("p1", "failed")  # no apk in the push, none in the catalog
    assert rig.inbox.get("p1").detail == "No android package of org.example.app."  # the relay's words, as a sentence


def test_missing_package_waits_for_the_user_then_is_resolved_through_the_catalog(rigs):
    """No package means no signed hash: it cannot install by itself, but Download works."""
    rig = rigs()
    with PackageServer(BODY) as srv:
        rig.client.catalog[("org.example.app", "android")] = srv.url
        rig.inbox.receive(push_message("p1", None, BODY))
        assert rig.inbox.get("p1").prompt == PROMPT_DOWNLOAD
        rig.inbox.download("p1")
        rig.wait_state("p1", "installed")
    assert rig.inbox.get("p1").package["url"] == srv.url


# --------------------------------------------------------------------------- signed pushes


def _signed_by(key, push_id, url, sender_id=fakes.SENDER_ID):
    msg = push_message(push_id, url, BODY)
    msg["sender"]["device_id"] = sender_id
    msg["signature"] = key.sign(
        PushFacts(
            push_id,
            RECEIVER_ID,
            "install_now",
            "org.example.app",
            "1.0",
            "apk",
            msg["package"]["sha256"],
            utc_timestamp(),
        )
    ).to_dict()
    return msg


def _changed(msg, field):
    if field == "hash":  # the relay swaps the package and its hash
        msg["package"]["sha256"] = hashlib.sha256(b"evil").hexdigest()
    elif field == "version":
        msg["app"]["version"] = "6.6.6"
    elif field == "push_id":
        msg["push_id"] = "p9"
    elif field == "format":
        msg["package"]["format"] = "deb"
    return msg


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda url: push_message("p1", url, BODY, signed=False), "not signed"),
        (lambda url: _signed_by(DeviceKey.generate(), "p1", url), "does not match"),
        (lambda url: push_message("p1", url, BODY, target="another-phone"), "does not match"),
        (lambda url: push_message("p1", url, BODY, sha256=None), "SHA-256 was not known"),
        (lambda url: _changed(push_message("p1", url, BODY), "hash"), "differs from the one the sender signed"),
        (lambda url: _changed(push_message("p1", url, BODY), "version"), "does not match"),
        (lambda url: _changed(push_message("p1", url, BODY), "format"), "does not match"),
        (lambda url: _changed(push_message("p1", url, BODY), "push_id"), "another push"),
        (lambda url: _signed_by(DeviceKey.generate(), "p1", url, sender_id="laptop-unknown"), "unknown"),
    ],
    ids=[
        "unsigned",
        "wrong-key",
        "signed-for-another-device",
        "no-hash",
        "swapped-hash",
        "changed-version",
        "changed-format",
        "replayed-under-another-id",
        "unknown-sender",
    ],
)
def test_install_now_that_does_not_verify_becomes_a_notice_saying_why(rigs, make, reason):
    rig = rigs()
    with PackageServer(BODY) as srv:
        msg = make(srv.url)
        rig.inbox.receive(msg)
        rec = rig.inbox.get(msg["push_id"])
        assert rec.mode == "notify" and rec.prompt == PROMPT_DOWNLOAD
        assert reason in rec.downgraded and reason in rec.notice
        assert not srv.requests, "nothing is downloaded before the user says so"
        assert rig.platform.installer.installed("org.example.app") is None
        assert rig.reported(msg["push_id"]) == ["delivered"]
        assert reason in rig.client.reports[0]["detail"]


def test_a_new_key_of_the_account_is_not_trusted_until_the_user_trusts_it(rigs):
    rig = rigs()
    new_laptop = DeviceKey.generate()
    announced = rig.keyring.observe(
        [
            listed_device(fakes.SENDER_ID, name="Anna's laptop", platform="", public_key=fakes.SENDER_KEY.public_key),
            listed_device("laptop-new", name="Work laptop", platform="", public_key=new_laptop.public_key),
            listed_device(
                "ben-phone", name="Ben's phone", relation="friend", public_key=DeviceKey.generate().public_key
            ),
        ]
    )
    assert [(k.device_id, k.trusted) for k in announced] == [("laptop-new", False)]

    with PackageServer(BODY) as srv:
        rig.inbox.receive(_signed_by(new_laptop, "p1", srv.url, sender_id="laptop-new"))
        assert "Work laptop is new" in rig.inbox.get("p1").downgraded
        rig.keyring.trust("laptop-new")
        rig.inbox.receive(_signed_by(new_laptop, "p2", srv.url, sender_id="laptop-new"))
        rig.wait_state("p2", "installed")
    assert rig.inbox.get("p2").downgraded is None


def test_a_changed_key_of_a_trusted_device_is_not_trusted(rigs):
    rig = rigs()
    thief = DeviceKey.generate()
    (announced,) = rig.keyring.observe(
        [listed_device(fakes.SENDER_ID, name="Anna's laptop", platform="", public_key=thief.public_key)]
    )
    assert announced.changed and not announced.trusted
    with PackageServer(BODY) as srv:
        rig.inbox.receive(_signed_by(thief, "p1", srv.url))
        assert "changed its key" in rig.inbox.get("p1").downgraded
        assert not srv.requests


def test_signed_install_now_still_checks_the_downloaded_bytes_against_the_signed_hash(rigs):
    rig = rigs()
    with PackageServer(b"not what was signed" * 1000) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        rig.wait_state("p1", "failed")
    assert rig.platform.installer.installed("org.example.app") is None


def test_token_goes_only_to_the_relay(rigs, tmp_path):
    with PackageServer(BODY) as srv:
        port = srv.url.split(":")[2].split("/")[0]
        # the relay is this server: relative URL, token sent
        rig = rigs(client=FakeRelayClient(f"http://127.0.0.1:{port}/"))
        rig.inbox.receive(push_message("p1", "/pkg", BODY))
        rig.wait_state("p1", "installed")
        assert srv.requests[-1]["Authorization"] == "Bearer tok"
        # another host (localhost is not 127.0.0.1 as an origin): no token
        rig.inbox.receive(push_message("p2", f"http://localhost:{port}/pkg", BODY, app_id="org.other"))
        rig.wait_state("p2", "installed")
        assert "Authorization" not in srv.requests[-1]


def test_restart_mid_download_continues(tmp_path):
    data_dir = tmp_path / "recv"
    with PackageServer(BODY, delay=0.01) as srv:
        first = Rig(data_dir)
        try:
            first.inbox.receive(push_message("p1", srv.url, BODY))
            wait_until(lambda: first.inbox.get("p1").bytes_done > 100_000)
        finally:
            first.close()  # the app is killed; nothing marks the push paused
        kept = (data_dir / "downloads" / "p1.part").stat().st_size
        assert first.inbox.get("p1").state == "downloading"
        srv.delay = 0
        second = Rig(data_dir, client=first.client)
        try:
            second.wait_state("p1", "installed")
            assert srv.requests[-1]["Range"] == f"bytes={kept}-"
            assert second.reported("p1")[-1] == "installed"
        finally:
            second.close()


def test_restart_while_metered_waits_for_wifi(tmp_path):
    data_dir = tmp_path / "recv"
    with PackageServer(BODY, delay=0.01) as srv:
        first = Rig(data_dir)
        first.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: first.inbox.get("p1").bytes_done > 0)
        first.close()
        second = Rig(data_dir, client=first.client, metered=True)
        try:
            assert second.state("p1") == "waiting_for_wifi"
        finally:
            second.close()


def test_reports_queue_while_offline_and_flush_in_order(rigs):
    client = FakeRelayClient()
    client.offline = True
    rig = rigs(client=client)
    rig.reporter.start()
    with PackageServer(BODY, delay=0.002) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        rig.wait_state("p1", "installed")
    assert client.reports == []
    queued = [r["state"] for r in rig.db.pending_reports(1000)]
    # progress reports coalesce while waiting: one downloading row, not dozens
    assert queued == ["delivered", "downloading", "verifying", "installing", "installed"]
    client.offline = False
    rig.reporter.wake()
    wait_until(lambda: rig.db.count_reports() == 0, what="the outbox to empty")
    assert [r["state"] for r in client.reports] == queued
    assert client.reports[1]["bytes_done"] == len(BODY)


def test_outbox_survives_restart(tmp_path):
    data_dir = tmp_path / "recv"
    client = FakeRelayClient()
    client.offline = True
    first = Rig(data_dir, client=client)
    first.inbox.receive(push_message("p1", "http://127.0.0.1:9/x.apk", BODY, mode="notify"))
    first.inbox.dismiss("p1")
    assert first.reporter.flush() is False
    first.close()
    client.offline = False
    second = Rig(data_dir, client=client)
    try:
        assert second.reporter.flush() is True
        assert client.states() == ["delivered", "declined"]
    finally:
        second.close()


def test_refused_report_is_dropped_and_later_ones_still_go(rigs):
    client = FakeRelayClient()
    client.refuse["declined"] = RelayError(409, "bad_transition", "no")
    rig = rigs(client=client)
    rig.inbox.receive(push_message("p1", "http://127.0.0.1:9/x.apk", BODY, mode="notify"))
    rig.inbox.dismiss("p1")
    rig.inbox.receive(push_message("p2", "http://127.0.0.1:9/x.apk", BODY, mode="notify"))
    assert rig.reporter.flush()
    assert client.states() == ["delivered", "delivered"]


def test_malformed_push_is_ignored(rigs):
    rig = rigs()
    assert rig.inbox.receive({"push_id": "bad", "mode": "sideways"}) is None
    assert rig.inbox.records() == []


def test_records_newest_first_and_listeners_hear_changes(rigs):
    rig = rigs()
    heard = []
    lock = threading.Lock()
    rig.inbox.subscribe(lambda pid: (lock.acquire(), heard.append(pid), lock.release()))
    for i in range(3):
        rig.inbox.receive(push_message(f"p{i}", "http://127.0.0.1:9/x.apk", BODY, mode="notify", app_id=f"a{i}"))
    assert [r.push_id for r in rig.inbox.records()] == ["p2", "p1", "p0"]
    assert None in heard and "p0" in heard


def _preinstall(rig, app_id, version, code):
    import json

    path = rig.data_dir / "installed.json"
    apps = json.loads(path.read_text()) if path.exists() else {}
    apps[app_id] = InstalledApp(app_id, "Example", version, code).to_dict()
    path.write_text(json.dumps(apps))
