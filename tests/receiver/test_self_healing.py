"""Downloads heal themselves: a passing cause (a server answering 503, the relay away, no network)
is never "Failed"; the card says what the download waits for, in a sentence, it tries again by
itself with backoff, resumes from where it stopped and installs with no tap. Permanent causes
(the package gone, a checksum that fails on a fresh download, a file that is not a package)
end Failed with their own sentence; Retry after a checksum failure downloads from zero.
"""

from __future__ import annotations

import hashlib
import json
import time

from mobile_receiver.cardview import card_view
from mobile_receiver.download import sidecar_path
from shared.protocol import Situation

from .fakes import FakeRelayClient, push_message, wait_until
from .package_server import PackageServer
from .rig import BODY

#: Words that mean exception text leaked to the user.
LEAKS = (
    "Error",
    "error(",
    "Exception",
    "Errno",
    "HTTPConnectionPool",
    "Traceback",
    "urllib3",
    "Max retries",
    "object at 0x",
    "<",
    ">",
)


class Cards:
    """Every (label, notice) a push's card showed, as the screen would have drawn them."""

    def __init__(self, rig, push_id):
        self.seen: list[tuple[str, str]] = []
        rig.inbox.subscribe(lambda changed: self._note(rig, push_id, changed))

    def _note(self, rig, push_id, changed):
        rec = rig.inbox.get(push_id)
        if rec is not None and changed in (push_id, None):
            view = card_view(rec)
            self.seen.append((view.state_text, view.notice))

    def labels(self) -> set[str]:
        return {label for label, _ in self.seen}

    def notices_while(self, label: str) -> list[str]:
        return [notice for seen_label, notice in self.seen if seen_label == label]


def _host(url: str) -> str:
    return url.split("/")[2]


def test_a_server_failing_for_a_while_is_waited_for_and_the_push_installs_with_no_tap(rigs):
    rig = rigs()
    with PackageServer(BODY, fail_status=503, fail_times=1000) as srv:
        cards = Cards(rig, "p1")
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: len(srv.requests) >= 4, what="a few attempts")
        rec = rig.inbox.get("p1")
        assert rec.state == "downloading" and rec.label == "Waiting for the download server"
        view = card_view(rec)
        assert view.notice.startswith(f"The server at {_host(srv.url)} has a problem right now (HTTP 503).")
        assert "Retrying" in view.notice and view.actions == ("pause", "cancel")
        srv.fail_times = 0  # the server is back
        rig.wait_state("p1", "installed")
    assert "Failed" not in cards.labels()
    assert all(not any(leak in notice for leak in LEAKS) for _, notice in cards.seen), cards.seen
    assert rig.platform.installer.installed("org.example.app") is not None


def test_a_download_cut_off_by_the_relay_says_waiting_for_the_relay_and_resumes_from_the_breakpoint(rigs):
    with PackageServer(BODY, drop_after=300_000, drop_times=1) as srv:
        origin = srv.url.rsplit("/", 1)[0]
        rig = rigs(client=FakeRelayClient(origin + "/"))  # the package is the relay's own copy
        srv.fail_status, srv.fail_times = 503, 0
        cards = Cards(rig, "p1")

        def relay_restarting(changed):  # after the drop, the relay answers 503 a few times (restarting)
            if srv.fail_times == 0 and len(srv.requests) == 1 and rig.inbox.get("p1").bytes_done:
                srv.fail_times = 3

        rig.inbox.subscribe(relay_restarting)
        rig.inbox.receive(push_message("p1", "/pkg", BODY))
        rig.wait_state("p1", "installed")
        ranges = [r.get("Range") for r in srv.requests]
    assert "Waiting for the relay" in cards.labels()
    assert any(
        n.startswith(f"The relay at {_host(origin)} has a problem right now (HTTP 503).")
        for n in cards.notices_while("Waiting for the relay")
    ), cards.seen
    assert ranges[0] is None
    resumed = [int(r[6:-1]) for r in ranges[1:] if r]
    assert resumed and all(250_000 <= start <= 300_000 for start in resumed), ranges  # the breakpoint, not zero
    served_twice = sum(len(BODY) - start for start in resumed[1:])  # only the 503s were retried
    assert served_twice == 0 or len(resumed) > 1


