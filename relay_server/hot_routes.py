"""The push path's two busiest routes, answered without Flask: ``POST /api/v1/pushes`` and the
target device's ``POST /api/v1/pushes/<push_id>/events``.

Every delivered push is one of each. Through Flask, each request also pays for a request and an
app context, URL routing, a ``Request`` and a ``Response`` object, the before/teardown hooks and
the error-handler lookup: about a sixth of the relay's CPU per push (py-spy, issue 16,
``bench/results/NOTES.md``), for two routes whose work is a function call. Here they go from the
WSGI environ straight to the same functions the Flask routes call, in the same order, with the
same checks and the same answers:

- the request's database connection, taken and given back as the app's ``_open_db`` /
  ``_close_db`` hooks do (``create_app``; ``tests/relay/test_hot_routes.py`` fails when the app
  gains a hook, so that it is added here too);
- the token (``auth.authenticate``, 401), the JSON object (``body.json_object``, 400),
  the route's work (``api.pushes.push_from`` / ``report_from``: rate limit, shape, push);
- a refusal from ``errors.refusal`` and ``errors.error_response``, in the language the request asks for;
- the answer encoded from its typed message, ``Content-Type: application/json``.

Only requests of the ordinary kind take this way: ``POST``, the exact path (a push id of
letters, digits, ``-`` and ``_``), no query string, ``Content-Type: application/json`` and a
``Content-Length`` within the relay's limit (both of the relay's HTTP fronts read a chunked body
whole and give it one). Anything else (a trailing slash, another method, an oversized body, a
form), and every request while Flask's ``TRUSTED_HOSTS`` is set, goes to Flask, which answers it
as before. ``tests/relay/test_hot_routes.py`` sends the same requests both ways and compares the
answers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.http import HTTP_STATUS_CODES, parse_options_header
from werkzeug.sansio.utils import get_current_url
from werkzeug.wsgi import get_host

from relay_server.api.body import json_object
from relay_server.api.pushes import push_from, report_from
from relay_server.auth import authenticate
from relay_server.context import Relay
from relay_server.db import database
from relay_server.errors import error_response, refusal
from relay_server.i18n.errors import header_language
from relay_server.models import Device
from shared.messages import Message, encode
from shared.protocol import API_PREFIX

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

#: A route's work once the caller is known: (device, JSON object, push id, host URL) -> (answer, status).
_Work = Callable[[Device, dict[str, Any], str, str], tuple[Message, int]]

_PUSHES = f"{API_PREFIX}/pushes"
_REPORT = re.compile(re.escape(_PUSHES) + r"/([A-Za-z0-9_-]{1,128})/events")
_JSON_HEADERS = [("Content-Type", "application/json")]


@functools.lru_cache(maxsize=256)
def _host_url(scheme: str, host: str) -> str:
    """Flask's ``request.host_url``. Werkzeug's IRI conversion took ~5 % of the two routes'
    time under cProfile; a relay sees few hosts, so each is worked out once."""
    return get_current_url(scheme, host)


def _status(code: int) -> str:
    return f"{code} {HTTP_STATUS_CODES[code].upper()}"  # as Werkzeug writes it


class HotRoutes:
    """WSGI: the two push routes here, every other request to ``flask`` (the relay's Flask app's
    ``wsgi_app``: ``create_app`` puts this in its place)."""

    def __init__(self, app: Flask, relay: Relay):
        self.flask: WSGIApplication = app.wsgi_app
        self.relay = relay
        self._config = app.config
        self._max_body = relay.config.max_request_bytes

    def _create(self, device: Device, body: dict[str, Any], push_id: str, host_url: str) -> tuple[Message, int]:
        return push_from(self.relay, device, body, host_url), 201

    def _report(self, device: Device, body: dict[str, Any], push_id: str, host_url: str) -> tuple[Message, int]:
        return report_from(self.relay, device, push_id, body), 200

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        routed = self._route(environ)
        if routed is None:
            return self.flask(environ, start_response)
        work, push_id, length = routed
        return self._answer(environ, start_response, work, push_id, length)

    def _route(self, environ: WSGIEnvironment) -> tuple[_Work, str, int] | None:
        """The route's work, its push id and the body's length, if this request may skip Flask."""
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING") or self._config["TRUSTED_HOSTS"]:
            return None
        path = environ.get("PATH_INFO", "")
        if path == _PUSHES:
            work: _Work = self._create
            push_id = ""
        else:
            match = _REPORT.fullmatch(path)
            if match is None:
                return None
            work, push_id = self._report, match.group(1)
        length = environ.get("CONTENT_LENGTH", "")
        if (
            not (length.isascii() and length.isdigit())
            or int(length) > self._max_body
            or "HTTP_TRANSFER_ENCODING" in environ
        ):
            return None
        if parse_options_header(environ.get("CONTENT_TYPE", ""))[0] != "application/json":
            return None
        return work, push_id, int(length)

    def _answer(
        self, environ: WSGIEnvironment, start_response: StartResponse, work: _Work, push_id: str, length: int
    ) -> Iterable[bytes]:
        try:
            host_url = _host_url(environ["wsgi.url_scheme"], get_host(environ))
            body = environ["wsgi.input"].read(length) if length else b""
            database.connect(reuse_if_open=True)
            try:
                device, _digest = authenticate(environ.get("HTTP_AUTHORIZATION", ""))
                message, status = work(device, json_object(body), push_id, host_url)
            finally:
                if not database.is_closed():
                    database.close()
            data = encode(message)
        except Exception as exc:  # noqa: BLE001 - answered as the Flask app's error handlers answer it
            lang = header_language(environ.get("HTTP_ACCEPT_LANGUAGE"))
            method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
            return error_response(*refusal(exc, method, path), lang=lang)(environ, start_response)
        start_response(_status(status), [*_JSON_HEADERS, ("Content-Length", str(len(data)))])
        return [data]
