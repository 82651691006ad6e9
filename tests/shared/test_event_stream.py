"""EventStream against a local Server-Sent Events server: parsing, resuming, backoff, closing."""

from __future__ import annotations

import contextlib
import queue
import threading
import time

import pytest

from shared.event_stream import ConnectionStatus, EventStream
from shared.relay_errors import RelayError
from shared.sse import Event

WATCHDOG = 10.0  # no test may hang: the stream is closed after this many seconds


@contextlib.contextmanager
def watchdog(stream: EventStream, seconds: float = WATCHDOG):
    timer = threading.Timer(seconds, stream.close)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()


def take(stream: EventStream, count: int) -> list[Event]:
    """The first ``count`` events; closes the stream when it has them (or at the watchdog)."""
    got: list[Event] = []
    with watchdog(stream):
        for event in stream:
            got.append(event)
            if len(got) == count:
                stream.close()
    return got


class Reader:
    """Iterates a stream in a background thread (which closes its own session at the end)."""

    def __init__(self, stream: EventStream):
        self.stream = stream
        self.events: "queue.Queue[Event]" = queue.Queue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.stream:
                self.events.put(event)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
        finally:
            self.stream.client.session.close()

    def next(self, timeout: float = 5.0) -> Event:
        return self.events.get(timeout=timeout)

    def stop(self) -> None:
        self.stream.close()
        self.thread.join(5)


@pytest.fixture
def reader():
    made: list[Reader] = []

    def make(stream: EventStream) -> Reader:
        made.append(Reader(stream))
        return made[-1]

    yield make
    for r in made:
        r.stop()


def serve_once(text: str, *, then: str = "end"):
    """An app that sends ``text`` on the first connection, then ends, drops or holds it."""

    def app(h):
        if not h.path.startswith("/api/v1/stream"):
            return h.error(404, "not_found", "no")
        h.start_events()
        h.send_events(text)
        if then == "end":
            h.end_events()
        elif then == "drop":
            h.drop()
        else:
            h.hold()

    return app


# --------------------------------------------------------------------------- parsing


def test_parses_id_event_and_data(server, client):
    server.app = serve_once(
        ": welcome comment\n"
        "id: 7\n"
        "event: push\n"
        'data: {"push_id": "p_1", "mode": "notify"}\n'
        "\n"
        ": keepalive\n"
        "\n"
        "id: 8\n"
        "event: push_update\n"
        'data: {"a":\n'
        "data:  [1, 2]}\n"
        "\n"
        "id:9\n"
        "event:push_cancelled\n"
        "data:plain text, not JSON\n"
        "\n"
        "data: first line\n"
        "data: second line\n"
        "\n"
        "data\n"
        "\n"
        "data: 42\n"
        "\n",
        then="hold",
    )
    stream = EventStream(client)
    events = take(stream, 6)
    assert events == [
        Event(7, "push", {"push_id": "p_1", "mode": "notify"}),
        Event(8, "push_update", {"a": [1, 2]}),
        Event(9, "push_cancelled", "plain text, not JSON"),
        Event(None, "message", "first line\nsecond line"),
        Event(None, "message", ""),
        Event(None, "message", 42),
    ]
    assert stream.last_event_id == 9  # events without an id do not reset it


def test_only_the_first_space_after_the_colon_is_removed(server, client):
    server.app = serve_once("event:  spaced\ndata:  two spaces\ndata:\tand a tab\n\n", then="hold")
    [event] = take(EventStream(client), 1)
    assert event == Event(None, " spaced", " two spaces\n\tand a tab")


def test_crlf_line_endings(server, client):
    server.app = serve_once('id: 3\r\nevent: push\r\ndata: {"x": 1}\r\n\r\n', then="hold")
    assert take(EventStream(client), 1) == [Event(3, "push", {"x": 1})]


def test_fields_of_an_event_do_not_leak_into_the_next(server, client):
    server.app = serve_once("id: 5\nevent: push\ndata: a\n\ndata: b\n\n", then="hold")
    assert take(EventStream(client), 2) == [Event(5, "push", "a"), Event(None, "message", "b")]


def test_non_numeric_id_is_ignored(server, client):
    server.app = serve_once("id: abc\ndata: x\n\nid: -3\ndata: y\n\n", then="hold")
    stream = EventStream(client, last_event_id=4)
    assert take(stream, 2) == [Event(None, "message", "x"), Event(None, "message", "y")]
    assert stream.last_event_id == 4


