"""The OpenAPI 3.1 description of the relay API (served at ``/api/v1/openapi.json``).

The shapes of pushes, install information, signatures and stream events are generated from
their one definition, ``shared.messages`` (msgspec's JSON Schema); the paths and the smaller
request/answer bodies are written here beside the routes. ``tests/relay/test_openapi.py``
checks that every route is described and every described path exists, and schemathesis
(``tests/fuzz``) that the relay answers as described.

Long because the paths are listed one by one; it shrinks as the remaining bodies become typed
messages (``shared.messages``) whose schemas are generated.
"""

from __future__ import annotations

from typing import Any

import msgspec

from shared import __version__
from shared.messages import SCHEMA_SHAPES
from shared.protocol import DEVICE_REPORTED_STATES, FORMAT_MIME_TYPES, Platform


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
}
_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_NINT = {"type": ["integer", "null"], "minimum": 0}


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    auth: bool = True,
) -> dict[str, Any]:
    # Any route can answer 400 (bad input anywhere, even in the URL); the shared 401 belongs to
    # authenticated routes, while a route's own responses (login's 401) always stay.
    errors = {"400": _ERRORS["400"], **({"401": _ERRORS["401"]} if auth else {})}
    op: dict[str, Any] = {"summary": summary, "responses": {**errors, **responses}}
    if not auth:
        op["security"] = []
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any], required: bool = False, explode: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "explode": explode}


