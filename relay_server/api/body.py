"""JSON bodies: reading a request's with a clear 400 instead of a crash, writing an answer from
a typed message (``shared.messages``)."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from relay_server.errors import bad_request
from shared.messages import Message, encode


def answer(message: Message, status: int = 200) -> Response:
    """A typed message as the JSON answer (encoded by msgspec, as the stream's events are)."""
    return Response(encode(message), status=status, mimetype="application/json")


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
                return "text must not contain NUL characters"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "text must be valid Unicode (a lone surrogate such as \\ud800 is not)"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def text_field(data: dict[str, Any], key: str, *, min_len: int = 1, max_len: int = 256) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not (min_len <= len(value) <= max_len):
        raise bad_request(f"{key}: must be a string of {min_len}-{max_len} characters", "invalid_field")
    return value
