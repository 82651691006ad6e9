"""Reading JSON request bodies with a clear 400 instead of a crash."""

from __future__ import annotations

from typing import Any

from flask import request

from relay_server.errors import bad_request


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
    if _has_nul(data):
        raise bad_request("text must not contain NUL characters", "invalid_json")
    return data


def _has_nul(value: Any) -> bool:
    """True if any string (key or value) in the parsed body holds a NUL character.

    No field of the protocol may hold one, and PostgreSQL cannot store one in text.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def text_field(data: dict, key: str, *, min_len: int = 1, max_len: int = 256) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not (min_len <= len(value) <= max_len):
        raise bad_request(f"{key}: must be a string of {min_len}-{max_len} characters", "invalid_field")
    return value
