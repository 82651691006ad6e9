"""Moving a push from one state to the next: stored, reported to the relay, told to the screens.

The one door every state change goes through, so the order never varies (disk first, then the
outbox, then the listeners) and an impossible move (``shared.protocol.TRANSITIONS``) is logged
and ignored instead of reaching the relay, which would answer 409.
"""

from __future__ import annotations

import logging
from typing import Any

from mobile_receiver.inbox_news import InboxNews
from mobile_receiver.progress_throttle import ProgressThrottle
from mobile_receiver.push_book import PushBook
from mobile_receiver.record import PushRecord
from mobile_receiver.reporter import Reporter
from mobile_receiver.said import Said
from shared.protocol import PushState, can_transition

log = logging.getLogger("mobile_receiver.inbox")

S = PushState


class StateChanges:
    """``move(rec, state)``: the push state machine's only writer."""

    def __init__(self, book: PushBook, reporter: Reporter, news: InboxNews, throttle: ProgressThrottle):
        self.book = book
        self.reporter = reporter
        self.news = news
        self.throttle = throttle

    def move(
        self,
        rec: PushRecord,
        state: PushState,
        *,
        detail: str | None = None,
        notice: str | Said | None = "",
        **extra: Any,
    ) -> None:
        """Move ``rec`` to ``state``: store, report, tell listeners. Rejects impossible moves.
        ``notice=""`` keeps the card's notice as it is; a Said is shown in the language of the moment."""
        with self.book.lock:
            current = rec.push_state
            if current is state and state is not S.DOWNLOADING and rec.situation is None:
                return  # nothing new to say
            if current is not state and not can_transition(current, state):
                log.warning("push %s: ignoring %s -> %s", rec.push_id, current, state)
                return
            rec.state = str(state)
            rec.detail = detail
            rec.situation = None  # whatever the push waited for, the report below moves the relay on
            rec.retry_at = rec.waiting = None
            if notice != "":
                rec.keep_notice(notice)
            if state is not S.DOWNLOADING:
                rec.speed = rec.eta = None
            for key, value in extra.items():
                setattr(rec, key, value)
            self.book.save(rec)
            if state is S.DOWNLOADING:
                self.throttle.reported(rec.push_id)
                self.reporter.report(rec.push_id, state, bytes_done=rec.bytes_done, bytes_total=rec.bytes_total)
            else:
                self.reporter.report(rec.push_id, state, detail=detail)
        self.news.changed(rec.push_id)
