"""Is the relay's storage usable? Honest answers for ``/healthz`` and for failed writes.

A relay whose disk is full, or whose data directory or database went read-only, cannot
accept pushes. It must say so: ``/healthz`` fails (so a supervisor or load balancer notices),
and a request whose write failed gets ``507 Insufficient Storage`` (disk full) or ``503``
(storage not writable) with ``Retry-After``, never a bare 500. What was accepted before
stays accepted: nothing here deletes or rewrites data.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import peewee

from relay_server.db import connection, database, utcnow
from relay_server.i18n.errors import N_, said
from relay_server.postgres_pool import LOST_STATEMENT_ERRORS
from shared.i18n import Number, Sentence

#: Seconds a client is asked to wait before trying a write again.
RETRY_AFTER = 30
#: Below this much free space in the data directory the relay reports itself unhealthy.
MIN_FREE_BYTES = 16 * 1024 * 1024
#: Seconds a health verdict is reused (the probe writes to the database and the disk).
PROBE_INTERVAL = 2.0


def _causes(exc: BaseException) -> Iterator[BaseException]:
    cause: BaseException | None = exc
    while cause is not None:
        yield cause
        cause = cause.__cause__ or cause.__context__


def storage_problem(exc: BaseException) -> str | None:
    """``"full"`` or ``"read_only"`` if ``exc`` (or what caused it) is the storage refusing a
    write, ``"database_lost"`` if the connection to PostgreSQL failed or lost the prepared
    statements the pool knew it had (that connection prepares anew on its next use:
    ``relay_server.postgres_pool``); None for anything else."""
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return "full"
        if isinstance(cause, OSError) and cause.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return "read_only"
        if isinstance(
            cause, (sqlite3.OperationalError, sqlite3.DatabaseError, peewee.OperationalError, peewee.DatabaseError)
        ):
            text = str(cause).lower()
            if "disk is full" in text or "no space left" in text or "disk full" in text:
                return "full"
            if "readonly" in text or "read-only" in text or "disk i/o error" in text:
                return "read_only"
        pgcode = getattr(cause, "pgcode", None)
        if pgcode == "53100":  # disk_full
            return "full"
        if pgcode is None and type(cause).__module__.startswith("psycopg2") and _connection_lost(cause):
            return "database_lost"
        if pgcode == "25006":  # read_only_sql_transaction (a standby, or default_transaction_read_only)
            return "read_only"
        if pgcode in LOST_STATEMENT_ERRORS:  # a retry in a moment finds the statements prepared again
            return "database_lost"
    return None


def _connection_lost(exc: BaseException) -> bool:
    """A psycopg2 error without an SQL state: the connection itself failed (the server restarted,
    or the network dropped it), not a statement."""
    import psycopg2

    return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError))


MESSAGES = {
    "full": N_("the relay's disk is full; nothing was changed. Try again later (the operator has to free space)"),
    "read_only": N_(
        "the relay cannot write to its storage; nothing was changed. Try again later "
        "(the operator has to fix the data directory or database)"
    ),
    "database_lost": N_("the relay lost its connection to its database; try again in a moment"),
}


@dataclass
class HealthReport:
    """What the last probe found: no ``findings`` means healthy. Each finding is a sentence
    (``/healthz`` writes it in the request's language); ``problems`` are the same in English,
    for the log."""

    findings: list[Sentence] = field(default_factory=list)
    disk_full: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def problems(self) -> list[str]:
        return [finding.text("en") for finding in self.findings]

    def summary(self) -> Sentence:
        """Every finding in one sentence, in the order found (the report must not be ``ok``)."""
        first, *rest = self.findings
        for finding in rest:
            first = said("%(problems)s; %(problem)s", problems=first, problem=finding)
        return first


class StorageProbe:
    """Checks, at most every ``PROBE_INTERVAL`` seconds, that the database takes a write, that
    the data directory takes a file, and that the disk has room."""

    def __init__(self, data_dir: Path, min_free: int = MIN_FREE_BYTES):
        self.data_dir = Path(data_dir)
        self.min_free = min_free
        self._lock = threading.Lock()
        self._last: tuple[float, HealthReport] | None = None

    def check(self) -> HealthReport:
        with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < PROBE_INTERVAL:
                return self._last[1]
        report = self._probe()
        with self._lock:
            self._last = (time.monotonic(), report)
        return report

    def forget(self) -> None:
        """Probe afresh next time (a write just failed, or tests changed the storage)."""
        with self._lock:
            self._last = None

    def _probe(self) -> HealthReport:
        report = HealthReport()
        try:
            free = shutil.disk_usage(self.data_dir).free
            if free < self.min_free:
                report.findings.append(
                    said("only %(mib)s MiB free in the data directory", mib=Number(free // (1024 * 1024)))
                )
                report.disk_full = True
        except OSError as exc:
            report.findings.append(said("the data directory cannot be read (%(reason)s)", reason=exc.strerror or exc))
        probe_file = self.data_dir / f".health-{os.getpid()}"
        try:
            with open(probe_file, "wb") as f:
                f.write(b"ok")
                f.flush()
                os.fsync(f.fileno())
            probe_file.unlink()
        except OSError as exc:
            report.disk_full |= storage_problem(exc) == "full"
            report.findings.append(
                said("the data directory cannot be written (%(reason)s)", reason=exc.strerror or exc)
            )
        try:
            from relay_server.models import HealthProbe

            with connection(), database.atomic():
                (
                    HealthProbe.insert(id=1, at=utcnow())
                    .on_conflict(conflict_target=[HealthProbe.id], preserve=[HealthProbe.at])
                    .execute()
                )
        except Exception as exc:  # noqa: BLE001 - any failure to write is the finding
            report.disk_full |= storage_problem(exc) == "full"
            report.findings.append(said("the database cannot be written (%(reason)s)", reason=type(exc).__name__))
        return report
