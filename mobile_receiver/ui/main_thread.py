"""Kivy's ``mainthread`` with the decorated method's own signature kept for mypy (Kivy has no
type stubs, so its decorator would make every callback untyped)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, cast

from kivy.clock import mainthread as _kivy_mainthread

P = ParamSpec("P")


def mainthread(func: Callable[P, None]) -> Callable[P, None]:
    """``func`` run on Kivy's main thread at the next frame, whichever thread calls it (the
    screens' callbacks from the relay's and the downloads' threads)."""
    return cast(Callable[P, None], _kivy_mainthread(func))
