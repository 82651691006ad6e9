"""Local persistence of the receiver: small JSON files written atomically, and one SQLite file.

JSON files (profile, network setting, installed apps) are replaced with write-then-rename,
so a reader (or a crash) never sees half a file. Pushes, the report outbox and the last
event id live in ``receiver.sqlite3``: one connection shared by the receiver's threads,
guarded by a lock, in WAL mode so every commit is durable at once.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as JSON to ``path`` so that readers see the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_json(path: str | os.PathLike[str], default: Any = None) -> Any:
    """The JSON in ``path``, or ``default`` when it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


_SCHEMA = """
CREATE TABLE IF NOT EXISTS pushes (
    push_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    push_id TEXT NOT NULL,
    state TEXT NOT NULL,
    bytes_done INTEGER,
    bytes_total INTEGER,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class ReceiverDB:
    """The receiver's SQLite file: pushes by id, the ordered report outbox, key/value meta."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ pushes

    def save_push(self, push_id: str, data: dict[str, Any]) -> None:
        """Insert or replace one push record (keeps its original arrival order)."""
        text = json.dumps(data, sort_keys=True)
        with self._lock:
            self._conn.execute(
                "INSERT INTO pushes (push_id, seq, data) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM pushes), ?)"
                " ON CONFLICT(push_id) DO UPDATE SET data = excluded.data",
                (push_id, text),
            )

    def has_push(self, push_id: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM pushes WHERE push_id = ?", (push_id,)).fetchone() is not None

    def load_pushes(self) -> list[dict[str, Any]]:
        """Every stored push record, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT data FROM pushes ORDER BY seq").fetchall()
        return [json.loads(row[0]) for row in rows]

    def delete_push(self, push_id: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM pushes WHERE push_id = ?", (push_id,))

    # ------------------------------------------------------------------ outbox

    def enqueue_report(
        self,
        push_id: str,
        state: str,
        bytes_done: int | None = None,
        bytes_total: int | None = None,
        detail: str | None = None,
        *,
        coalesce: bool = False,
    ) -> None:
        """Append a report; with ``coalesce`` a progress report replaces an unsent one just before it."""
        with self._lock:
            if coalesce:
                last = self._conn.execute("SELECT seq, push_id, state FROM outbox ORDER BY seq DESC LIMIT 1").fetchone()
                if last and last[1] == push_id and last[2] == state:
                    self._conn.execute(
                        "UPDATE outbox SET bytes_done = ?, bytes_total = ?, detail = ? WHERE seq = ?",
                        (bytes_done, bytes_total, detail, last[0]),
                    )
                    return
            self._conn.execute(
                "INSERT INTO outbox (push_id, state, bytes_done, bytes_total, detail) VALUES (?, ?, ?, ?, ?)",
                (push_id, state, bytes_done, bytes_total, detail),
            )

    def pending_reports(self, limit: int = 50) -> list[dict[str, Any]]:
        """The oldest unsent reports, in the order they were made."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, push_id, state, bytes_done, bytes_total, detail FROM outbox ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        keys = ("seq", "push_id", "state", "bytes_done", "bytes_total", "detail")
        return [dict(zip(keys, row)) for row in rows]

    def remove_report(self, seq: int) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def remove_unsent(self, push_id: str, state: str, detail: str | None) -> int:
        """Delete the unsent reports of ``push_id`` with this state and detail; how many went."""
        with self._lock:
            return self._conn.execute(
                "DELETE FROM outbox WHERE push_id = ? AND state = ? AND detail IS ?", (push_id, state, detail)
            ).rowcount

    def count_reports(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    # ------------------------------------------------------------------ meta

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str | None) -> None:
        with self._lock:
            if value is None:
                self._conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self._conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )
