"""Relay calls and the relay's event stream, off the UI thread.

Every call to the relay blocks on the network, so none runs on the UI thread: a
:class:`RelayWorker` runs each call as a ``QRunnable`` on its own thread pool and reports
back through a :class:`RelayCall`'s signals, which Qt delivers on the UI thread. The event
stream runs in a :class:`PushEventListener` thread for as long as the sender is logged in.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal

from shared.protocol import StreamEvent
from shared.relay_client import ConnectionStatus, RelayClient, RelayError, RelayUnavailable

log = logging.getLogger(__name__)


class RelayCall(QObject):
    """One relay call in flight; ``succeeded(result)`` or ``failed(RelayError)`` fires once."""

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.done = False


class _CallRunnable(QRunnable):
    def __init__(self, call: RelayCall, fn: Callable[..., Any], args: tuple, kwargs: dict):
        super().__init__()
        self._call = call
        self._fn = fn
        self._args = args
        self._kwargs = kwargs

    def run(self) -> None:
        # Emitting from the pool thread: the RelayCall lives on the UI thread, so Qt queues
        # the signal there and the slots run on the UI thread.
        try:
            result = self._fn(*self._args, **self._kwargs)
        except RelayError as exc:
            self._call.failed.emit(exc)
        except Exception as exc:  # a bug or an unexpected reply must not die silently in a thread
            log.exception("relay call %s failed", self._call.name)
            self._call.failed.emit(RelayError(None, "internal_error", f"{type(exc).__name__}: {exc}"))
        else:
            self._call.succeeded.emit(result)


class RelayWorker(QObject):
    """Runs relay calls on worker threads; the UI connects to each call's signals."""

    def __init__(self, client: RelayClient, parent: QObject | None = None, *, max_threads: int = 4):
        super().__init__(parent)
        self.client = client
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._in_flight: set[RelayCall] = set()

    def submit(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> RelayCall:
        """Run ``fn(*args, **kwargs)`` on a worker thread; returns the call to connect to."""
        call = RelayCall(name, self)
        self._in_flight.add(call)
        call.succeeded.connect(lambda _result, c=call: self._finish(c))
        call.failed.connect(lambda _error, c=call: self._finish(c))
        self._pool.start(_CallRunnable(call, fn, args, kwargs))
        return call

    def call(self, method: str, *args: Any, **kwargs: Any) -> RelayCall:
        """Call ``RelayClient.<method>`` on a worker thread."""
        return self.submit(method, getattr(self.client, method), *args, **kwargs)

    def _finish(self, call: RelayCall) -> None:
        call.done = True
        self._in_flight.discard(call)
        call.deleteLater()

    @property
    def busy(self) -> bool:
        return bool(self._in_flight)

    def wait_for_done(self, msecs: int = 5000) -> bool:
        """Wait for running calls to end (shutdown and tests)."""
        return self._pool.waitForDone(msecs)


class PushEventListener(QThread):
    """Reads this device's event stream and turns events into signals on the UI thread.

    ``push_updated(dict)`` carries each ``push_update`` event's data; ``status_changed(str,
    str)`` carries the stream's state (connecting, connected, reconnecting, closed) and the
    last error, for the Pushes panel's header.
    """

    push_updated = Signal(dict)
    status_changed = Signal(str, str)
    stream_failed = Signal(object)

    def __init__(self, client: RelayClient, parent: QObject | None = None, *, max_backoff: float = 10.0):
        super().__init__(parent)
        self._client = client
        self._max_backoff = max_backoff
        self._stream = None
        self._stopping = False

    def run(self) -> None:
        stream = self._client.stream(on_status=self._on_stream_status, max_backoff=self._max_backoff)
        self._stream = stream
        if self._stopping:
            stream.close()
        try:
            for event in stream:
                if event.event == StreamEvent.PUSH_UPDATE and isinstance(event.data, dict):
                    self.push_updated.emit(event.data)
        except RelayError as exc:
            # Not transient (revoked token, account gone): retrying will not help.
            if not isinstance(exc, RelayUnavailable):
                self.stream_failed.emit(exc)
        except Exception:
            log.exception("the event stream stopped")

    def _on_stream_status(self, status: ConnectionStatus) -> None:
        self.status_changed.emit(status.state, status.error or "")

    def stop(self, wait_ms: int = 5000) -> None:
        """Close the stream and wait for the thread to end."""
        self._stopping = True
        if self._stream is not None:
            self._stream.close()
        self.wait(wait_ms)
