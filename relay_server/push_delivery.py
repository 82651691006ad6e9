"""Getting a push to its device after it was created: queued pushes a stream has just written
are marked sent (many at once, ``SentMarks``), and a queued push whose package the relay copied
(or failed to copy) goes to its device's stream.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from relay_server import events
from relay_server.context import Relay
from relay_server.db import connection, database, utcnow
from relay_server.models import Push
from relay_server.prepared import Prepared, slot
from relay_server.push_history import record_state
from shared.protocol import FINAL_STATES, PushState, StreamEvent

log = logging.getLogger(__name__)

_MARK_SENT = Prepared(
    lambda: Push.update(
        state=str(PushState.SENT),
        updated_at=slot("at", Push.updated_at),
        sent_at=slot("at", Push.sent_at),
        forwarded_at=slot("at", Push.forwarded_at),
        forwarded_percent=slot("percent"),
    ).where((Push.id == slot("id")) & (Push.state == str(PushState.QUEUED)))
)


def mark_sent(relay: Relay, push_ids: Iterable[str]) -> None:
    """Pushes just written to their device's stream: queued -> sent, sender told."""
    ids = list(push_ids)
    if not ids:
        return
    senders: set[str] = set()
    with database.atomic():
        for push in Push.select().where(Push.id.in_(ids), Push.state == str(PushState.QUEUED)):
            push.state = str(PushState.SENT)
            push.updated_at = push.sent_at = utcnow()
            record_state(push)
            _MARK_SENT.execute(id=push.id, at=push.updated_at, percent=push.forwarded_percent)
            senders.add(push.sender_device_id)
    relay.hub.notify(senders)


class SentMarks:
    """Pushes that streams wrote, on their way to ``mark_sent``, many in one transaction.

    When thousands of devices reconnect at once, each stream sends the pushes it missed;
    marking them in one write transaction per stream cost more than sending them. Streams
    hand the ids over here instead: one drainer (a greenlet under gevent, a thread
    otherwise) marks whatever gathered while it was busy, ``BATCH`` at a time (so a write
    transaction never holds up the other greenlets for long), and ends when none are left.
    """

    BATCH = 100

    def __init__(self, relay: Relay):
        self.relay = relay
        self._ids: list[str] = []
        self._lock = threading.Lock()
        self._draining = False
        self._idle = threading.Event()
        self._idle.set()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until everything handed over was marked (the relay is stopping)."""
        return self._idle.wait(timeout)

    def add(self, push_ids: Iterable[str]) -> None:
        with self._lock:
            self._ids.extend(push_ids)
            if self._draining or not self._ids:
                return
            self._draining = True
            self._idle.clear()
        threading.Thread(target=self._drain, name="sent-marks", daemon=True).start()

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch, self._ids = self._ids[: self.BATCH], self._ids[self.BATCH :]
                if not batch:
                    self._draining = False
                    self._idle.set()
                    return
            try:
                with connection():
                    mark_sent(self.relay, batch)
            except Exception:  # noqa: BLE001 - the device has the push; the next batch must still go
                log.exception("could not mark %d pushes as sent", len(batch))


def sent_marks(relay: Relay) -> SentMarks:
    """The relay's ``SentMarks`` (made on first use)."""
    marks: SentMarks | None = getattr(relay, "sent_marks", None)
    if marks is None:
        marks = SentMarks(relay)
        # Kept on the relay itself, which declares no field for it (relay_server/context.py).
        setattr(relay, "sent_marks", marks)  # noqa: B010
    return marks


def mirror_finished(relay: Relay, push_id: str, sha256: str | None, size: int | None, problem: str | None) -> None:
    """The relay's copy of a queued push's package is ready (or could not be made)."""
    # The event-order lock first, before the push's row: every transaction that writes events
    # takes them in that order (events.order_held), so none waits for another the other way round.
    with database.atomic(), events.order_held():
        push = Push.get_or_none(Push.id == push_id)
        if push is None or push.mirror_status != "pending":
            return
        if sha256:
            push.package_url = f"/api/v1/packages/{sha256}"
            push.package_sha256 = sha256
            push.package_size = size
            push.mirror_status = "done"
        else:
            push.mirror_status = "failed"
            push.detail = f"the relay could not keep a copy ({problem}); the device will fetch the original"
            push.updated_at = utcnow()
            record_state(push)
        push.save()
        if PushState(push.state) not in FINAL_STATES:
            events.append(push.target_device_id, StreamEvent.PUSH, push=push)
    relay.hub.notify([push.target_device_id, push.sender_device_id])
