"""Serving package files with HTTP Range support (Werkzeug does the Range work)."""

from __future__ import annotations

from flask import Response, send_file

from relay_server.context import current_relay
from relay_server.models import Package


def send_package(package: Package, download_name: str) -> Response:
    """Stream a stored package: Range/If-Range/ETag/Last-Modified, 206 and 416 as due."""
    response = send_file(
        current_relay().store.path_for(package.sha256),
        mimetype=package.content_type,
        as_attachment=True,
        download_name=download_name,
        conditional=True,
        etag=package.sha256,
        max_age=3600,
    )
    response.headers["Accept-Ranges"] = "bytes"
    return response
