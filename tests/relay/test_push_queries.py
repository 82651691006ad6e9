"""The push path stays cheap: a bounded number of statements per POST /pushes, none after the
commit (the answer is rendered from the rows in hand), and the stored push is complete."""

from __future__ import annotations

import threading

from relay_server.db import database
from relay_server.models import Event, Push, PushHistory

APP = {
    "id": "org.example.unknown",
    "name": "Example",
    "version": "1.0",
    "packages": [{"format": "apk", "url": "https://example.org/x.apk", "sha256": "ab" * 32, "size": 10}],
}


#: On PostgreSQL several relay processes share the database: presence look-ups, the event
#: order lock and NOTIFY are that machinery's statements, not the push path's.
_CLUSTER = ("pg_advisory_xact_lock", "pg_notify", '"presence"')


def _record_sql(monkeypatch) -> list[str]:
    """The push path's SQL run from this thread from now on (the mirror worker has its own)."""
    executed: list[str] = []
    real = database.obj.execute_sql
    me = threading.get_ident()

    def execute_sql(sql, *args, **kwargs):
        if threading.get_ident() == me:
            # On PostgreSQL writes that wait for the next statement go with it, joined by "; "
            # (relay_server/postgres_pool.py): each counts as the statement it is.
            # BEGIN and COMMIT are the transaction's, not statements of the push.
            # A prepared statement's EXECUTE counts as the statement it runs, its PREPARE as none.
            said = [getattr(database.obj, "described", str)(s) for s in sql.split("; ")]
            executed.extend(
                s for s in said if s and not any(mark in s for mark in _CLUSTER) and s not in ("BEGIN", "COMMIT")
            )
        return real(sql, *args, **kwargs)

    monkeypatch.setattr(database.obj, "execute_sql", execute_sql)
    return executed


def test_a_push_to_one_device_costs_a_handful_of_statements(api, app, monkeypatch):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    executed = _record_sql(monkeypatch)

    resp = api.push(laptop, ["anna-phone"], app=APP)

    assert resp.status_code == 201, resp.get_json()
    selects = [sql for sql in executed if sql.lstrip().upper().startswith("SELECT")]
    inserts = [sql for sql in executed if sql.lstrip().upper().startswith("INSERT")]
    # token (with device and account), target device (with account), catalog
    assert len(selects) <= 3, selects
    # push, its history row, the sender's push_update (the phone is offline: its push event
    # is written once the relay holds a copy of the package)
    assert len(inserts) == 3, inserts
    assert "INSERT" in executed[-1].upper(), "nothing is read after the push is written"
    body = resp.get_json()["pushes"][0]
    assert body["owner"] == "anna" and body["sender"]["username"] == "anna"
    assert body["device_name"] == "anna-phone" and body["sender"]["device_id"] == "anna-laptop"


def test_the_stored_push_has_every_column_and_its_history_and_events(api, app):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")

    push_id = api.push(laptop, ["anna-phone"], app=APP).get_json()["pushes"][0]["id"]

    with database.connection_context():
        push = Push.get_by_id(push_id)
        assert push.state == "queued" and push.mirror_status == "pending"
        assert push.created_at is not None and push.updated_at is not None
        assert push.app["name"] == "Example" and push.package_sha256 == "ab" * 32
        assert [h.state for h in PushHistory.select().where(PushHistory.push == push_id)] == ["queued"]
        kinds = [(e.device_id, e.kind) for e in Event.select().where(Event.push == push_id).order_by(Event.id)]
    assert kinds == [("anna-laptop", "push_update")]  # the target's push event waits for the mirror
    shown = api.client.get(f"/api/v1/pushes/{push_id}", headers=laptop).get_json()
    assert shown["history"][0]["state"] == "queued" and shown["created_at"].endswith("+00:00")
