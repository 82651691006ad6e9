"""Closing a response that another thread may be blocked reading (a pause, a closed stream).

``Response.close()`` alone does not wake a thread blocked in ``recv`` on a quiet connection;
shutting the socket down does, so closing takes effect at once. urllib3 (2.3 and later) does
that through the public ``HTTPResponse.shutdown()``.
"""

from __future__ import annotations

import requests


def abort_response(resp: requests.Response) -> None:
    """Shut the response's socket down (waking a reader blocked on it), then close it."""
    shutdown = getattr(resp.raw, "shutdown", None)
    if shutdown is not None:
        try:
            shutdown()
        except (OSError, ValueError, RuntimeError):
            pass  # no socket to shut down (already closed, or handed back to the pool): nothing blocks on it
    resp.close()
