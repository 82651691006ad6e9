"""The sender's flows: one small controller per thing a person does, between the window and the relay.

:class:`~desktop_sender.app.SenderApp` builds the window, the relay client and worker, and one
:class:`Flow` of each kind; each flow connects the widgets of its job to relay calls and back:

- ``signing_in.py``: the first-run dialog, signing in, the account chip;
- ``choosing_devices.py``: a package link, a dropped file or a page's ``appbeam.push`` opens the
  picker, which asks the relay for the devices and sends the push;
- ``following_pushes.py``: the Pushes panel's feed (the list, the live stream, Resend, Cancel, Clear);
- ``adding_a_phone.py``: the pairing code;
- ``people_and_devices.py``: friends and this account's devices.

Answers from the relay arrive on the UI thread after the fact, possibly after the sender was
closed: every slot that touches widgets is wrapped in :func:`unless_closed`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Protocol, TypeVar

from PySide6.QtCore import QObject

from shared.explain import explain, relay_place

if TYPE_CHECKING:
    from desktop_sender.app import SenderApp
    from desktop_sender.icons import IconCache
    from desktop_sender.main_window import MainWindow
    from desktop_sender.profile import SenderProfile
    from desktop_sender.push_board import PushBoard
    from desktop_sender.relay_worker import RelayWorker
    from shared.relay_client import RelayClient


class _Closable(Protocol):
    @property
    def closed(self) -> bool: ...


_Owner = TypeVar("_Owner", bound=_Closable)
_Args = ParamSpec("_Args")


def unless_closed(
    method: Callable[Concatenate[_Owner, _Args], None],
) -> Callable[Concatenate[_Owner, _Args], None]:
    """Skip a slot once the sender is closed: answers already queued by worker threads
    still arrive after ``close()``, and the widgets they would touch are gone."""

    @functools.wraps(method)
    def wrapper(self: _Owner, /, *args: _Args.args, **kwargs: _Args.kwargs) -> None:
        if self.closed:
            return
        method(self, *args, **kwargs)

    return wrapper


def relay_error_text(error: Exception, relay_url: str) -> str:
    """A relay failure as a sentence for the user (``shared.explain``); the detail goes to the log."""
    return explain(error, place=relay_place(relay_url)).text


class Flow(QObject):
    """One flow of the sender: a child of the :class:`SenderApp`, reaching the window, the relay
    client and its worker through it (so every flow sees the same ones)."""

    def __init__(self, app: SenderApp):
        super().__init__(app)
        self.app = app

    @property
    def closed(self) -> bool:
        return self.app.closed

    @property
    def window(self) -> MainWindow:
        return self.app.window

    @property
    def client(self) -> RelayClient:
        return self.app.client

    @property
    def worker(self) -> RelayWorker:
        return self.app.worker

    @property
    def profile(self) -> SenderProfile:
        return self.app.profile

    @property
    def board(self) -> PushBoard:
        return self.app.board

    @property
    def icons(self) -> IconCache:
        return self.app.icons

    def error_text(self, error: Exception) -> str:
        """``error`` as a sentence naming this sender's relay."""
        return relay_error_text(error, self.client.base_url)