def _upload_op() -> dict[str, Any]:
    """``PUT /packages/{sha256}``: the body is the package file itself, streamed."""
    error = {"description": "", "content": {"application/json": {"schema": _ref("Error")}}}

    def refused(text: str) -> dict[str, Any]:
        return {**error, "description": text}

    uploaded = {
        "type": "object",
        "required": ["sha256", "size", "format", "url"],
        "properties": {"sha256": _STR, "size": {"type": "integer", "minimum": 0}, "format": _STR, "url": _STR},
    }
    op = _op(
        "Upload a package file (content-addressed; only this route streams its body)",
        {
            "200": _json(uploaded, "This account had uploaded it already"),
            "201": _json(uploaded, "Stored; the account may push /api/v1/packages/{sha256}"),
            "408": refused("The body arrived slower than the relay's minimum rate; nothing was kept"),
            "411": refused("No Content-Length"),
            "413": refused("Larger than the relay takes (answered before reading), or longer than announced"),
            "422": refused("hash_mismatch, or not_a_package (a web page named .apk...): nothing was kept"),
            "503": refused("The relay cannot write to its storage; nothing was kept"),
            "507": refused("quota_exceeded (the account's uploads), or storage_full; nothing was kept"),
        },
        params=[_path_param("sha256"), _query("format", {"type": "string", "enum": sorted(FORMAT_MIME_TYPES)})],
    )
    op["requestBody"] = {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
    return op


def _message_schemas() -> dict[str, Any]:
    """JSON Schemas of the typed messages (``shared.messages``), named as their classes."""
    _, components = msgspec.json.schema_components(SCHEMA_SHAPES, ref_template="#/components/schemas/{name}")
    return components


def openapi_document() -> dict[str, Any]:
    """The whole document."""
    schemas = {
        **_message_schemas(),
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": _STR, "message": _STR},
                }
            },
        },
        "DeviceInfo": {
            "type": "object",
            "required": ["id", "name", "model", "platform"],
            "properties": {
                "id": _STR,
                "name": _STR,
                "model": _STR,
                "platform": {"type": "string", "enum": [p.value for p in Platform]},
                "public_key": {"type": "string", "description": "base64 of the device's 32-byte Ed25519 public key"},
            },
        },
        "Device": {
            "type": "object",
            "required": ["id", "name", "model", "platform", "owner", "relation", "online", "compatible"],
            "properties": {
                "id": _STR,
                "name": _STR,
                "model": _STR,
                "platform": _STR,
                "owner": _STR,
                "relation": {"type": "string", "enum": ["self", "friend"]},
                "online": {"type": "boolean"},
                "last_seen": _NSTR,
                "formats": {"type": "array", "items": _STR},
                "compatible": {"type": "boolean"},
                "reason": _NSTR,
                "public_key": _NSTR,
                "fingerprint": _NSTR,
                "installed": {"type": ["object", "null"], "properties": {"version": _NSTR, "version_code": _NINT}},
            },
        },
        "Friend": {
            "type": "object",
            "required": ["username", "status"],
            "properties": {
                "username": _STR,
                "status": {"type": "string", "enum": ["accepted", "pending_incoming", "pending_outgoing"]},
            },
        },
        "App": {
            "allOf": [
                _ref("InstallInfo"),
                {
                    "type": "object",
                    "properties": {
                        "developer": _STR,
                        "license": _STR,
                        "homepage": _STR,
                        "category": _STR,
                        "store_url": _STR,
                    },
                },
            ]
        },
    }
    device_body = {
        "type": "object",
        "required": ["username", "password", "device"],
        "properties": {"username": _STR, "password": _STR, "device": _ref("DeviceInfo")},
    }
    paths = {
        "/healthz": {"get": _op("Health check", {"200": _json({"type": "object"})}, auth=False)},
        "/api/v1/healthz": {
            "get": {
                **_op(
                    "Health check, at its old address",
                    {"308": {"description": "Moved to /healthz (Location)"}},
                    auth=False,
                ),
                "deprecated": True,
            }
        },
        "/api/v1/openapi.json": {
            "get": _op("This document (OpenAPI 3.1)", {"200": _json({"type": "object"})}, auth=False)
        },
        "/api/v1/accounts": {
            "post": _op(
                "Create an account",
                {
                    "201": _json({"type": "object", "properties": {"username": _STR}}, "Created"),
                    "409": {"$ref": "#/components/responses/Conflict"},
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
                body={
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {"username": _STR, "password": _STR},
                },
                auth=False,
            )
        },
        "/api/v1/login": {
            "post": _op(
                "Log a device in and get its token",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["token", "device"],
                            "properties": {"token": _STR, "account": {"type": "object"}, "device": _ref("Device")},
                        }
                    ),
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "409": {"$ref": "#/components/responses/Conflict"},
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
                body=device_body,
                auth=False,
            )
        },
        "/api/v1/logout": {"post": _op("Revoke this token", {"204": {"description": "Logged out"}})},
        "/api/v1/password": {
            "post": _op(
                "Change the password (logs every device out; returns a new token)",
                {
                    "200": _json({"type": "object", "required": ["token"], "properties": {"token": _STR}}),
                    "403": {"$ref": "#/components/responses/Forbidden"},
                },
                body={
                    "type": "object",
                    "required": ["current_password", "new_password"],
                    "properties": {"current_password": _STR, "new_password": _STR},
                },
            )
        },
        "/api/v1/me": {"get": _op("The calling account and device", {"200": _json({"type": "object"})})},
        "/api/v1/me/key": {
            "put": _op(
                "Register or replace the calling device's public key",
                {"200": _json({"type": "object", "properties": {"device": _ref("Device")}})},
                body={"type": "object", "required": ["public_key"], "properties": {"public_key": _STR}},
            )
        },
        "/api/v1/pairings": {
            "post": _op(
                "Make a one-time code that pairs a new device with this account",
                {
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["code", "qr_payload", "expires_at"],
                            "properties": {"code": _STR, "qr_payload": _STR, "expires_at": _STR},
                        },
                        "Created",
                    ),
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
            )
        },
        "/api/v1/pairings/claim": {
            "post": _op(
                "Join the account of a pairing code as this device",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["token", "device", "account", "paired_by"],
                            "properties": {
                                "token": _STR,
                                "account": {"type": "object"},
                                "device": _ref("Device"),
                                "paired_by": {
                                    "type": "object",
                                    "properties": {"device_id": _STR, "name": _STR, "public_key": _NSTR},
                                },
                            },
                        }
                    ),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": {"$ref": "#/components/responses/Conflict"},
                    "410": _json(_ref("Error"), "The code was used already or has expired"),
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
                body={
                    "type": "object",
                    "required": ["code", "device"],
                    "properties": {"code": _STR, "device": _ref("DeviceInfo")},
                },
                auth=False,
            )
        },
        "/api/v1/devices": {
            "get": _op(
                "Associated devices, own first",
                {
                    "200": _json(
                        {"type": "object", "properties": {"devices": {"type": "array", "items": _ref("Device")}}}
                    )
                },
                params=[
                    _query("format", {"type": "array", "items": {"type": "string"}}),
                    _query("app_id", {"type": "string"}),
                ],
            )
        },
        "/api/v1/me/installed": {
            "put": _op(
                "Report the apps installed on this device",
                {"200": _json({"type": "object", "properties": {"installed": {"type": "integer"}}})},
                body={
                    "type": "object",
                    "required": ["apps"],
                    "properties": {
                        "apps": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["id"],
                                "properties": {"id": _STR, "version": _NSTR, "version_code": _NINT},
                            },
                        }
                    },
                },
            )
        },
        "/api/v1/devices/{device_id}": {
            "delete": _op(
                "Remove one of the account's devices",
                {"204": {"description": "Removed"}, "404": {"$ref": "#/components/responses/NotFound"}},
                params=[_path_param("device_id")],
            ),
            "patch": _op(
                "Rename one of the account's devices",
                {
                    "200": _json({"type": "object", "properties": {"device": _ref("Device")}}),
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
                body={"type": "object", "required": ["name"], "properties": {"name": _STR}},
                params=[_path_param("device_id")],
            ),
        },
        "/api/v1/friends": {
            "get": _op(
                "Friends and requests",
                {
                    "200": _json(
                        {"type": "object", "properties": {"friends": {"type": "array", "items": _ref("Friend")}}}
                    )
                },
            ),
            "post": _op(
                "Ask a user to be friends",
                {
                    "201": _json(_ref("Friend"), "Requested"),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": {"$ref": "#/components/responses/Conflict"},
                },
                body={"type": "object", "required": ["username"], "properties": {"username": _STR}},
            ),
        },
        "/api/v1/friends/{username}/accept": {
            "post": _op(
                "Accept a friend request",
                {"200": _json(_ref("Friend")), "404": {"$ref": "#/components/responses/NotFound"}},
                params=[_path_param("username")],
            )
        },
        "/api/v1/friends/{username}": {
            "delete": _op(
                "End a friendship or request",
                {"204": {"description": "Removed"}, "404": {"$ref": "#/components/responses/NotFound"}},
                params=[_path_param("username")],
            )
        },
        "/api/v1/pushes": {
            "post": _op(
                "Push an app to devices",
                {
                    "201": _json(_ref("PushList"), "Created"),
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": {"$ref": "#/components/responses/Conflict"},
                    "422": {"$ref": "#/components/responses/Unprocessable"},
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
                body={
                    "type": "object",
                    "required": ["app", "mode", "device_ids"],
                    "properties": {
                        "app": _ref("InstallInfo"),
                        "mode": _ref("PushMode"),
                        "device_ids": {"type": "array", "items": _STR, "minItems": 1, "maxItems": 50},
                        "signatures": {
                            "type": "object",
                            "additionalProperties": _ref("PushSignature"),
                            "description": "per target device id: the sender's signature",
                        },
                    },
                },
            ),
            "get": _op(
                "Pushes this device sent or received",
                {"200": _json(_ref("PushList"))},
                params=[
                    _query("role", {"type": "string", "enum": ["sent", "received"]}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                ],
            ),
        },
        "/api/v1/pushes/{push_id}": {
            "get": _op(
                "One push with its history",
                {"200": _json(_ref("Push")), "404": {"$ref": "#/components/responses/NotFound"}},
                params=[_path_param("push_id")],
            ),
            "delete": _op(
                "Cancel a push (sender)",
                {
                    "200": _json(_ref("Push")),
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": {"$ref": "#/components/responses/Conflict"},
                },
                params=[_path_param("push_id")],
            ),
        },
        "/api/v1/pushes/{push_id}/events": {
            "post": _op(
                "Report progress (target device)",
                {
                    "200": _json(_ref("Push")),
                    "403": {"$ref": "#/components/responses/Forbidden"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": {"$ref": "#/components/responses/Conflict"},
                },
                body={
                    "type": "object",
                    "required": ["state"],
                    "properties": {
                        "state": {"type": "string", "enum": sorted(s.value for s in DEVICE_REPORTED_STATES)},
                        "bytes_done": {"type": "integer", "minimum": 0},
                        "bytes_total": {"type": "integer", "minimum": 0},
                        "detail": _STR,
                    },
                },
                params=[_path_param("push_id")],
            )
        },
        "/api/v1/stream": {
            "get": _op(
                "The device's Server-Sent Events",
                {"200": {"description": "text/event-stream", "content": {"text/event-stream": {"schema": _STR}}}},
                params=[{"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "integer"}}],
            )
        },
        "/api/v1/packages/{sha256}": {
            "get": _op(
                "A package the relay keeps (Range supported): for devices pushed it by a push not "
                "cancelled or expired, and (HEAD: already here?) for the devices of the account that "
                "uploaded it; anyone else gets 404 unknown_package, as for a package the relay does not keep",
                {
                    "200": {"description": "The package", "content": {"application/octet-stream": {}}},
                    "206": {"description": "Part of the package"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "416": {"description": "Range not satisfiable"},
                },
                params=[_path_param("sha256")],
            ),
            "put": _upload_op(),
        },
        "/api/v1/apps": {
            "get": _op(
                "Search the catalog",
                {"200": _json({"type": "object", "properties": {"apps": {"type": "array", "items": _ref("App")}}})},
                params=[_query("q", _STR)],
                auth=False,
            )
        },
        "/api/v1/apps/{app_id}": {
            "get": _op(
                "One catalog app",
                {"200": _json(_ref("App")), "404": {"$ref": "#/components/responses/NotFound"}},
                params=[_path_param("app_id")],
                auth=False,
            )
        },
        "/api/v1/apps/{app_id}/package": {
            "get": _op(
                "Download by app id: redirect to the platform's package",
                {
                    "302": {"description": "Redirect to the package file"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
                params=[_path_param("app_id"), _query("platform", _STR, required=True)],
                auth=False,
            )
        },
    }
    responses = {
        name: {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
        for name, text in [
            ("BadRequest", "Bad input"),
            ("Unauthorized", "No, bad or revoked token"),
            ("Forbidden", "Not allowed"),
            ("NotFound", "Not found"),
            ("Conflict", "Conflict"),
            ("Unprocessable", "No compatible package"),
            ("TooManyRequests", "Rate limited; see Retry-After"),
        ]
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Appbeam relay",
            "version": __version__,
            "description": "Store-and-forward pushes of apps from a desktop browser to phones.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
