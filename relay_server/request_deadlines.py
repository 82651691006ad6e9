"""Deadlines for reading a request: a slow client costs one socket and nothing else.

What is scarce in the relay (database connections, above all) is only taken by the
application, and the application only runs once the whole request has arrived. Reading it
is bounded in time the way nginx bounds it:

- ``idle_timeout``: a connection waits this long for its next request (keep-alive), then closes;
- ``header_timeout``: the request line's end and the headers must follow within this time
  (``client_header_timeout``);
- ``body_timeout``: the whole body must arrive within this time (``client_body_timeout``);
  a body larger than ``max_body`` is not read at all: the application answers 413 from
  ``Content-Length`` (chunked bodies are read until they pass the limit).

A client that runs out of time gets ``408`` with the relay's JSON error and the connection
closes.

One route is the exception: a package upload (``PUT /api/v1/packages/<sha256>``, see
``streams_body``) may be far larger than anything kept in memory, so its body is handed to the
application as it arrives. The application holds no database connection while it reads
(``relay_server.api.uploads``), and the body must keep up a minimum speed instead of a
deadline (``MinimumRate``: ``upload_min_rate`` bytes/s averaged over ``upload_rate_window``
seconds, like the mirror's rule); a slower one raises ``UploadTooSlow`` in the reader, and the
application answers 408. Without this, forty sockets that announced a 1,000-byte body and sent one byte held
every pooled database connection for good (issue 11, item 1).

This hooks into gevent's ``WSGIHandler`` (``read_requestline``, ``read_request``,
``run_application``, ``_handle_client_error``); the last is pywsgi's documented-as-provisional
hook for client errors, and replacing ``wsgi_input`` relies on pywsgi calling its
``_discard()`` after the application. ``tests/relay/test_slow_clients.py`` pins both.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gevent

from relay_server.errors import error_body, raw_error
from relay_server.i18n.errors import CONTENT_LANGUAGE, header_language, in_language, said
from shared.i18n import Number, Sentence

#: Read a chunked body in pieces of this size (bytes).
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Deadlines:
    """Seconds allowed for each part of a request, and the largest body read (bytes)."""

    idle_timeout: float = 75.0
    header_timeout: float = 20.0
    body_timeout: float = 20.0
    max_body: int = 1024 * 1024
    #: A streamed body (``streams_body``) must average this many bytes/s over ``stream_rate_window``.
    stream_min_rate: int = 16 * 1024
    stream_rate_window: float = 30.0


#: The one route whose body is streamed to the application: a package upload.
_STREAMED = re.compile(r"/api/v1/packages/[0-9a-fA-F]{64}")


def streams_body(method: str, path: str) -> bool:
    """True for a request whose body the application reads as it arrives (a package upload)."""
    return method == "PUT" and _STREAMED.fullmatch(path) is not None


class RequestTimedOut(ValueError):
    """The client did not send its request in time (a ValueError: pywsgi's client-error path);
    ``said`` says so for the client (in its language), ``str()`` in English for the log."""

    def __init__(self, sentence: Sentence | None = None):
        super().__init__(sentence.text("en") if sentence is not None else "")
        self.said = sentence


class UploadTooSlow(Exception):
    """A streamed body fell below the minimum transfer rate; ``said`` says so for the client (in
    its language), ``str()`` in English for the log."""

    def __init__(self, sentence: Sentence):
        super().__init__(sentence.text("en"))
        self.said = sentence


class MinimumRate:
    """Judges a streamed body's speed: fewer than ``min_rate`` bytes/s averaged over ``window``
    seconds raises ``UploadTooSlow``. A client that sends nothing at all is judged when its
    window ends (``wait`` is how long the next read may block). With ``min_rate`` 0 each read
    may wait ``idle`` seconds instead.

    The first window starts at the application's first read (``begin``), not when the request
    arrived: the application may first wait for a pooled database connection (up to 30 s), and
    a fast upload must not be judged slow for that wait."""

    def __init__(self, min_rate: int, window: float, idle: float, clock: Callable[[], float] = time.monotonic):
        self.min_rate = min_rate
        self.window = window
        self.idle = idle
        self._clock = clock
        self._since: float | None = None
        self._bytes = 0

    def begin(self) -> float:
        """Start the first window now, unless it started already; when it started."""
        if self._since is None:
            self._since = self._clock()
        return self._since

    @property
    def on(self) -> bool:
        return self.min_rate > 0 and self.window > 0

    @property
    def piece(self) -> int:
        """The most bytes one blocking read should wait for (half of what a window must bring)."""
        if not self.on:
            return _CHUNK
        return max(1024, min(_CHUNK, int(self.min_rate * self.window / 2)))

    @property
    def piece_wait(self) -> float:
        """Seconds one blocking read of ``piece`` bytes may take."""
        return self.window if self.on else self.idle

    def wait(self) -> float:
        if not self.on:
            return self.idle
        return max(0.01, self.begin() + self.window - self._clock())

    def received(self, count: int) -> None:
        self._bytes += count
        self.judge()

    def timed_out(self) -> None:
        """The read's wait ended with nothing: too slow, unless the window just ended well."""
        if not self.on:
            raise UploadTooSlow(
                said("nothing arrived for %(seconds)s s; send the package again", seconds=f"{self.idle:g}")
            )
        self.judge()

    def judge(self) -> None:
        if not self.on:
            return
        elapsed = self._clock() - self.begin()
        if elapsed < self.window:
            return
        rate = self._bytes / elapsed
        if rate < self.min_rate:
            raise UploadTooSlow(
                said(
                    "the upload was too slow: %(rate)s bytes/s over %(seconds)s s, and the relay needs at "
                    "least %(minimum)s bytes/s; send the package again over a faster connection",
                    rate=Number(round(rate)),
                    seconds=f"{elapsed:.0f}",
                    minimum=Number(self.min_rate),
                )
            )
        self._since, self._bytes = self._clock(), 0


class _Drained:
    """Stands in for pywsgi's request input once the body was read (or given up on): its
    ``_discard`` must not read from the socket again."""

    def _discard(self) -> None:
        pass


if TYPE_CHECKING:

    class _WSGIHandler:
        """What ``DeadlineHandler`` uses of ``gevent.pywsgi.WSGIHandler`` (gevent has no type
        information): the type checker's view of the class it is mixed into."""

        server: Any
        environ: dict[str, Any]
        wsgi_input: Any
        content_length: int | None
        client_address: Any
        close_connection: bool

        def read_requestline(self) -> str: ...
        def read_request(self, raw_requestline: str) -> Any: ...
        def _handle_client_error(self, ex: BaseException) -> Any: ...
        def run_application(self) -> None: ...
        def log_error(self, msg: str, *args: object) -> None: ...
        def start_response(self, status: str, headers: list[tuple[str, str]]) -> Any: ...
        def write(self, data: bytes) -> None: ...

else:
    _WSGIHandler = object


class DeadlineHandler(_WSGIHandler):
    """Mixin for ``gevent.pywsgi.WSGIHandler``; the server carries ``deadlines`` (``Deadlines``)."""

    def _deadlines(self) -> Deadlines:
        deadlines: Deadlines | None = getattr(self.server, "deadlines", None)
        return deadlines or Deadlines()

    def read_requestline(self) -> str:
        # A Timeout given False ends the block quietly (it swallows its own expiry).
        quiet: AbstractContextManager[object, bool] = gevent.Timeout(self._deadlines().idle_timeout, False)
        with quiet:
            return super().read_requestline()
        return ""  # nothing came in time: pywsgi closes the connection quietly

    def read_request(self, raw_requestline: str) -> Any:
        seconds = self._deadlines().header_timeout
        late = said(
            "the request headers took longer than %(seconds)s s; send the request again", seconds=f"{seconds:g}"
        )
        timeout = gevent.Timeout(seconds, RequestTimedOut(late))
        with timeout:
            return super().read_request(raw_requestline)

    def _handle_client_error(self, ex: BaseException) -> Any:
        if isinstance(ex, RequestTimedOut) and ex.said is not None:
            self.log_error("(from %s) %s", self.client_address, ex)
            return ("408", raw_error(408, "request_timeout", ex.said, self._accept_language()))
        return super()._handle_client_error(ex)

    def run_application(self) -> None:
        if streams_body(self.environ.get("REQUEST_METHOD", ""), self.environ.get("PATH_INFO", "")):
            self._run_streamed()
            return
        refusal = self._read_body()
        if refusal is not None:
            status, code, message = refusal
            self.close_connection = True
            lang = header_language(self._accept_language())
            body = error_body(code, in_language(message, lang))
            self.start_response(
                status,
                [
                    ("Content-Type", "application/json"),
                    ("Content-Language", CONTENT_LANGUAGE[lang]),
                    ("Vary", "Accept-Language"),
                    ("Content-Length", str(len(body))),
                    ("Connection", "close"),
                ],
            )
            self.write(body)
            return
        super().run_application()

    def _run_streamed(self) -> None:
        """Hand the body to the application as it arrives, at a minimum speed; what it leaves
        unread is not waited for: the connection closes after the answer."""
        limits = self._deadlines()
        body = _StreamedInput(
            self.wsgi_input, MinimumRate(limits.stream_min_rate, limits.stream_rate_window, limits.body_timeout)
        )
        self.environ["wsgi.input"] = body
        try:
            super().run_application()
        finally:
            if not body.finished:
                self.wsgi_input = _Drained()
                self.close_connection = True

    def _accept_language(self) -> str | None:
        """The request's ``Accept-Language``, as far as its headers arrived (or the previous
        request's on this connection, when this one's headers never did)."""
        environ: dict[str, Any] = getattr(self, "environ", None) or {}
        language: str | None = environ.get("HTTP_ACCEPT_LANGUAGE")
        return language

    def _read_body(self) -> tuple[str, str, Sentence] | None:
        """Read the whole body within the deadline into memory; an answer to send instead, if any."""
        env = self.environ
        chunked = env.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"
        length = self.content_length or 0
        limits = self._deadlines()
        if not chunked and (length <= 0 or length > limits.max_body):
            return None  # no body, or one the application refuses (413) from its announced length
        source = self.wsgi_input
        try:
            with gevent.Timeout(limits.body_timeout, RequestTimedOut()):
                if chunked:
                    data = bytearray()
                    while len(data) <= limits.max_body:
                        piece = source.read(_CHUNK)
                        if not piece:
                            break
                        data += piece
                    if len(data) > limits.max_body:
                        self.wsgi_input = _Drained()
                        return ("413 Request Entity Too Large", "too_large", said("request body is too large"))
                else:
                    data = source.read(length)
        except OSError:  # the client hung up half-way (or sent a broken chunk)
            self.wsgi_input = _Drained()
            return ("400 Bad Request", "bad_request", said("the request body ended early; send the request again"))
        except RequestTimedOut:
            self.wsgi_input = _Drained()
            self.log_error("(from %s) request body not received within %g s", self.client_address, limits.body_timeout)
            return (
                "408 Request Timeout",
                "request_timeout",
                said(
                    "the request body did not arrive within %(seconds)s s; send the request again",
                    seconds=f"{limits.body_timeout:g}",
                ),
            )
        env["wsgi.input"] = io.BytesIO(bytes(data))
        env["CONTENT_LENGTH"] = str(len(data))
        env.pop("HTTP_TRANSFER_ENCODING", None)
        self.wsgi_input = _Drained()
        return None


class _StreamedInput:
    """pywsgi's request input, read with a minimum transfer rate (``MinimumRate``).

    pywsgi's input blocks until it has as many bytes as asked for, so each read asks for at
    most half of what a window must bring (``MinimumRate.piece``) and gets one window to
    arrive: a read that takes longer is proof enough that the client is too slow."""

    def __init__(self, source: Any, rate: MinimumRate):
        self._source = source
        self._rate = rate
        self.finished = False

    def read(self, size: int = -1) -> bytes:
        if self.finished:
            return b""
        self._rate.begin()
        piece = self._rate.piece
        size = piece if size is None or size < 0 else min(size, piece)
        rate = self._rate
        too_slow = UploadTooSlow(
            said(
                "less than %(bytes)s bytes arrived in %(seconds)s s; send the package again over a faster connection",
                bytes=Number(size),
                seconds=f"{rate.piece_wait:g}",
            )
        )
        try:
            with gevent.Timeout(rate.piece_wait, too_slow):
                data: bytes = self._source.read(size)
        except ValueError as exc:  # pywsgi's word for a broken chunk or a body cut short
            raise OSError(str(exc)) from exc
        source = self._source
        if not data or (
            not source.chunked_input and source.content_length is not None and source.position >= source.content_length
        ):
            self.finished = True  # read to the end: the connection may serve the next request
        rate.received(len(data))
        return data
