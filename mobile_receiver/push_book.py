"""The pushes this device received, as stored: the records in memory and their rows on disk.

One lock guards every record; the inbox's parts (state changes, downloads, the network
policy) all take this same lock, so a record is never read half-changed. It is re-entrant
because a state change made under the lock stores the record again.
"""

from __future__ import annotations

import threading

from mobile_receiver.record import PushRecord
from mobile_receiver.storage import ReceiverDB


class PushBook:
    """Every push of this device, in the order received, kept in step with ``receiver.sqlite3``."""

    def __init__(self, db: ReceiverDB):
        self.db = db
        self.lock = threading.RLock()
        self._records: dict[str, PushRecord] = {r["push_id"]: PushRecord.from_dict(r) for r in db.load_pushes()}

    def save(self, rec: PushRecord) -> None:
        """Store ``rec`` as it is now (before anyone is told about the change)."""
        self.db.save_push(rec.push_id, rec.to_dict())

    def get(self, push_id: str | None) -> PushRecord | None:
        with self.lock:
            return self._records.get(push_id) if push_id is not None else None

    def __contains__(self, push_id: object) -> bool:
        with self.lock:
            return push_id in self._records

    def add(self, rec: PushRecord) -> bool:
        """Keep and store a new push; False when it is already here (a replay)."""
        with self.lock:
            if rec.push_id in self._records:
                return False
            self._records[rec.push_id] = rec
            self.save(rec)
            return True

    def forget(self, push_id: str) -> bool:
        """Remove a finished push; False when there is none or it is not finished."""
        with self.lock:
            rec = self._records.get(push_id)
            if rec is None or not rec.is_final:
                return False
            del self._records[push_id]
            self.db.delete_push(push_id)
            return True

    def all(self) -> list[PushRecord]:
        """Every push, oldest first."""
        with self.lock:
            return list(self._records.values())
