"""Property: however often the connection drops or the download is paused, and whatever the
server does with Range, the finished file is the package, byte for byte, with its SHA-256."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobile_receiver.download import DownloadOutcome, PackageDownload

from .package_server import PackageServer


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(1, 150_000),
    seed=st.binary(min_size=1, max_size=64),
    drops=st.lists(st.integers(0, 150_000), max_size=3),
    ignore_range=st.booleans(),
    stale_prefix=st.integers(0, 200_000),
)
def test_any_sequence_of_drops_ends_with_the_exact_package(size, seed, drops, ignore_range, stale_prefix):
    body = (seed * (size // len(seed) + 1))[:size]
    with tempfile.TemporaryDirectory() as tmp, PackageServer(body, ignore_range=ignore_range) as srv:
        part = Path(tmp) / "pkg.part"
        # A partial file left by an earlier run of this package, with no validators beside it.
        part.write_bytes(body[:stale_prefix])
        for drop in drops:
            srv.drop_after, srv.drop_times = drop, 1
            download = PackageDownload(srv.url, part, chunk_size=4096, attempts=1, backoff_initial=0.001)
            try:
                download.run()
            except Exception:  # noqa: BLE001 - a dropped connection with attempts=1 fails the run
                pass
        srv.drop_after = None
        result = PackageDownload(srv.url, part, chunk_size=4096, backoff_initial=0.001).run()
        on_disk = part.read_bytes()
    assert on_disk == body
    assert result.outcome is DownloadOutcome.COMPLETE
    assert result.sha256 == hashlib.sha256(body).hexdigest()
    assert result.bytes_done == size
