"""``GET /stream``: a device's Server-Sent Events, replaying what it missed, then live."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Generator, Iterator

from flask import Response, g, request
from flask.typing import ResponseReturnValue

from relay_server import events, push_delivery
from relay_server.api import api
from relay_server.auth import device_required
from relay_server.context import Relay, current_relay
from relay_server.db import connection, utcnow
from relay_server.errors import bad_request
from relay_server.hub import Subscription
from relay_server.models import Device, Event
from relay_server.prepared import Prepared, slot
from shared.protocol import MAX_INT, PushState, StreamEvent

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
        raise bad_request("Last-Event-ID: must be 0 to %(max)s", "invalid_field", max=MAX_INT)
    return value


@api.get("/stream")
@device_required
def stream() -> ResponseReturnValue:
    relay = current_relay()
    device_id = g.device.id
    last_id = _last_event_id()
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    if request.method == "HEAD":
        # Only the headers: no subscription (the device would look online for good) and no body.
        return Response(b"", mimetype="text/event-stream", headers=headers)
    base_url = request.host_url
    # Subscribe before reading, so nothing written in between is missed.
    subscription = relay.hub.subscribe(device_id, g.token_hash)
    _touch(device_id)
    body = _events(relay, subscription, device_id, last_id, base_url)
    return Response(body, mimetype="text/event-stream", headers=headers)


_TOUCH = Prepared(lambda: Device.update(last_seen=slot("at", Device.last_seen)).where(Device.id == slot("id")))


def _touch(device_id: str) -> None:
    _TOUCH.execute(id=device_id, at=utcnow())


def _batch(
    relay: Relay, device_id: str, query: Callable[[], list[Event]], base_url: str
) -> tuple[list[tuple[int, str]], list[str]]:
    """Render a batch of events; returns ((id, text) for each, ids of queued pushes in it)."""
    with connection():
        rows = query()
        rendered: list[tuple[int, str]] = [(e.id, events.render(e, base_url)) for e in rows]
    newly_sent = [e.push_id for e in rows if e.push_id is not None and _queued_push(e)]
    return rendered, newly_sent


def _queued_push(event: Event) -> bool:
    """A ``push`` event whose push is still queued (it is sent now)."""
    return event.kind == str(StreamEvent.PUSH) and event.push is not None and event.push.state == str(PushState.QUEUED)


def _events(
    relay: Relay, subscription: Subscription, device_id: str, last_id: int | None, base_url: str
) -> Iterator[str]:
    try:
        yield "retry: 3000\n: connected\n\n"
        last_id, cursor = _start(device_id, last_id)
        replayed: set[int] = set()
        cursor = yield from _catch_up(relay, subscription, device_id, last_id, cursor, replayed, base_url)
        yield from _live(relay, subscription, device_id, cursor, replayed, base_url)
    finally:
        relay.hub.unsubscribe(subscription)
        try:
            with connection():
                _touch(device_id)
        except Exception:  # the stream is over either way; never mask the real exit
            log.debug("could not record last_seen for %s", device_id, exc_info=True)


def _start(device_id: str, last_id: int | None) -> tuple[int | None, int]:
    """The ``Last-Event-ID`` to honour (None when it is ahead of the log) and where live reads start."""
    with connection():
        if last_id is not None and last_id > events.highest_id():
            # The device saw ids this log never gave out: the relay's database was reset
            # or restored from a backup. Start afresh rather than wait for ids to catch up.
            log.info("stream of %s: Last-Event-ID %d is ahead of the log; replaying afresh", device_id, last_id)
            last_id = None
        return last_id, last_id if last_id is not None else events.latest_id(device_id)


def _catch_up(
    relay: Relay,
    subscription: Subscription,
    device_id: str,
    last_id: int | None,
    cursor: int,
    replayed: set[int],
    base_url: str,
) -> Generator[str, None, int]:
    """Catch up, batch by batch until none is left: every unacknowledged push, and everything
    after ``last_id``; returns the cursor the live reads go on from. With a ``last_id`` the
    catch-up sent every event up to its last id, so the cursor moves there; on a fresh
    connection it sent only pushes, so those beyond the cursor (written meanwhile) are
    remembered in ``replayed`` instead, not to be sent twice."""
    page = 0
    while not subscription.closed:

        def pending(page: int = page) -> list[Event]:
            return events.pending_for(device_id, last_id, page)

        rendered, newly_sent = _batch(relay, device_id, pending, base_url)
        for event_id, text in rendered:
            if last_id is not None:
                cursor = max(cursor, event_id)
            elif event_id > cursor:
                replayed.add(event_id)
            yield text
        _sent(relay, newly_sent)
        if len(rendered) < events.BATCH:
            break
        page = rendered[-1][0]
    return cursor


def _live(
    relay: Relay, subscription: Subscription, device_id: str, cursor: int, replayed: set[int], base_url: str
) -> Iterator[str]:
    """Live: every wake-up reads what is newer than ``cursor``; keepalives in between."""
    polling = relay.hub.cluster is not None
    while not subscription.closed:
        if not subscription.wait(_keepalive_wait(relay.config.keepalive)) and not polling:
            yield ": keepalive\n\n"
            continue
        cursor, sent_any = yield from _newer(relay, subscription, device_id, cursor, replayed, base_url)
        if polling and not sent_any:
            # In a cluster a wake-up can be lost between processes; this tick doubles as
            # the catch-up poll, and as the keepalive when there was nothing to send.
            yield ": keepalive\n\n"


def _keepalive_wait(keepalive: float) -> float:
    """How long a stream stays quiet before its next keepalive: up to a quarter less than the
    configured interval, drawn anew each time.

    Streams that connected together (a relay restart, a fleet of phones back on the network)
    would otherwise send their keepalives together, and in a cluster poll the database
    together, at every interval for as long as they stay connected: with thousands of streams,
    a burst of writes (or reads) that the pushes of that moment wait behind. Never longer than the
    interval, so a device's dead-connection timer is not affected."""
    return keepalive * random.uniform(0.75, 1.0)


def _newer(
    relay: Relay, subscription: Subscription, device_id: str, cursor: int, replayed: set[int], base_url: str
) -> Generator[str, None, tuple[int, bool]]:
    """Everything after ``cursor``, batch by batch (but what the catch-up sent already); returns
    the new cursor and whether anything was sent."""
    sent_any = False
    while not subscription.closed:

        def newer(after: int = cursor) -> list[Event]:
            return events.newer_than(device_id, after)

        rendered, newly_sent = _batch(relay, device_id, newer, base_url)
        if rendered:
            sent_any = True
            cursor = rendered[-1][0]
            for event_id, text in rendered:
                if event_id in replayed:
                    replayed.discard(event_id)
                else:
                    yield text
            _sent(relay, newly_sent)
        if len(rendered) < events.BATCH:
            # Caught up. An event committed after this read is announced after its
            # commit, so it wakes this stream again: no need to read once more to be sure.
            break
    return cursor, sent_any


def _sent(relay: Relay, push_ids: list[str]) -> None:
    if push_ids:
        push_delivery.sent_marks(relay).add(push_ids)
