"""``Prepared.rows`` builds the models of later runs itself (relay_server/prepared.py, ``_row_builder``):
the objects must be exactly what peewee builds - same columns, same joined models (and ``None``
for an absent outer-joined row), nothing marked dirty."""

from __future__ import annotations

from relay_server import auth, events, push_views, pushes
from relay_server.db import connection
from relay_server.prepared import Prepared


def _shape(obj, depth=0):
    """A model as plain data: its columns, joined models, and dirty fields."""
    if obj is None:
        return None
    assert depth < 5
    return {
        "class": type(obj).__name__,
        "data": dict(obj.__data__),
        "dirty": set(obj._dirty),
        "rel": {k: _shape(v, depth + 1) for k, v in obj.__rel__.items()},
    }


def _both(prepared: Prepared, **values):
    """(peewee's rows, the fast builder's rows) of the same query."""
    fresh = Prepared(prepared._build)
    first = fresh.rows(**values)  # peewee builds these (and the layout is learnt)
    assert fresh._layout is not None and fresh._layout[2] is not None, "no fast builder for this query"
    second = fresh.rows(**values)  # built by _row_builder
    return first, second


def test_the_hot_queries_build_the_same_objects_as_peewee(api, app):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    app.extensions["appbeam_relay"].hub.subscribe("anna-phone")  # online: the push event is written
    push = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]
    api.report(phone, push["id"], "delivered")
    api.push(laptop, ["anna-phone"])  # one more, unacknowledged
    token = laptop["Authorization"].split()[1]

    with connection():
        cases = [
            (auth._DEVICE_FOR_TOKEN, {"digest": auth.token_digest(token)}),
            (pushes._DEVICE, {"id": "anna-phone"}),
            (push_views._PUSH, {"id": push["id"]}),
            # push events (a push joined) and push_update events (no push: outer join empty)
            (events._NEWER, {"device": "anna-phone", "after": 0}),
            (events._NEWER, {"device": "anna-laptop", "after": 0}),
            (events._UNACKED, {"device": "anna-phone", "page": 0}),
        ]
        for prepared, values in cases:
            slow, fast = _both(prepared, **values)
            assert slow, (prepared, values)
            assert [_shape(r) for r in fast] == [_shape(r) for r in slow]
            assert all(not r._dirty for r in fast)
        # What the relay reads from them works the same way.
        slow, fast = _both(push_views._PUSH, id=push["id"])
        assert push_views.view(fast[0]) == push_views.view(slow[0])
        slow, fast = _both(events._NEWER, device="anna-phone", after=0)
        base = "http://relay.example/"
        assert [events.render(e, base) for e in fast] == [events.render(e, base) for e in slow]
        slow, fast = _both(events._NEWER, device="anna-laptop", after=0)
        assert [e.push for e in fast] == [e.push for e in slow]
