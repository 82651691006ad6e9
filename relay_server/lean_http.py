"""A lean HTTP/1.1 front for the relay's WSGI app: gevent connections, httptools' C parser.

gevent's pywsgi is pure Python: the request line and headers go through ``email``'s parser,
the answer's head is built with several joins and formats, and a dozen small objects are
made per request. On the push path (``POST /pushes``, the device's ``POST /pushes/<id>/events``,
and the event written to the stream) that was a fifth of the relay's CPU. This server keeps
everything else the same (one greenlet per connection, the Flask app called as WSGI, streams
written chunk by chunk as they are yielded) and does the HTTP part with httptools (llhttp, the
parser of Node.js; it also decodes chunked bodies) and a few preformatted byte strings.

It keeps the relay's serving rules (``relay_server.request_deadlines``, ``relay_server.sendfile``):

- an idle keep-alive connection waits ``idle_timeout`` for its next request, then closes quietly;
- once a request started, its headers must arrive within ``header_timeout`` and its body within
  ``body_timeout``, else ``408`` with the relay's JSON error, and the connection closes (this
  front's own refusals, 400/408/413/431/500, have the API's body, ``relay_server.errors.raw_error``,
  in the language the request's ``Accept-Language`` asks for, as far as its headers arrived);
- the whole body is read before the application runs (no database connection is held for a
  slow client); a ``Content-Length`` above ``max_body`` is not read: the application answers 413
  from the announced length and the connection closes; a chunked body past it gets 413 here;
- except a package upload (``request_deadlines.streams_body``): its body goes to the application
  as it arrives (``_StreamedBody``), at a minimum transfer rate instead of a deadline; what the
  application leaves unread is drained for a moment (so the client reads the answer) and the
  connection closes;
- package bodies leave with ``os.sendfile`` on plain TCP (``wsgi.file_wrapper``);
- ``Expect: 100-continue`` is answered before the body is read; HEAD, 204 and 304 have no body;
  an answer of unknown length is sent chunked (HTTP/1.1) or closes the connection (HTTP/1.0);
- TCP_NODELAY on every connection (see ``relay_server.server``).

``appbeam relay --http-server pywsgi`` serves with gevent's pywsgi instead (the same rules).

It is over 600 lines because it is a whole HTTP/1.1 server: reading a request within its
deadlines (``_Reading``), the WSGI environ, and the answer's head and body (``_Answer``) belong
to one connection's greenlet and to the same rules above; splitting them across modules would
only spread one protocol over several files.
"""

from __future__ import annotations

import io
import logging
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

import gevent
import gevent.ssl
import httptools
from gevent.server import StreamServer

from relay_server.errors import raw_error
from relay_server.i18n.errors import said
from relay_server.request_deadlines import Deadlines, MinimumRate, streams_body
from relay_server.sendfile import SendfileWrapper, send_file_range, sendfile_source
from shared.i18n import Number, Sentence

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

log = logging.getLogger("relay_server.wsgi")

_READ = 65536
#: The most bytes a request line and its headers may take (pywsgi: 8 KiB per line); beyond: 431.
MAX_HEAD = 64 * 1024
#: After answering an upload it did not read to the end, the relay reads and drops what the
#: client still sends for this long at most (nginx's lingering close), so the client gets to
#: read the answer instead of a connection reset.
LINGER_SECONDS = 2.0
_NO_BODY_STATUSES = (204, 304)


def _error(status: int, code: str, message: str | Sentence, message_of: _Message | None) -> bytes:
    """The relay's JSON refusal, in the language of the request it refuses (as far as its
    headers arrived); only ever on a failed request, never on the hot path."""
    return raw_error(status, code, message, _accept_language(message_of))


def _accept_language(message: _Message | None) -> str | None:
    for name, value in message.headers if message is not None else ():
        if name.lower() == b"accept-language":
            return value.decode("latin-1")
    return None


