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

This overrides two private methods of ``playhouse.pool.PooledDatabase`` (``_is_closed``,
``_close``), checked against peewee 4.x (pinned in pyproject.toml).
"""

from __future__ import annotations

import time
from typing import Any

from playhouse.db_url import parse
from playhouse.pool import PooledPostgresqlDatabase

#: How long after its return a connection is lent without a round trip to check it.
TRUST_SECONDS = 2.0


class RelayPostgresPool(PooledPostgresqlDatabase):  # type: ignore[misc]  # playhouse has no type stubs
    """``PooledPostgresqlDatabase`` that trusts a connection used moments ago (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._returned: dict[int, float] = {}  # connection key -> when it was last given back
        #: Loans made without asking the server (for tests and metrics).
        self.trusted_loans = 0

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
