"""shared/sse.py on its own: the events in a body's lines, and the lines of a body as they arrive."""

from __future__ import annotations

import threading

import pytest
import requests

from shared.sse import Event, decode, events, read_lines


def lines(text: str) -> list[bytes]:
    return [line.encode() for line in text.split("\n")]


def test_an_event_is_its_fields_up_to_the_blank_line():
    got = list(events(lines('id: 7\nevent: push\ndata: {"a":\ndata:  [1, 2]}\n\ndata:plain\n\n')))
    assert got == [Event(7, "push", {"a": [1, 2]}), Event(None, "message", "plain")]


def test_comments_lines_without_data_and_odd_ids_make_no_event_of_their_own():
    got = list(events(lines(": keepalive\n\nevent: push\n\nid: x1\ndata: 1\n\n")))
    assert got == [Event(None, "message", 1)]


def test_reading_stops_when_stopped_says_so():
    seen: list[bytes] = []

    def body():
        for line in lines("data: 1\n\ndata: 2\n\n"):
            seen.append(line)
            yield line

    stop = threading.Event()
    got = []
    for event in events(body(), stopped=stop.is_set):
        got.append(event)
        stop.set()
    assert got == [Event(None, "message", 1)]
    assert len(seen) == 3  # the line after the first event, no further


@pytest.mark.parametrize(("data", "value"), [(["42"], 42), (["not json"], "not json"), (["a", "b"], "a\nb")])
def test_data_is_json_when_it_parses(data, value):
    assert decode(data) == value


class _Raw:
    """A response body that arrives in the given pieces (``read1`` returns one piece a call)."""

    def __init__(self, pieces: list[bytes]):
        self.pieces = list(pieces)
        self.chunked = False

    def read1(self, _size: int) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""


def _response(pieces: list[bytes]) -> requests.Response:
    resp = requests.Response()
    resp.raw = _Raw(pieces)
    return resp


def test_lines_are_assembled_across_pieces_and_every_line_ending_counts():
    pieces = [b"id: 1\r", b"\ndata: a", b"b\r\n\r\ndata: c\rdata: d\n\n", b"data: tail"]
    assert list(read_lines(_response(pieces))) == [
        b"id: 1",
        b"data: ab",
        b"",
        b"data: c",
        b"data: d",
        b"",
        b"data: tail",
    ]


def test_a_line_is_handed_out_as_soon_as_it_is_complete():
    raw = _Raw([b"data: 1\n\n", b"data: 2\n\n"])
    resp = requests.Response()
    resp.raw = raw
    reading = read_lines(resp)
    assert [next(reading), next(reading)] == [b"data: 1", b""]
    assert raw.pieces == [b"data: 2\n\n"]  # the second piece was not waited for