class _Date:
    """The Date header, formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def header(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = b"Date: " + formatdate(now, usegmt=True).encode("ascii") + b"\r\n"
        return self._value


_date = _Date()


class _Message:
    """One request as the parser reported it."""

    __slots__ = (
        "url",
        "headers",
        "body",
        "complete",
        "version",
        "method",
        "keep_alive",
        "too_large",
        "header_bytes",
        "streamed",
        "handed_out",
    )

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] | None = None
        self.complete = False
        self.version = "1.1"
        self.method = b"GET"
        self.keep_alive = True
        self.too_large = False
        self.header_bytes = 0
        #: The body goes to the application as it arrives (a package upload).
        self.streamed = False
        #: Returned by ``next_message`` before its body was complete.
        self.handed_out = False


class _Parse:
    """httptools callbacks: complete requests are appended to ``messages``."""

    def __init__(self, max_body: int):
        self.max_body = max_body
        self.messages: deque[_Message] = deque()
        self.current: _Message | None = None
        self.headers_done = False
        self.body_size = 0
        self.parser = httptools.HttpRequestParser(self)
        self._name = b""

    def on_message_begin(self) -> None:
        self.current = _Message()
        self.headers_done = False
        self.body_size = 0

    def on_url(self, url: bytes) -> None:
        message = self.current
        assert message is not None  # httptools calls on_message_begin first
        message.header_bytes += len(url)
        if message.header_bytes <= MAX_HEAD:
            message.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        message = self.current
        assert message is not None
        message.header_bytes += len(name) + len(value) + 4
        if message.header_bytes <= MAX_HEAD:
            message.headers.append((name, value))

    def on_headers_complete(self) -> None:
        message = self.current
        assert message is not None
        message.version = self.parser.get_http_version()
        message.method = self.parser.get_method()
        message.keep_alive = self.parser.should_keep_alive()
        message.body = []
        if message.method == b"PUT":
            path = unquote_to_bytes(httptools.parse_url(message.url).path or b"/").decode("latin-1")
            message.streamed = streams_body("PUT", path)
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        message = self.current
        assert message is not None and message.body is not None  # set by on_headers_complete
        if message.streamed:  # read by the application (``_StreamedBody``), which sets the limit
            message.body.append(body)
            return
        self.body_size += len(body)
        if self.body_size > self.max_body:
            message.too_large = True
            return
        message.body.append(body)

    def on_message_complete(self) -> None:
        message = self.current
        assert message is not None
        message.complete = True
        if not message.handed_out:
            self.messages.append(message)
        self.current = None
        self.headers_done = False


class _Timeout(Exception):
    """A request part did not arrive within its deadline."""


class _HeadTooLarge(Exception):
    """The request line and headers are longer than ``MAX_HEAD`` (``request``: what of them arrived)."""

    def __init__(self, request: _Message | None):
        super().__init__()
        self.request = request


class _Reading:
    """Where the request ``next_message`` waits for stands: when its first byte came, its deadlines."""

    __slots__ = ("started", "header_deadline", "body_deadline", "continued")

    def __init__(self) -> None:
        self.started: float | None = None  # when the first byte of this request arrived
        self.header_deadline: float | None = None
        self.body_deadline: float | None = None
        self.continued = False  # "100 Continue" considered


class _Answer:
    """One request's answer: WSGI's ``start_response`` and ``write``, the head built from the
    application's status and headers (length, chunked or close, keep-alive), and the body sent
    by the cheapest way that fits (sendfile, one send, or as the application yields it)."""

    def __init__(self, sock: Any, message: _Message):
        self.sock = sock
        self.message = message
        self.keep_alive = message.keep_alive and (message.complete or message.streamed)
        self.head_only = message.method == b"HEAD"
        self.status: str | None = None
        self.headers: list[tuple[str, str]] | None = None
        self.code = 0
        self.sent = False
        self.chunked = False

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        """WSGI's ``start_response``; returns ``write``."""
        if exc_info:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response called twice")
        self.status = status
        self.headers = headers
        self.code = int(status[:3])
        return self.write

    def head(self, length: int | None) -> bytes:
        """The status line and headers; decides chunked and keep-alive."""
        message = self.message
        status = self.status
        assert status is not None  # the application called start_response
        lines = [b"HTTP/1.1 ", status.encode("latin-1"), b"\r\n", _date.header()]
        has_length = self._copy_headers(lines)
        if not message.complete:
            self.keep_alive = False  # an upload the application did not read to the end
        no_body = self.head_only or self.code in _NO_BODY_STATUSES or 100 <= self.code < 200
        if not has_length and not no_body:
            if length is not None:
                lines.append(b"Content-Length: %d\r\n" % length)
            elif message.version == "1.1":
                self.chunked = True
                lines.append(b"Transfer-Encoding: chunked\r\n")
            else:
                self.keep_alive = False
        if not self.keep_alive:
            lines.append(b"Connection: close\r\n")
        elif message.version == "1.0":
            lines.append(b"Connection: keep-alive\r\n")
        lines.append(b"\r\n")
        self.sent = True
        return b"".join(lines)

    def _copy_headers(self, lines: list[bytes]) -> bool:
        """The application's headers but Connection and Transfer-Encoding (this server decides
        those; ``Connection: close`` is heeded); True if one was Content-Length."""
        has_length = False
        for name, value in self.headers or ():
            lower = name.lower()
            if lower == "content-length":
                has_length = True
            elif lower == "connection":
                if value.lower() == "close":
                    self.keep_alive = False
                continue
            elif lower == "transfer-encoding":
                continue
            lines += [name.encode("latin-1"), b": ", value.encode("latin-1"), b"\r\n"]
        return has_length

    def write(self, data: bytes) -> None:
        out = b"" if self.sent else self.head(None)
        if data and not self.head_only:
            out += (b"%x\r\n%s\r\n" % (len(data), data)) if self.chunked else data
        if out:
            self.sock.sendall(out)

    def send(self, result: Iterable[bytes], *, sendfile: bool) -> None:
        """Send what the application returned (``sendfile``: the socket is plain TCP)."""
        started = self.status is not None
        length = _content_length(self.headers) if started else None
        no_body = self.head_only or self.code in _NO_BODY_STATUSES
        source = sendfile_source(result) if started and sendfile and not no_body else None
        if source is not None and length is not None:
            self.sock.sendall(self.head(None))
            file, offset = source
            send_file_range(self.sock, file, offset, length)
        elif started and length is not None and length <= _READ:
            # The usual answer (JSON with its length): head and body leave in one send.
            body = b"".join(result)
            self.sock.sendall(self.head(None) + (b"" if no_body else body))
        else:
            self._stream(result)

    def _stream(self, result: Iterable[bytes]) -> None:
        """The body as the application yields it (chunked when its length is unknown)."""
        for data in result:
            if data:
                self.write(data)
                if self.head_only:
                    break
        if not self.sent:
            if self.status is None:
                raise AssertionError("the application returned without calling start_response")
            self.sock.sendall(self.head(0) + (b"0\r\n\r\n" if self.chunked else b""))
        elif self.chunked and not self.head_only:
            self.sock.sendall(b"0\r\n\r\n")


