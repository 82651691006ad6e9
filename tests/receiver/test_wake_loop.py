"""The loop behind the report outbox and the installed list: tries when woken, again after a
growing pause while it cannot, and survives an attempt that raises."""

from __future__ import annotations

import threading

from mobile_receiver.wake_loop import WakeLoop

from .fakes import wait_until


def test_a_failing_attempt_is_tried_again_and_one_that_raises_does_not_end_the_thread():
    tries: list[str] = []
    outcomes = iter(["raise", "fail", "done"])

    def attempt() -> bool:
        outcome = next(outcomes, "done")
        tries.append(outcome)
        if outcome == "raise":
            raise RuntimeError("a bug in one attempt")
        return outcome == "done"

    loop = WakeLoop(attempt, name="test-loop", backoff_initial=0.01, backoff_max=0.05)
    loop.start()
    try:
        wait_until(lambda: tries == ["raise", "fail", "done"], what="three tries, the last one done")
        loop.wake()  # done: it rests until woken, then tries again
        wait_until(lambda: len(tries) == 4, what="a try after the wake")
    finally:
        loop.stop()
    assert not any(t.name == "test-loop" for t in threading.enumerate())


def test_resting_waits_for_a_wake_without_trying():
    asked: list[bool] = []  # each time the loop asked whether to rest
    tried_after: list[int] = []  # how many times it had asked when it tried

    def resting() -> bool:
        asked.append(True)
        return len(asked) <= 2  # signed out for the first two wakes

    def attempt() -> bool:
        tried_after.append(len(asked))
        return True

    loop = WakeLoop(attempt, name="resting", backoff_initial=0.01, backoff_max=0.05, resting=resting)
    loop.start()
    try:
        wait_until(lambda: len(asked) == 1, what="the loop resting")
        loop.wake()
        wait_until(lambda: len(asked) == 2, what="the loop resting again")
        loop.wake()
        wait_until(lambda: tried_after, what="a try once it no longer rests")
    finally:
        loop.stop()
    assert tried_after[0] == 3
