"""JSON bodies: reading a request's with a clear 400 instead of a crash, writing an answer from
a typed message (``shared.messages``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from flask import Response, request

from relay_server.errors import bad_request
from relay_server.i18n.errors import N_
from shared.messages import Message, encode

B = TypeVar("B", covariant=True)


class RequestShape(Protocol[B]):
    """A request body's typed shape (``shared.api_messages``): checked field by field."""

    def from_dict(self, data: Mapping[str, Any], /) -> B: ...


def answer(message: Message, status: int = 200) -> Response:
    """A typed message as the JSON answer (encoded by msgspec, as the stream's events are)."""
    return Response(encode(message), status=status, mimetype="application/json")


def read_body(shape: RequestShape[B]) -> B:
    """The request's JSON object as ``shape``: 400 ``invalid_json`` when it is not one (``json_body``),
    400 ``invalid_field`` naming the field when a field is wrong (the shape's ``from_dict``)."""
    return shape.from_dict(json_body())


#: What a request without a JSON body hears.
SEND_JSON = N_("send a JSON body with 'Content-Type: application/json'")


def json_body() -> dict[str, Any]:
    """The request's JSON object; 400 when it is missing, malformed or not an object."""
    if not request.is_json:
        raise bad_request(SEND_JSON, "invalid_json")
    return json_object(request.get_data())


def json_object(data: bytes) -> dict[str, Any]:
    """A JSON body's object (parsed as Flask's ``get_json`` parses it); 400 ``invalid_json`` when
    it is malformed, not an object, or holds text no database can store. The hot routes
    (``relay_server.hot_routes``) read their bodies with this too."""
    try:
        value = json.loads(data)
    except RecursionError:  # nesting deeper than the JSON parser will follow
        raise bad_request("the JSON body is nested too deeply", "invalid_json") from None
    except ValueError:  # not JSON, or not UTF-8/16/32
        raise bad_request(SEND_JSON, "invalid_json") from None
    if not isinstance(value, dict):
        raise bad_request("the JSON body must be an object", "invalid_json")
    problem = _bad_text(value)
    if problem:
        raise bad_request(problem, "invalid_json")
    return value


def _bad_text(value: Any) -> str | None:
    """Why a string (key or value) of the parsed body cannot be stored, or None.

    No field of the protocol may hold a NUL character (PostgreSQL cannot store one in
    text), and JSON's ``\\ud800``-style escapes can produce a lone UTF-16 surrogate, which
    is no character at all: neither database can store it, nor can it be sent on as UTF-8.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return N_("text must not contain NUL characters")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return N_("text must be valid Unicode (a lone surrogate such as \\ud800 is not)")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None