def test_an_outside_server_unreachable_while_the_relay_is_away_too_says_no_connection(rigs):
    connected = {"relay": False}
    rig = rigs(relay_connected=lambda: connected["relay"], backoff_initial=0.05, backoff_max=0.1)
    rig.inbox.receive(push_message("p1", "http://127.0.0.1:9/x.apk", BODY))  # nothing listens on port 9
    wait_until(lambda: rig.inbox.get("p1").label == "No connection", what="No connection on the card")
    notice = card_view(rig.inbox.get("p1")).notice
    assert notice.startswith("Can't reach the server at 127.0.0.1:9"), notice
    connected["relay"] = True  # the relay is reachable: it is the download server that is away
    wait_until(lambda: rig.inbox.get("p1").label == "Waiting for the download server", what="the server's fault")
    rig.platform.network.set_connected(False)  # the platform says there is no network at all
    wait_until(lambda: rig.inbox.get("p1").label == "No connection", what="No connection again")
    assert rig.state("p1") == "downloading"


def test_the_relay_hears_what_a_stalled_download_waits_for_and_that_it_went_on(rigs):
    rig = rigs()
    with PackageServer(BODY, fail_status=503, fail_times=1000) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: "paused" in rig.reported("p1"), what="the situation reported")
        srv.fail_times = 0
        rig.wait_state("p1", "installed")
    assert rig.reported("p1") == [
        "delivered",
        "downloading",
        "paused",
        "downloading",
        "verifying",
        "installing",
        "installed",
    ]
    paused = next(r for r in rig.client.reports if r["state"] == "paused")
    assert paused["detail"] == Situation.WAITING_FOR_SERVER == "waiting for the download server"


def test_an_outage_the_relay_never_saw_is_not_reported_after_it(rigs):
    """The relay is away while the download waits for it: the 'waiting' report never got out, and
    once the download goes on it is taken back: the relay's history has no pause."""
    with PackageServer(BODY, fail_status=503, fail_times=1000) as srv:
        rig = rigs(client=FakeRelayClient(srv.url.rsplit("/", 1)[0] + "/"))
        rig.client.offline = True
        rig.inbox.receive(push_message("p1", "/pkg", BODY))
        wait_until(lambda: rig.inbox.get("p1").situation == "waiting for the relay", what="the situation noted")
        srv.fail_times = 0
        rig.wait_state("p1", "installed")
        rig.client.offline = False
    assert rig.reported("p1") == ["delivered", "downloading", "verifying", "installing", "installed"]


def test_retry_now_ends_the_wait_at_once(rigs):
    rig = rigs(backoff_initial=300, backoff_max=300)  # each wait: a random time below 300 s
    with PackageServer(BODY, fail_status=503, fail_times=1) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: rig.inbox.get("p1").retry_at is not None, what="waiting to retry")
        rig.inbox.retry_now()  # what the service calls when the relay's stream is back
        rig.wait_state("p1", "installed", timeout=20)


def test_a_network_coming_back_ends_the_wait_at_once(rigs):
    rig = rigs(backoff_initial=300, backoff_max=300)
    with PackageServer(BODY, fail_status=503, fail_times=1) as srv:
        rig.platform.network.set_connected(False)
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: rig.inbox.get("p1").retry_at is not None, what="waiting to retry")
        assert rig.inbox.get("p1").label == "No connection"
        rig.platform.network.set_connected(True)
        rig.wait_state("p1", "installed", timeout=20)


def test_a_resumed_download_with_a_bad_checksum_is_fetched_again_from_zero_by_itself(rigs):
    rig = rigs()
    part = rig.data_dir / "downloads" / "p1.part"
    part.parent.mkdir(parents=True)
    with PackageServer(BODY) as srv:
        # bytes left by an earlier run that are not the package's (a broken proxy, a bad disk)
        part.write_bytes(b"\0" * 200_000)
        sidecar_path(part).write_text(json.dumps({"url": srv.url, "etag": srv.etag, "total": len(BODY)}))
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        rig.wait_state("p1", "installed")
        ranges = [r.get("Range") for r in srv.requests]
    assert ranges == ["bytes=200000-", None]  # resumed, mismatched, then once from zero
    assert "failed" not in rig.reported("p1")