def test_an_event_split_across_writes_is_assembled(server, client):
    def app(h):
        h.start_events()
        for piece in ("id: 1", "2\nevent: pu", 'sh\ndata: {"a"', ": 1}\n", "\n"):
            h.send_events(piece)
            time.sleep(0.02)
        h.hold()

    server.app = app
    assert take(EventStream(client), 1) == [Event(12, "push", {"a": 1})]


def test_request_headers(server, client):
    server.app = serve_once("data: x\n\n", then="hold")
    take(EventStream(client, last_event_id=41), 1)
    [req] = server.requests_to("/api/v1/stream")
    assert req.method == "GET"
    assert req.header("Accept") == "text/event-stream"
    assert req.header("Authorization") == "Bearer tok-123"
    assert req.header("Last-Event-ID") == "41"


def test_no_last_event_id_header_on_a_fresh_start(server, client):
    server.app = serve_once("data: x\n\n", then="hold")
    take(client.stream(), 1)
    [req] = server.requests_to("/api/v1/stream")
    assert req.header("Last-Event-ID") is None


def test_events_arrive_as_they_are_sent_on_a_close_delimited_stream(server, client, reader):
    # An HTTP/1.0-style stream (no Content-Length, no chunked encoding: the body ends when the
    # connection closes) is valid for text/event-stream, e.g. behind a proxy that de-chunks.
    # Each event must be delivered when it arrives, not when the connection finally closes.
    def app(h):
        h.start_events(chunked=False)
        h.send_events('id: 1\nevent: push\ndata: {"n": 1}\n\n')
        h.hold()

    server.app = app
    r = reader(EventStream(client, read_timeout=10))
    try:
        event = r.next(timeout=2.0)
    except queue.Empty:
        event = None
    assert event == Event(1, "push", {"n": 1}), (
        "the event was not delivered within 2 s while the connection stayed open"
    )


# --------------------------------------------------------------------------- reconnecting


@pytest.mark.parametrize("how", ["end", "drop"])
def test_reconnects_after_the_connection_ends_and_resumes_from_the_last_id(server, client, status_log, how):
    def app(h):
        if h.request_index == 0:
            h.start_events()
            h.send_events("id: 1\nevent: push\ndata: 1\n\nid: 2\nevent: push\ndata: 2\n\ndata: no id\n\n")
            h.end_events() if how == "end" else h.drop()
        else:
            h.start_events()
            h.send_events(f"id: 3\nevent: push\ndata: {h.request_index}\n\n")
            h.hold()

    server.app = app
    stream = EventStream(client, on_status=status_log, max_backoff=0.2)
    events = take(stream, 4)
    assert [(e.id, e.data) for e in events] == [(1, 1), (2, 2), (None, "no id"), (3, 1)]
    first, second = server.requests_to("/api/v1/stream")
    assert first.header("Last-Event-ID") is None
    assert second.header("Last-Event-ID") == "2"
    assert second.header("Authorization") == "Bearer tok-123"
    assert stream.last_event_id == 3
    assert status_log.states == ["connecting", "connected", "reconnecting", "connecting", "connected", "closed"], (
        status_log.items
    )
    lost = status_log.items[2]
    assert lost.retry_in == 0.0 and lost.error
    assert status_log.items[-1] == ConnectionStatus("closed")


def test_resumes_from_the_id_given_at_start_when_nothing_new_arrived(server, client):
    def app(h):
        h.start_events()
        if h.request_index == 0:
            h.send_events(": nothing yet\n\n")
            h.end_events()
        else:
            h.send_events("id: 11\ndata: x\n\n")
            h.hold()

    server.app = app
    stream = EventStream(client, last_event_id=10, max_backoff=0.2)
    assert take(stream, 1) == [Event(11, "message", "x")]
    assert [r.header("Last-Event-ID") for r in server.requests_to("/api/v1/stream")] == ["10", "10"]


def test_a_silent_connection_past_the_read_timeout_is_reopened(server, client):
    def app(h):
        h.start_events()
        if h.request_index == 0:
            h.send_events("id: 1\ndata: a\n\n")
            h.hold()  # then silence
        else:
            h.send_events("id: 2\ndata: b\n\n")
            h.hold()

    server.app = app
    stream = EventStream(client, read_timeout=0.5, max_backoff=0.2)
    assert [e.id for e in take(stream, 2)] == [1, 2]
    assert server.requests_to("/api/v1/stream")[1].header("Last-Event-ID") == "1"


