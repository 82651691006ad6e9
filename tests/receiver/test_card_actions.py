"""A card's buttons do what they say, through one table (``cardview.INBOX_ACTIONS``) that both
the screen and the automation socket use, resolved against the Inbox as it is now."""

from __future__ import annotations

from unittest import mock

import pytest

from appbeam_devtools.receiver_control import BUTTONS
from mobile_receiver import cardview
from mobile_receiver.inbox import Inbox

#: button -> the Inbox method a person expects it to call
EXPECTED = {
    "download": "download",
    "dismiss": "dismiss",
    "pause": "pause",
    "resume": "resume",
    "cancel": "cancel",
    "retry": "retry",
    "use_mobile_data": "use_mobile_data",
    "forget": "forget",  # the Remove button
    "download_again": "download_again",
}


def test_every_button_a_card_can_show_does_something():
    offered = set(cardview.BUTTON_TEXT) - {cardview.DETAILS}  # Details only opens the notice
    assert offered == set(cardview.INBOX_ACTIONS)


@pytest.mark.parametrize("button", sorted(EXPECTED))
def test_a_button_calls_its_inbox_method_with_the_push(button):
    inbox = mock.create_autospec(Inbox, instance=True)  # a method the Inbox lacks fails here

    cardview.INBOX_ACTIONS[button](inbox, "push-1")

    getattr(inbox, EXPECTED[button]).assert_called_once_with("push-1")
    assert len(inbox.method_calls) == 1


def test_the_control_socket_presses_the_same_buttons_and_can_wait_for_wifi():
    assert {name: BUTTONS[name] for name in cardview.INBOX_ACTIONS} == cardview.INBOX_ACTIONS
    inbox = mock.create_autospec(Inbox, instance=True)
    BUTTONS["wait_for_wifi"](inbox, "push-1")
    inbox.answer_metered.assert_called_once_with("push-1", "wait")
