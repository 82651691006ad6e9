"""What is installed on a device (issue 14): the device reports its apps, its own account reads
them, so the picker can say "Installed" or "Update from 3.5 to 3.6" like an app store does.

``PUT /me/installed`` ``{apps: [{id, version?, version_code?}]}`` replaces the calling device's
list. ``GET /devices?app_id=X`` then gives each of the caller's own devices ``installed``: the
version there, or null; friends' devices never show what they have installed.
"""

from __future__ import annotations

from flask import g
from flask.typing import ResponseReturnValue

from relay_server.api import api
from relay_server.api.body import answer, read_body
from relay_server.auth import device_required
from relay_server.db import database, utcnow
from relay_server.models import InstalledApp
from shared.api_messages import InstalledApps, InstalledCount, InstalledVersion


@api.put("/me/installed")
@device_required
def report_installed() -> ResponseReturnValue:
    apps = read_body(InstalledApps).apps
    now = utcnow()
    rows = [
        {"app_id": a.id, "version": a.version, "version_code": a.version_code, "device": g.device.id, "updated_at": now}
        for a in apps
    ]
    with database.atomic():
        InstalledApp.delete().where(InstalledApp.device == g.device.id).execute()
        if rows:
            InstalledApp.insert_many(rows).execute()
    return answer(InstalledCount(len(rows)))


def installed_versions(device_ids: list[str], app_id: str) -> dict[str, InstalledVersion]:
    """The version of ``app_id`` on each of the devices that have it, by device id."""
    if not device_ids:
        return {}
    query = InstalledApp.select().where((InstalledApp.app_id == app_id) & InstalledApp.device.in_(device_ids))
    return {row.device_id: InstalledVersion(row.version, row.version_code) for row in query}