def test_401_on_connect_raises_without_retrying(server, client, status_log):
    server.app = lambda h: h.error(401, "bad_token", "this token was revoked")
    stream = EventStream(client, on_status=status_log, max_backoff=0.2)
    with watchdog(stream), pytest.raises(RelayError) as info:
        next(iter(stream))
    assert (info.value.status, info.value.code, info.value.message) == (401, "bad_token", "this token was revoked")
    assert len(server.requests_to("/api/v1/stream")) == 1
    assert "reconnecting" not in status_log.states
    assert "connected" not in status_log.states


def test_401_on_reconnect_raises(server, client):
    def app(h):
        if h.request_index == 0:
            h.start_events()
            h.send_events("id: 1\ndata: a\n\n")
            h.end_events()
        else:
            h.error(401, "bad_token", "revoked")

    server.app = app
    stream = EventStream(client, max_backoff=0.2)
    got = []
    with watchdog(stream), pytest.raises(RelayError) as info:
        for event in stream:
            got.append(event)
    assert info.value.status == 401
    assert [e.id for e in got] == [1]
    assert len(server.requests_to("/api/v1/stream")) == 2


def test_503_on_connect_is_retried_with_backoff(server, client, status_log):
    def app(h):
        if h.request_index < 3:
            h.error(503, "overloaded", "try later", headers={"Retry-After": "1"})
        else:
            h.start_events()
            h.send_events("id: 1\nevent: push\ndata: {}\n\n")
            h.hold()

    server.app = app
    stream = EventStream(client, on_status=status_log, max_backoff=0.2)
    started = time.monotonic()
    assert take(stream, 1) == [Event(1, "push", {})]
    assert time.monotonic() - started < 3.0
    assert len(server.requests_to("/api/v1/stream")) == 4
    assert status_log.states == ["connecting", "reconnecting", "reconnecting", "reconnecting", "connected", "closed"]
    for status in status_log.items[1:4]:
        assert status.retry_in is not None and 0 <= status.retry_in <= 0.2
        assert "try later" in status.error


def test_an_unreachable_relay_is_retried_until_it_comes_up(server, make_client, free_port, status_log, reader):
    # nothing listens on free_port: every attempt is refused, and reported as reconnecting
    client = make_client("tok", timeout=1)
    client.base_url = f"http://127.0.0.1:{free_port}/"
    r = reader(EventStream(client, on_status=status_log, max_backoff=0.05))
    assert status_log.wait_for("reconnecting", count=3)
    assert all(s.error for s in status_log.items if s.state == "reconnecting")
    assert r.thread.is_alive() and r.error is None
    r.stop()
    assert not r.thread.is_alive()
    assert status_log.states[-1] == "closed"


# --------------------------------------------------------------------------- closing


def test_close_from_another_thread_ends_a_reader_on_a_silent_connection(server, client, status_log, reader):
    server.app = serve_once("id: 1\ndata: hello\n\n", then="hold")  # then nothing, connection open
    r = reader(EventStream(client, on_status=status_log, read_timeout=30))
    assert r.next() == Event(1, "message", "hello")
    time.sleep(0.2)  # the reader is now blocked waiting for the next line
    assert r.thread.is_alive()
    started = time.monotonic()
    r.stream.close()
    r.thread.join(2.0)
    assert not r.thread.is_alive(), "close() did not end the reader within 2 s"
    assert time.monotonic() - started < 2.0
    assert r.error is None
    assert r.stream.closed
    assert status_log.states[-1] == "closed"
    assert "reconnecting" not in status_log.states
    assert len(server.requests_to("/api/v1/stream")) == 1


def test_close_before_any_event_on_a_silent_connection(server, client, status_log, reader):
    def app(h):
        h.start_events()
        h.hold()

    server.app = app
    r = reader(EventStream(client, on_status=status_log, read_timeout=30))
    assert status_log.wait_for("connected")
    time.sleep(0.1)
    r.stream.close()
    r.thread.join(2.0)
    assert not r.thread.is_alive()
    assert r.error is None and r.events.empty()


def test_close_while_waiting_to_reconnect(server, client, status_log, reader):
    server.app = lambda h: h.error(503, "overloaded", "try later")
    r = reader(EventStream(client, on_status=status_log, max_backoff=30))
    assert status_log.wait_for("reconnecting")
    r.stream.close()
    r.thread.join(2.0)
    assert not r.thread.is_alive()
    assert r.error is None
    assert status_log.states[-1] == "closed"


def test_a_closed_stream_does_not_connect(server, client):
    stream = EventStream(client)
    stream.close()
    assert list(stream) == []
    assert server.recorded == []
