"""``GET|HEAD /packages/<sha256>``: a package the relay keeps, for devices pushed it (by a push
not cancelled or expired), and for the devices of the account that uploaded it (``HEAD`` only:
"already here, no need to upload"; they read it through a push). Anyone else gets 404, as for
a package the relay does not keep.

Range, If-Range, ETag and streaming from disk come from Werkzeug's ``send_file``. Uploading:
``PUT`` in relay_server/api/uploads.py.
"""

from __future__ import annotations

from flask import g, request
from flask.typing import ResponseReturnValue

from relay_server import catalog, uploads
from relay_server.api import api
from relay_server.auth import device_required
from relay_server.context import current_relay
from relay_server.errors import not_found
from relay_server.models import Package, Push
from relay_server.push_packages import WITHDRAWN
from relay_server.serving import send_package


@api.get("/packages/<sha256>")
@device_required
def download_package(sha256: str) -> ResponseReturnValue:
    sha256 = sha256.lower()
    package = Package.get_or_none(Package.sha256 == sha256)
    if package is None or not current_relay().store.has(sha256) or not _entitled(sha256):
        # One answer for both: a device must not learn whether someone's private upload exists.
        raise not_found("the relay keeps no package %(sha256)s for this device", "unknown_package", sha256=sha256)
    return send_package(package, f"{sha256}.pkg")


def _entitled(sha256: str) -> bool:
    """May this device read the package? A push to it that still stands names it (a cancelled
    or expired one no longer does: its phone must not install what the sender withdrew). Its
    account having uploaded it answers ``HEAD`` (the sender's "already here" check) but reads
    nothing: a phone of that account whose push was withdrawn is refused as any other.

    Only a push whose package the relay itself fetched (or took from its catalog) unlocks the
    copy: a sender cannot name someone else's hash and have it served to their device."""
    mine = Push.select().where(
        (Push.target_device == g.device.id) & (Push.package_sha256 == sha256) & Push.state.not_in(WITHDRAWN)
    )
    return (
        mine.where(Push.package_url == f"/api/v1/packages/{sha256}").exists()
        or (mine.exists() and catalog.public_package(sha256) is not None)
        or (request.method == "HEAD" and uploads.owns(g.account.id, sha256))
    )
