"""The inbox's small parts on their own: the progress throttle and the push book."""

from __future__ import annotations

from mobile_receiver.progress_throttle import REPORT_INTERVAL, UI_INTERVAL, ProgressThrottle
from mobile_receiver.push_book import PushBook
from mobile_receiver.record import PushRecord
from mobile_receiver.storage import ReceiverDB


def test_progress_reaches_the_relay_at_most_twice_a_second_but_always_at_the_last_byte():
    now = [1000.0]
    throttle = ProgressThrottle(clock=lambda: now[0])
    first = throttle.due("p1", 10, 100)
    assert first.relay and first.screens
    now[0] += UI_INTERVAL
    again = throttle.due("p1", 20, 100)
    assert not again.relay and again.screens  # within REPORT_INTERVAL of the last report
    assert not throttle.due("p1", 30, 100).screens  # nor the screens, at the same moment
    assert throttle.due("p1", 100, 100).relay  # the last byte always goes
    throttle.reported("p2")
    assert not throttle.due("p2", 1, 100).relay  # a state change just told the relay
    now[0] += REPORT_INTERVAL
    assert throttle.due("p2", 2, 100).relay


def _record(push_id: str, state: str) -> PushRecord:
    return PushRecord.from_dict(
        {
            "push_id": push_id,
            "state": state,
            "mode": "notify",
            "app": {"id": "a.b", "name": "A"},
            "sender": {},
            "package": None,
            "created_at": "2026-01-01T00:00:00Z",
            "received_at": "2026-01-01T00:00:00Z",
        }
    )


def test_the_book_keeps_pushes_in_order_and_forgets_only_finished_ones(tmp_path):
    db = ReceiverDB(tmp_path / "receiver.sqlite3")
    book = PushBook(db)
    first, second = _record("p1", "delivered"), _record("p2", "installed")
    assert book.add(first) and book.add(second)
    assert not book.add(first)  # a replay
    assert [r.push_id for r in book.all()] == ["p1", "p2"]
    assert not book.forget("p1")  # not finished
    assert book.forget("p2")
    assert [r["push_id"] for r in PushBook(db).db.load_pushes()] == ["p1"]
