"""``RelayWorker.call`` takes the client's method itself (``worker.call(client.devices)``), runs it
off the UI thread against the real relay, and answers on the UI thread: the relay's answer, or
its error as a ``RelayError`` the window can put in a sentence."""

from __future__ import annotations

import pytest

from desktop_sender.relay_worker import RelayWorker
from shared.relay_client import RelayClient

pytestmark = pytest.mark.qt


@pytest.fixture
def worker(qtbot, relay):
    worker = RelayWorker(RelayClient(relay.url))
    yield worker
    worker.wait_for_done(5000)


def test_a_bound_method_runs_and_its_answer_arrives_on_the_ui_thread(qtbot, worker):
    call = worker.call(worker.client.health)
    assert call.name == "health"
    with qtbot.waitSignal(call.succeeded, timeout=30000) as answered:
        pass
    assert answered.args[0].status == "ok"
    assert not worker.busy


def test_the_relays_refusal_arrives_as_an_error(qtbot, worker):
    call = worker.call(worker.client.get_push, "no-such-push")  # not signed in: the relay says 401
    with qtbot.waitSignal(call.failed, timeout=30000) as answered:
        pass
    assert answered.args[0].status == 401
