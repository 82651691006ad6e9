"""A full disk or storage that stopped taking writes: honest health, clear answers, nothing lost
(issue 11, item 7).

Before the fix ``/healthz`` said 200 whatever the disk held, and a write that the storage
refused answered 500 ``internal_error``. Now health fails (507 for a full disk, 503 for
storage that cannot be written), refused writes answer the same with ``Retry-After`` and
change nothing, and once there is room again everything accepted is delivered.
"""

from __future__ import annotations

import errno
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from relay_server.db import database, is_postgres
from shared.relay_errors import RelayError
from tests.helpers.relay_process import RelayProcess, anna_with_laptop_and_phone
from tests.helpers.streams import StreamReader


def _mount(args: list[str], target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here ({result.stderr.strip() or result.returncode}): needs root")


def _unmount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MB file system of its own (tmpfs), so filling it harms nothing else."""
    target = tmp_path / "small-disk"
    _mount(["-t", "tmpfs", "-o", "size=64m", "tmpfs"], target)
    yield target
    _unmount(target)


def _fill(disk: Path) -> Path:
    """Write until the disk says it is full; returns the file to delete to make room again."""
    filler = disk / "filler"
    block = b"\0" * (256 * 1024)
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(block)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _health_until(url: str, status: int, timeout: float = 60.0) -> requests.Response:
    """``/healthz`` once it answers ``status`` (it re-checks the storage every few seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        resp = requests.get(f"{url}/healthz", timeout=30)
        if resp.status_code == status or time.monotonic() > deadline:
            assert resp.status_code == status, resp.text
            return resp
        time.sleep(0.2)


def test_a_full_disk_is_reported_and_nothing_accepted_is_lost(small_disk):
    with RelayProcess(small_disk / "relay", demo_scale=0.001) as relay:
        laptop, phone = anna_with_laptop_and_phone(relay.url)
        before = laptop.push({"id": "org.videolan.vlc"}, "notify", ["anna-phone"])[0].id
        filler = _fill(small_disk)

        health = _health_until(relay.url, 507)
        assert health.json()["error"]["code"] == "storage_full"
        assert int(health.headers["Retry-After"]) > 0

        # While the disk is full a push is either accepted for good or refused plainly: never a 500.
        accepted = []
        for _ in range(20):
            try:
                accepted.append(laptop.push({"id": "org.videolan.vlc"}, "notify", ["anna-phone"])[0].id)
            except RelayError as exc:
                assert exc.status in (503, 507), exc
                assert exc.retry_after is not None
                assert "nothing was changed" in str(exc)

        filler.unlink()
        _health_until(relay.url, 200)
        after = laptop.push({"id": "org.videolan.vlc"}, "notify", ["anna-phone"])[0].id
        with StreamReader(phone) as stream:
            got = set()
            while not {before, after, *accepted} <= got:
                got.add(stream.next("push", timeout=30).data["push_id"])


@pytest.fixture
def read_only_data_dir(tmp_path):
    """A data directory that cannot be written (a read-only bind mount), the database elsewhere."""
    real = tmp_path / "data"
    (real / "packages" / "tmp").mkdir(parents=True)
    view = tmp_path / "read-only-view"
    _mount(["--bind", str(real)], view)
    result = subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], capture_output=True, text=True)
    if result.returncode != 0:
        _unmount(view)
        pytest.skip(f"cannot make a read-only bind mount here: {result.stderr.strip()}")
    yield view
    _unmount(view)


def test_a_data_dir_that_cannot_be_written_makes_health_fail(relay_config, read_only_data_dir, tmp_path):
    from relay_server.app import close_app, create_app

    url = relay_config.database_url or f"sqlite:///{tmp_path / 'elsewhere.db'}"
    config = relay_config.with_(data_dir=read_only_data_dir, database_url=url, demo_catalog=False)
    app = create_app(config)
    try:
        resp = app.test_client().get("/healthz")
        assert resp.status_code == 503
        assert resp.get_json()["error"]["code"] == "storage_unavailable"
        assert "data directory cannot be written" in resp.get_json()["error"]["message"]
    finally:
        close_app(app)


def test_a_database_that_refuses_writes_answers_503_and_changes_nothing(app, api, client):
    if is_postgres():
        pytest.skip("makes SQLite's connections read-only; PostgreSQL's refusal is mapped by its error code")
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    database.obj._pragmas = [*database.obj._pragmas, ("query_only", "on")]
    database.obj.close_idle()  # the next request opens a read-only connection
    app.extensions["appbeam_relay"].storage.forget()
    try:
        resp = api.push(laptop, ["anna-phone"], mode="notify")
        health = client.get("/healthz")
    finally:
        database.obj._pragmas = [p for p in database.obj._pragmas if p[0] != "query_only"]
        database.obj.close_idle()

    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "storage_unavailable"
    assert resp.headers["Retry-After"]
    assert health.status_code == 503
    assert client.get("/api/v1/pushes?role=sent", headers=laptop).get_json()["pushes"] == []


def test_storage_errors_are_recognised():
    from relay_server.storage_health import storage_problem

    assert storage_problem(OSError(errno.ENOSPC, "No space left on device")) == "full"
    assert storage_problem(OSError(errno.EROFS, "Read-only file system")) == "read_only"
    import sqlite3

    assert storage_problem(sqlite3.OperationalError("database or disk is full")) == "full"
    assert storage_problem(sqlite3.OperationalError("attempt to write a readonly database")) == "read_only"
    assert storage_problem(ValueError("something else")) is None


def test_a_relay_that_cannot_write_its_data_dir_at_all_says_so_and_exits(read_only_data_dir, tmp_path):
    """Starting on a read-only data dir with nothing in it: a sentence and exit status 2, not a traceback."""
    empty = read_only_data_dir / "new-relay"
    result = subprocess.run(
        [sys.executable, "-m", "appbeam_devtools", "relay", "--port", "0", "--data-dir", str(empty)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )

    assert result.returncode == 2
    assert "cannot be written" in result.stderr
    assert "Traceback" not in result.stderr
