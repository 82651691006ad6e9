"""Server-Sent Events as the relay writes them: the body's lines as they arrive, and the events
they make (``id``, ``event``, ``data``; comments are keepalives).

Written here rather than taken from a library: the SSE clients on PyPI either buffer the body
until a chunk fills (``iter_lines``), or bring their own reconnect loop (without tenacity's
backoff, ``Last-Event-ID`` handling of their own), and the phone's APK would have to ship one
more package for some forty lines. ``shared/event_stream.py`` reconnects; this module only reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import requests


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event from the relay."""

    id: int | None
    event: str
    data: Any


def events(lines: Iterable[bytes], stopped: Callable[[], bool] = lambda: False) -> Iterator[Event]:
    """The events in ``lines`` (``read_lines``), each as soon as its blank line arrived. An event
    without data is not one; a non-numeric id is ignored; ``data`` is JSON when it parses.
    Ends when ``stopped()`` turns true (checked at every line)."""
    event_id: int | None = None
    name = "message"
    data_lines: list[str] = []
    for raw in lines:
        if stopped():
            return
        line = raw.decode("utf-8", errors="replace")
        if not line:
            if data_lines:
                yield Event(event_id, name, decode(data_lines))
            event_id, name, data_lines = None, "message", []
            continue
        if line.startswith(":"):
            continue  # keepalive comment
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "data":
            data_lines.append(value)
        elif key == "event":
            name = value
        elif key == "id":
            event_id = int(value) if value.isdigit() else None


def read_lines(resp: requests.Response) -> Iterator[bytes]:
    """The response body's lines as they arrive (SSE allows CRLF, LF or CR endings).

    A chunked body is read chunk by chunk; a body that ends when the connection closes (no
    chunking, no length: HTTP/1.0 or some proxies) is read with ``read1``, which returns
    what has arrived instead of waiting for a full buffer.
    """
    if getattr(resp.raw, "chunked", False) or not hasattr(resp.raw, "read1"):
        chunks = resp.iter_content(chunk_size=None)
    else:
        chunks = iter(lambda: resp.raw.read1(65536), b"")
    pending = b""
    for chunk in chunks:
        pending += chunk
        lines = pending.splitlines(keepends=True)
        # The last piece may be a line still arriving (or a CR whose LF is in the next chunk).
        pending = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        for line in lines:
            yield line.rstrip(b"\r\n")
    if pending:
        yield pending.rstrip(b"\r\n")


def decode(lines: list[str]) -> Any:
    """An event's data lines: JSON when they parse as JSON, else the text."""
    text = "\n".join(lines)
    try:
        return json.loads(text)
    except ValueError:
        return text
