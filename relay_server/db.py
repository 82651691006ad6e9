"""The database: one peewee proxy, bound at start-up to SQLite or PostgreSQL by URL."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol, overload
from urllib.parse import urlsplit

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
    # Checkpoints are the checkpointer thread's job (``_Checkpointer``); a commit does one
    # itself only if the WAL grew past this many pages (~40 MB) because that thread fell behind.
    "wal_autocheckpoint": 10000,
}


#: Connections one relay process keeps open at most (requests and streams borrow them briefly).
POOL_SIZE = 32


def close_pool() -> None:
    """Close every idle pooled connection (the relay is stopping)."""
    _Checkpointer.stop_current()
    if hasattr(database.obj, "close_all"):
        database.close_all()


def _native(module: str, name: str) -> Any:
    """``module.name`` as it was before gevent's monkey-patching, if it was patched."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a relay dependency
        return getattr(__import__(module), name)
    return monkey.get_original(module, name)


class _Checkpointer:
    """Copies a SQLite database's WAL into the database file, from an OS thread of its own.

    SQLite's automatic checkpoint runs inside the commit that crosses its threshold:
    ~1,000 pages copied and an fsync, 10-20 ms here, during which (under gevent) nothing
    else in the relay runs, so every push in flight waits. This thread does it instead,
    twice a second (PASSIVE: it never waits for readers or the writer); the sqlite3 module
    lets go of the GIL while SQLite works.
    """

    _current: "_Checkpointer | None" = None
    INTERVAL = 0.5

    def __init__(self, path: str):
        self.path = path
        self.stopped = False
        _native("_thread", "start_new_thread")(self._run, ())

    @classmethod
    def start_for(cls, path: str) -> None:
        """The one checkpointer of this process now serves ``path``."""
        cls.stop_current()
        cls._current = cls(path)

    @classmethod
    def stop_current(cls) -> None:
        if cls._current is not None:
            cls._current.stopped = True
            cls._current = None

    def _run(self) -> None:
        # (No logging here: under gevent its locks belong to the main thread's hub.)
        sleep = _native("time", "sleep")
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:  # commits still checkpoint past wal_autocheckpoint
            return
        try:
            while not self.stopped:
                sleep(self.INTERVAL)
                try:
                    if not self.stopped:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # busy with another checkpoint, or the file went away
                    pass
        finally:
            conn.close()


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def iso(moment: datetime | str) -> str: ...
@overload
def iso(moment: None) -> None: ...
@overload
def iso(moment: datetime | str | None) -> str | None: ...
def iso(moment: datetime | str | None) -> str | None:
    """ISO 8601 in UTC; naive values (SQLite hands those back) are taken as UTC."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


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


class Cursor(Protocol):
    """The DB-API cursor both drivers (sqlite3, psycopg2) hand back, as far as the relay reads it."""

    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


def execute_sql(sql: str, params: Sequence[object] = (), db: peewee.Database | None = None) -> Cursor:
    """Run ``sql`` on ``db`` (the relay's database by default); peewee's own method is untyped."""
    run: Callable[[str, Sequence[object]], Cursor] = (db or database).execute_sql
    return run(sql, params)


def defer_sql(sql: str, params: Sequence[object] = ()) -> None:
    """A write whose answer nobody reads: on PostgreSQL, inside a transaction, it goes to the
    server with the connection's next statement (``relay_server.postgres_pool``); else now."""
    defer = getattr(database.obj, "defer", None)
    if defer is not None:
        defer(sql, params)
    else:
        execute_sql(sql, params)


def flush_deferred() -> None:
    """Send the writes ``defer_sql`` kept back, now (their errors are raised here)."""
    flush = getattr(database.obj, "flush_deferred", None)
    if flush is not None:
        flush()


#: URL schemes the relay speaks (each also with ``+pool``).
_SCHEMES = ("sqlite", "postgres", "postgresql")


class DatabaseUnusable(Exception):
    """The relay cannot use the database it was given; the message is one sentence saying
    which and what to do (never the password), printed instead of a traceback."""


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def _cannot_connect(url: str, exc: peewee.OperationalError) -> str:
    """``psycopg2``'s or SQLite's first line, as a sentence about where and what to check."""
    parts = urlsplit(url)
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "it does not answer"
    reason = reason.rpartition(" failed: ")[2].removeprefix("FATAL:").strip().rstrip(".")
    if parts.password:
        reason = reason.replace(parts.password, "***")
    reason = reason[:1].lower() + reason[1:]
    if parts.scheme.startswith("sqlite"):
        return f"Cannot open the database {parts.path[1:]}: {reason}. Check --database-url."  # as playhouse reads it
    where = parts.hostname or "localhost"
    if parts.port:
        where = f"{where}:{parts.port}"
    return f"Cannot connect to the database at {where}: {reason}. Is PostgreSQL running? Check --database-url."


def init_database(url: str) -> peewee.Database:
    """Connect the proxy to ``url`` and create any missing tables."""
    from relay_server.models import ALL_MODELS
    from relay_server.postgres_pool import connect_postgres

    scheme, sep, rest = url.partition("://")
    if not sep or scheme.removesuffix("+pool") not in _SCHEMES:
        raise DatabaseUnusable(
            f"The database URL {_without_password(url)!r} is neither SQLite nor PostgreSQL: "
            "give --database-url (or APPBEAM_DATABASE_URL) as sqlite:///path/to/relay.db "
            "or postgresql://user@host/db."
        )
    if "+pool" not in scheme:
        # Requests and stream wake-ups borrow a connection for a moment and give it back: a
        # pool keeps them open (for SQLite, closing the last connection also checkpoints the
        # WAL, which made every request pay for a checkpoint).
        url = f"{scheme}+pool://{rest}"
    pool = {"max_connections": POOL_SIZE, "stale_timeout": 300, "timeout": 30}
    if url.startswith("sqlite"):
        # IMMEDIATE: a transaction takes the write lock when it begins, so two writers queue on
        # busy_timeout instead of one failing at once when it upgrades from reading to writing.
        # check_same_thread off: a pooled connection serves one thread at a time, but not
        # always the thread that opened it.
        db: peewee.Database = connect(
            url, pragmas=_SQLITE_PRAGMAS, lock_type="IMMEDIATE", check_same_thread=False, **pool
        )
        if db.database not in ("", ":memory:"):
            _Checkpointer.start_for(db.database)
    else:
        db = connect_postgres(url, **pool)  # peewee's pool without a round trip per loan
        _make_postgres_cooperative()
    database.initialize(db)
    try:
        db.connect()  # the connection the tables are made with, below
    except peewee.OperationalError as exc:
        raise DatabaseUnusable(_cannot_connect(url, exc)) from exc
    with db.connection_context():
        db.create_tables(ALL_MODELS, safe=True)
        _add_new_columns(db, ALL_MODELS)
        _use_sequences(db, ALL_MODELS)
    log.info("database ready: %s", url.split("@")[-1])
    return db


def _add_new_columns(db: peewee.Database, models: Sequence[type[peewee.Model]]) -> None:
    """Bring a database made by an older relay up to date: add the (nullable) columns that
    models gained since. Tables are created whole by ``create_tables``; nothing is dropped."""
    from playhouse.migrate import SchemaMigrator, migrate

    migrator = SchemaMigrator.from_database(db)
    for model in models:
        table = model._meta.table_name
        present = {c.name for c in db.get_columns(table)}
        missing = [f for f in model._meta.sorted_fields if f.column_name not in present]
        for field in missing:
            if not field.null:
                raise RuntimeError(f"{table}.{field.column_name} is new and required: write a migration for it")
            log.info("adding column %s.%s", table, field.column_name)
            with db.atomic():
                migrate(migrator.add_column(table, field.column_name, field))


def _use_sequences(db: peewee.Database, models: Sequence[type[peewee.Model]]) -> None:
    """Rebuild, once, a SQLite table made before its id became a ``SequenceField`` (ids that
    never go back need ``AUTOINCREMENT``, which SQLite cannot add to an existing table)."""
    from relay_server.models import SequenceField

    if not isinstance(db, peewee.SqliteDatabase):
        return
    for model in models:
        if not isinstance(model._meta.primary_key, SequenceField):
            continue
        table = model._meta.table_name
        row = execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,), db).fetchone()
        if row is None or "AUTOINCREMENT" in row[0].upper():
            continue
        log.info("rebuilding table %s so its ids never go back", table)
        columns = ", ".join(f'"{f.column_name}"' for f in model._meta.sorted_fields)
        with db.atomic():
            indexes = execute_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,), db
            ).fetchall()
            for (name,) in indexes:
                execute_sql(f'DROP INDEX "{name}"', db=db)
            execute_sql(f'ALTER TABLE "{table}" RENAME TO "{table}__before_sequence"', db=db)
            model.create_table(safe=False)
            execute_sql(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{table}__before_sequence"', db=db)
            execute_sql(f'DROP TABLE "{table}__before_sequence"', db=db)


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
