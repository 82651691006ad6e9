"""A push's history and what its sender hears: a history row for every state, a ``push_update``
event on the sender's stream, and download progress forwarded at most once a second (or on a
new whole percent) so a fast download does not flood the sender's stream.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from relay_server import events
from relay_server.models import Push, PushHistory
from relay_server.prepared import Prepared, slot
from shared.protocol import StreamEvent

#: Forward download progress to the sender at most this often (or on a new whole percent).
PROGRESS_INTERVAL = timedelta(seconds=1)

_INSERT_HISTORY = Prepared(
    lambda: PushHistory.insert({f: slot(f.name, f) for f in PushHistory._meta.sorted_fields if f is not PushHistory.id})
)


def record_state(push: Push, forward: bool = True) -> None:
    """History row for the push's current state, and its update for the sender's stream."""
    _INSERT_HISTORY.defer(
        push=push.id,
        state=push.state,
        detail=push.detail,
        bytes_done=push.bytes_done,
        bytes_total=push.bytes_total,
        at=push.updated_at,
    )
    if forward:
        forward_to_sender(push)


def forward_to_sender(push: Push) -> None:
    """The push as it is now, to its sender's stream."""
    events.append(push.sender_device_id, StreamEvent.PUSH_UPDATE, push=push, payload=events.push_update(push))
    push.forwarded_at = push.updated_at
    push.forwarded_percent = percent(push)


def percent(push: Push) -> int | None:
    if push.bytes_total and push.bytes_done is not None:
        return int(push.bytes_done * 100 / push.bytes_total)
    return None


def progress_due(push: Push, now: datetime) -> bool:
    """Should this progress report reach the sender (a new percent, or a second since the last)?"""
    current = percent(push)
    last_at = push.forwarded_at
    if last_at is not None and last_at.tzinfo is None:
        last_at = last_at.replace(tzinfo=now.tzinfo)
    return (
        push.forwarded_percent is None
        or current is None
        or current != push.forwarded_percent
        or last_at is None
        or now - last_at >= PROGRESS_INTERVAL
    )
