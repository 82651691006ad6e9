"""The download engine against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest
import requests

from mobile_receiver.download import (
    DownloadError,
    DownloadOutcome,
    NotEnoughSpace,
    PackageDownload,
    discard_partial,
    sidecar_path,
)

from .package_server import PackageServer

BODY = os.urandom(1_000_000) + b"end"


def make(url, tmp_path, **kwargs):
    kwargs.setdefault("backoff_initial", 0.01)
    kwargs.setdefault("backoff_max", 0.05)
    kwargs.setdefault("chunk_size", 8192)
    return PackageDownload(url, tmp_path / "pkg.apk.part", **kwargs)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_complete_download_is_byte_exact_with_right_sha(tmp_path):
    seen = []
    with PackageServer(BODY) as srv:
        result = make(srv.url, tmp_path, progress=lambda done, total: seen.append((done, total))).run()
    assert result.outcome is DownloadOutcome.COMPLETE
    assert result.path.read_bytes() == BODY
    assert result.sha256 == sha(BODY)
    assert result.bytes_done == result.bytes_total == len(BODY)
    assert seen[-1] == (len(BODY), len(BODY))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_resume_sends_range_and_if_range_and_appends_on_206(tmp_path):
    with PackageServer(BODY, delay=0.002) as srv:
        dl = make(srv.url, tmp_path)
        stopper = threading.Thread(target=lambda: (_wait_for(lambda: dl.bytes_done > 200_000), dl.pause()))
        stopper.start()
        first = dl.run()
        stopper.join()
        assert first.outcome is DownloadOutcome.PAUSED
        kept = first.path.stat().st_size
        assert 200_000 <= kept < len(BODY)
        assert first.path.read_bytes() == BODY[:kept]
        srv.delay = 0
        # a new object, as after a restart of the app
        result = make(srv.url, tmp_path).run()
        last = srv.requests[-1]
    assert result.outcome is DownloadOutcome.COMPLETE
    assert last["Range"] == f"bytes={kept}-"
    assert last["If-Range"] == srv.etag
    assert result.path.read_bytes() == BODY
    assert result.sha256 == sha(BODY)  # seeded with the bytes already on disk


def test_server_ignoring_range_restarts_from_zero(tmp_path):
    part = tmp_path / "pkg.apk.part"
    part.write_bytes(BODY[:300_000])
    with PackageServer(BODY, ignore_range=True) as srv:
        result = make(srv.url, tmp_path).run()
        assert srv.requests[-1]["Range"] == "bytes=300000-"
    assert result.outcome is DownloadOutcome.COMPLETE
    assert part.read_bytes() == BODY  # not BODY[:300000] + BODY
    assert result.sha256 == sha(BODY)


def test_changed_package_mid_download_restarts_cleanly(tmp_path):
    new_body = os.urandom(700_000)
    with PackageServer(BODY, change_after=250_000, new_body=new_body, drop_after=300_000) as srv:
        result = make(srv.url, tmp_path).run()
        second = srv.requests[1]
    # The resume carried the old ETag, the server has a new one: it answered 200 with the new body.
    assert second["If-Range"] != srv.etag
    assert result.path.read_bytes() == new_body
    assert result.sha256 == sha(new_body)


def test_dropped_connection_is_retried_and_resumed(tmp_path):
    with PackageServer(BODY, drop_after=400_000, drop_times=2) as srv:
        result = make(srv.url, tmp_path).run()
        ranges = [r.get("Range") for r in srv.requests]
    assert result.outcome is DownloadOutcome.COMPLETE
    # Each resume starts where the bytes on disk end: at most where the server hung up
    # (bytes still in the client's buffer when the connection broke are fetched again).
    starts = [int(r.split("=")[1].rstrip("-")) for r in ranges[1:]]
    assert ranges[0] is None and len(starts) == 2
    assert 300_000 < starts[0] <= 400_000
    assert starts[0] < starts[1] <= starts[0] + 400_000
    assert result.path.read_bytes() == BODY
    assert result.sha256 == sha(BODY)


def test_weak_etag_falls_back_to_last_modified(tmp_path):
    with PackageServer(BODY, drop_after=100_000, weak_etag=True) as srv:
        result = make(srv.url, tmp_path).run()
        assert srv.requests[1]["If-Range"] == srv.last_modified
    assert result.path.read_bytes() == BODY


def test_server_errors_are_retried_then_given_up(tmp_path):
    with PackageServer(BODY, fail_status=503, fail_times=2) as srv:
        assert make(srv.url, tmp_path).run().path.read_bytes() == BODY
    with PackageServer(BODY, fail_status=503, fail_times=10) as srv:
        with pytest.raises(DownloadError) as err:
            make(srv.url, tmp_path / "again", attempts=3).run()
        assert len(srv.requests) == 3
    assert err.value.transient


def test_not_found_is_not_retried(tmp_path):
    with PackageServer(BODY) as srv:
        with pytest.raises(DownloadError) as err:
            make(srv.url.replace("/pkg", "/missing"), tmp_path).run()
        assert len(srv.requests) == 1
    assert "404" in err.value.reason
    assert not err.value.transient


def test_416_restarts_cleanly(tmp_path):
    part = tmp_path / "pkg.apk.part"
    part.write_bytes(os.urandom(len(BODY) + 10))  # longer than the package: garbage
    with PackageServer(BODY) as srv:
        result = make(srv.url, tmp_path).run()
    assert part.read_bytes() == BODY
    assert result.sha256 == sha(BODY)


def test_416_from_server_restarts(tmp_path):
    part = tmp_path / "pkg.apk.part"
    part.write_bytes(b"x" * 2_000_000)  # no sidecar: nothing says how long the package is
    with PackageServer(BODY) as srv:
        result = make(srv.url, tmp_path).run()
        statuses_ranges = [r.get("Range") for r in srv.requests]
    assert statuses_ranges == ["bytes=2000000-", None]
    assert part.read_bytes() == BODY
    assert result.sha256 == sha(BODY)


def test_cancel_deletes_partial_file(tmp_path):
    with PackageServer(BODY, delay=0.002) as srv:
        dl = make(srv.url, tmp_path)
        threading.Thread(target=lambda: (_wait_for(lambda: dl.bytes_done > 50_000), dl.cancel())).start()
        result = dl.run()
    assert result.outcome is DownloadOutcome.CANCELLED
    assert not (tmp_path / "pkg.apk.part").exists()
    assert not sidecar_path(tmp_path / "pkg.apk.part").exists()


def test_pause_interrupts_a_silent_server_quickly(tmp_path):
    with PackageServer(BODY, delay=5.0) as srv:  # one block, then silence
        dl = make(srv.url, tmp_path)
        threading.Thread(target=lambda: (_wait_for(lambda: dl.bytes_done > 0), dl.pause())).start()
        started = time.monotonic()
        result = dl.run()
        took = time.monotonic() - started
    assert result.outcome is DownloadOutcome.PAUSED
    assert took < 3
    assert (tmp_path / "pkg.apk.part").exists()


def test_pause_during_backoff_stops_waiting(tmp_path):
    with PackageServer(BODY, fail_status=503, fail_times=100) as srv:
        dl = make(srv.url, tmp_path, backoff_initial=10, backoff_max=10)
        threading.Thread(
            target=lambda: (_wait_for(lambda: len(srv.requests) >= 1), time.sleep(0.1), dl.pause())
        ).start()
        started = time.monotonic()
        result = dl.run()
    assert result.outcome is DownloadOutcome.PAUSED
    assert time.monotonic() - started < 3


def test_not_enough_space_fails_before_writing(tmp_path):
    with PackageServer(BODY) as srv:
        dl = make(srv.url, tmp_path, expected_size=len(BODY), free_space=lambda path: 1000)
        with pytest.raises(NotEnoughSpace):
            dl.run()
        assert srv.requests == []  # checked before connecting: the push said how big it is
        # size unknown in advance: checked once the server says it
        with pytest.raises(NotEnoughSpace):
            make(srv.url, tmp_path, free_space=lambda path: 1000).run()
    assert not (tmp_path / "pkg.apk.part").exists()


def test_size_mismatch_with_push_fails(tmp_path):
    with PackageServer(BODY) as srv, pytest.raises(DownloadError, match="push said"):
        make(srv.url, tmp_path, expected_size=123).run()


def test_headers_are_sent(tmp_path):
    with PackageServer(BODY) as srv:
        make(srv.url, tmp_path, headers={"Authorization": "Bearer t0k"}).run()
        assert srv.requests[0]["Authorization"] == "Bearer t0k"


def test_complete_part_on_disk_is_recognised_after_416(tmp_path):
    """Killed after the last byte but before the app moved the file on: nothing to fetch again."""
    with PackageServer(BODY) as srv:
        first = make(srv.url, tmp_path).run()
        again = make(srv.url, tmp_path).run()
        assert srv.requests[-1]["Range"] == f"bytes={len(BODY)}-"
    assert first.sha256 == again.sha256 == sha(BODY)
    assert again.path.read_bytes() == BODY


def test_unreachable_server_is_transient(tmp_path):
    with pytest.raises(DownloadError) as err:
        make("http://127.0.0.1:9/pkg", tmp_path, attempts=2).run()
    assert err.value.transient


def test_discard_partial_tolerates_missing_files(tmp_path):
    discard_partial(tmp_path / "nothing.part")


def test_memory_stays_flat_for_a_large_body(tmp_path):
    """The body never sits in memory: peak traced allocation stays far below the package size."""
    import tracemalloc

    big = os.urandom(8_000_000)
    with PackageServer(big) as srv:
        tracemalloc.start()
        try:
            result = make(srv.url, tmp_path, chunk_size=64 * 1024, session=requests.Session()).run()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.sha256 == sha(big)
    assert peak < 2_000_000


def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
