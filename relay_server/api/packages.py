"""``GET|HEAD /packages/<sha256>``: a package the relay keeps, for devices pushed it, and for
the devices of the account that uploaded it (``HEAD``: "already here, no need to upload").

Range, If-Range, ETag and streaming from disk come from Werkzeug's ``send_file``. Uploading:
``PUT`` in relay_server/api/uploads.py.
"""

from __future__ import annotations

from flask import g
from flask.typing import ResponseReturnValue

from relay_server import catalog, uploads
from relay_server.api import api
from relay_server.auth import device_required
from relay_server.context import current_relay
from relay_server.errors import ApiError, not_found
from relay_server.models import Package, Push
from relay_server.serving import send_package


@api.get("/packages/<sha256>")
@device_required
def download_package(sha256: str) -> ResponseReturnValue:
    sha256 = sha256.lower()
    package = Package.get_or_none(Package.sha256 == sha256)
    if package is None or not current_relay().store.has(sha256):
        raise not_found(f"the relay keeps no package {sha256}", "unknown_package")
    # Only a push whose package the relay itself fetched (or took from its catalog) unlocks
    # the copy: a sender cannot name someone else's hash and have it served to their device.
    mine = Push.select().where((Push.target_device == g.device.id) & (Push.package_sha256 == sha256))
    entitled = (
        mine.where(Push.package_url == f"/api/v1/packages/{sha256}").exists()
        or (mine.exists() and catalog.public_package(sha256) is not None)
        or uploads.owns(g.account.id, sha256)
    )
    if not entitled:
        raise ApiError(403, "not_entitled", "no push to this device uses that package")
    return send_package(package, f"{sha256}.pkg")
