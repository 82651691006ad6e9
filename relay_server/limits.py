"""Rate limits against abuse: login guessing, account spam, push floods.

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

from relay_server.errors import ApiError


class RateLimits:
    """The relay's limits; ``check(name, key)`` raises 429 when one is used up."""

    def __init__(self, config):
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._items = {
            "login_account": parse(config.limit_login_per_account),
            "login_address": parse(config.limit_login_per_address),
            "new_account": parse(config.limit_accounts_per_address),
            "push": parse(config.limit_pushes_per_device),
        }
        self.enabled = config.rate_limits

    def check(self, name: str, key: str, cost: int = 1) -> None:
        if not self.enabled:
            return
        item = self._items[name]
        if self._limiter.hit(item, name, key, cost=cost):
            return
        reset = self._limiter.get_window_stats(item, name, key).reset_time
        retry = max(1, math.ceil(reset - time.time()))
        raise ApiError(429, "too_many_requests", f"too many requests; try again in {retry} s",
                       {"Retry-After": str(retry)})


def client_address() -> str:
    """The caller's address (behind a proxy, configure it to pass the real one; see docs/deploy.md)."""
    return request.remote_addr or "unknown"
