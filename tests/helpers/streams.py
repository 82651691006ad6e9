"""Reading a device's event stream in a background thread, for assertions."""

from __future__ import annotations

import queue
import threading
import time

from shared.relay_client import RelayClient
from shared.sse import Event


class StreamReader:
    """Collects a device's stream events; ``next(kind)`` waits for the next one of a kind."""

    def __init__(self, client: RelayClient, last_event_id: int | None = None):
        self.connected = threading.Event()
        self.stream = client.stream(
            last_event_id=last_event_id,
            read_timeout=10,
            on_status=lambda s: s.state == "connected" and self.connected.set(),
        )
        self.events: "queue.Queue[Event]" = queue.Queue()
        self.seen: list[Event] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for event in self.stream:
            self.events.put(event)

    def next(self, kind: str | None = None, timeout: float = 10.0) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {kind or 'event'} within {timeout}s; saw {[e.event for e in self.seen]}")
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if kind is None or event.event == kind:
                return event

    def drain(self, wait: float = 0.5) -> list[Event]:
        """Everything that arrives within ``wait`` seconds."""
        got = []
        deadline = time.monotonic() + wait
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                got.append(self.events.get(timeout=remaining))
            except queue.Empty:
                break
        self.seen.extend(got)
        return got

    def __enter__(self) -> "StreamReader":
        self.thread.start()
        if not self.connected.wait(10):
            self.stream.close()
            raise TimeoutError("the event stream did not connect within 10 s")
        return self

    def __exit__(self, *exc) -> None:
        self.stream.close()
        self.thread.join(5)
