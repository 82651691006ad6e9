"""The OpenAPI 3.1 description of the relay API (served at ``/api/v1/openapi.json``).

Every request and answer body's schema is generated from its one definition, the typed
messages of ``shared.messages`` (pushes, stream events) and ``shared.api_messages`` (the rest),
by msgspec's JSON Schema; what is written here are the paths, their parameters and which
shape each status answers with. ``tests/relay/test_openapi.py`` checks that every route is
described and every described path exists, and schemathesis (``tests/fuzz``) that the relay
answers as described.

Long because the paths are listed one by one, with a sentence each.
"""

from __future__ import annotations

from typing import Any

import msgspec

from shared import __version__
from shared.api_messages import API_SCHEMA_SHAPES
from shared.messages import SCHEMA_SHAPES
from shared.protocol import FORMAT_MIME_TYPES


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
}
_STR = {"type": "string"}


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

    uploaded = _ref("UploadedPackage")
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
    """JSON Schemas of the typed messages (``shared.messages``, ``shared.api_messages``), named as
    their classes."""
    _, components = msgspec.json.schema_components(
        SCHEMA_SHAPES + API_SCHEMA_SHAPES, ref_template="#/components/schemas/{name}"
    )
    return components


def openapi_document() -> dict[str, Any]:
    """The whole document."""
    schemas = _message_schemas()
    paths = {
        "/healthz": {"get": _op("Health check", {"200": _json(_ref("Health"))}, auth=False)},
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
                    "201": _json(_ref("Account"), "Created"),
                    "409": {"$ref": "#/components/responses/Conflict"},
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
                body=_ref("NewAccount"),
                auth=False,
            )
        },
        "/api/v1/login": {
            "post": _op(
                "Log a device in and get its token",
                {
                    "200": _json(_ref("Session")),
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "409": {"$ref": "#/components/responses/Conflict"},
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
                body=_ref("Login"),
                auth=False,
            )
        },
        "/api/v1/logout": {"post": _op("Revoke this token", {"204": {"description": "Logged out"}})},
        "/api/v1/password": {
            "post": _op(
                "Change the password (logs every device out; returns a new token)",
                {
                    "200": _json(_ref("NewToken")),
                    "403": {"$ref": "#/components/responses/Forbidden"},
                },
                body=_ref("PasswordChange"),
            )
        },
        "/api/v1/me": {"get": _op("The calling account and device", {"200": _json(_ref("Me"))})},
        "/api/v1/me/key": {
            "put": _op(
                "Register or replace the calling device's public key",
                {"200": _json(_ref("OneDevice"))},
                body=_ref("KeyRegistration"),
            )
        },
        "/api/v1/pairings": {
            "post": _op(
                "Make a one-time code that pairs a new device with this account",
                {
                    "201": _json(_ref("Pairing"), "Created"),
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
            )
        },
        "/api/v1/pairings/claim": {
            "post": _op(
                "Join the account of a pairing code as this device",
                {
                    "200": _json(_ref("PairingClaimed")),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": {"$ref": "#/components/responses/Conflict"},
                    "410": _json(_ref("Error"), "The code was used already or has expired"),
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
                body=_ref("PairingClaim"),
                auth=False,
            )
        },
        "/api/v1/devices": {
            "get": _op(
                "Associated devices, own first",
                {"200": _json(_ref("DeviceList"))},
                params=[
                    _query("format", {"type": "array", "items": {"type": "string"}}),
                    _query("app_id", {"type": "string"}),
                ],
            )
        },
        "/api/v1/me/installed": {
            "put": _op(
                "Report the apps installed on this device",
                {"200": _json(_ref("InstalledCount"))},
                body=_ref("InstalledApps"),
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
                    "200": _json(_ref("OneDevice")),
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
                body=_ref("DeviceRename"),
                params=[_path_param("device_id")],
            ),
        },
        "/api/v1/friends": {
            "get": _op(
                "Friends and requests",
                {"200": _json(_ref("FriendList"))},
            ),
            "post": _op(
                "Ask a user to be friends",
                {
                    "201": _json(_ref("Friend"), "Requested"),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": {"$ref": "#/components/responses/Conflict"},
                },
                body=_ref("FriendRequest"),
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
                body=_ref("PushRequest"),
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
                body=_ref("PushReport"),
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
                {"200": _json(_ref("CatalogList"))},
                params=[_query("q", _STR)],
                auth=False,
            )
        },
        "/api/v1/apps/{app_id}": {
            "get": _op(
                "One catalog app",
                {"200": _json(_ref("CatalogEntry")), "404": {"$ref": "#/components/responses/NotFound"}},
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