def test_a_fresh_download_with_a_bad_checksum_fails_and_retry_downloads_from_zero(rigs):
    rig = rigs()
    with PackageServer(BODY, drop_after=250_000, drop_times=1) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY, sha256="0" * 64))
        rig.wait_state("p1", "failed")
        rec = rig.inbox.get("p1")
        # resumed after the drop: one fresh download, which fails too -> Failed, with its sentence
        assert [r.get("Range") for r in srv.requests][-1] is None
        assert rec.detail.startswith("The downloaded package is not the one that was sent: its SHA-256 checksum")
        assert card_view(rec).notice == rec.detail and card_view(rec).state_text == "Failed"
        assert not (rig.data_dir / "downloads" / "p1.part").exists() and rec.bytes_done == 0
        before = len(srv.requests)
        rig.inbox.retry("p1")
        rig.wait_state("p1", "failed")
        assert [r.get("Range") for r in srv.requests[before:]] == [None]  # from zero, not resumed
    assert rig.platform.installer.installed("org.example.app") is None


def test_a_web_page_called_apk_fails_as_not_a_package_and_is_never_installed(rigs):
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form></form></body></html>"
    rig = rigs()
    with PackageServer(page) as srv:
        rig.inbox.receive(push_message("p1", srv.url, page))
        rig.wait_state("p1", "failed")
    rec = rig.inbox.get("p1")
    assert rec.detail.startswith("This file is a web page, not an Android app (apk)"), rec.detail
    assert rig.platform.installer.installed("org.example.app") is None
    assert not (rig.data_dir / "downloads" / "p1.part").exists()  # Retry fetches it afresh


def test_a_cut_short_apk_fails_as_incomplete_and_is_never_installed(rigs):
    """The server sent a truncated file whose hash the sender signed as it was (a broken upload)."""
    from relay_server.demo_catalog import build_package

    whole = build_package("apk", "org.example.app", "Example", "1.0", 10, size=200_000)
    cut = whole[:120_000]
    rig = rigs()
    with PackageServer(cut) as srv:
        rig.inbox.receive(push_message("p1", srv.url, cut))
        rig.wait_state("p1", "failed")
    rec = rig.inbox.get("p1")
    assert "incomplete" in rec.detail.lower() or "cut short" in rec.detail.lower(), rec.detail
    assert not any(leak in rec.detail for leak in LEAKS), rec.detail
    assert rig.platform.installer.installed("org.example.app") is None


def test_no_space_is_permanent_and_says_how_much_is_needed(rigs):
    rig = rigs(free_space=lambda path: 1_000_000)
    with PackageServer(BODY) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        rig.wait_state("p1", "failed")
    detail = rig.inbox.get("p1").detail
    assert detail.startswith("Not enough free space: this app needs ") and detail.endswith("then tap Retry.")


def test_the_waiting_card_counts_down_and_the_times_age(rigs):
    rig = rigs(backoff_initial=300, backoff_max=300)
    with PackageServer(BODY, fail_status=503, fail_times=1000) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: rig.inbox.get("p1").retry_at is not None, what="waiting to retry")
        rec = rig.inbox.get("p1")
        rec.retry_at = 1_000_000.0
        assert card_view(rec, now=1_000_000.0 - 8.2).notice.endswith("Retrying in 8\u00a0s.")
        assert card_view(rec, now=1_000_000.0 - 0.2).notice.endswith("Retrying now.")
        sent = time.mktime(time.strptime(rec.created_at[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        assert card_view(rec, now=sent + 5).origin.endswith("just now")
        assert card_view(rec, now=sent + 600).origin.endswith("10 min ago")
        rig.inbox.pause("p1")


def test_the_hash_of_what_was_installed_is_the_pushes(rigs):
    rig = rigs()
    with PackageServer(BODY, fail_status=503, fail_times=2, drop_after=100_000, drop_times=2) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        rig.wait_state("p1", "installed")
    app = rig.platform.installer.installed("org.example.app")
    assert app.sha256 == hashlib.sha256(BODY).hexdigest()
