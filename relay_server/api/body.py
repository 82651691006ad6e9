"""JSON bodies: reading a request's with a clear 400 instead of a crash, writing an answer from
a typed message (``shared.messages``)."""

from __future__ import annotations

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


def json_body() -> dict[str, Any]:
    """The request's JSON object; 400 when it is missing, malformed or not an object."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the JSON parser will follow
        raise bad_request("the JSON body is nested too deeply", "invalid_json") from None
    if data is None:
        raise bad_request("send a JSON body with 'Content-Type: application/json'", "invalid_json")
    if not isinstance(data, dict):
        raise bad_request("the JSON body must be an object", "invalid_json")
    problem = _bad_text(data)
    if problem:
        raise bad_request(problem, "invalid_json")
    return data


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
