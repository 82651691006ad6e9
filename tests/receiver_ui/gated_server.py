"""A package server the test holds mid-download, so that a state it needs is certain, not raced.

``GatedPackageServer(body, hold_at=N)`` serves like ``PackageServer`` but, once about ``N`` bytes
of the body are sent, sends nothing more until the test calls ``open()``. A download is then
"Downloading" for as long as the test wants: a Pause button cannot vanish before the tap
because the download finished meanwhile, however slow the machine.
"""

from __future__ import annotations

import threading

from receiver.package_server import PackageServer


class GatedPackageServer(PackageServer):
    def __init__(self, body: bytes, *, hold_at: int, **knobs):
        super().__init__(body, **knobs)
        self.hold_at = hold_at
        self.gate = threading.Event()  # set: send on
        self.holding = threading.Event()  # set once a response waits at the gate

    def open(self) -> None:
        """Let every response go on to its end (for good)."""
        self.gate.set()

    def _note_served(self, n: int) -> None:
        # Called by the request handler after each block it sent.
        super()._note_served(n)
        if self.served >= self.hold_at and not self.gate.is_set():
            self.holding.set()
            while not self.gate.wait(0.05):
                if self.stopping.is_set():
                    return

    def __exit__(self, *exc) -> None:
        self.open()  # a handler still waiting at the gate ends with the server
        super().__exit__(*exc)
