"""Emitting signals without tripping a PySide6 6.12.0 reference-count bug.

PySide6 6.12.0's ``SignalInstance.emit()`` returns ``True`` without taking a reference to
it, so every emit of a Python-declared signal drops one reference to ``True``; after a few
thousand emits CPython aborts with "bool_dealloc: deallocating True or False". Every emit
in the sender goes through :func:`emit`, which gives the reference back when (and only
when) the running PySide6 is found to have the bug.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    probed = Signal()


def _emit_drops_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    # PySide6's stubs say emit() returns None; the running one returns True, which this probes.
    result = probe.probed.emit()  # type: ignore[func-returns-value]
    del result
    after = sys.getrefcount(True)
    if after < before:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))  # repair the probe's own emit
        return True
    return False


EMIT_DROPS_A_REFERENCE = _emit_drops_a_reference()


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, keeping ``True``'s reference count right on PySide6 6.12.0."""
    result = signal.emit(*args)
    if EMIT_DROPS_A_REFERENCE and result is not None:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