class _Connection:
    """Serves the requests of one client connection, one after the other."""

    def __init__(self, server: LeanServer, sock: Any, address: Any):
        self.server = server
        self.sock = sock
        self.address = address
        self.limits: Deadlines = server.deadlines
        self.parse = _Parse(self.limits.max_body)
        self.tls = isinstance(sock, gevent.ssl.SSLSocket)

    # ------------------------------------------------------------------ reading

    def _recv(self, seconds: float | None) -> bytes:
        self.sock.settimeout(seconds)
        data: bytes = self.sock.recv(_READ)
        return data

    def _feed(self, data: bytes) -> None:
        self.parse.parser.feed_data(data)

    def next_message(self) -> _Message | None:
        """The next complete request (None: the client went away or stayed idle)."""
        parse = self.parse
        if parse.messages:
            return parse.messages.popleft()
        reading = _Reading()
        while True:
            now = time.monotonic()
            if parse.current is not None and parse.headers_done:
                ready = self._before_body(parse.current, reading)
                if ready is not None:
                    return ready
            wait = self._time_left(reading, now)
            if wait <= 0:
                raise _Timeout()
            try:
                data = self._recv(wait)
            except TimeoutError:
                if parse.current is None and reading.started is None:
                    return None  # idle: close quietly
                raise _Timeout() from None
            if not data:
                return None
            if reading.started is None:
                reading.started = now
            message = self._take(data)
            if message is not None:
                return message

    def _before_body(self, message: _Message, reading: _Reading) -> _Message | None:
        """A request whose headers are in, handed out before its body is read (an upload, one too
        large); answers ``Expect: 100-continue`` once."""
        if message.streamed:
            message.handed_out = True
            return message  # the application reads the body as it arrives
        if message.too_large:
            return message  # answered 413 without reading the rest
        too_long = _too_long(message, self.limits.max_body)
        if not reading.continued and _header(message, b"expect").lower() == b"100-continue":
            reading.continued = True
            if not too_long:
                self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if too_long:
            return message  # the application answers 413 from Content-Length; nothing is read
        return None

    def _time_left(self, reading: _Reading, now: float) -> float:
        """How long the next read may wait: the idle, header or body deadline, by where the request stands."""
        parse, limits = self.parse, self.limits
        if parse.current is None:
            return limits.idle_timeout if reading.started is None else limits.header_timeout
        if not parse.headers_done:
            if reading.header_deadline is None:
                reading.header_deadline = (reading.started or now) + limits.header_timeout
            return reading.header_deadline - now
        if reading.body_deadline is None:
            reading.body_deadline = now + limits.body_timeout
        return reading.body_deadline - now

    def _take(self, data: bytes) -> _Message | None:
        """Parse ``data``; the request it completed, if any (431 for a head over ``MAX_HEAD``)."""
        parse = self.parse
        self._feed(data)
        if parse.current is not None and parse.current.header_bytes > MAX_HEAD:
            raise _HeadTooLarge(parse.current)
        if parse.messages:
            message = parse.messages.popleft()
            if message.header_bytes > MAX_HEAD:
                raise _HeadTooLarge(message)
            return message
        return None

    # ------------------------------------------------------------------ serving

    def serve(self) -> None:
        try:
            while True:
                try:
                    message = self.next_message()
                except _Timeout:
                    self._timed_out()
                    return
                except _HeadTooLarge as exc:
                    self.sock.sendall(
                        _error(
                            431,
                            "headers_too_large",
                            said("the request line and headers must fit in %(kib)s KiB", kib=Number(MAX_HEAD // 1024)),
                            exc.request,
                        )
                    )
                    return
                except httptools.HttpParserUpgrade:
                    self.sock.sendall(
                        _error(400, "bad_request", said("protocol upgrades are not supported"), self.parse.current)
                    )
                    return
                except httptools.HttpParserError as exc:
                    malformed = said("malformed HTTP request: %(problem)s", problem=exc)
                    self.sock.sendall(_error(400, "bad_request", malformed, self.parse.current))
                    return
                if message is None:
                    return
                if not self.respond(message):
                    if message.streamed and not message.complete:
                        self._linger()
                    return
        except OSError:
            return  # the client went away
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def _linger(self) -> None:
        """Read and drop what the client still sends, for ``LINGER_SECONDS`` at most."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                self.sock.settimeout(left)
                if not self.sock.recv(_READ):
                    return
        except OSError:  # (socket.timeout too) the client goes on sending, or went away
            return

    def _timed_out(self) -> None:
        parse = self.parse
        if parse.current is not None and parse.headers_done:
            seconds = self.limits.body_timeout
            log.info("(from %s) request body not received within %g s", self.address, seconds)
            text = said(
                "the request body did not arrive within %(seconds)s s; send the request again", seconds=f"{seconds:g}"
            )
        else:
            seconds = self.limits.header_timeout
            log.info("(from %s) request headers not received within %g s", self.address, seconds)
            text = said(
                "the request headers took longer than %(seconds)s s; send the request again", seconds=f"{seconds:g}"
            )
        try:
            self.sock.sendall(_error(408, "request_timeout", text, parse.current))
        except OSError:
            pass

    def respond(self, message: _Message) -> bool:
        """Run the application for one request; True if the connection may serve another."""
        if message.too_large:
            self.sock.sendall(_error(413, "too_large", said("request body is too large"), message))
            return False
        environ = self._environ(message)
        answer = _Answer(self.sock, message)
        result = None
        self.sock.settimeout(None)  # writing waits as long as pywsgi's does (the client reads or hangs up)
        try:
            result = self.server.application(environ, answer.start_response)
            answer.send(result, sendfile=not self.tls)
            return answer.keep_alive
        except (OSError, EOFError):
            return False  # the client went away (or a file ended early): the connection cannot go on
        except Exception:  # noqa: BLE001 - one request failed; the server goes on
            log.exception("error serving %s %s", message.method.decode("latin-1"), message.url[:200])
            if not answer.sent:
                try:
                    failed = said("the relay failed to answer this request")
                    self.sock.sendall(_error(500, "internal_error", failed, message))
                except OSError:
                    pass
            return False
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001
                    log.exception("error closing a response")

    def _environ(self, message: _Message) -> dict[str, Any]:
        url = httptools.parse_url(message.url)
        path = unquote_to_bytes(url.path or b"/").decode("latin-1")
        server = self.server
        env: dict[str, Any] = {
            "REQUEST_METHOD": message.method.decode("latin-1"),
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": (url.query or b"").decode("latin-1"),
            "SERVER_NAME": server.server_name,
            "SERVER_PORT": server.server_port_str,
            "SERVER_PROTOCOL": f"HTTP/{message.version}",
            "REMOTE_ADDR": self.address[0] if isinstance(self.address, tuple) else "",
            "REMOTE_PORT": str(self.address[1]) if isinstance(self.address, tuple) else "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if self.tls else "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": SendfileWrapper,
        }
        for raw_name, raw_value in message.headers:
            name = raw_name.decode("latin-1").upper()
            if "_" in name:
                continue  # never let "X_Foo" pose as "X-Foo" (as pywsgi does)
            value = raw_value.decode("latin-1").strip()
            if name == "CONTENT-TYPE":
                env["CONTENT_TYPE"] = value
                continue
            if name == "CONTENT-LENGTH":
                env["CONTENT_LENGTH"] = value
                continue
            key = "HTTP_" + name.replace("-", "_")
            env[key] = env[key] + "," + value if key in env else value
        if message.streamed:
            limits = self.limits
            env["wsgi.input"] = _StreamedBody(
                self, message, MinimumRate(limits.stream_min_rate, limits.stream_rate_window, limits.body_timeout)
            )
            return env
        body = b"".join(message.body or ())
        has_body = message.body is not None and (body or "CONTENT_LENGTH" in env or "HTTP_TRANSFER_ENCODING" in env)
        if has_body and not _too_long(message, self.limits.max_body):
            env["CONTENT_LENGTH"] = str(len(body))
            env.pop("HTTP_TRANSFER_ENCODING", None)
        env["wsgi.input"] = io.BytesIO(body)
        return env


class _StreamedBody:
    """``wsgi.input`` of a streamed request: bytes as the client sends them, at a minimum rate
    (``UploadTooSlow`` otherwise); ``b""`` once the body is complete. A client that hangs up
    half-way raises ``EOFError``."""

    def __init__(self, connection: _Connection, message: _Message, rate: MinimumRate):
        self._connection = connection
        self._message = message
        self._rate = rate
        self._continue = _header(message, b"expect").lower() == b"100-continue"

    def read(self, size: int = -1) -> bytes:
        message, connection = self._message, self._connection
        self._rate.begin()  # the minimum rate counts from the application's first read
        if self._continue:
            self._continue = False
            if not message.complete:
                connection.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            while not message.body and not message.complete:
                try:
                    data = connection._recv(self._rate.wait())
                except TimeoutError:
                    self._rate.timed_out()
                    continue
                if not data:
                    raise EOFError("the client hung up before the whole body arrived")
                try:
                    connection._feed(data)  # may also begin the next request (pipelining)
                except httptools.HttpParserError as exc:
                    raise EOFError(f"the request body is malformed: {exc}") from exc
                self._rate.received(len(data))
        finally:
            connection.sock.settimeout(None)
        if not message.body:
            return b""
        chunk = message.body[0]
        if size is None or size < 0 or len(chunk) <= size:
            message.body.pop(0)
            return chunk
        message.body[0] = chunk[size:]
        return chunk[:size]


def _header(message: _Message, name: bytes) -> bytes:
    for key, value in message.headers:
        if key.lower() == name:
            return value.strip()
    return b""


def _too_long(message: _Message, max_body: int) -> bool:
    raw = _header(message, b"content-length")
    return raw.isdigit() and int(raw) > max_body


def _content_length(headers: Iterable[tuple[str, str]] | None) -> int | None:
    for name, value in headers or ():
        if name.lower() == "content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class LeanServer(StreamServer):  # type: ignore[misc]  # gevent has no type information
    """gevent's StreamServer running ``_Connection`` for each client (TLS through ``ssl_args``)."""

    def __init__(
        self, listener: Any, application: WSGIApplication, deadlines: Deadlines | None = None, **ssl_args: Any
    ):
        super().__init__(listener, self._serve, **ssl_args)
        self.application = application
        self.deadlines = deadlines or Deadlines()

    def init_socket(self) -> None:
        super().init_socket()
        self.server_name = (
            socket.getfqdn(self.server_host) if self.server_host in ("", "0.0.0.0", "::") else self.server_host
        )
        self.server_port_str = str(self.server_port)

    def _serve(self, sock: Any, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _Connection(self, sock, address).serve()
