"""App icons, fetched once in the background and kept in the profile's ``icons/`` folder.

Kivy-free: the screens ask ``IconCache.get(app_id, url, on_ready)`` and show a
placeholder until ``on_ready(path)`` is called (from a worker thread). Icons the push
names relative to the relay (``/static/icons/<app_id>.png``) are resolved against it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

import requests

log = logging.getLogger(__name__)

_SAFE = re.compile(r"[^A-Za-z0-9._-]")
MAX_ICON_BYTES = 2_000_000


class IconCache:
    """Icon files by app id; at most one fetch per icon at a time."""

    def __init__(self, directory: Path, resolve: Callable[[str], str] = lambda url: url, timeout: float = 10.0):
        self.directory = Path(directory)
        self.resolve = resolve
        self.timeout = timeout
        self._lock = threading.Lock()
        self._fetching: dict[str, list[Callable[[Path], None]]] = {}
        self._failed: set[str] = set()
        self._threads: list[threading.Thread] = []

    def path_for(self, app_id: str) -> Path:
        return self.directory / f"{_SAFE.sub('_', app_id)}.png"

    def get(self, app_id: str, url: str | None, on_ready: Callable[[Path], None]) -> Path | None:
        """The cached icon, or None (then ``on_ready(path)`` follows if it can be fetched)."""
        path = self.path_for(app_id)
        if path.exists():
            return path
        if not url:
            return None
        with self._lock:
            if app_id in self._failed:
                return None
            if app_id in self._fetching:
                self._fetching[app_id].append(on_ready)
                return None
            self._fetching[app_id] = [on_ready]
            thread = threading.Thread(target=self._fetch, args=(app_id, url, path), name=f"icon-{app_id}", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return None

    def join(self, timeout: float = 5.0) -> None:
        """Wait for running fetches (tests, shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _fetch(self, app_id: str, url: str, path: Path) -> None:
        ok = False
        try:
            resp = requests.get(self.resolve(url), timeout=self.timeout)
            if resp.ok and resp.content and len(resp.content) <= MAX_ICON_BYTES:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(resp.content)
                tmp.replace(path)
                ok = True
            else:
                log.info("icon of %s: HTTP %s", app_id, resp.status_code)
        except (requests.RequestException, OSError) as exc:
            log.info("icon of %s not fetched: %s", app_id, exc)
        with self._lock:
            callbacks = self._fetching.pop(app_id, [])
            if not ok:
                self._failed.add(app_id)
        if ok:
            for callback in callbacks:
                callback(path)
