"""Starting a relay process when other test runs share the machine.

``free_port()`` picks a port that is free *now*; before the relay binds it, another process
(a concurrent test run's outgoing connection, say) may take it, and the relay exits with
"Address already in use". Trying again on a newly picked port is all it takes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def start_with_port_retry(start: Callable[[], T], attempts: int = 3) -> T:
    """``start()`` (which makes and starts a RelayProcess on a fresh port), again if the port
    was taken meanwhile."""
    for attempt in range(1, attempts + 1):
        try:
            return start()
        except RuntimeError as exc:
            if "Address already in use" not in str(exc) or attempt == attempts:
                raise
    raise AssertionError("unreachable")
