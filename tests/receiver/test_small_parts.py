"""Versions, formatting, the card view, the desktop network monitor, icons, storage, the CLI."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mobile_receiver import cli
from mobile_receiver.cardview import card_view
from mobile_receiver.icons import IconCache
from mobile_receiver.platform.desktop import (
    DesktopNetworkMonitor,
    EmulatedInstaller,
    parse_nmcli_metered,
)
from mobile_receiver.profile import ProfileStore
from mobile_receiver.record import PushRecord, parse_push
from mobile_receiver.storage import ReceiverDB, read_json, write_json_atomic
from mobile_receiver.versions import compare_versions, is_same_or_newer
from shared.formatting import ProgressMeter, human_eta, human_size, human_when
from shared.messages import InstallInfo
from shared.protocol import ProtocolError

from .fakes import push_message, wait_until
from .package_server import PackageServer


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("1.0", "1.0", 0),
        ("1.0.0", "1.0", 0),
        ("3.10", "3.9", 1),
        ("2.0rc1", "2.0", -1),
        ("2.0.1", "2.0rc1", 1),
        ("1.0-beta", "1.0-alpha", 1),
        ("7.20.3", "7.20.10", -1),
    ],
)
def test_compare_versions(a, b, expected):
    assert compare_versions(a, b) == expected
    assert compare_versions(b, a) == -expected


@given(st.lists(st.integers(0, 50), min_size=1, max_size=4), st.lists(st.integers(0, 50), min_size=1, max_size=4))
def test_numeric_versions_compare_like_tuples(x, y):
    pad = max(len(x), len(y))
    expected = (x + [0] * (pad - len(x)) > y + [0] * (pad - len(y))) - (
        x + [0] * (pad - len(x)) < y + [0] * (pad - len(y))
    )
    assert compare_versions(".".join(map(str, x)), ".".join(map(str, y))) == expected


def test_version_code_wins_over_strings():
    assert is_same_or_newer("1.0", 20, "9.9", 10)
    assert not is_same_or_newer("9.9", 10, "1.0", 20)
    assert is_same_or_newer("2.0", None, "1.5", 30)
    assert is_same_or_newer("1.0", 1, None, None)
    assert not is_same_or_newer(None, None, "1.0", None)


def test_human_formats():
    assert human_size(41_234_567) == "41.2 MB"
    assert human_size(999) == "999 B"
    assert human_size(1_500_000_000) == "1.5 GB"
    assert human_eta(125) == "2 min 5 s left"
    assert human_eta(7) == "7 s left"
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert human_when((now - timedelta(seconds=10)).isoformat(), now) == "just now"
    assert human_when((now - timedelta(minutes=5)).isoformat(), now) == "5 min ago"
    assert human_when((now - timedelta(hours=3)).isoformat(), now) == "3 h ago"


def test_progress_meter_speed_and_eta():
    clock = iter([0.0, 1.0, 2.0])
    meter = ProgressMeter(clock=lambda: next(clock))
    for done in (0, 1_000_000, 2_000_000):
        meter.add(done)
    assert meter.speed == pytest.approx(1_000_000)
    assert meter.eta(5_000_000) == pytest.approx(3.0)


def _record(**changes) -> PushRecord:
    rec = parse_push(push_message("p1", "http://127.0.0.1:9/x.apk", b"x" * 1000, name="VLC"))
    for key, value in changes.items():
        setattr(rec, key, value)
    return rec


def test_card_view_downloading_shows_progress_speed_and_controls():
    view = card_view(_record(state="downloading", bytes_done=420, speed=2_000_000.0, eta=3.0))
    assert view.state_text == "Downloading 42%"
    assert view.progress == pytest.approx(0.42)
    assert view.progress_text.replace("\u00a0", " ") == "420 B of 1.0 kB · 2.0 MB/s · 3 s left"
    assert "\u00a0" in view.progress_text  # numbers and units stay on one line when it wraps
    assert view.actions == ("pause", "cancel")
    assert view.origin.startswith("From anna on Anna's laptop")
    assert view.subtitle.replace("\u00a0", " ") == "Version 1.0 · 1.0 kB"


@pytest.mark.parametrize(
    "changes, label, actions",
    [
        ({"state": "paused"}, "Paused", ("resume", "cancel")),
        ({"prompt": "download"}, "Ready to download", ("download", "dismiss")),
        ({"prompt": "metered"}, "Uses mobile data", ("use_mobile_data", "cancel")),
        ({"state": "waiting_for_wifi"}, "Waiting for Wi-Fi", ("use_mobile_data", "cancel")),  # no Pause
        ({"state": "failed", "detail": "No space."}, "Failed", ("retry", "cancel")),  # the why is the notice
        ({"state": "installed"}, "Installed", ("forget",)),
        ({"state": "already_installed"}, "Already installed", ("forget",)),
        ({"state": "verifying"}, "Verifying", ()),
    ],
)
def test_card_view_labels_and_actions(changes, label, actions):
    view = card_view(_record(**changes))
    assert view.state_text == label
    assert view.actions == actions


def test_parse_push_rejects_bad_messages_and_allows_missing_package():
    with pytest.raises(ProtocolError):
        parse_push({"push_id": "x", "mode": "install_now", "sender": {}, "app": {"id": "a.b"}})
    rec = parse_push(push_message("p1", None, None))
    assert rec.package is None and rec.size is None


def test_nmcli_output_parsing():
    assert parse_nmcli_metered("GENERAL.METERED:no\nGENERAL.METERED:yes (guessed)\n") is True
    assert parse_nmcli_metered("GENERAL.METERED:no (guessed)\n") is False
    assert parse_nmcli_metered("GENERAL.METERED:unknown\n") is None
    assert parse_nmcli_metered("") is None


def test_desktop_network_follows_file_written_from_outside(tmp_path):
    monitor = DesktopNetworkMonitor(tmp_path, poll_interval=0.02, nm_reader=lambda: None)
    heard = []
    monitor.subscribe(lambda status: heard.append(status.metered))
    monitor.start()
    try:
        assert not monitor.is_metered()
        write_json_atomic(tmp_path / "network.json", {"metered": True})  # another process flips it
        wait_until(lambda: heard == [True], what="the monitor to notice")
        monitor.set_treat_as_metered(False)
        assert heard == [True, False]
    finally:
        monitor.stop()


def test_networkmanager_metered_wins_over_the_setting(tmp_path):
    monitor = DesktopNetworkMonitor(tmp_path, nm_reader=lambda: True)
    monitor.start()
    try:
        status = monitor.status()
        assert status.metered and status.source == "networkmanager"
    finally:
        monitor.stop()


def test_emulated_installer_persists_and_uninstalls(tmp_path):
    pkg = tmp_path / "x.part"
    pkg.write_bytes(b"apk bytes")
    installer = EmulatedInstaller(tmp_path / "phone", "android")
    installer.install(pkg, InstallInfo(id="org.a", name="A", version="1.0", version_code=1), "apk", None)
    again = EmulatedInstaller(tmp_path / "phone", "android")
    assert [a.app_id for a in again.installed_apps()] == ["org.a"]
    with pytest.raises(Exception, match="cannot install .ipa"):
        again.install(pkg, InstallInfo(id="org.b"), "ipa", None)
    again.uninstall("org.a")
    assert again.installed("org.a") is None
    assert not (tmp_path / "phone" / "apps" / "org.a").exists()


def test_icon_cache_fetches_once_and_calls_back(tmp_path):
    with PackageServer(b"\x89PNG fake icon") as srv:
        cache = IconCache(tmp_path / "icons")
        got = []
        assert cache.get("org.a", srv.url, got.append) is None
        cache.join()
        assert got == [cache.path_for("org.a")]
        assert cache.get("org.a", srv.url, got.append) == cache.path_for("org.a")
        assert len(srv.requests) == 1
        assert cache.get("org.b", None, got.append) is None  # no URL: the placeholder stays


def test_storage_outbox_order_and_coalescing(tmp_path):
    db = ReceiverDB(tmp_path / "r.sqlite3")
    try:
        db.enqueue_report("p1", "delivered")
        db.enqueue_report("p1", "downloading", 10, 100, coalesce=True)
        db.enqueue_report("p1", "downloading", 50, 100, coalesce=True)
        db.enqueue_report("p2", "delivered")
        db.enqueue_report("p1", "downloading", 60, 100, coalesce=True)  # after p2's: a new row
        rows = db.pending_reports()
        assert [(r["push_id"], r["state"], r["bytes_done"]) for r in rows] == [
            ("p1", "delivered", None),
            ("p1", "downloading", 50),
            ("p2", "delivered", None),
            ("p1", "downloading", 60),
        ]
    finally:
        db.close()


def test_json_write_is_atomic_and_read_tolerates_garbage(tmp_path):
    write_json_atomic(tmp_path / "a.json", {"x": 1})
    assert read_json(tmp_path / "a.json") == {"x": 1}
    (tmp_path / "b.json").write_text("{not json")
    assert read_json(tmp_path / "b.json", "default") == "default"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]  # no temp file left


def test_profile_device_id_is_generated_once(tmp_path):
    first = ProfileStore(tmp_path).load()
    second = ProfileStore(tmp_path).load()
    assert first.device_id == second.device_id and first.device_id.startswith("recv-")


def _parse(argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_set_network_writes_the_file_and_exits(tmp_path):
    args = _parse(["--data-dir", str(tmp_path), "--set-network", "metered"])
    assert cli.run(args) == 0
    assert json.loads((tmp_path / "network.json").read_text()) == {"metered": True}
    assert cli.run(_parse(["--data-dir", str(tmp_path), "--set-network", "wifi"])) == 0
    assert json.loads((tmp_path / "network.json").read_text()) == {"metered": False}


def test_cli_headless_without_login_fails_clearly(tmp_path):
    assert cli.run(_parse(["--data-dir", str(tmp_path), "--headless", "--quit-after", "0.1"])) == 2


def test_cli_module_does_not_import_kivy():
    import subprocess
    import sys

    code = "import sys, mobile_receiver.cli; print('kivy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_profiles_get_separate_data_dirs(tmp_path, monkeypatch):
    from shared.paths import data_dir

    monkeypatch.setenv("APPBEAM_HOME", str(tmp_path))
    assert data_dir("receiver", "phone1") != data_dir("receiver", "phone2")
