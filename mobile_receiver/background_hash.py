"""SHA-256 of a download, computed on a thread of its own while the bytes arrive.

hashlib releases the GIL while it hashes, so with two or more cores the hash keeps pace
with the network and the disk instead of adding its time to theirs (SHA-256 runs at about
the speed of a fast local link). Chunks wait in a short queue, so memory stays bounded.
"""

from __future__ import annotations

import hashlib
import queue
import threading

#: Chunks waiting to be hashed at most (with the engine's 1 MB chunks: 8 MB).
DEPTH = 8


class BackgroundHasher:
    """``update`` like a hashlib object; ``hexdigest`` waits for the last chunk."""

    def __init__(self, start: "hashlib._Hash | None" = None) -> None:
        self._hasher = start if start is not None else hashlib.sha256()
        self._chunks: "queue.Queue[bytes | None]" = queue.Queue(maxsize=DEPTH)
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def update(self, chunk: bytes) -> None:
        self._chunks.put(chunk)

    def hexdigest(self) -> str:
        self.close()
        return self._hasher.hexdigest()

    def close(self) -> None:
        """Stop the thread (idempotent); call on every way out."""
        if self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            self._hasher.update(chunk)
