"""The sender withdraws a push that is not being installed yet: the target hears
``push_cancelled`` and deletes what it downloaded.
"""

from __future__ import annotations

from relay_server import events
from relay_server.context import Relay
from relay_server.db import database, utcnow
from relay_server.errors import ApiError
from relay_server.models import Device, Push
from relay_server.push_history import record_state
from relay_server.push_views import visible_push
from shared import messages
from shared.protocol import CANCELLABLE_STATES, PushState, StreamEvent


def cancel(relay: Relay, device: Device, push_id: str) -> Push:
    """The sender withdraws a push that is not being installed yet."""
    with database.atomic():
        push = visible_push(device, push_id)
        if push.sender_device_id != device.id:
            raise ApiError(403, "not_sender", "only the device that sent a push can cancel it")
        if PushState(push.state) not in CANCELLABLE_STATES:
            raise ApiError(
                409, "not_cancellable", "a push that is %(state)s can no longer be cancelled", state=push.state
            )
        push.state = str(PushState.CANCELLED)
        push.detail = "cancelled by the sender"
        push.updated_at = utcnow()
        record_state(push)
        push.save()
        events.append(
            push.target_device_id, StreamEvent.PUSH_CANCELLED, push=push, payload=messages.PushCancelled(push.id)
        )
    relay.hub.notify([push.sender_device_id, push.target_device_id])
    return push
