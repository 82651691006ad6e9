"""Reads a page's JSON-LD by running a small script in it.

The script runs in an isolated JavaScript world, so the page's own scripts can neither see
nor replace it; the DOM (and so the ``<script type="application/ld+json">`` elements) is
shared between worlds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineScript

log = logging.getLogger(__name__)

COLLECT_JSON_LD = r"""
(function () {
  var items = [];
  var scripts = document.querySelectorAll('script[type="application/ld+json"]');
  for (var i = 0; i < scripts.length; i++) {
    try { items.push(JSON.parse(scripts[i].textContent)); } catch (e) { /* a broken block is skipped */ }
  }
  return JSON.stringify({base: document.baseURI, items: items});
})()
"""

#: How long to wait for a page that does not answer (busy or gone) before using the link alone.
TIMEOUT_MS = 2000


class JsonLdRequest(QObject):
    """One JSON-LD collection; ``callback(items, base_url)`` is called exactly once."""

    def __init__(
        self, page: QWebEnginePage | None, callback: Callable[[list[Any], str], None], parent: QObject | None = None
    ):
        super().__init__(parent)
        self._callback = callback
        self._answered = False
        if page is None:
            QTimer.singleShot(0, self, lambda: self._answer(None))
            return
        QTimer.singleShot(TIMEOUT_MS, self, lambda: self._answer(None))
        page.runJavaScript(COLLECT_JSON_LD, QWebEngineScript.ScriptWorldId.ApplicationWorld, self._answer)

    def _answer(self, result: Any) -> None:
        if self._answered:
            return
        self._answered = True
        items: list[Any] = []
        base = ""
        if isinstance(result, str):
            try:
                data = json.loads(result)
                items = data.get("items") or []
                base = data.get("base") or ""
            except (ValueError, AttributeError):
                log.info("the page's JSON-LD answer was not JSON")
        try:
            self._callback(items, base)
        finally:
            self.deleteLater()


def collect_json_ld(
    page: QWebEnginePage | None, callback: Callable[[list[Any], str], None], parent: QObject | None = None
) -> JsonLdRequest:
    """Collect every JSON-LD block of ``page`` and call ``callback(items, base_url)`` on the UI thread."""
    return JsonLdRequest(page, callback, parent)
