"""Waking thousands of streams must stay cheap: rendering a batch of push events is one query."""

from __future__ import annotations

import threading

import peewee
import pytest

from relay_server import events
from relay_server.db import database


def test_a_batch_of_push_events_renders_with_a_single_query(api, app, monkeypatch):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    for app_id in ("org.videolan.vlc", "org.fdroid.fdroid", "com.termux"):
        assert api.push(laptop, ["anna-phone"], app={"id": app_id}).status_code == 201
    executed = []
    real = database.obj.execute_sql
    me = threading.get_ident()  # (on PostgreSQL the wake-up publisher thread sends its NOTIFY meanwhile)

    def execute_sql(sql, *args, **kwargs):
        if threading.get_ident() == me:
            executed.append(sql)
        return real(sql, *args, **kwargs)

    monkeypatch.setattr(database.obj, "execute_sql", execute_sql)

    with database.connection_context():
        rows = events.pending_for("anna-phone", None)
        texts = [events.render(row, "http://relay.example/") for row in rows]

    assert len(texts) == 3
    assert all('"sender":{"username":"anna","device_id":"anna-laptop"' in text for text in texts)
    assert len(executed) == 1, executed


def _pushes(api, auth, count: int) -> list[str]:
    ids = []
    for k in range(count):
        app_id = ("org.videolan.vlc", "org.fdroid.fdroid", "com.termux")[k % 3]  # from the demo catalog
        answer = api.push(auth, ["anna-phone"], app={"id": app_id})
        assert answer.status_code == 201, answer.get_json()
        ids.append(answer.get_json()["pushes"][0]["id"])
    return ids


def test_a_reconnect_sends_the_unacknowledged_pushes_and_what_it_missed_once_each_in_order(api, app):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    first = _pushes(api, laptop, 6)
    for push_id in first[:4]:  # the phone acknowledged four of them; two are still waiting
        assert api.report(phone, push_id, "delivered").status_code == 200
    with database.connection_context():
        seen_up_to = events.latest_id("anna-phone")
    later = _pushes(api, laptop, 2)  # sent while the phone was away

    with database.connection_context():
        fresh = events.pending_for("anna-phone", None)
        resumed = events.pending_for("anna-phone", seen_up_to)
        next_page = events.pending_for("anna-phone", seen_up_to, page_after=resumed[2].id)

    assert [e.push_id for e in fresh] == first[4:] + later  # a new connection: what is unacknowledged
    assert [e.push_id for e in resumed] == first[4:] + later  # no event twice, in the log's order
    assert [e.id for e in resumed] == sorted(e.id for e in resumed)
    assert [e.push_id for e in next_page] == later[1:]


def test_a_reconnect_finds_the_waiting_pushes_without_reading_the_device_s_whole_history(api, app):
    """A phone with years of acknowledged pushes must not cost its relay a walk through all of
    them each time it reconnects: the read starts from its unacknowledged pushes (SQLite's plan)."""
    anna = api.account("anna")
    api.login(anna, "anna-laptop", platform="linux")
    api.login(anna, "anna-phone")
    if not isinstance(database.obj, peewee.SqliteDatabase):
        pytest.skip("the query plan checked here is SQLite's; PostgreSQL plans by its statistics")
    sql, params = events._UNACKED._build().sql()
    values = ["anna-phone" if getattr(p, "name", None) == "device" else 0 if hasattr(p, "name") else p for p in params]
    with database.connection_context():
        plan = " | ".join(row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, values).fetchall())
    assert "push_target_device_id_state" in plan, plan
    assert "event_device_id_id" not in plan, plan
