"""A compromised relay, simulated: SQL written straight into a running relay's database.

The relay (a RelayProcess) may keep running meanwhile: its SQLite file is in WAL mode, so a
second writer just waits its turn; with ``tests/with_postgres.sh`` the same statements go
to the test PostgreSQL database. Statements use ``?`` placeholders for both.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.helpers.relay_process import RelayProcess


class RelayDatabaseEditor:
    """Read and write a relay's tables behind its back."""

    def __init__(self, relay: RelayProcess):
        self.relay = relay

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own transaction; returns the number of rows it changed."""
        if self.relay.database_url:
            import psycopg2

            conn = psycopg2.connect(self.relay.database_url)
            try:
                with conn, conn.cursor() as cur:
                    cur.execute(sql.replace("?", "%s"), tuple(params))
                    return cur.rowcount
            finally:
                conn.close()
        conn = sqlite3.connect(Path(self.relay.data_dir) / "relay.db", timeout=30)
        try:
            with conn:
                return conn.execute(sql, tuple(params)).rowcount
        finally:
            conn.close()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        if self.relay.database_url:
            import psycopg2

            conn = psycopg2.connect(self.relay.database_url)
            try:
                with conn.cursor() as cur:
                    cur.execute(sql.replace("?", "%s"), tuple(params))
                    return cur.fetchall()
            finally:
                conn.close()
        conn = sqlite3.connect(Path(self.relay.data_dir) / "relay.db", timeout=30)
        try:
            return conn.execute(sql, tuple(params)).fetchall()
        finally:
            conn.close()

    def update_push(self, push_id: str, **columns: Any) -> None:
        """Change columns of one push row (e.g. ``package_url``, ``mode``, ``signature``)."""
        assignments = ", ".join(f"{name} = ?" for name in columns)
        changed = self.execute(f"UPDATE push SET {assignments} WHERE id = ?", [*columns.values(), push_id])
        assert changed == 1, f"no push {push_id!r} in the relay's database"

    def add_device(self, *, like: str, device_id: str, name: str, public_key: str) -> None:
        """A device in the same account as device ``like``, with ``public_key`` registered."""
        changed = self.execute(
            "INSERT INTO device (id, account_id, name, model, platform, public_key, created_at, last_seen) "
            "SELECT ?, account_id, ?, model, platform, ?, created_at, NULL FROM device WHERE id = ?",
            [device_id, name, public_key, like],
        )
        assert changed == 1, f"no device {like!r} in the relay's database"

    def add_token(self, device_id: str, token: str) -> None:
        """A bearer token for ``device_id`` (the relay stores only its SHA-256)."""
        changed = self.execute(
            "INSERT INTO token (token_hash, device_id, created_at, revoked_at) "
            "SELECT ?, id, created_at, NULL FROM device WHERE id = ?",
            [hashlib.sha256(token.encode()).hexdigest(), device_id],
        )
        assert changed == 1, f"no device {device_id!r} in the relay's database"
