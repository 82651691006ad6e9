"""The database: one peewee proxy, bound at start-up to SQLite or PostgreSQL by URL."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

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


def _native(module: str, name: str):
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


def iso(moment: datetime | None) -> str | None:
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


class _Slot:
    """Where a value goes in a prepared query (see ``Prepared``)."""

    def __init__(self, name: str, field: peewee.Field | None):
        self.name = name
        self.convert = field.db_value if field is not None else None


def slot(name: str, field: peewee.Field | None = None) -> peewee.Value:
    """A value of a ``Prepared`` query given when it runs, converted by ``field`` if given."""
    return peewee.Value(_Slot(name, field), converter=False)


class Prepared:
    """A peewee query turned into SQL once (per database), then run with new values.

    Building SQL through peewee's query objects costs far more than SQLite takes to run
    a simple statement (a few hundred microseconds against tens), and the push path runs
    a dozen of them per push; the hot queries are built once instead. ``build`` returns
    the query with ``slot("name")`` wherever a value changes from one run to the next;
    ``execute``/``rows`` get those values by name. Everything else in the query is fixed
    when it is built (so give every column of an INSERT, or its defaults are frozen).
    """

    def __init__(self, build: Callable[[], peewee.Query]):
        self._build = build
        self._for = None  # the database the SQL below was built for
        self._query = self._sql = self._params = None
        self._layout = None  # (query, peewee's column-to-model mapping for its rows)

    def _compiled(self):
        if self._for is not database.obj:
            query = self._build()
            sql, params = query.sql()
            self._query, self._sql, self._params, self._for = query, sql, params, database.obj
        return self._query, self._sql, self._params

    def execute(self, **values):
        """Run it; returns the driver's cursor."""
        _, sql, params = self._compiled()
        args = [_fill(p, values) for p in params]
        return database.execute_sql(sql, args)

    def rows(self, **values) -> list:
        """Run a SELECT; its rows as the query would give them (models, with joined ones)."""
        query, _, _ = self._compiled()
        cursor = self.execute(**values)
        if self._layout is not None and self._layout[0] is query and self._layout[2] is not None:
            build = self._layout[2]
            return [build(row) for row in cursor.fetchall()]
        wrapper = query._get_cursor_wrapper(cursor)
        if self._layout is not None and self._layout[0] is query:
            # peewee works out which column goes to which model from the cursor's column names
            # on every run; the SQL is the same each time, so the first run's answer is reused.
            wrapper.__dict__.update(self._layout[1])
            wrapper.initialized = True
        rows = list(wrapper)
        if wrapper.initialized and (self._layout is None or self._layout[0] is not query):
            fresh = vars(query._get_cursor_wrapper(None))
            self._layout = (query, {k: v for k, v in vars(wrapper).items() if k not in fresh}, _row_builder(wrapper))
        return rows


def _row_builder(wrapper) -> Callable[[tuple], peewee.Model] | None:  # noqa: C901 (to split: issue 13)
    """A faster stand-in for ``wrapper.process_row`` (peewee's ModelCursorWrapper, after its first
    row), or None when the query is of another kind.

    peewee builds each model with ``__init__`` and sets every column through the field's
    descriptor (which marks it dirty, to be cleared afterwards); on the push path that was a
    fifth of the cost of a query. Here the objects are made empty and their columns written
    straight into ``__data__``; joined models are attached as peewee attaches them (through the
    foreign key's descriptor, or ``None`` for a missing outer row), and the result is the same
    objects, clean (``tests/relay/test_prepared_rows.py`` compares the two).
    """
    if type(wrapper) is not peewee.ModelCursorWrapper or not getattr(wrapper, "_row_spec", None):
        return None
    constructors = wrapper._constructor_list
    if not all(is_model for _, _, is_model in constructors):
        return None
    classes = {key: constructor for key, constructor, _ in constructors}
    root = wrapper.model
    spec = []
    for idx, key, column, converter in wrapper._row_spec:
        cls = classes.get(key, classes[root])
        direct = column in cls._meta.fields and not isinstance(cls._meta.fields[column], peewee.ForeignKeyField)
        spec.append((idx, key if key in classes else root, column, converter, direct))
    joins = list(wrapper.src_to_dest)
    reachable = dict(wrapper._dest_reachable)
    if any(is_dict for _, _, _, is_dict, _, _ in joins):
        return None
    new = object.__new__

    def build(row):
        objects = {}
        for key, cls in classes.items():
            obj = new(cls)
            obj.__data__ = {}
            obj._dirty = set()
            obj.__rel__ = {}
            objects[key] = obj
        set_keys = set()
        for idx, key, column, converter, direct in spec:
            value = row[idx]
            if value is not None:
                set_keys.add(key)
            if converter is not None:
                value = converter(value)
            if direct:
                objects[key].__data__[column] = value
            else:
                setattr(objects[key], column, value)
        for src, attr, dest, _, is_outer, is_fk in joins:
            instance = objects.get(src)
            joined = objects.get(dest)
            if joined is None:
                continue
            if dest not in set_keys and not (dest in reachable and reachable[dest] & set_keys):
                if not is_outer:
                    continue
                joined = None
            if src not in set_keys and dest not in set_keys and is_outer:
                continue
            if is_fk and joined is None:
                instance.__rel__[attr] = None  # a row known to be absent; the id stays
            else:
                setattr(instance, attr, joined)
        for obj in objects.values():
            obj._dirty.clear()
        return objects[root]

    return build


def _fill(param, values: dict):
    if not isinstance(param, _Slot):
        return param
    value = values[param.name]
    return param.convert(value) if param.convert is not None and value is not None else value


def init_database(url: str) -> peewee.Database:
    """Connect the proxy to ``url`` and create any missing tables."""
    from relay_server.models import ALL_MODELS

    scheme, sep, rest = url.partition("://")
    if sep and "+pool" not in scheme:
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
        db = connect(url, pragmas=_SQLITE_PRAGMAS, lock_type="IMMEDIATE", check_same_thread=False, **pool)
        if db.database not in ("", ":memory:"):
            _Checkpointer.start_for(db.database)
    else:
        db = connect(url, **pool)
        _make_postgres_cooperative()
    database.initialize(db)
    with db.connection_context():
        db.create_tables(ALL_MODELS, safe=True)
        _add_new_columns(db, ALL_MODELS)
        _use_sequences(db, ALL_MODELS)
    log.info("database ready: %s", url.split("@")[-1])
    return db


def _add_new_columns(db: peewee.Database, models) -> None:
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


def _use_sequences(db: peewee.Database, models) -> None:
    """Rebuild, once, a SQLite table made before its id became a ``SequenceField`` (ids that
    never go back need ``AUTOINCREMENT``, which SQLite cannot add to an existing table)."""
    from relay_server.models import SequenceField

    if not isinstance(db, peewee.SqliteDatabase):
        return
    for model in models:
        if not isinstance(model._meta.primary_key, SequenceField):
            continue
        table = model._meta.table_name
        row = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        if row is None or "AUTOINCREMENT" in row[0].upper():
            continue
        log.info("rebuilding table %s so its ids never go back", table)
        columns = ", ".join(f'"{f.column_name}"' for f in model._meta.sorted_fields)
        with db.atomic():
            indexes = db.execute_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
            ).fetchall()
            for (name,) in indexes:
                db.execute_sql(f'DROP INDEX "{name}"')
            db.execute_sql(f'ALTER TABLE "{table}" RENAME TO "{table}__before_sequence"')
            model.create_table(safe=False)
            db.execute_sql(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{table}__before_sequence"')
            db.execute_sql(f'DROP TABLE "{table}__before_sequence"')


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
