"""Waking thousands of streams must stay cheap: rendering a batch of push events is one query."""

from __future__ import annotations

import threading

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
