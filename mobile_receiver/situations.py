"""Telling the relay what a push waits for when nobody paused it, so the sender can show it.

A push can stand still without the user's doing: the phone asks whether to use mobile data,
or its download waits for the relay, the download server or a connection to come back. The
relay hears that as a ``paused`` report whose detail is a ``shared.protocol.Situation``
(senders show "Asking about mobile data", "Waiting for the relay"...; older ones "Paused").
When the push goes on, its next report (``downloading``, ``waiting_for_wifi``...) ends the
situation. A situation report still waiting in the outbox when the download goes on is taken
back: the relay never needs to hear of an outage it did not see the end of.
"""

from __future__ import annotations

import time

from mobile_receiver.failures import Failure
from mobile_receiver.record import PushRecord
from mobile_receiver.reporter import Reporter
from shared.protocol import PushState, Situation, can_transition

S = PushState
#: A download that keeps failing is reported as waiting from this failure in a row on (one
#: dropped connection that resumes at once is no news for the sender).
TELL_RELAY_AFTER = 2


def waiting(reporter: Reporter, rec: PushRecord, failure: Failure, seconds: float, in_a_row: int) -> None:
    """A download's passing failure (the ``in_a_row``-th): what its card says while it waits,
    when it tries again, and, once it keeps failing, what the relay hears. The caller saves ``rec``."""
    rec.waiting = str(failure.situation or Situation.NO_CONNECTION)
    rec.notice = failure.sentence
    rec.retry_at = time.time() + seconds
    rec.speed = rec.eta = None
    if in_a_row >= TELL_RELAY_AFTER or rec.situation is not None:
        tell(reporter, rec, Situation(rec.waiting))


def went_on(reporter: Reporter, rec: PushRecord) -> bool:
    """The download goes on (bytes flow, or it is complete): the wait is over. True if there was
    one (the caller saves ``rec``)."""
    if rec.waiting is None and rec.situation is None:
        return False
    rec.retry_at = rec.waiting = rec.notice = None
    if rec.push_state is S.DOWNLOADING:
        end_for_download(reporter, rec)
    return True


def tell(reporter: Reporter, rec: PushRecord, situation: Situation) -> bool:
    """Record ``situation`` on ``rec`` and report it once; False when the push's state has no
    ``paused`` to offer (verifying, or paused by the user already). The caller saves ``rec``."""
    if rec.situation == str(situation):
        return False
    if rec.situation is None and not can_transition(rec.push_state, S.PAUSED):
        return False
    rec.situation = str(situation)
    reporter.report(rec.push_id, S.PAUSED, detail=str(situation))
    return True


def end_for_download(reporter: Reporter, rec: PushRecord) -> bool:
    """The download goes on: forget the situation and say ``downloading`` again.

    Returns True when there was a situation to end. The caller saves ``rec``.
    """
    if rec.situation is None:
        return False
    situation, rec.situation = rec.situation, None
    reporter.withdraw(rec.push_id, S.PAUSED, detail=situation)
    reporter.report(rec.push_id, S.DOWNLOADING, bytes_done=rec.bytes_done, bytes_total=rec.bytes_total)
    return True
