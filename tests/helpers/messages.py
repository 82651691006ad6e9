"""Messages shaped exactly as the relay sends them (``shared.messages``), for tests that feed a
part of the product without a relay."""

from __future__ import annotations

from typing import Any

from shared.api_messages import Device
from shared.messages import InstallInfo, PackageRef, Push, PushSender, read


def push_json(
    push_id: str,
    *,
    app: dict[str, Any] | None = None,
    state: str = "sent",
    device_id: str = "d1",
    device_name: str = "Phone",
    owner: str = "anna",
    created_at: str = "2026-11-26T10:00:00+00:00",
    updated_at: str = "2026-11-26T10:00:00+00:00",
    **fields: Any,
) -> dict[str, Any]:
    """A push as ``GET /api/v1/pushes`` lists it, with ``fields`` overriding any of its fields."""
    info = InstallInfo.from_dict(app or {"id": "org.example", "name": "Example", "version": "1.0"})
    push = Push(
        id=push_id,
        app=info,
        mode="install_now",
        requested_mode="install_now",
        device_id=device_id,
        device_name=device_name,
        owner=owner,
        sender=PushSender("anna", "laptop", "Anna's laptop"),
        format="apk",
        package=PackageRef("apk", "https://example.org/example.apk"),
        state=state,
        bytes_done=None,
        bytes_total=None,
        detail=None,
        mirrored=False,
        signed=False,
        created_at=created_at,
        updated_at=updated_at,
    )
    return {**push.to_dict(), **fields}


def device_json(device_id: str = "phone-1", *, relation: str = "self", **fields: Any) -> dict[str, Any]:
    """A device as ``GET /api/v1/devices`` lists it (``shared.api_messages.Device``), with ``fields``
    overriding any of its fields."""
    device = Device(
        id=device_id,
        name=fields.pop("name", device_id),
        model="Pixel 8",
        platform="android",
        owner="anna",
        relation=relation,  # type: ignore[arg-type]
        online=False,
        last_seen=None,
        formats=["apk"],
        public_key=None,
        fingerprint=None,
        compatible=True,
        reason=None,
    )
    return {**device.to_dict(), **fields}


def listed_device(device_id: str = "phone-1", **fields: Any) -> Device:
    """``device_json`` read into its shape, as the relay client returns it."""
    return read(device_json(device_id, **fields), Device)


def listed_push(push_id: str, **fields: Any) -> Push:
    """``push_json`` read into its shape, as the relay client returns it."""
    return read(push_json(push_id, **fields), Push)
