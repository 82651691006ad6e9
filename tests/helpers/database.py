"""Which database the relay tests use: SQLite files by default, PostgreSQL when asked.

``tests/with_postgres.sh`` starts a throwaway PostgreSQL server and sets
``APPBEAM_TEST_DATABASE_URL``; every relay test then runs unchanged against it, each on an
emptied schema.
"""

from __future__ import annotations

import os


def test_database_url() -> str:
    """The PostgreSQL URL to test against, or "" for the default (SQLite in the data dir)."""
    return os.environ.get("APPBEAM_TEST_DATABASE_URL", "")


test_database_url.__test__ = False  # a helper, not a test


def reset_database(url: str) -> None:
    """Drop every table, so the next relay starts on an empty database."""
    if not url:
        return
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    conn.close()
