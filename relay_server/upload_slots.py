"""Uploads in progress, so parallel ones cannot pass an account's quota or take every socket
and file of the relay (``PUT /api/v1/packages/<sha256>``, relay_server/api/uploads.py).

The quota is checked before a body is read, against what the account's uploads keep (rows)
plus the bytes its uploads in progress announced (held here, in memory): ten uploads of 1 GB
started together no longer each pass a 5 GB quota that only counts what is already recorded.
The row written when an upload completes checks the quota again (relay_server/uploads.py), so
nothing passes it for good; this check is what refuses them before their bytes fill the disk.

Each upload also takes a slot: ``upload_per_account`` at once per account, ``upload_concurrency``
at once in this relay process. With ``--processes N`` the numbers are per process (an account
could hold N times as many slots and reservations, one set in each), which still bounds them.

Everything here runs on gevent's one thread: a check and its reservation happen without a
switch in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


class AccountBusy(Exception):
    """The account already has ``upload_per_account`` uploads in progress."""


class RelayBusy(Exception):
    """This relay process already receives ``upload_concurrency`` uploads."""


@dataclass
class UploadSlots:
    per_account: int
    per_process: int
    _bytes: dict[int, int] = field(default_factory=dict)
    _count: dict[int, int] = field(default_factory=dict)
    in_progress: int = 0

    def reserved_bytes(self, account_id: int) -> int:
        """Bytes the account's uploads in progress announced (a caller inside ``hold`` included)."""
        return self._bytes.get(account_id, 0)

    @contextmanager
    def hold(self, account_id: int, length: int) -> Iterator[None]:
        """A slot and ``length`` reserved bytes for one upload, given back however it ends."""
        if self._count.get(account_id, 0) >= self.per_account:
            raise AccountBusy()
        if self.in_progress >= self.per_process:
            raise RelayBusy()
        self._count[account_id] = self._count.get(account_id, 0) + 1
        self._bytes[account_id] = self._bytes.get(account_id, 0) + length
        self.in_progress += 1
        try:
            yield
        finally:
            self.in_progress -= 1
            self._count[account_id] -= 1
            self._bytes[account_id] -= length
            if not self._count[account_id]:
                del self._count[account_id], self._bytes[account_id]
