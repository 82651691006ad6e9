"""Blocking work taken off gevent's loop: checking an uploaded package, an upload's fsync.

Under gevent every request shares one OS thread; a call that keeps the CPU or waits on the
disk (opening a large ZIP's table of contents, ``fsync`` of a 2 GB file) stops every stream
and every other request meanwhile. ``run_off_loop`` runs it in gevent's pool of OS threads
instead (as relay_server/db.py's checkpointer does for SQLite's WAL) and lets the greenlet
that asked wait for it; the loop serves everyone else. Outside gevent (the in-process tests,
tools) it simply calls the function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _under_gevent() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a relay dependency
        return False
    return bool(monkey.is_module_patched("socket"))


def run_off_loop(func: Callable[[], T]) -> T:
    """``func()``, run in gevent's thread pool when the relay serves under gevent; its
    exception, if any, is raised here."""
    if not _under_gevent():
        return func()
    import gevent

    result: T = gevent.get_hub().threadpool.apply(func)
    return result
