"""A device that missed more than one batch of events gets all of them when it reconnects,
without waiting for something new to happen."""

from __future__ import annotations

import json
import time

from relay_server import events
from relay_server.db import database
from relay_server.models import Event


def test_a_backlog_longer_than_one_batch_is_sent_at_once(api, app):
    anna = api.account("anna")
    api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    total = events.BATCH + 30
    with database.connection_context(), database.atomic():
        Event.insert_many(
            [{"device": "anna-phone", "kind": "push_update", "payload": json.dumps({"n": i})} for i in range(total)]
        ).execute()

    stream = api.client.get("/api/v1/stream?last_event_id=0", headers=phone, buffered=False)
    seen, deadline, text = 0, time.monotonic() + 10, ""
    try:
        for chunk in stream.response:
            text += chunk.decode() if isinstance(chunk, bytes) else chunk
            seen = text.count("event: push_update")
            if seen >= total or time.monotonic() > deadline:
                break
    finally:
        stream.close()
    assert seen == total
