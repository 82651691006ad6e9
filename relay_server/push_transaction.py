"""Where a push's writes are committed: together with the other requests' writes of the moment
(``relay_server/group_commit.py``) when the relay has a group commit, else in a transaction of
their own. Either way the caller hears back only after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from relay_server.context import Relay
from relay_server.db import database

T = TypeVar("T")


def commit(relay: Relay, work: Callable[[], T]) -> T:
    """``work()`` in a committed transaction: shared with concurrent requests when the relay has a
    ``GroupCommit`` (``relay.commits``), else one of its own."""
    if relay.commits is not None:
        result: T = relay.commits.run(work)
        return result
    with database.atomic():
        return work()
