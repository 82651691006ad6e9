"""Backoff: capped, growing, jittered; waits that a wake ends at once; the engine and the relay
stream use them (the stream's cap is short, so a relay that is back is reached within 2 s)."""

from __future__ import annotations

import http.server
import random
import socket
import threading
import time
from types import SimpleNamespace

import pytest

from mobile_receiver.download import DownloadOutcome, PackageDownload
from mobile_receiver.retry import DOWNLOAD_BACKOFF_CAP, Stopped, Wake, backoff
from shared.event_stream import EventStream
from shared.relay_client import RelayClient

from .fakes import wait_until
from .package_server import PackageServer
from .rig import BODY


def _waits(strategy, attempts: int, samples: int = 400) -> list[list[float]]:
    """``samples`` draws of the wait after attempt 1..attempts."""
    return [[strategy(SimpleNamespace(attempt_number=n)) for _ in range(samples)] for n in range(1, attempts + 1)]


def test_waits_grow_exponentially_up_to_the_cap_and_never_beyond():
    random.seed(7)
    draws = _waits(backoff(0.5, 10.0), 12)
    for n, waits in enumerate(draws, start=1):
        bound = min(10.0, 0.5 * 2 ** (n - 1))
        assert all(0 <= w <= bound for w in waits), (n, max(waits))
        assert max(waits) > 0.8 * bound  # the bound is really used...
    means = [sum(w) / len(w) for w in draws]
    assert means[0] < means[2] < means[4] and means[-1] == pytest.approx(5.0, rel=0.15)  # ...and grows, then stays


def test_waits_are_jittered_so_phones_do_not_come_back_in_step():
    random.seed(8)
    at_the_cap = _waits(backoff(0.5, 10.0), 10)[-1]
    assert len({round(w, 3) for w in at_the_cap}) > 300
    assert min(at_the_cap) < 2 and max(at_the_cap) > 8


def test_the_default_download_cap_is_short_enough_to_finish_soon_after_an_outage():
    assert 2 <= DOWNLOAD_BACKOFF_CAP <= 15


def test_a_wake_ends_a_wait_and_is_kept_for_the_next_one_if_nobody_waits():
    wake = Wake()
    threading.Timer(0.1, wake.wake).start()
    started = time.monotonic()
    wake.sleep(30)
    assert time.monotonic() - started < 5
    wake.wake()  # nobody waiting: the next wait returns at once
    started = time.monotonic()
    wake.sleep(30)
    assert time.monotonic() - started < 1


def test_a_stopped_wake_raises_now_and_for_every_later_wait_until_reset():
    wake = Wake()
    threading.Timer(0.1, wake.stop).start()
    with pytest.raises(Stopped):
        wake.sleep(30)
    with pytest.raises(Stopped):
        wake.sleep(30)
    wake.reset()
    wake.sleep(0.01)


def test_the_engine_reports_each_wait_and_a_wake_cuts_it_short(tmp_path):
    heard = []
    with PackageServer(BODY, fail_status=503, fail_times=1) as srv:
        engine = PackageDownload(
            srv.url,
            tmp_path / "x.part",
            backoff_initial=600,
            backoff_max=600,
            on_retry=lambda error, seconds: heard.append((error.status, seconds)),
        )
        threading.Thread(target=lambda: (wait_until(lambda: heard), engine.wake()), daemon=True).start()
        started = time.monotonic()
        result = engine.run()
    assert result.outcome is DownloadOutcome.COMPLETE
    assert heard and heard[0][0] == 503 and 0 <= heard[0][1] <= 600
    assert time.monotonic() - started < 10


def test_the_engine_retries_a_passing_failure_for_as_long_as_it_takes(tmp_path):
    with PackageServer(BODY, fail_status=503, fail_times=25) as srv:  # more than any fixed attempt count
        result = PackageDownload(srv.url, tmp_path / "x.part", backoff_initial=0.001, backoff_max=0.01).run()
    assert result.outcome is DownloadOutcome.COMPLETE and result.path.read_bytes() == BODY


class _EventsHandler(http.server.BaseHTTPRequestHandler):
    """An SSE stream: one event, then silence until the server stops."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b"id: 1\nevent: hello\ndata: {}\n\n")
        self.wfile.flush()
        self.server.stopping.wait(30)

    def log_message(self, *args):
        pass


def test_the_relay_stream_reaches_a_relay_that_is_back_within_two_seconds(free_port):
    """With the default (short) cap, the time from the relay being back to the stream being open
    is at most one wait (2 s), however long the relay was away."""
    stream = EventStream(RelayClient(f"http://127.0.0.1:{free_port}/", "tok"), read_timeout=5)
    assert stream.max_backoff <= 2.0
    statuses = []
    stream.on_status = lambda status: statuses.append((time.monotonic(), status.state))
    events = []
    reader = threading.Thread(target=lambda: events.extend(e for e, _ in zip(stream, range(1))), daemon=True)
    reader.start()
    wait_until(
        lambda: sum(1 for _, s in statuses if s == "reconnecting") >= 5, timeout=30, what="the waits to reach their cap"
    )
    assert stream.last_error is not None  # what went wrong, for shared.explain
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port), _EventsHandler)
    server.daemon_threads = True
    server.stopping = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    back = time.monotonic()
    try:
        wait_until(lambda: any(s == "connected" for _, s in statuses), timeout=30, what="connected")
        connected = next(t for t, s in statuses if s == "connected")
        assert connected - back <= 2.0 + 1.0, f"{connected - back:.2f} s after the relay was back"  # + slack
    finally:
        stream.close()
        server.stopping.set()
        server.shutdown()
        server.server_close()
        reader.join(5)
    assert not reader.is_alive()


def test_retry_now_ends_the_streams_wait_at_once():
    stream = EventStream(RelayClient("http://127.0.0.1:9/", "tok"))
    threading.Timer(0.2, stream.retry_now).start()
    started = time.monotonic()
    stream._sleep(600)  # the wait between two attempts
    assert time.monotonic() - started < 5
    threading.Timer(0.2, stream.close).start()
    with pytest.raises(Exception):  # closing ends the wait and the stream
        stream._sleep(600)


@pytest.fixture
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
