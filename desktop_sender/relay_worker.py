"""Relay calls and the relay's event stream, off the UI thread.

Every call to the relay blocks on the network, so none runs on the UI thread: a
:class:`RelayWorker` runs each call on a worker thread and reports back through a
:class:`RelayCall`'s signals, which are emitted on the UI thread. The event
stream runs in a :class:`PushEventListener` thread for as long as the sender is logged in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal

from desktop_sender.signals import emit
from shared.event_stream import ConnectionStatus, EventStream
from shared.protocol import StreamEvent
from shared.relay_client import RelayClient
from shared.relay_errors import RelayError, RelayUnavailable

log = logging.getLogger(__name__)


class RelayCall(QObject):
    """One relay call in flight; ``succeeded(result)`` or ``failed(RelayError)`` fires once, on the UI thread."""

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.done = False


def _run_call(name: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, Any]:
    """Run one call on a worker thread; never raises (the answer is a value either way)."""
    try:
        return True, fn(*args, **kwargs)
    except RelayError as exc:
        return False, exc
    except Exception as exc:  # a bug or an unexpected reply must not die silently in a thread
        log.exception("relay call %s failed", name)
        return False, RelayError(None, "internal_error", f"{type(exc).__name__}: {exc}")


class RelayWorker(QObject):
    """Runs relay calls on worker threads; the UI connects to each call's signals.

    Work runs on a plain ``ThreadPoolExecutor`` (Python owns every object, no Qt ownership
    transfer); each answer comes back through one queued signal of this object, which
    lives on the UI thread, and is re-emitted there by the call it belongs to.
    """

    _answered = Signal(object, bool, object)  # call, ok, result or error

    def __init__(self, client: RelayClient, parent: QObject | None = None, *, max_threads: int = 4):
        super().__init__(parent)
        self.client = client
        self._executor = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="relay")
        self._in_flight: set[RelayCall] = set()
        self._answered.connect(self._on_answered, Qt.ConnectionType.QueuedConnection)

    def submit(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> RelayCall:
        """Run ``fn(*args, **kwargs)`` on a worker thread; returns the call to connect to.

        The answer is always delivered by the event loop, so slots connected right after
        ``submit()`` returns never miss it, however fast the relay is.
        """
        call = RelayCall(name, self)
        self._in_flight.add(call)
        future = self._executor.submit(_run_call, name, fn, args, kwargs)
        future.add_done_callback(lambda f: emit(self._answered, call, *f.result()))
        return call

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> RelayCall:
        """Call one of the client's methods (``worker.call(client.push, ...)``) on a worker thread.

        A bound method, not its name: a renamed or mistyped method fails where it is written,
        and the type checker and "find usages" see every relay call the sender makes.
        """
        return self.submit(getattr(method, "__name__", repr(method)), method, *args, **kwargs)

    def _on_answered(self, call: RelayCall, ok: bool, payload: Any) -> None:
        if call not in self._in_flight:
            return  # dropped: the window it was for is closing
        self._in_flight.discard(call)
        call.done = True
        emit(call.succeeded if ok else call.failed, payload)
        call.deleteLater()

    def drop_pending(self) -> None:
        """Forget the answers of calls still running (the window they were for is closing)."""
        self._in_flight.clear()

    @property
    def busy(self) -> bool:
        """True while calls are in flight."""
        return bool(self._in_flight)

    def wait_for_done(self, msecs: int = 5000) -> bool:
        """Wait for running calls to end (shutdown and tests)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + msecs / 1000
        threads = list(getattr(self._executor, "_threads", ()))
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)


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
        self._stream: EventStream | None = None
        self._stopping = False

    def run(self) -> None:
        stream = self._client.stream(on_status=self._on_stream_status, max_backoff=self._max_backoff)
        self._stream = stream
        if self._stopping:
            stream.close()
        try:
            for event in stream:
                if event.event == StreamEvent.PUSH_UPDATE and isinstance(event.data, dict):
                    emit(self.push_updated, event.data)
        except RelayError as exc:
            # Not transient (revoked token, account gone): retrying will not help.
            if not isinstance(exc, RelayUnavailable):
                emit(self.stream_failed, exc)
        except Exception:
            log.exception("the event stream stopped")

    def _on_stream_status(self, status: ConnectionStatus) -> None:
        emit(self.status_changed, status.state, status.error or "")

    def stop(self, wait_ms: int = 5000) -> None:
        """Close the stream and wait for the thread to end; no signal is delivered after this."""
        self._stopping = True
        for signal in (self.push_updated, self.status_changed, self.stream_failed):
            try:
                signal.disconnect()
            except (RuntimeError, TypeError):
                pass  # nothing was connected
        if self._stream is not None:
            self._stream.close()
        self.wait(wait_ms)
