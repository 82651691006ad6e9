"""A target device reports where it stands with a push: the report is checked against the push
state machine (``shared.protocol.TRANSITIONS``; anything else is 409), stored, and forwarded to
the sender (progress throttled by ``push_history.py``).
"""

from __future__ import annotations

from relay_server.context import Relay
from relay_server.db import utcnow
from relay_server.errors import ApiError, bad_request
from relay_server.models import Device, Push
from relay_server.prepared import Prepared, slot
from relay_server.push_history import forward_to_sender, progress_due, record_state
from relay_server.push_packages import relay_package_sha
from relay_server.push_transaction import commit
from relay_server.push_views import visible_push
from shared.api_messages import PushReport
from shared.protocol import (
    FINAL_STATES,
    REOPENABLE_STATES,
    UNACKNOWLEDGED_STATES,
    PushState,
    can_transition,
)


def report(relay: Relay, device: Device, push_id: str, said: PushReport) -> Push:
    """A target device reports where it stands with a push."""
    state = PushState(said.state)
    done, total, detail = said.value("bytes_done"), said.value("bytes_total"), said.value("detail")
    # Committed with the other requests' writes of the moment (relay_server/group_commit.py).
    push = commit(relay, lambda: _apply_report(relay, device, push_id, state, done, total, detail))
    relay.hub.notify([push.sender_device_id])
    return push


def _apply_report(
    relay: Relay,
    device: Device,
    push_id: str,
    state: PushState,
    done: int | None,
    total: int | None,
    detail: str | None,
) -> Push:
    """The report's reads and writes (inside the caller's transaction)."""
    push = visible_push(device, push_id)
    if push.target_device_id != device.id:
        raise ApiError(403, "not_target", "only the device that received a push reports on it")
    current = PushState(push.state)
    if state is PushState.DELIVERED and current not in UNACKNOWLEDGED_STATES and current not in FINAL_STATES:
        return push  # a repeated acknowledgement (at-least-once delivery): nothing changes
    # The same state again changes something only while downloading (progress), on a new
    # failure, or when the device says something new about where it stands ("Waiting for the
    # relay" -> "Asking about mobile data" while paused); an empty detail clears the old one.
    new_detail = detail is not None and (detail or None) != push.detail
    if state == current and state not in (PushState.DOWNLOADING, PushState.FAILED) and not new_detail:
        return push
    if not can_transition(current, state) and not (state == current and new_detail):
        raise ApiError(
            409, "bad_transition", "a push that is %(current)s cannot become %(state)s", current=current, state=state
        )
    if current in REOPENABLE_STATES and state != current:
        _require_package_kept(relay, push)  # Download again on the phone
    effective_total = total if total is not None else push.bytes_total
    if done is not None and effective_total is not None and done > effective_total:
        raise bad_request("bytes_done: cannot be more than bytes_total", "invalid_field")
    now = utcnow()
    changed = state != current
    if current in UNACKNOWLEDGED_STATES:
        push.acknowledged_at = now
        relay.metrics.observe_delivery(push.created_at, now)
    push.state = str(state)
    push.updated_at = now
    if done is not None:
        push.bytes_done = done
    if total is not None:
        push.bytes_total = total
    push.detail = (detail or None) if (detail is not None or changed) else push.detail
    if changed or new_detail or state is PushState.FAILED:
        record_state(push)
    elif progress_due(push, now):
        forward_to_sender(push)
    _SAVE_REPORT.defer(id=push.id, **{f.name: getattr(push, f.name) for f in _REPORTED})
    return push


def _require_package_kept(relay: Relay, push: Push) -> None:
    """A declined push re-opened by its device (Download again) needs the package it points at:
    when that is the relay's own copy and housekeeping has collected it since, the re-opening is
    refused with 410 ``package_gone`` (the push stays declined; the sender can Resend)."""
    sha = relay_package_sha(push.package_url) if push.package_url else None
    if sha and not relay.store.has(sha):
        raise ApiError(
            410, "package_gone", "the relay no longer keeps this push's package; ask the sender to send it again"
        )


#: What a report can change in a push (``report``): saved by one prepared UPDATE.
_REPORTED = (
    Push.state,
    Push.updated_at,
    Push.acknowledged_at,
    Push.bytes_done,
    Push.bytes_total,
    Push.detail,
    Push.forwarded_at,
    Push.forwarded_percent,
)
_SAVE_REPORT = Prepared(
    lambda: Push.update({f: slot(f.name, f) for f in _REPORTED}).where(Push.id == slot("id", Push.id))
)
