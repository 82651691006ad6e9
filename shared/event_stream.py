"""A device's event stream from its relay, read for as long as it is iterated: reconnecting
after any network failure with exponential backoff and full jitter (tenacity), resuming with
``Last-Event-ID`` so the relay replays what was missed, and telling a UI what it is doing
(``ConnectionStatus``). The events themselves are read by ``shared/sse.py``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_never, wait_random_exponential

from shared import sse
from shared.i18n import say
from shared.relay_errors import RelayError, RelayUnavailable, error_from_response
from shared.responses import abort_response

if TYPE_CHECKING:
    from shared.relay_client import RelayClient

log = logging.getLogger("shared.relay_client")


@dataclass(frozen=True)
class ConnectionStatus:
    """What an :class:`EventStream` is doing, for a UI to show."""

    state: str  # "connecting" | "connected" | "reconnecting" | "closed"
    retry_in: float | None = None
    error: str | None = None


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, RelayError) and exc.transient


class _Connection:
    """One stream connection: its response and the session made for it alone (when a stream
    ends, its socket must never be handed to the next request, which could then land on a
    connection the server is closing)."""

    def __init__(self, response: requests.Response, session: requests.Session):
        self.response = response
        self.session = session

    def end(self) -> None:
        """Close the response, its socket and the session."""
        abort_response(self.response)
        self.session.close()


class EventStream:
    """Reads the calling device's event stream for as long as it is iterated.

    Reconnects after any network failure, waiting with exponential backoff and full jitter
    (each wait random below a bound that doubles up to ``max_backoff``, reset after each good
    connection; the short default cap means a relay that comes back is reached within that
    many seconds), and sends ``Last-Event-ID`` so the relay replays what was missed.
    ``retry_now()`` ends a wait at once (the network changed). Stops with RelayError on a
    refusal that retrying cannot fix (revoked token). ``close()`` from any thread ends the
    iteration. ``last_error`` is the exception of the last failed attempt (for
    ``shared.explain``).
    """

    def __init__(
        self,
        client: RelayClient,
        last_event_id: int | None = None,
        *,
        on_status: Callable[[ConnectionStatus], None] | None = None,
        read_timeout: float = 45.0,
        max_backoff: float = 2.0,
    ):
        self.client = client
        self.last_event_id = last_event_id
        self.on_status = on_status or (lambda status: None)
        self.read_timeout = read_timeout
        self.max_backoff = max_backoff
        self.last_error: BaseException | None = None
        self._closed = threading.Event()
        self._nudged = threading.Event()  # set by retry_now() and close(): a backoff wait ends
        self._connection: _Connection | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop reading; safe from any thread."""
        self._closed.set()
        self._nudged.set()
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.end()

    def retry_now(self) -> None:
        """If waiting to reconnect, try at once (the network changed); safe from any thread.
        An open connection is left as it is."""
        self._nudged.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __iter__(self) -> Iterator[sse.Event]:
        try:
            yield from self._connections()
        finally:
            self.on_status(ConnectionStatus("closed"))

    def _connections(self) -> Iterator[sse.Event]:
        while not self._closed.is_set():
            try:
                connection = self._connect_with_backoff()
            except _Closed:
                break
            self.on_status(ConnectionStatus("connected"))
            try:
                yield from self._read(connection.response)
            except (requests.RequestException, OSError, AttributeError) as exc:
                # AttributeError: the response was closed under us by close().
                if self._closed.is_set():
                    break
                log.info("event stream dropped: %s", exc)
            finally:
                connection.end()
            if not self._closed.is_set():
                self.on_status(ConnectionStatus("reconnecting", retry_in=0.0, error="connection lost"))

    # -- connecting

    def _connect_with_backoff(self) -> _Connection:
        def before_sleep(state: RetryCallState) -> None:
            wait = state.next_action.sleep if state.next_action else None
            error = state.outcome.exception() if state.outcome else None
            self.last_error = error
            self.on_status(ConnectionStatus("reconnecting", retry_in=wait, error=str(error) if error else None))

        self._nudged.clear()
        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            wait=wait_random_exponential(multiplier=0.5, max=self.max_backoff),
            stop=stop_never,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        self.on_status(ConnectionStatus("connecting"))
        connection: _Connection = retrying(self._connect_once)
        return connection

    def _sleep(self, seconds: float) -> None:
        self._nudged.wait(seconds)
        self._nudged.clear()
        if self._closed.is_set():
            raise _Closed()

    def _connect_once(self) -> _Connection:
        if self._closed.is_set():
            raise _Closed()
        headers = {"Accept": "text/event-stream", "Connection": "close", **self.client._headers()}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        # Each stream connection gets a session (and so a socket) of its own (``_Connection``).
        session = self.client.new_session()
        try:
            resp = session.get(
                self.client.url("/stream"),
                headers=headers,
                stream=True,
                timeout=(self.client.timeout, self.read_timeout),
                verify=self.client.verify,
            )
        except requests.RequestException as exc:
            session.close()
            raise RelayUnavailable(say("cannot reach the relay: %(problem)s", problem=exc)) from exc
        connection = _Connection(resp, session)
        if resp.status_code != 200:
            error = error_from_response(resp)
            connection.end()
            raise error
        with self._lock:
            self._connection = connection
        if self._closed.is_set():  # closed while we were connecting
            connection.end()
            raise _Closed()
        return connection

    # -- reading

    def _read(self, resp: requests.Response) -> Iterator[sse.Event]:
        for event in sse.events(sse.read_lines(resp), stopped=self._closed.is_set):
            if event.id is not None:
                self.last_event_id = event.id
            yield event


class _Closed(Exception):
    """Internal: the stream was closed while waiting to reconnect."""
