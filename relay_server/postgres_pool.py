"""The relay's PostgreSQL connection pool: peewee's, without a ``SELECT 1`` before every loan.

peewee's ``PooledPostgresqlDatabase`` checks an idle connection before lending it: the
transaction status psycopg2 keeps locally says nothing about the server, so it sends
``SELECT 1`` (``PostgresqlAdapter.is_connection_closed``). The relay borrows a connection for
every request, every stream wake-up and every group commit, so that check was eleven of the
fifty statements of one push (create, deliver, acknowledge) on PostgreSQL, each a round trip
(issue 16; ``bench/results/NOTES.md``).

Here a connection given back less than ``TRUST_SECONDS`` ago, idle and not closed by psycopg2,
is lent without asking: it was just working. One that sat longer is checked as before. The
price: in the first ``TRUST_SECONDS`` after the server went away, a request can get a
connection that fails on its first statement (the relay answers that request with its storage
error, and psycopg2 marks the connection closed, so the pool drops it); without the trust, that
request would have reconnected. ``tests/relay/test_postgres_pool.py`` checks both sides.

The pool's connections also take **deferred writes** (``defer``): inside a transaction, a
write whose answer nobody reads (the push path's INSERTs, its UPDATE, the event-order lock)
waits and goes to the server in one call with the connection's next statement, or with the
COMMIT; so does the BEGIN. psycopg2 sends statements joined by ``;`` as one simple query, which
PostgreSQL runs in order within the transaction. A push's writes run one transaction at a time
(group commit), each statement a round trip while the others wait; joined, a push written
alone is one round trip (BEGIN, the lock, four INSERTs, COMMIT) instead of eight, and its
acknowledgement two instead of seven. Errors still belong to the write that caused them:
``GroupCommit`` sends a write's deferred statements before that write's savepoint is released
(``flush_deferred``), and a ``ROLLBACK`` drops what waited (it belonged to what is rolled back).
SAVEPOINTs are never deferred, so a rollback to one always finds it.

The rule for callers: a deferred write's error surfaces at the connection's next statement,
wherever that is. So defer only writes whose failure nobody handles on its own - the push path's,
inside ``GroupCommit`` (which sends them at the end of each write) - never one followed by a
``try: with database.atomic(): ... except IntegrityError`` that would take it for its own.

The pool also runs the relay's hot queries (``relay_server.prepared.Prepared``) as **server-side
prepared statements** (``execute_prepared``, ``defer_prepared``): psycopg2 has none and writes the
values into the SQL, so PostgreSQL parsed and planned every statement of every push anew, most of
its ~3.2 ms per push (issue 16). The first time a connection runs a statement it sends
``PREPARE name AS <the SQL with $1..$n>`` in the same call, and from then on
``EXECUTE name(values)`` (psycopg2 still writes the values in; PostgreSQL skips the parse and the
plan, and after five runs may keep a generic plan: measured with EXPLAIN ANALYZE EXECUTE on 5,000
devices and 200,000 events, no worse than the custom plan for the stream's ``_NEWER`` and ``_UNACKED``
or the cluster's ``_PRESENT_ELSEWHERE``). An EXECUTE can be deferred like any write.
Measured (``bench/pg_prepared_ab.py``, one relay process, 300 devices): PostgreSQL's CPU per push
3.3-4.4 ms before, 2.2-2.8 ms after; 14 of a push's 22 statements run prepared.
What a connection has prepared is known only from calls that succeeded: PostgreSQL's PREPARE is
not undone by a ROLLBACK (nor by ROLLBACK TO SAVEPOINT), and in a call that fails, a PREPARE
before the failing statement stays while one after it never ran. So a failed call that carried a
PREPARE leaves the connection *unsure*, and its next PREPARE goes after ``DEALLOCATE ALL``
(which forgets them all, equally regardless of transactions): nothing is executed that may be
missing, nothing prepared twice. A connection the pool opens anew starts unsure too, so its first
PREPARE carries ``DEALLOCATE ALL`` in the same call: a session-mode pooler without
``server_reset_query`` may hand over a server session that still holds another client's ``appbeam_N``.

Statements can also go behind the pool's back: an operator's ``DEALLOCATE``/``DISCARD ALL``, a
transaction-mode pooler, or a migration that changes a table under a statement's cached plan.
PostgreSQL then answers 26000 (no such statement), 42P05 (exists already) or 0A000 ("cached plan
must not change result type"), and would for every EXECUTE on that connection until the pool
retired it. So any call that fails with one of those codes makes its connection forget what it
prepared and turn unsure (the next request prepares anew); a prepared statement run outside a
transaction is then tried once more as plain SQL, so that request succeeds too. Inside a
transaction the error goes up as any other (nothing else of the transaction can be retried): the
relay answers it 503 ``storage_unavailable`` with ``Retry-After: 1`` (``storage_health``).

``APPBEAM_PG_PREPARED=0`` (read when the pool is made, at start-up) runs every statement as plain
SQL: the way back if a deployment meets something above that this does not cover.

A statement's first PREPARE on a database goes inside a savepoint when in a transaction (and a
deferred one's goes at once, on its own): if only the PREPARE fails (PostgreSQL cannot tell a
parameter's type, which the plain statement with its values written in never asks), the savepoint
is rolled back and that statement runs as plain SQL from then on; any other error is the one the
plain statement would have given, and is raised as it. ``tests/relay/test_postgres_prepared.py``.

This overrides two private methods of ``playhouse.pool.PooledDatabase`` (``_is_closed``,
``_close``), checked against peewee 4.x (pinned in pyproject.toml).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

from playhouse.db_url import parse
from playhouse.pool import PooledPostgresqlDatabase

#: How long after its return a connection is lent without a round trip to check it.
TRUST_SECONDS = 2.0


#: Errors only a PREPARE gives: a parameter whose type PostgreSQL cannot work out (42P18), or
#: works out two ways (42P08). With the values written in, the plain statement has no parameters.
_PREPARE_ONLY_ERRORS = frozenset({"42P18", "42P08"})

#: Errors that say the server's prepared statements are not what the pool believes (see the
#: module): 26000 invalid_sql_statement_name ("prepared statement ... does not exist"), 42P05
#: duplicate_prepared_statement, 0A000 feature_not_supported ("cached plan must not change result
#: type"). ``relay_server.storage_health`` answers them as a passing database problem.
LOST_STATEMENT_ERRORS = frozenset({"26000", "42P05", "0A000"})

#: ``APPBEAM_PG_PREPARED``: these values switch prepared statements off.
_OFF = ("0", "false", "no", "off")


class _Deferred(threading.local):
    def __init__(self) -> None:
        self.statements: list[tuple[str, list[Any]]] = []
        #: Statements whose PREPARE goes with the next call (prepared once that call succeeds).
        self.preparing: set[str] = set()
        #: Whether that call also begins with DEALLOCATE ALL (the connection was unsure).
        self.resets = False

    def drop(self) -> None:
        self.statements, self.preparing, self.resets = [], set(), False


class _Statements:
    """What one connection has prepared, as far as calls that succeeded tell."""

    def __init__(self) -> None:
        self.ready: set[str] = set()
        #: Some statement may exist that ``ready`` does not list: a call carrying a PREPARE
        #: failed, the server's statements went behind the pool's back, or the connection is new
        #: (a pooler may hand over a session another client prepared in).
        self.unsure = True

    def forget(self) -> None:
        self.ready, self.unsure = set(), True


def sqlstate(error: BaseException) -> str | None:
    """PostgreSQL's error code, through peewee's wrapper (which keeps psycopg2's error first)."""
    for candidate in (error, *error.args[:1], error.__context__):
        code = getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


class RelayPostgresPool(PooledPostgresqlDatabase):  # type: ignore[misc]  # playhouse has no type stubs
    """``PooledPostgresqlDatabase`` that trusts a connection used moments ago (see the module)."""

    def __init__(self, *args: Any, prepared: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        #: Whether ``Prepared`` queries run as server-side prepared statements (else plain SQL).
        self.prepares = prepared
        self._returned: dict[int, float] = {}  # connection key -> when it was last given back
        #: Loans made without asking the server (for tests and metrics).
        self.trusted_loans = 0
        self._waiting = _Deferred()  # this thread's (greenlet's) deferred writes
        #: Per connection, what it has prepared; a new connection starts empty.
        self._prepared: weakref.WeakKeyDictionary[Any, _Statements] = weakref.WeakKeyDictionary()
        self._good: set[str] = set()  # statements prepared once here (their PREPARE works)
        self._plain: set[str] = set()  # statements whose PREPARE fails: run as plain SQL
        self._texts: dict[str, str] = {}  # each statement's text, by name (``described``)

    # ------------------------------------------------------------------ prepared statements

    def execute_prepared(self, name: str, body: str, sql: str, params: Sequence[Any]) -> Any:
        """Run ``sql`` (with ``params``) as the prepared statement ``name``, whose text is
        ``body`` (``sql`` with ``$1..$n``): prepared first, in the same call, if this connection
        has not yet. Outside a transaction, a statement the server lost is run once more, plain."""
        if not self.prepares:
            return self.execute_sql(sql, params)
        try:
            return self._execute_prepared(name, body, sql, params)
        except Exception as exc:
            if sqlstate(exc) not in LOST_STATEMENT_ERRORS or self.in_transaction():
                raise
            # The connection forgot its statements (``execute_sql``); the failed call ran nothing
            # (one statement outside a transaction: the EXECUTE, or the PREPARE before it, failed).
            return self.execute_sql(sql, params)

    def _execute_prepared(self, name: str, body: str, sql: str, params: Sequence[Any]) -> Any:
        found = self._statement(name, body, len(params))
        if found is None:
            return self.execute_sql(sql, params)
        prepare, run = found
        if not prepare or name in self._good:
            return self.execute_sql(f"{prepare}; {run}" if prepare else run, params)
        try:
            cursor = self.execute_sql(f"{self._guarded(prepare)}; {run}", params)
        except Exception as exc:
            if not self._only_prepare_failed(name, exc):
                raise
            return self.execute_sql(sql, params)
        self._good.add(name)
        return cursor

    def defer_prepared(self, name: str, body: str, sql: str, params: Sequence[Any]) -> None:
        """``defer`` for a prepared statement (see ``execute_prepared``)."""
        if not self.prepares:
            self.defer(sql, params)
            return
        if not self.in_transaction():
            self.execute_prepared(name, body, sql, params)
            return
        found = self._statement(name, body, len(params))
        if found is not None and found[0] and name not in self._good:
            # Its first PREPARE on this database goes now, so that if only it fails, that is
            # known here rather than taken for the error of the writes it would be sent with.
            try:
                self.execute_sql(*self._take(self._guarded(found[0])))  # (with what waits, as commit sends it)
            except Exception as exc:
                if not self._only_prepare_failed(name, exc):
                    raise
                found = None
            else:
                self._good.add(name)
                found = ("", found[1])
        if found is None:
            self._waiting.statements.append((sql, list(params)))
        else:
            prepare, run = found
            self._waiting.statements.append((f"{prepare}; {run}" if prepare else run, list(params)))

    def described(self, statement: str) -> str:
        """One statement of a call as the SQL it stands for (for tests that count statements):
        an EXECUTE as its prepared text, the PREPAREs and their savepoint as ""."""
        if statement.startswith(("PREPARE ", "DEALLOCATE ALL")) or statement.endswith(" appbeam_prepare"):
            return ""
        if statement.startswith("EXECUTE "):
            name = statement[8:].partition("(")[0]
            return self._texts.get(name, statement)
        return statement

    def prepared_here(self) -> set[str]:
        """The statements this thread's connection is known to have prepared (for tests)."""
        return set(self._statements_of(self.connection()).ready)

    def _statements_of(self, conn: Any) -> _Statements:
        found = self._prepared.get(conn)
        if found is None:
            found = self._prepared[conn] = _Statements()
        return found

    def _statement(self, name: str, body: str, count: int) -> tuple[str, str] | None:
        """The PREPARE this connection needs first ("" if none; it counts as waiting from now
        on) and the EXECUTE; None: run the plain SQL."""
        if name in self._plain:
            return None
        run = f"EXECUTE {name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"
        waiting = self._waiting
        known = self._statements_of(self.connection())
        if name in waiting.preparing or (name in known.ready and not waiting.resets):
            return "", run
        prepare = f"PREPARE {name} AS {body}"
        self._texts[name] = body
        if known.unsure and not waiting.resets:
            prepare = f"DEALLOCATE ALL; {prepare}"
            waiting.resets = True
            waiting.preparing = set()  # any PREPARE waiting before it is deallocated by it
        waiting.preparing.add(name)
        return prepare, run

    def _guarded(self, prepare: str) -> str:
        """A statement's first PREPARE on this database: in a transaction, inside a savepoint."""
        if self.in_transaction():
            return f"SAVEPOINT appbeam_prepare; {prepare}; RELEASE SAVEPOINT appbeam_prepare"
        return prepare  # (a failing call outside a transaction leaves nothing behind)

    def _only_prepare_failed(self, name: str, error: BaseException) -> bool:
        """After a call carrying ``name``'s first PREPARE (``_guarded``) failed: whether only the
        PREPARE did. Then the transaction is back to before it, and ``name`` runs plain from now on."""
        if sqlstate(error) not in _PREPARE_ONLY_ERRORS:
            return False  # what the plain statement would have met too
        if self.in_transaction():  # (what was sent before the savepoint ran: the error came after)
            self.execute_sql("ROLLBACK TO SAVEPOINT appbeam_prepare; RELEASE SAVEPOINT appbeam_prepare")
        self._plain.add(name)
        return True

    def _settle(self, known: _Statements, succeeded: bool) -> None:
        """What the call that carried this thread's waiting PREPAREs tells about its connection."""
        waiting = self._waiting
        if succeeded:
            if waiting.resets:
                known.ready, known.unsure = set(waiting.preparing), False
            else:
                known.ready |= waiting.preparing
        else:
            if waiting.resets:
                known.ready = set()  # DEALLOCATE ALL may have run
            known.unsure = True  # each PREPARE ran, or not, depending on where the call failed
        waiting.preparing, waiting.resets = set(), False

    # ------------------------------------------------------------------ deferred writes

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Send this write with the connection's next statement (or at commit); outside a
        transaction it runs now, as there may be no next statement."""
        if self.in_transaction():
            self._waiting.statements.append((sql, list(params)))
        else:
            self.execute_sql(sql, params)

    def flush_deferred(self) -> None:
        """Send the deferred writes now (their errors are raised here)."""
        if self._waiting.statements:
            self.execute_sql(*self._take())

    def _take(self, then: str = "", params: Sequence[Any] = ()) -> tuple[str, list[Any]]:
        waiting, self._waiting.statements = self._waiting.statements, []
        statements = [sql for sql, _ in waiting] + ([then] if then else [])
        values = [value for _, values in waiting for value in values] + list(params)
        return "; ".join(statements), values

    def execute_sql(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        if self._waiting.statements:
            if sql.lstrip()[:8].upper() == "ROLLBACK":
                self._waiting.drop()  # they belonged to what is rolled back
            else:
                sql, params = self._take(sql, params or ())
        if not self._waiting.preparing and not self._waiting.resets:
            try:
                return super().execute_sql(sql, params)
            except Exception as exc:
                self._forget_if_lost(exc)
                raise
        known = self._statements_of(self.connection())
        try:
            cursor = super().execute_sql(sql, params)
        except BaseException as exc:
            self._settle(known, succeeded=False)
            self._forget_if_lost(exc)
            raise
        self._settle(known, succeeded=True)
        return cursor

    def _forget_if_lost(self, error: BaseException) -> None:
        """After a failed call: if the server's statements are not what this connection believes
        (``LOST_STATEMENT_ERRORS``), it forgets them all; its next PREPARE goes after DEALLOCATE ALL."""
        if sqlstate(error) in LOST_STATEMENT_ERRORS and not self.is_closed():
            self._statements_of(self.connection()).forget()

    def begin(self, isolation_level: Any = None) -> Any:
        if isolation_level is None and not self._isolation_level:
            self._waiting.statements.append(("BEGIN", []))  # goes with the transaction's first statement
            return None
        return super().begin(isolation_level)

    def commit(self) -> Any:
        if self._waiting.statements:
            # The writes that waited, then COMMIT, in one call; if one of them fails, PostgreSQL
            # runs nothing after it, and the caller's rollback ends the transaction.
            return self.execute_sql(*self._take("COMMIT"))
        return super().commit()

    def rollback(self) -> Any:
        self._waiting.drop()
        return super().rollback()

    def close(self) -> Any:
        self._waiting.drop()  # never carried over to another connection
        return super().close()

    # ------------------------------------------------------------------ pool

    def _is_closed(self, conn: Any) -> bool:
        key = self.conn_key(conn)
        returned = self._returned.get(key)
        if (
            returned is not None
            and not conn.closed
            and time.monotonic() - returned < TRUST_SECONDS
            and self._adapter.txn_status(conn) == self._adapter.txn_idle
        ):
            self.trusted_loans += 1
            return False
        closed: bool = super()._is_closed(conn)
        if closed:
            self._returned.pop(key, None)  # the pool drops it
        return closed

    def _close(self, conn: Any, close_conn: bool = False) -> None:
        key = self.conn_key(conn)
        if close_conn:
            self._returned.pop(key, None)
        else:
            self._returned[key] = time.monotonic()
        super()._close(conn, close_conn)


def connect_postgres(url: str, **pool: Any) -> RelayPostgresPool:
    """The pool for a ``postgresql://`` (or ``postgres+pool://``) URL, with ``pool``'s settings;
    prepared statements unless ``APPBEAM_PG_PREPARED=0`` (read here, once: the relay makes its
    pool at start-up)."""
    prepared = os.environ.get("APPBEAM_PG_PREPARED", "1").strip().lower() not in _OFF
    return RelayPostgresPool(**parse(url), prepared=prepared, **pool)
