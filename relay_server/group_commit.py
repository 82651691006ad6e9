"""Group commit: the writes of concurrent requests in one transaction, each answered after it committed.

Every push and every report is a small write transaction of its own: ``BEGIN IMMEDIATE``,
a few INSERTs and an UPDATE, ``COMMIT``. Most of what a commit costs does not grow with
what it carries (the write lock; on SQLite the WAL frames of every page touched, and the
same index pages are touched by every push; on PostgreSQL a round trip and a WAL flush).
When requests arrive together, one transaction carries them all:

- a request hands its write (``work``, a function that only uses the database) to ``run``
  and waits; the first one to arrive while no batch is being written leads: it lets the
  other ready requests run first (one turn of the event loop under gevent, a time slice
  with threads), so those that arrived with it join, then runs every write waiting, in
  arrival order, in one transaction, and commits;
- ``run`` returns (or raises) for each request only after that commit: an answer such as
  201 still means the write is durable (for SQLite in WAL mode with ``synchronous=NORMAL``:
  it survives the relay being killed, ``tests/faults/test_relay_crashes.py``);
- each write runs inside a savepoint of its own when it shares the transaction, so one
  that fails (a push id taken, a refused state change) is rolled back alone and its request
  gets its own error, as if it had run alone; if the commit itself fails (disk full), every
  request of the batch gets that error and nothing of the batch was written;
- one request waiting alone runs at once, with no extra statements (no savepoint).

The write runs on the leader's thread (greenlet) and database connection, so it must not
use request state (Flask's ``request``/``g``): callers capture what they need first.

With several relay processes on one SQLite file (``cooperative_begin``), another process may
hold the write lock when a batch begins. SQLite's own busy handler then sleeps inside C, and
under gevent that stops every connection of this process for milliseconds at a time; instead
the batch tries ``BEGIN IMMEDIATE`` without waiting and, while the lock is taken, yields to
the other greenlets between tries (for up to ``BUSY_SECONDS``, SQLite's busy timeout).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Generic, TypeVar

import peewee

from relay_server.db import connection, database, execute_sql, flush_deferred, is_postgres

_T = TypeVar("_T")

#: The most writes one transaction carries (the others wait for the next one).
MAX_BATCH = 64
_RELEASE_AND_SAVEPOINT = "RELEASE SAVEPOINT group_write; SAVEPOINT group_write"
#: How long a batch waits for another process's write lock (``cooperative_begin``), seconds.
BUSY_SECONDS = 5.0


def _cooperative() -> bool:
    """True when threads are gevent's greenlets (the relay's server), where sleep(0) is one loop turn."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a relay dependency
        return False
    return bool(monkey.is_module_patched("time"))


class _Write(Generic[_T]):
    __slots__ = ("work", "result", "error", "done", "turn")

    #: What ``work`` returned; set once it ran without an error.
    result: _T

    def __init__(self, work: Callable[[], _T]):
        self.work = work
        self.error: BaseException | None = None
        self.done = False
        self.turn = threading.Event()  # set when done, or when it is this write's turn to lead

    def outcome(self) -> _T:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit:
    """Runs writes of concurrent requests in shared transactions (see the module's doc)."""

    def __init__(
        self,
        max_batch: int = MAX_BATCH,
        cooperative_begin: bool = False,
        inside: Callable[[], AbstractContextManager[object]] = nullcontext,
    ):
        self.max_batch = max_batch
        self.cooperative_begin = cooperative_begin
        #: Entered right after each transaction began, left before it commits: what every
        #: write of the batch would otherwise do for itself (``events.order_held``).
        self.inside = inside
        self._lock = threading.Lock()
        self._waiting: list[_Write[Any]] = []
        self._leading = False
        #: Transactions committed and writes carried (for metrics and tests).
        self.transactions = 0
        self.writes = 0

    def run(self, work: Callable[[], _T]) -> _T:
        """Run ``work()`` in a transaction shared with other requests' writes; its result once committed."""
        write = _Write(work)
        with self._lock:
            self._waiting.append(write)
            lead = not self._leading
            self._leading = True
        if lead:
            # Let the requests that became ready together with this one reach this point too
            # (under gevent: one turn of the event loop; threads join while a commit runs).
            if _cooperative():
                time.sleep(0)
            self._lead()
            return write.outcome()
        # While waiting, give this request's pooled connection back: a burst of requests
        # waiting for one commit must not take every connection the pool has.
        # (Whatever the request reads afterwards opens one again: the pool connects on demand.)
        # Only a connection opened with a plain connect() (a request's) is released: one that a
        # ``connection_context`` owns is that block's to close.
        if not database.is_closed() and not database.obj._state.ctx and not database.in_transaction():
            database.close()
        write.turn.wait()
        if not write.done:  # this write leads the next transaction
            with connection():
                self._lead()
        return write.outcome()

    def _lead(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
        try:
            self._commit(batch)
        finally:
            for write in batch:
                if not write.done:  # the leader itself was interrupted
                    write.error = write.error or RuntimeError("the shared transaction was interrupted")
                    write.done = True
            with self._lock:
                successor = self._waiting[0] if self._waiting else None
                self._leading = successor is not None
            for write in batch:
                write.turn.set()
            if successor is not None:
                successor.turn.set()  # not done: it leads the next transaction

    def _commit(self, batch: list[_Write[Any]]) -> None:
        shared = len(batch) > 1
        joined = is_postgres()  # psycopg2 sends several statements in one call; sqlite3 does not
        release_due = False
        try:
            with self._transaction(), self.inside():
                for write in batch:
                    if not shared:
                        write.result = write.work()  # alone: its error rolls the transaction back
                        continue
                    # On PostgreSQL every statement is a round trip, made while the batch holds the
                    # write order: the previous write's RELEASE goes with this one's SAVEPOINT.
                    execute_sql(_RELEASE_AND_SAVEPOINT if release_due else "SAVEPOINT group_write")
                    try:
                        write.result = write.work()
                        flush_deferred()  # its errors are its own (relay_server/postgres_pool.py)
                    except Exception as exc:  # noqa: BLE001 - handed to its own request
                        write.error = exc
                        execute_sql("ROLLBACK TO SAVEPOINT group_write")
                    if joined:
                        release_due = True
                    else:
                        execute_sql("RELEASE SAVEPOINT group_write")
                if release_due:
                    execute_sql("RELEASE SAVEPOINT group_write")
        except Exception as exc:  # noqa: BLE001 - the commit failed: no write of the batch happened
            for write in batch:
                if write.error is None:
                    write.error = exc
        else:
            self.transactions += 1
            self.writes += len(batch)
        for write in batch:
            write.done = True

    def _transaction(self) -> AbstractContextManager[object]:
        return self._cooperative_transaction() if self.cooperative_begin else database.atomic()

    @contextmanager
    def _cooperative_transaction(self) -> Iterator[None]:
        """``database.atomic()``, waiting for another process's write lock by yielding, not in C."""
        execute_sql("PRAGMA busy_timeout = 0")
        try:
            deadline = time.monotonic() + BUSY_SECONDS
            pause = 0.0002
            while True:
                transaction = database.atomic()
                try:
                    transaction.__enter__()
                    break
                except peewee.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                        raise
                time.sleep(pause)  # gevent's sleep: this process's other connections go on
                pause = min(pause * 2, 0.005)
        finally:
            execute_sql(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
        end: Callable[..., object] = transaction.__exit__  # (peewee's stubs say it returns None)
        try:
            yield
        except BaseException as exc:
            if not end(type(exc), exc, exc.__traceback__):
                raise
        else:
            end(None, None, None)
