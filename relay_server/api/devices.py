"""The caller's associated devices, for the sender's device picker [5, 0062]."""

from __future__ import annotations

from typing import cast

from flask import g, request
from flask.typing import ResponseReturnValue
from msgspec import UNSET, UnsetType

from relay_server.api import api
from relay_server.api.body import answer, read_body
from relay_server.associations import associated_devices
from relay_server.auth import device_required
from relay_server.context import current_relay
from relay_server.db import database, iso, utcnow
from relay_server.errors import ApiError, bad_request
from relay_server.hub import Hub
from relay_server.models import Device, Token
from shared.api_messages import Device as DeviceShown
from shared.api_messages import DeviceList, DeviceRename, InstalledVersion, OneDevice, Relation
from shared.protocol import FORMAT_MIME_TYPES, formats_for, incompatibility_reason, parse_app_id
from shared.signing import fingerprint


def device_view(
    device: Device,
    relation: Relation,
    hub: Hub,
    formats: list[str] | None = None,
    installed: InstalledVersion | None | UnsetType = UNSET,
) -> DeviceShown:
    """A device as the caller sees it (the shape is ``shared.api_messages.Device``)."""
    online = hub.is_connected(device.id)
    reason = incompatibility_reason(device.platform, formats) if formats else None
    return DeviceShown(
        id=device.id,
        name=device.name,
        model=device.model,
        platform=device.platform,
        owner=device.account.username,
        relation=relation,
        online=online,
        last_seen=iso(utcnow() if online else device.last_seen),
        formats=list(formats_for(device.platform)),
        public_key=device.public_key,
        fingerprint=fingerprint(device.public_key) if device.public_key else None,
        compatible=reason is None,
        reason=reason,
        installed=installed,
    )


@api.get("/devices")
@device_required
def list_devices() -> ResponseReturnValue:
    formats = [f.strip().lower() for f in request.args.getlist("format") if f.strip()]
    unknown = [f for f in formats if f not in FORMAT_MIME_TYPES]
    if unknown:
        raise bad_request("format: unknown package format %(format)s", "invalid_field", format=repr(unknown[0]))
    hub = current_relay().hub
    associated = associated_devices(g.account, g.device.id)
    app_id = request.args.get("app_id")
    versions: dict[str, InstalledVersion] | None = None
    if app_id:
        # What the caller's own devices have of this app (never a friend's: that stays theirs).
        from relay_server.api.installed import installed_versions

        own = [d.id for d, rel in associated if rel == "self"]
        versions = installed_versions(own, parse_app_id(app_id, "app_id"))
    devices = [
        device_view(
            d,
            cast(Relation, rel),
            hub,
            formats,
            versions.get(d.id) if versions is not None and rel == "self" else UNSET,
        )
        for d, rel in associated
    ]
    return answer(DeviceList(devices))


@api.delete("/devices/<device_id>")
@device_required
def remove_device(device_id: str) -> ResponseReturnValue:
    """Remove one of the account's devices: its tokens stop working and its stream closes."""
    device = Device.get_or_none(Device.id == device_id)
    if device is None or device.account_id != g.account.id:
        raise ApiError(404, "unknown_device", "you have no device %(device)s", device=repr(device_id))
    with database.atomic():
        Token.update(revoked_at=utcnow()).where(Token.device == device, Token.revoked_at.is_null()).execute()
        device.delete_instance(recursive=True)
    current_relay().hub.disconnect(device_id)
    return "", 204


@api.patch("/devices/<device_id>")
@device_required
def rename_device(device_id: str) -> ResponseReturnValue:
    """Rename one of the account's devices (or this one): ``{name}``, 1-100 characters."""
    name = read_body(DeviceRename).name
    device = Device.get_or_none(Device.id == device_id)
    if device is None or device.account_id != g.account.id:
        raise ApiError(404, "unknown_device", "you have no device %(device)s", device=repr(device_id))
    with database.atomic():
        Device.update(name=name).where(Device.id == device.id).execute()
    device.name = name
    return answer(OneDevice(device_view(device, "self", current_relay().hub)))
