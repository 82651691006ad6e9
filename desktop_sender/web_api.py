"""The ``appbeam`` JavaScript API pages can call to start a push, over QWebChannel.

A store page that knows its app can call ``appbeam.push(info)`` (install information in
the protocol's shape, or a schema.org ``SoftwareApplication`` object, as an object or a JSON
string) instead of relying on a download click. The call only opens the device picker:
the user still chooses the devices and presses send, so a page can never push by itself.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from PySide6.QtCore import QFile, QIODevice, QObject, Signal, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile, QWebEngineScript

from desktop_sender.signals import emit

log = logging.getLogger(__name__)

#: Defines ``window.appbeam`` at once; calls made before the channel is up are queued.
BOOTSTRAP_JS = r"""
(function () {
  if (window.appbeam) { return; }
  var queue = [], bridge = null;
  function send(info) {
    var text = (typeof info === 'string') ? info : JSON.stringify(info);
    if (bridge) { bridge.push(text); } else { queue.push(text); }
  }
  window.appbeam = { push: send, version: 1 };
  function connect() {
    if (typeof QWebChannel === 'undefined' || typeof qt === 'undefined' || !qt.webChannelTransport) { return; }
    new QWebChannel(qt.webChannelTransport, function (channel) {
      bridge = channel.objects.appbeam;
      while (queue.length) { bridge.push(queue.shift()); }
      document.dispatchEvent(new Event('appbeam-ready'));
    });
  }
  connect();
})();
"""


class AppbeamBridge(QObject):
    """The object pages see as ``appbeam``; ``push_requested(value, page_url)`` per call."""

    push_requested = Signal(object, str)

    def __init__(self, page: QWebEnginePage, parent: QObject | None = None):
        super().__init__(parent)
        self._page = page

    @Slot(str)
    def push(self, text: str) -> None:
        """Called by the page's ``appbeam.push(...)``."""
        try:
            value: Any = json.loads(text)
        except ValueError:
            log.info("appbeam.push() got something that is not JSON")
            return
        emit(self.push_requested, value, self._page.url().toString())


def _qwebchannel_js() -> str:
    resource = QFile(":/qtwebchannel/qwebchannel.js")
    if not resource.open(QIODevice.OpenModeFlag.ReadOnly):
        raise RuntimeError("qwebchannel.js is missing from the Qt installation")
    try:
        return bytes(resource.readAll().data()).decode("utf-8")
    finally:
        resource.close()


def install_web_api(profile: QWebEngineProfile) -> None:
    """Add the ``appbeam`` API script to every page of ``profile`` (idempotent)."""
    scripts = profile.scripts()
    if scripts.find("appbeam-api"):
        return
    script = QWebEngineScript()
    script.setName("appbeam-api")
    script.setSourceCode(_qwebchannel_js() + "\n" + BOOTSTRAP_JS)
    script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
    script.setRunsOnSubFrames(False)
    scripts.insert(script)


def attach_bridge(page: QWebEnginePage) -> AppbeamBridge:
    """Expose an :class:`AppbeamBridge` to ``page`` as ``appbeam``."""
    channel = QWebChannel(page)
    bridge = AppbeamBridge(page, channel)
    channel.registerObject("appbeam", bridge)
    page.setWebChannel(channel, QWebEngineScript.ScriptWorldId.MainWorld)
    return bridge
