"""``GET /stream``: a device's Server-Sent Events, replaying what it missed, then live."""

from __future__ import annotations

import logging

from flask import Response, g, request

from shared.protocol import MAX_INT, PushState, StreamEvent

from relay_server import events, pushes
from relay_server.api import api
from relay_server.auth import device_required
from relay_server.context import Relay, current_relay
from relay_server.db import Prepared, connection, slot, utcnow
from relay_server.errors import bad_request
from relay_server.models import Device

log = logging.getLogger(__name__)


def _last_event_id() -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()):
        raise bad_request("Last-Event-ID: must be a whole number", "invalid_field")
    value = int(raw)
    if not 0 <= value <= MAX_INT:
        raise bad_request(f"Last-Event-ID: must be 0 to {MAX_INT}", "invalid_field")
    return value


@api.get("/stream")
@device_required
def stream():
    relay = current_relay()
    device_id = g.device.id
    last_id = _last_event_id()
    base_url = request.host_url
    # Subscribe before reading, so nothing written in between is missed.
    subscription = relay.hub.subscribe(device_id, g.token_hash)
    _touch(device_id)
    body = _events(relay, subscription, device_id, last_id, base_url)
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


_TOUCH = Prepared(lambda: Device.update(last_seen=slot("at", Device.last_seen)).where(Device.id == slot("id")))


def _touch(device_id: str) -> None:
    _TOUCH.execute(id=device_id, at=utcnow())


def _batch(relay: Relay, device_id: str, query, base_url: str) -> tuple[list[str], int | None, list[str]]:
    """Render a batch of events; returns (texts, highest id, ids of queued pushes in it)."""
    with connection():
        rows = query()
        texts = [events.render(e, base_url) for e in rows]
    newly_sent = [e.push_id for e in rows if e.kind == str(StreamEvent.PUSH) and e.push.state == str(PushState.QUEUED)]
    return texts, (rows[-1].id if rows else None), newly_sent


def _events(relay: Relay, subscription, device_id: str, last_id: int | None, base_url: str):
    keepalive = relay.config.keepalive
    try:
        yield "retry: 3000\n: connected\n\n"
        with connection():
            cursor = max(last_id or 0, events.latest_id(device_id) if last_id is None else 0)
        texts, top, newly_sent = _batch(relay, device_id, lambda: events.pending_for(device_id, last_id), base_url)
        cursor = max(cursor, top or 0)
        for text in texts:
            yield text
        _sent(relay, newly_sent)
        if len(texts) == events.BATCH:
            subscription.wake()  # more than one batch was waiting: read on at once
        polling = relay.hub.cluster is not None
        while not subscription.closed:
            if not subscription.wait(keepalive) and not polling:
                yield ": keepalive\n\n"
                continue
            sent_any = False
            while not subscription.closed:
                texts, top, newly_sent = _batch(relay, device_id, lambda: events.newer_than(device_id, cursor), base_url)
                if top is not None:
                    sent_any = True
                    cursor = top
                    for text in texts:
                        yield text
                    _sent(relay, newly_sent)
                if len(texts) < events.BATCH:
                    # Caught up. An event committed after this read is announced after its
                    # commit, so it wakes this stream again: no need to read once more to be sure.
                    break
            if polling and not sent_any:
                # In a cluster a wake-up can be lost between processes; this tick doubles as
                # the catch-up poll, and as the keepalive when there was nothing to send.
                yield ": keepalive\n\n"
    finally:
        relay.hub.unsubscribe(subscription)
        try:
            with connection():
                _touch(device_id)
        except Exception:  # the stream is over either way; never mask the real exit
            log.debug("could not record last_seen for %s", device_id, exc_info=True)


def _sent(relay: Relay, push_ids: list[str]) -> None:
    if push_ids:
        pushes.sent_marks(relay).add(push_ids)
