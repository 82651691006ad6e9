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
closes. Without this, forty sockets that announced a 1,000-byte body and sent one byte held
every pooled database connection for good (issue 11, item 1).

This hooks into gevent's ``WSGIHandler`` (``read_requestline``, ``read_request``,
``run_application``, ``_handle_client_error``); the last is pywsgi's documented-as-provisional
hook for client errors, and replacing ``wsgi_input`` relies on pywsgi calling its
``_discard()`` after the application. ``tests/relay/test_slow_clients.py`` pins both.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import gevent

#: Read a chunked body in pieces of this size (bytes).
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Deadlines:
    """Seconds allowed for each part of a request, and the largest body read (bytes)."""

    idle_timeout: float = 75.0
    header_timeout: float = 20.0
    body_timeout: float = 20.0
    max_body: int = 1024 * 1024


class RequestTimedOut(ValueError):
    """The client did not send its request in time (a ValueError: pywsgi's client-error path)."""


def _json_answer(status: str, code: str, message: str) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class _Drained:
    """Stands in for pywsgi's request input once the body was read (or given up on): its
    ``_discard`` must not read from the socket again."""

    def _discard(self) -> None:
        pass


class DeadlineHandler:
    """Mixin for ``gevent.pywsgi.WSGIHandler``; the server carries ``deadlines`` (``Deadlines``)."""

    def _deadlines(self) -> Deadlines:
        return getattr(self.server, "deadlines", None) or Deadlines()

    def read_requestline(self):
        with gevent.Timeout(self._deadlines().idle_timeout, False):
            return super().read_requestline()
        return ""  # nothing came in time: pywsgi closes the connection quietly

    def read_request(self, raw_requestline):
        seconds = self._deadlines().header_timeout
        timeout = gevent.Timeout(seconds, RequestTimedOut(f"the request headers took longer than {seconds:g} s"))
        with timeout:
            return super().read_request(raw_requestline)

    def _handle_client_error(self, ex):
        if isinstance(ex, RequestTimedOut):
            self.log_error("(from %s) %s", self.client_address, ex)
            return ("408", _json_answer("408 Request Timeout", "request_timeout",
                                        f"{ex}; send the request again"))
        return super()._handle_client_error(ex)

    def run_application(self):
        refusal = self._read_body()
        if refusal is not None:
            status, code, message = refusal
            self.close_connection = True
            body = json.dumps({"error": {"code": code, "message": message}}).encode()
            self.start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                         ("Connection", "close")])
            self.write(body)
            return
        super().run_application()

    def _read_body(self) -> tuple[str, str, str] | None:
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
                        return ("413 Request Entity Too Large", "too_large", "request body is too large")
                else:
                    data = source.read(length)
        except OSError:  # the client hung up half-way (or sent a broken chunk)
            self.wsgi_input = _Drained()
            return ("400 Bad Request", "bad_request", "the request body ended early; send the request again")
        except RequestTimedOut:
            self.wsgi_input = _Drained()
            self.log_error("(from %s) request body not received within %g s", self.client_address,
                           limits.body_timeout)
            return ("408 Request Timeout", "request_timeout",
                    f"the request body did not arrive within {limits.body_timeout:g} s; send the request again")
        env["wsgi.input"] = io.BytesIO(bytes(data))
        env["CONTENT_LENGTH"] = str(len(data))
        env.pop("HTTP_TRANSFER_ENCODING", None)
        self.wsgi_input = _Drained()
        return None
