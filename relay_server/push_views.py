"""Reading pushes as the API shows them: one push (only to its sender or target), a device's
sent or received list, and ``view``, the push as ``shared.messages.Push``.
"""

from __future__ import annotations

from datetime import datetime

from relay_server.db import iso
from relay_server.errors import bad_request, not_found
from relay_server.models import Account, Device, Push, PushHistory
from relay_server.prepared import Prepared, slot
from shared import messages
from shared.messages import InstallInfo, PackageRef, PushSender
from shared.protocol import PushMode, PushState

_Sender, _SenderAccount, _Target, _TargetAccount = Device.alias(), Account.alias(), Device.alias(), Account.alias()
#: A push with its sender and target devices and their accounts: ``to_dict`` needs no further query.
_PUSH = Prepared(
    lambda: (
        # (Named columns: a whole Device alias would select its ``model`` column wrongly, as the alias's model.)
        Push.select(
            Push,
            _Sender.id,
            _Sender.name,
            _Sender.account,
            _SenderAccount.id,
            _SenderAccount.username,
            _Target.id,
            _Target.name,
            _Target.account,
            _TargetAccount.id,
            _TargetAccount.username,
        )
        .join(_Sender, on=(Push.sender_device == _Sender.id), attr="sender_device")
        .join(_SenderAccount, on=(_Sender.account == _SenderAccount.id), attr="account")
        .switch(Push)
        .join(_Target, on=(Push.target_device == _Target.id), attr="target_device")
        .join(_TargetAccount, on=(_Target.account == _TargetAccount.id), attr="account")
        .where(Push.id == slot("id"))
    )
)


def visible_push(device: Device, push_id: str) -> Push:
    """The push if ``device`` sent or received it; 404 otherwise (no existence leak)."""
    found = _PUSH.rows(id=push_id)
    push: Push | None = found[0] if found else None
    if push is None or device.id not in (push.sender_device_id, push.target_device_id):
        raise not_found("no push %(push)s for this device", "unknown_push", push=repr(push_id))
    return push


def get(device: Device, push_id: str) -> Push:
    """The push with its history, for its sender or target (404 otherwise)."""
    return visible_push(device, push_id)


def listing(device: Device, role: str, limit: int) -> list[Push]:
    """The pushes ``device`` sent or received, newest first."""
    if role not in ("sent", "received"):
        raise bad_request("role: must be sent or received", "invalid_field")
    column = Push.sender_device if role == "sent" else Push.target_device
    return list(Push.select().where(column == device.id).order_by(Push.created_at.desc(), Push.id).limit(limit))


def view(push: Push, history: bool = False) -> messages.Push:
    """A push as the API shows it (``docs/api.md``; the shape is ``shared.messages.Push``)."""
    sender: Device = push.sender_device
    target: Device = push.target_device
    shown = messages.Push(
        id=push.id,
        app=messages.read(push.app, InstallInfo, "app."),
        mode=PushMode(push.mode),
        requested_mode=PushMode(push.requested_mode),
        device_id=target.id,
        device_name=target.name,
        owner=target.account.username,
        sender=PushSender(sender.account.username, sender.id, sender.name),
        format=push.format,
        package=PackageRef(push.format, push.package_url, push.package_sha256, push.package_size),
        state=PushState(push.state),
        bytes_done=push.bytes_done,
        bytes_total=push.bytes_total,
        detail=push.detail,
        mirrored=push.mirror_status == "done",
        signed=push.signature is not None,
        created_at=_when(push.created_at),
        updated_at=_when(push.updated_at),
    )
    if history:
        steps = [
            messages.HistoryEntry(PushState(h.state), h.detail, h.bytes_done, h.bytes_total, _when(h.at))
            for h in push.history.order_by(PushHistory.id)
        ]
        shown = shown.replace(history=steps)
    return shown


def _when(moment: datetime | str) -> str:
    """A time the database always has (the columns are NOT NULL), in ISO 8601."""
    shown = iso(moment)
    assert shown is not None  # for the type checker: iso(None) is the only None
    return shown
