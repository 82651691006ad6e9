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

This overrides two private methods of ``playhouse.pool.PooledDatabase`` (``_is_closed``,
``_close``), checked against peewee 4.x (pinned in pyproject.toml).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from playhouse.db_url import parse
from playhouse.pool import PooledPostgresqlDatabase

#: How long after its return a connection is lent without a round trip to check it.
TRUST_SECONDS = 2.0


class _Deferred(threading.local):
    def __init__(self) -> None:
        self.statements: list[tuple[str, list[Any]]] = []


class RelayPostgresPool(PooledPostgresqlDatabase):  # type: ignore[misc]  # playhouse has no type stubs
    """``PooledPostgresqlDatabase`` that trusts a connection used moments ago (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._returned: dict[int, float] = {}  # connection key -> when it was last given back
        #: Loans made without asking the server (for tests and metrics).
        self.trusted_loans = 0
        self._waiting = _Deferred()  # this thread's (greenlet's) deferred writes

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
                self._waiting.statements = []  # they belonged to what is rolled back
            else:
                sql, params = self._take(sql, params or ())
        return super().execute_sql(sql, params)

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
        self._waiting.statements = []
        return super().rollback()

    def close(self) -> Any:
        self._waiting.statements = []  # never carried over to another connection
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
    """The pool for a ``postgresql://`` (or ``postgres+pool://``) URL, with ``pool``'s settings."""
    return RelayPostgresPool(**parse(url), **pool)
