"""Hot queries built into SQL once and their rows built without peewee's per-row work.

This is the relay's one reach into peewee's private API (the cursor wrapper's row layout:
``_get_cursor_wrapper``, ``_row_spec``, ``_constructor_list``, ``_dest_reachable``), kept
here so an upgrade of peewee has one place to look; ``tests/relay/test_prepared_rows.py``
checks that the rows are exactly the objects peewee builds. Those attributes are not in
peewee's type stubs, so the wrapper is typed ``Any`` below and nowhere else.

Why: building SQL through peewee's query objects costs far more than SQLite takes to run a
simple statement (a few hundred microseconds against tens; py-spy found 41 % of the relay's CPU
in peewee building SQL, bench/results/NOTES.md at 722dcd4), and building each model through its
field descriptors was a fifth of what remained. peewee's author answers such
reports with "Python is slow" and points to ``.tuples()`` (coleifer/peewee#2156, per-attribute
descriptor cost; coleifer/peewee#1384 and #1177, per-row cost when iterating); the push path
needs models, so it keeps them and skips the repeated work instead. No peewee issue offers a
compiled-query cache; ``Prepared`` is ours.

On PostgreSQL each ``Prepared`` also runs as a server-side prepared statement, so PostgreSQL
skips parsing and planning it too (``relay_server.postgres_pool``: per connection, PREPARE once,
then EXECUTE). SQLite runs the SQL as before (Python's sqlite3 already keeps compiled
statements in a per-connection cache).
"""

from __future__ import annotations

import itertools
import re
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import peewee

from relay_server.db import Cursor, database, defer_sql, execute_sql

#: Builds one row's model (with its joined models) from a database row.
RowBuilder = Callable[[Sequence[Any]], peewee.Model]


class _Slot:
    """Where a value goes in a prepared query (see ``Prepared``)."""

    def __init__(self, name: str, field: peewee.Field[Any] | None):
        self.name = name
        self.convert: Callable[[Any], Any] | None = field.db_value if field is not None else None


def slot(name: str, field: peewee.Field[Any] | None = None) -> peewee.Value:
    """A value of a ``Prepared`` query given when it runs, converted by ``field`` if given."""
    return peewee.Value(_Slot(name, field), converter=False)


#: Server-side statement names: one per ``Prepared`` and database it was built for, so two
#: queries (or one query built for two databases, as tests do) never share a name.
_names = itertools.count(1)


class _Compiled(NamedTuple):
    query: peewee.Query
    sql: str
    params: list[Any]
    #: The prepared statement's name, and its text (``sql`` with $1..$n; None: never prepared).
    name: str
    body: str | None
    #: Where in ``params`` each run's values go.
    slots: tuple[tuple[int, _Slot], ...]

    def values(self, given: dict[str, Any]) -> list[Any]:
        """``params`` with this run's values in their slots."""
        params = list(self.params)
        for at, slot in self.slots:
            value = given[slot.name]
            params[at] = slot.convert(value) if slot.convert is not None and value is not None else value
        return params


def _numbered(sql: str, count: int) -> str | None:
    """``sql`` (psycopg2's ``%s`` placeholders) with PostgreSQL's ``$1..$n`` instead, or None
    when that cannot be done with certainty.

    psycopg2 reads every ``%`` of a statement given a parameter list, even an empty one: ``%s``
    is a value and ``%%`` a literal ``%``. The PREPARE travels with psycopg2's EXECUTE (and may
    be joined with deferred statements that have values), so ``%%`` is kept for psycopg2 to
    turn into ``%``. Anything else after a ``%``, a ``$`` already in the SQL, or a count that
    differs from the parameters': None (the query runs as plain SQL)."""
    if "$" in sql:
        return None
    numbers = itertools.count(1)
    unknown = False

    def number(match: re.Match[str]) -> str:
        nonlocal unknown
        if match.group(1) == "%":
            return "%%"
        if match.group(1) != "s":
            unknown = True
            return match.group(0)
        return f"${next(numbers)}"

    body = re.sub(r"%(.?)", number, sql, flags=re.DOTALL)
    if unknown or next(numbers) != count + 1:
        return None
    return body


