"""Rate limits against abuse: login guessing, account spam, push floods.

Password guessing is slowed without locking the owner out: wrong passwords are counted per
address *and* account (an attacker's guesses from one address never block the owner at
another), and per account from every address together at a higher limit, which a device
already registered to the account does not count against (the owner's own phone still
logs in while someone elsewhere guesses).

Counted per relay process in memory (moving windows, from the ``limits`` library); a
refused request gets 429 with ``Retry-After``. In a cluster each process counts on its own,
so the effective limit is at most the number of processes times the configured one.
"""

from __future__ import annotations

import math
import time

from flask import request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from relay_server.config import RelayConfig
from relay_server.errors import ApiError


class RateLimits:
    """The relay's limits; ``check(name, key)`` raises 429 when one is used up."""

    def __init__(self, config: RelayConfig):
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._items = {
            "login_account": parse(config.limit_login_per_account),
            "login_address": parse(config.limit_login_per_address),
            "login_failures": parse(config.limit_login_failures),
            "login_failures_account": parse(config.limit_login_failures_per_account),
            "new_account": parse(config.limit_accounts_per_address),
            "push": parse(config.limit_pushes_per_device),
            "new_pairing": parse(config.limit_pairings_per_device),
        }
        self.enabled = config.rate_limits

    def check(self, name: str, key: str, cost: int = 1) -> None:
        """Count one request against ``name``; 429 if the limit was used up."""
        if not self.enabled:
            return
        item = self._items[name]
        if not self._limiter.hit(item, name, key, cost=cost):
            self._refuse(name, key)

    def check_failures(self, name: str, key: str) -> None:
        """429 if ``name`` counted too many failures for ``key``; counts nothing itself
        (``failed`` does, so only failures use the limit up: the owner's good logins never do)."""
        if self.enabled and not self._limiter.test(self._items[name], name, key):
            self._refuse(name, key)

    def failed(self, name: str, key: str) -> None:
        """Count one failure against ``name`` (see ``check_failures``)."""
        if self.enabled:
            self._limiter.hit(self._items[name], name, key)

    def _refuse(self, name: str, key: str) -> None:
        reset = self._limiter.get_window_stats(self._items[name], name, key).reset_time
        retry = max(1, math.ceil(reset - time.time()))
        raise ApiError(
            429,
            "too_many_requests",
            "too many attempts; try again in %(seconds)s s",
            {"Retry-After": str(retry)},
            seconds=retry,
        )


def client_address() -> str:
    """The caller's address (behind a proxy, configure it to pass the real one; see docs/deploy.md)."""
    return request.remote_addr or "unknown"
