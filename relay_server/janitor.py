"""Periodic housekeeping: expire pushes queued too long, trim the event log, hand the mirror
the copies it dropped, delete package copies (mirrored or uploaded) that no push needs.

Runs in a background thread of the relay process; ``run_once`` does one pass (tests call it).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from relay_server import uploads
from relay_server.db import database, utcnow
from relay_server.models import CatalogPackage, Event, Package, Push
from relay_server.push_history import record_state
from shared.protocol import FINAL_STATES, REOPENABLE_STATES, PushState, StreamEvent

if TYPE_CHECKING:  # the Relay holds its janitor
    from relay_server.context import Relay
    from relay_server.mirror import Mirror

log = logging.getLogger(__name__)


class Janitor:
    """Expires queued pushes after ``config.queue_ttl`` seconds; drops stale update events;
    hands the mirror again every push still waiting for a copy that it is not making."""

    def __init__(self, relay: Relay, interval: float = 60.0):
        self.relay = relay
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="janitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # housekeeping must never take the relay down
                log.exception("housekeeping failed")

    def run_once(self) -> dict[str, int]:
        """One pass; returns how many pushes expired, events were removed, packages were
        deleted and copies were handed back to the mirror."""
        requeued = self.requeue_copies()
        now = utcnow()
        expired_senders: set[str] = set()
        with database.connection_context(), database.atomic():
            cutoff = now - timedelta(seconds=self.relay.config.queue_ttl)
            stale = list(Push.select().where((Push.state == str(PushState.QUEUED)) & (Push.created_at < cutoff)))
            for push in stale:
                push.state = str(PushState.EXPIRED)
                push.detail = "the device did not come back in time"
                push.updated_at = now
                push.mirror_status = "none" if push.mirror_status == "pending" else push.mirror_status

                record_state(push)
                push.save()
                expired_senders.add(push.sender_device_id)
            # Updates about finished pushes are only history once a week has passed.
            old = now - timedelta(seconds=self.relay.config.event_retention)
            finished = Push.select(Push.id).where(Push.state.in_([str(s) for s in FINAL_STATES]))
            removed = (
                Event.delete()
                .where((Event.created_at < old) & (Event.kind != str(StreamEvent.PUSH)) & (Event.push.in_(finished)))
                .execute()
            )
        self.relay.hub.notify(expired_senders)
        collected = self.collect_packages(now)
        if stale or removed or collected or requeued:
            log.info(
                "housekeeping: %d queued pushes expired, %d old events removed, %d packages deleted, "
                "%d mirror copies tried again",
                len(stale),
                removed,
                collected,
                requeued,
            )
        return {
            "expired": len(stale),
            "events_removed": removed,
            "packages_removed": collected,
            "mirror_requeued": requeued,
        }

    def requeue_copies(self) -> int:
        """Hand the mirror the pushes still waiting for a copy that it holds neither queued nor
        in progress: a copy whose outcome the database refused (a full disk) is made again.

        Runs first, and never stops the pass: the rest of housekeeping writes, which a full
        disk may refuse, while this only reads.
        """
        mirror: Mirror | None = getattr(self.relay, "mirror", None)  # (None while the relay starts)
        if mirror is None:
            return 0
        try:
            return mirror.requeue_pending()
        except Exception:  # noqa: BLE001 - the next pass tries again
            log.exception("could not hand pending copies back to the mirror")
            return 0

    def collect_packages(self, now: datetime) -> int:
        """Delete the relay's copies that no unfinished push, no recently declined push (its device
        may tap Download again) and no catalog app uses any more.

        A grace period keeps a copy that a new push is about to use (the mirror writes the
        file before the push points at it).
        """
        grace = now - timedelta(seconds=self.relay.config.package_grace)
        finals = [str(s) for s in FINAL_STATES]
        # A declined push may be re-opened by its device (Download again): its package is kept as
        # long as a queued push's would be, counted from when it was declined.
        reopenable = [str(s) for s in REOPENABLE_STATES]
        reopen_until = now - timedelta(seconds=self.relay.config.queue_ttl)
        with database.connection_context():
            used_by_pushes = Push.select(Push.package_sha256).where(
                (Push.package_sha256.is_null(False))
                & (Push.state.not_in(finals) | (Push.state.in_(reopenable) & (Push.updated_at >= reopen_until)))
            )
            in_catalog = CatalogPackage.select(CatalogPackage.package)
            unused = list(
                Package.select().where(
                    Package.sha256.not_in(used_by_pushes)
                    & Package.sha256.not_in(in_catalog)
                    & (Package.created_at < grace)
                )
            )
            for package in unused:
                with database.atomic():
                    uploads.forget(package.sha256)  # an uploaded package goes like a mirror copy
                    package.delete_instance()
                self.relay.store.path_for(package.sha256).unlink(missing_ok=True)
        return len(unused)
