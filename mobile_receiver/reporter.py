"""Reporting push states back to the relay, in order, even across offline spells and restarts.

Every report is first written to the outbox table (SQLite), then a background thread
sends the outbox to ``POST /pushes/<id>/events`` oldest first. While the relay cannot be
reached the reports wait (with backoff) and go out later in the same order. A report
the relay refuses for good (409 impossible state change, 404 unknown push) is dropped
with a log line: retrying it could never succeed and would block every later report.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from mobile_receiver.storage import ReceiverDB
from mobile_receiver.wake_loop import WakeLoop
from shared.protocol import PushState
from shared.relay_client import RelayClient
from shared.relay_errors import RelayError

log = logging.getLogger(__name__)


class Reporter:
    """The outbox of push-state reports and the thread that empties it."""

    def __init__(
        self,
        db: ReceiverDB,
        client: Callable[[], RelayClient | None],
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ):
        self.db = db
        self.client = client
        self._loop = WakeLoop(
            self.flush,
            name="report-outbox",
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            resting=lambda: self.signed_out,
        )
        self._send_lock = threading.Lock()
        self.signed_out = False  # the relay said 401: wait for a new login
        self.on_signed_out: Callable[[str | None], None] = lambda token: None

    def report(
        self,
        push_id: str,
        state: PushState | str,
        *,
        bytes_done: int | None = None,
        bytes_total: int | None = None,
        detail: str | None = None,
    ) -> None:
        """Queue one report and wake the sender thread. Progress reports coalesce while unsent."""
        state = PushState(state)
        self.db.enqueue_report(
            push_id,
            str(state),
            bytes_done,
            bytes_total,
            detail,
            coalesce=state is PushState.DOWNLOADING,
        )
        self._loop.wake()

    def withdraw(self, push_id: str, state: PushState | str, *, detail: str | None = None) -> bool:
        """Take back a report not sent yet (news that is over before the relay heard it).
        True if one was still waiting; one already on its way is not stopped."""
        return self.db.remove_unsent(push_id, str(PushState(state)), detail) > 0

    @property
    def pending(self) -> int:
        return self.db.count_reports()

    def flush(self) -> bool:
        """Send what is queued, oldest first; True when the outbox is empty afterwards."""
        with self._send_lock:
            client = self.client()
            if client is None or not client.token:
                return False
            while True:
                batch = self.db.pending_reports()
                if not batch:
                    return True
                for row in batch:
                    if self._loop.stopping:
                        return False
                    try:
                        client.report(
                            row["push_id"],
                            row["state"],
                            bytes_done=row["bytes_done"],
                            bytes_total=row["bytes_total"],
                            detail=row["detail"],
                        )
                    except RelayError as exc:
                        if exc.transient:
                            log.info("relay unreachable, %d report(s) wait: %s", self.pending, exc)
                            return False
                        if exc.status == 401:
                            log.warning("the relay no longer accepts this device's token")
                            self.signed_out = True
                            self.on_signed_out(client.token)
                            return False
                        log.warning("relay refused report %s for %s: %s (dropped)", row["state"], row["push_id"], exc)
                    self.db.remove_report(row["seq"])

    def wake(self) -> None:
        """Try sending now (after a reconnect or a new login)."""
        self.signed_out = False
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()