class Prepared:
    """A peewee query turned into SQL once (per database), then run with new values.

    The push path runs a dozen queries per push; the hot ones are built once instead. ``build``
    returns the query with ``slot("name")`` wherever a value changes from one run to the next;
    ``execute``/``rows`` get those values by name. Everything else in the query is fixed when it
    is built (so give every column of an INSERT, or its defaults are frozen).
    """

    def __init__(self, build: Callable[[], peewee.Query]):
        self._build = build
        self._for: object = None  # the database the SQL below was built for
        self._compiled_for: _Compiled | None = None
        #: The SQL built for each database still alive: back on a database (tests switch), the
        #: query keeps its statement name there, so the pool remembers one name per query.
        self._built: weakref.WeakKeyDictionary[Any, _Compiled] = weakref.WeakKeyDictionary()
        #: (query, peewee's column-to-model mapping for its rows, the fast row builder if any)
        self._layout: tuple[peewee.Query, dict[str, Any], RowBuilder | None] | None = None

    def _compiled(self) -> _Compiled:
        if self._compiled_for is None or self._for is not database.obj:
            compiled = self._built.get(database.obj)
            if compiled is None:
                query = self._build()
                sql, params = query.sql()
                name = f"appbeam_{next(_names)}"
                slots = tuple((at, p) for at, p in enumerate(params) if isinstance(p, _Slot))
                body = _numbered(sql, len(params))
                compiled = self._built[database.obj] = _Compiled(query, sql, params, name, body, slots)
            self._compiled_for = compiled
            self._for = database.obj
        return self._compiled_for

    def execute(self, **values: Any) -> Cursor:
        """Run it; returns the driver's cursor."""
        compiled = self._compiled()
        params = compiled.values(values)
        run: Callable[[str, str, str, list[Any]], Cursor] | None = getattr(database.obj, "execute_prepared", None)
        if run is not None and compiled.body is not None:
            return run(compiled.name, compiled.body, compiled.sql, params)
        return execute_sql(compiled.sql, params)

    def defer(self, **values: Any) -> None:
        """Run a write whose answer nobody reads, or on PostgreSQL send it with the next
        statement (``relay_server.db.defer_sql``)."""
        compiled = self._compiled()
        params = compiled.values(values)
        defer: Callable[[str, str, str, list[Any]], None] | None = getattr(database.obj, "defer_prepared", None)
        if defer is not None and compiled.body is not None:
            defer(compiled.name, compiled.body, compiled.sql, params)
        else:
            defer_sql(compiled.sql, params)

    def rows(self, **values: Any) -> list[Any]:
        """Run a SELECT; its rows as the query would give them (models, with joined ones)."""
        query = self._compiled().query
        cursor = self.execute(**values)
        layout = self._layout if self._layout is not None and self._layout[0] is query else None
        if layout is not None and layout[2] is not None:
            build = layout[2]
            return [build(row) for row in cursor.fetchall()]
        wrapper: Any = query._get_cursor_wrapper(cursor)  # type: ignore[attr-defined]  # private, see the module
        if layout is not None:
            # peewee works out which column goes to which model from the cursor's column names
            # on every run; the SQL is the same each time, so the first run's answer is reused.
            wrapper.__dict__.update(layout[1])
            wrapper.initialized = True
        rows = list(wrapper)
        if wrapper.initialized and layout is None:
            fresh = vars(query._get_cursor_wrapper(None))  # type: ignore[attr-defined]  # private, see the module
            learnt = {k: v for k, v in vars(wrapper).items() if k not in fresh}
            self._layout = (query, learnt, _row_builder(wrapper))
        return rows


def _row_builder(wrapper: Any) -> RowBuilder | None:  # noqa: C901 (to split: issue 13)
    """A faster stand-in for ``wrapper.process_row`` (peewee's ModelCursorWrapper, after its first
    row), or None when the query is of another kind.

    peewee builds each model with ``__init__`` and sets every column through the field's
    descriptor (which marks it dirty, to be cleared afterwards); on the push path that was a
    fifth of the cost of a query. Here the objects are made empty and their columns written
    straight into ``__data__``; joined models are attached as peewee attaches them (through the
    foreign key's descriptor, or ``None`` for a missing outer row), and the result is the same
    objects, clean (``tests/relay/test_prepared_rows.py`` compares the two).
    """
    plain_models = type(wrapper) is peewee.ModelCursorWrapper  # (not narrowed: its attributes are private)
    if not plain_models or not getattr(wrapper, "_row_spec", None):
        return None
    constructors: list[tuple[Any, type[peewee.Model], bool]] = wrapper._constructor_list
    if not all(is_model for _, _, is_model in constructors):
        return None
    classes = {key: constructor for key, constructor, _ in constructors}
    root = wrapper.model
    spec: list[tuple[int, Any, str, Callable[[Any], Any] | None, type | None, bool]] = []
    for idx, key, column, converter in wrapper._row_spec:
        cls = classes.get(key, classes[root])
        # A field's column (a foreign key's too: on a new object its descriptor would only
        # write ``__data__``) goes straight into ``__data__``; anything else through setattr.
        direct = column in cls._meta.fields
        spec.append((idx, key if key in classes else root, column, converter, _settled_type(converter), direct))
    joins = list(wrapper.src_to_dest)
    reachable: dict[Any, set[Any]] = dict(wrapper._dest_reachable)
    if any(is_dict for _, _, _, is_dict, _, _ in joins):
        return None
    new = object.__new__

    def build(row: Sequence[Any]) -> peewee.Model:
        objects: dict[Any, Any] = {}
        data: dict[Any, dict[str, Any]] = {}
        for key, cls in classes.items():
            obj: Any = new(cls)
            obj.__data__ = data[key] = {}
            obj._dirty = set()
            obj.__rel__ = {}
            objects[key] = obj
        set_keys = set()
        for idx, key, column, converter, settled, direct in spec:
            value = row[idx]
            if value is not None:
                set_keys.add(key)
                if converter is not None and type(value) is not settled:
                    value = converter(value)
            elif converter is not None and settled is None:
                value = converter(value)
            if direct:
                data[key][column] = value
            else:
                setattr(objects[key], column, value)
        for src, attr, dest, _, is_outer, is_fk in joins:
            instance: Any = objects.get(src)
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
        root_model: peewee.Model = objects[root]
        return root_model

    return build


def _settled_type(converter: Callable[[Any], Any] | None) -> type | None:
    """The type a column's value has when its converter would give it back unchanged (``str``
    for a text field, ``int`` for an integer one, also behind a foreign key or an alias), so
    the call can be skipped; None when the converter must always run."""
    if converter is None or getattr(converter, "__name__", None) != "python_value":
        return None
    field: Any = getattr(converter, "__self__", None)
    field = getattr(field, "field", field)  # an alias's field (``FieldAlias.python_value`` delegates)
    while isinstance(field, peewee.ForeignKeyField):
        field = field.rel_field
    if not isinstance(field, peewee.Field) or type(field).python_value is not peewee.Field.python_value:
        return None
    adapt = type(field).adapt
    if adapt is peewee._StringField.adapt:  # private, see the module
        return str
    if adapt is peewee.IntegerField.adapt:
        return int
    return None
