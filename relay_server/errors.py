"""API errors: one exception type, one JSON shape, the right status for every failure.

The ``code`` is stable (programs compare it); the ``message`` is a sentence in the language the
request asks for (``Accept-Language``: English or Simplified Chinese, relay_server/i18n/errors.py).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, Response, request
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException

from relay_server.i18n.errors import CONTENT_LANGUAGE, N_, header_language, in_language, request_language, said
from relay_server.storage_health import MESSAGES as STORAGE_MESSAGES
from relay_server.storage_health import RETRY_AFTER as STORAGE_RETRY_AFTER
from relay_server.storage_health import storage_problem
from shared.api_messages import Error
from shared.i18n import Sentence
from shared.messages import encode
from shared.protocol import API_PREFIX, ProtocolError

log = logging.getLogger(__name__)

#: Seconds a client waits before retrying when every database connection is in use.
BUSY_RETRY_AFTER = 5


class ApiError(Exception):
    """Raised by handlers; becomes ``{"error": {"code", "message"}}`` with ``status``.

    ``message`` is the English template, its values named placeholders given as keywords
    (``"you have no device %(device)s", device=repr(device_id)``), so each request reads the
    whole sentence in its own language; ``.message`` is the English one (logs, tests). A
    :class:`shared.i18n.Sentence` made elsewhere (a package check's refusal) is taken as it is.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str | Sentence,
        headers: dict[str, str] | None = None,
        /,
        **values: object,
    ):
        self.said = message if isinstance(message, Sentence) else said(message, **values)
        self.message = self.said.text("en")
        super().__init__(self.message)
        self.status = status
        self.code = code
        self.headers = headers or {}


def bad_request(message: str | Sentence, code: str = "bad_request", /, **values: object) -> ApiError:
    return ApiError(400, code, message, **values)


#: What a 404 says when its raise site says nothing more.
NOT_FOUND = N_("not found")


def not_found(message: str | Sentence = NOT_FOUND, code: str = "not_found", /, **values: object) -> ApiError:
    return ApiError(404, code, message, **values)


def error_body(code: str, message: str) -> bytes:
    """The JSON of every refusal, ``{"error": {"code", "message"}}``, from its one typed shape
    (``shared.api_messages.Error``, encoded by msgspec): the Flask app and both HTTP fronts send
    the same bytes for the same refusal."""
    return encode(Error.of(code, message))


def error_response(
    status: int, code: str, message: str | Sentence, headers: dict[str, str] | None = None, lang: str | None = None
) -> Response:
    """The error body, its message written in the request's language (``Content-Language`` says which;
    ``lang`` when the caller has no Flask request: ``relay_server.hot_routes``)."""
    lang = lang or request_language()
    resp = Response(error_body(code, in_language(message, lang)), status=status, mimetype="application/json")
    resp.headers["Content-Language"] = CONTENT_LANGUAGE[lang]
    resp.headers["Vary"] = "Accept-Language"  # a cache in front must not hand one reader's language to another
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


_REASONS = {s.value: s.phrase for s in HTTPStatus}


def raw_error(status: int, code: str, message: str | Sentence, accept_language: str | None) -> bytes:
    """A whole HTTP/1.1 refusal that closes the connection, for the HTTP fronts' own answers
    (a malformed request, a body too slow or too large), which come before any Flask request:
    the same body as :func:`error_response`, in the language ``accept_language`` asks for."""
    lang = header_language(accept_language)
    body = error_body(code, in_language(message, lang))
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Language: {CONTENT_LANGUAGE[lang]}\r\nVary: Accept-Language\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    429: "too_many_requests",
}


#: Werkzeug's own descriptions of the statuses an API request can meet without a handler of ours
#: (an unknown route, a wrong method, a range past the end), word for word, so the catalog
#: translates them; a description a raise site chose itself stays as it is.
_WERKZEUG_SENTENCES = {
    400: N_("The browser (or proxy) sent a request that this server could not understand."),
    404: N_(
        "The requested URL was not found on the server. If you entered the URL manually please check your "
        "spelling and try again."
    ),
    405: N_("The method is not allowed for the requested URL."),
    415: N_("The server does not support the media type transmitted in the request."),
    416: N_("The server cannot provide the requested range."),
}


def _werkzeug_sentence(exc: HTTPException) -> str | Sentence:
    """exc's description, as a sentence of the catalog when it is Werkzeug's default one."""
    message = exc.description or exc.name
    known = _WERKZEUG_SENTENCES.get(exc.code or 0)
    return said(known) if known is not None and message == known else message


def register_error_handlers(app: Flask) -> None:
    """JSON errors for the API; HTML pages keep Werkzeug's own error pages."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | HTTPException:
        if not request.path.startswith(API_PREFIX):
            return exc
        code = _HTTP_CODES.get(exc.code or 500, "http_error")
        message = _werkzeug_sentence(exc)
        if exc.code == 413:
            message = said("request body is too large")
        # Keep what the exception says in headers (Allow on 405, Content-Range on 416, ...).
        extra = {k: v for k, v in exc.get_headers() if k.lower() not in ("content-type", "content-length")}
        return error_response(exc.code or 500, code, message, extra)

    @app.errorhandler(Exception)  # ApiError, ProtocolError, a busy pool, storage errors, bugs
    def _refused(exc: Exception) -> Response:
        return error_response(*refusal(exc, request.method, request.path))


Refusal = tuple[int, str, "str | Sentence", dict[str, str]]


def refusal(exc: Exception, method: str, path: str) -> Refusal:
    """What a request that raised ``exc`` is answered: status, code, message and headers.

    The Flask app's error handlers and the hot routes (``relay_server.hot_routes``, which answer
    the push path without Flask) both answer from here, so a refusal is the same either way.
    """
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.said, exc.headers
    if isinstance(exc, ProtocolError):
        return 400, "invalid_field", exc.said, {}
    if isinstance(exc, MaxConnectionsExceeded):
        log.warning("no database connection free for %s %s", method, path)
        return (
            503,
            "busy",
            N_("the relay is busy; nothing was changed. Try again in a few seconds"),
            {"Retry-After": str(BUSY_RETRY_AFTER)},
        )
    problem = storage_problem(exc)
    if problem is not None:
        log.error("storage refused a write on %s %s (%s): %s", method, path, problem, exc)
        status = 507 if problem == "full" else 503
        # A lost database connection heals at once (the pool drops it): ask for a quick retry.
        retry_after = 1 if problem == "database_lost" else STORAGE_RETRY_AFTER
        return (
            status,
            "storage_full" if problem == "full" else "storage_unavailable",
            said(STORAGE_MESSAGES[problem]),
            {"Retry-After": str(retry_after)},
        )
    log.exception("unhandled error on %s %s", method, path, exc_info=exc)
    return 500, "internal_error", N_("the relay hit an unexpected error; it was logged"), {}
