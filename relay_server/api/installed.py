"""What is installed on a device (issue 14): the device reports its apps, its own account reads
them, so the picker can say "Installed" or "Update from 3.5 to 3.6" like an app store does.

``PUT /me/installed`` ``{apps: [{id, version?, version_code?}]}`` replaces the calling device's
list. ``GET /devices?app_id=X`` then gives each of the caller's own devices ``installed``: the
version there, or null; friends' devices never show what they have installed.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from relay_server.api import api
from relay_server.api.body import json_body
from relay_server.auth import device_required
from relay_server.db import database, utcnow
from relay_server.errors import bad_request
from relay_server.models import InstalledApp
from shared.protocol import MAX_INT, parse_app_id

#: The most apps one device may report.
MAX_APPS = 2000


def _parse(body: dict[str, Any]) -> list[dict[str, Any]]:
    apps = body.get("apps")
    if not isinstance(apps, list):
        raise bad_request("apps: give a list of {id, version, version_code}", "invalid_field")
    if len(apps) > MAX_APPS:
        raise bad_request(f"apps: at most {MAX_APPS} apps", "invalid_field")
    rows = {}
    for index, app in enumerate(apps):
        where = f"apps[{index}]"
        if not isinstance(app, dict):
            raise bad_request(f"{where}: must be an object", "invalid_field")
        app_id = parse_app_id(app.get("id"), f"{where}.id")
        version = app.get("version")
        if version is not None and (not isinstance(version, str) or len(version) > 64):
            raise bad_request(f"{where}.version: text of at most 64 characters", "invalid_field")
        code = app.get("version_code")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= MAX_INT):
            raise bad_request(f"{where}.version_code: a whole number", "invalid_field")
        rows[app_id] = {"app_id": app_id, "version": version, "version_code": code}
    return list(rows.values())


@api.put("/me/installed")
@device_required
def report_installed() -> ResponseReturnValue:
    rows = _parse(json_body())
    now = utcnow()
    with database.atomic():
        InstalledApp.delete().where(InstalledApp.device == g.device.id).execute()
        if rows:
            InstalledApp.insert_many([{**r, "device": g.device.id, "updated_at": now} for r in rows]).execute()
    return jsonify({"installed": len(rows)})


def installed_versions(device_ids: list[str], app_id: str) -> dict[str, dict[str, Any]]:
    """``{device_id: {version, version_code}}`` for the devices that have ``app_id``."""
    if not device_ids:
        return {}
    query = InstalledApp.select().where((InstalledApp.app_id == app_id) & InstalledApp.device.in_(device_ids))
    return {row.device_id: {"version": row.version, "version_code": row.version_code} for row in query}
