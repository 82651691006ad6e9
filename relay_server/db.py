"""The database: one peewee proxy, bound at start-up to SQLite or PostgreSQL by URL."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import peewee
from playhouse.db_url import connect

log = logging.getLogger(__name__)

#: Models bind to this proxy; ``init_database`` points it at the real database.
database = peewee.DatabaseProxy()

_SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never block the writer
    "foreign_keys": 1,
    "synchronous": "normal",  # durable across process crashes (SIGKILL) in WAL mode
    "busy_timeout": 5000,
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC; naive values (SQLite hands those back) are taken as UTC."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


@contextmanager
def connection() -> Iterator[None]:
    """A database connection for this block: the thread's open one, or one opened and closed here.

    Workers and long-lived streams use this so they never hold a connection between uses
    (ten thousand idle streams must not mean ten thousand connections).
    """
    if not database.is_closed():
        yield
        return
    with database.connection_context():
        yield


def is_postgres() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)


def init_database(url: str) -> peewee.Database:
    """Connect the proxy to ``url`` and create any missing tables."""
    from relay_server.models import ALL_MODELS

    if url.startswith("sqlite"):
        # IMMEDIATE: a transaction takes the write lock when it begins, so two writers queue on
        # busy_timeout instead of one failing at once when it upgrades from reading to writing.
        db = connect(url, pragmas=_SQLITE_PRAGMAS, lock_type="IMMEDIATE")
    else:
        db = connect(url)
        _make_postgres_cooperative()
    database.initialize(db)
    with db.connection_context():
        db.create_tables(ALL_MODELS, safe=True)
    log.info("database ready: %s", url.split("@")[-1])
    return db


def _make_postgres_cooperative() -> None:
    """Under gevent, let psycopg2 yield to other greenlets while it waits on the server."""
    try:
        from gevent import monkey

        if not monkey.is_module_patched("socket"):
            return
        import psycopg2.extensions
        import psycopg2.extras

        psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)
    except ImportError:  # pragma: no cover - gevent/psycopg2 are relay dependencies
        pass
