"""Event ids never go back, also in a database made before they became a sequence (issue 11, item 4)."""

from __future__ import annotations

import sqlite3

import pytest

from relay_server.db import close_pool, database, init_database
from relay_server.models import Account, Device, Event
from tests.helpers.database import test_database_url

OLD_EVENT_TABLE = """
DROP TABLE "event";
CREATE TABLE "event" ("id" INTEGER NOT NULL PRIMARY KEY, "device_id" VARCHAR(128) NOT NULL,
  "kind" VARCHAR(24) NOT NULL, "push_id" VARCHAR(40), "payload" TEXT, "created_at" DATETIME NOT NULL,
  FOREIGN KEY ("device_id") REFERENCES "device" ("id") ON DELETE CASCADE,
  FOREIGN KEY ("push_id") REFERENCES "push" ("id") ON DELETE CASCADE);
CREATE INDEX "event_device_id_id" ON "event" ("device_id", "id");
"""


@pytest.mark.skipif(bool(test_database_url()), reason="SQLite's AUTOINCREMENT; PostgreSQL sequences never go back")
def test_an_event_table_from_before_is_rebuilt_once_and_keeps_its_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    init_database(url)
    close_pool()
    with sqlite3.connect(tmp_path / "relay.db") as conn:  # the table as an older relay made it
        conn.executescript(OLD_EVENT_TABLE)
        conn.execute(
            "INSERT INTO account (id, username, password_hash, created_at) VALUES (1, 'anna', 'x', '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO device (id, account_id, name, model, platform, created_at) "
            "VALUES ('anna-phone', 1, 'Phone', 'Pixel', 'android', '2026-01-01')"
        )
        conn.executemany(
            "INSERT INTO event (id, device_id, kind, payload, created_at) VALUES (?, 'anna-phone', "
            "'push_update', '{}', '2026-01-01')",
            [(5,), (6,), (7,)],
        )
    conn.close()

    init_database(url)
    try:
        with database.connection_context():
            sql = database.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'event'").fetchone()[0]
            assert "AUTOINCREMENT" in sql.upper()
            assert [e.id for e in Event.select().order_by(Event.id)] == [5, 6, 7]
            Event.delete().where(Event.id == 7).execute()  # the newest event goes (a removed device)
            new = Event.create(device="anna-phone", kind="push_update", payload="{}")
            assert new.id == 8
            assert Account.select().count() == 1 and Device.select().count() == 1
    finally:
        close_pool()
