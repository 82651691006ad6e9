"""A local automation socket: what adb and UI Automator are to an Android phone.

With ``appbeam receiver --control`` the receiver listens on ``control.sock`` in its data
dir (a Unix socket, so only this machine's users with access to that folder can use it).
One JSON object per line in, one per line out:

- ``{"action": "state"}`` answers the connection state, the installed apps and every push
  as the app-message page shows it;
- ``{"action": "tap", "push_id": "...", "button": "download"}`` presses a card's button,
  through what the button does (``cardview.INBOX_ACTIONS``: download, dismiss, pause, resume,
  cancel, retry, use_mobile_data, forget, download_again; and wait_for_wifi);
- ``{"action": "trust", "device_id": "..."}`` taps Trust on a device key in Settings.

The demo's headless tour and the end-to-end test use it to act as the phone's user.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mobile_receiver.cardview import INBOX_ACTIONS

if TYPE_CHECKING:
    from mobile_receiver.service import ReceiverService

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"

#: button -> what pressing it does to the inbox: the card's own buttons (``cardview``, so a tap
#: here is the tap on the screen), plus the metered question's "Wait for Wi-Fi".
BUTTONS: dict[str, Callable[[Any, str], None]] = {
    **INBOX_ACTIONS,
    "wait_for_wifi": lambda inbox, push_id: inbox.answer_metered(push_id, "wait"),
}


def describe(service: ReceiverService) -> dict[str, Any]:
    """What the user would see: connection, installed apps, every push card (``label``, ``card_notice``
    and ``buttons`` are the card's words and buttons, as ``mobile_receiver.cardview`` makes them)."""
    from mobile_receiver.cardview import card_view

    pushes = []
    for rec in service.inbox.records():
        view = card_view(rec)
        pushes.append(
            {
                "push_id": rec.push_id,
                "app_id": rec.app.get("id"),
                "name": rec.app.get("name"),
                "mode": rec.mode,
                "state": rec.state,
                "bytes_done": rec.bytes_done,
                "bytes_total": rec.bytes_total,
                "detail": rec.detail,
                "prompt": rec.prompt,
                "notice": rec.notice,
                "downgraded": rec.downgraded,
                "downgraded_details": rec.downgraded_details,
                "label": view.state_text,
                "card_notice": view.notice,
                "buttons": list(view.actions),
            }
        )
    installed = [
        {"app_id": app.app_id, "version": app.version, "sha256": app.sha256, "path": app.path}
        for app in service.platform.installer.installed_apps()
    ]
    keys = [
        {"device_id": k.device_id, "name": k.name, "fingerprint": k.fingerprint, "trusted": k.trusted}
        for k in service.keyring.keys()  # noqa: SIM118 (the keyring's keys, not a dict's)
    ]
    return {
        "connection": service.connection.state,
        "connection_text": service.connection.describe(),
        "pushes": pushes,
        "installed": installed,
        "keys": keys,
    }


def handle(service: ReceiverService, request: Any) -> dict[str, Any]:
    """Carry out one request; errors come back as ``{"error": "..."}``."""
    if not isinstance(request, dict):
        return {"error": "send a JSON object"}
    action = request.get("action")
    if action == "state":
        return describe(service)
    if action == "tap":
        button = request.get("button")
        if button not in BUTTONS:
            return {"error": f"unknown button {button!r}; one of {', '.join(BUTTONS)}"}
        push_id = request.get("push_id")
        if not isinstance(push_id, str) or service.inbox.get(push_id) is None:
            return {"error": f"no push {push_id!r} on this device"}
        BUTTONS[button](service.inbox, push_id)
        return {"ok": True}
    if action == "trust":
        device_id = request.get("device_id")
        if not isinstance(device_id, str) or service.keyring.get(device_id) is None:
            return {"error": f"no key of a device {device_id!r} on this phone"}
        service.trust_key(device_id)
        return {"ok": True}
    return {"error": f"unknown action {action!r}; use state, tap or trust"}


class ControlServer:
    """Serves :func:`handle` on a Unix socket until stopped."""

    def __init__(self, service: ReceiverService, path: Path) -> None:
        self.service = service
        self.path = Path(path)
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    try:
                        reply = handle(outer.service, json.loads(line))
                    except (ValueError, KeyError) as exc:
                        reply = {"error": str(exc)}
                    self.wfile.write(json.dumps(reply).encode() + b"\n")
                    self.wfile.flush()

        self.path.unlink(missing_ok=True)
        self._server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        self._server.daemon_threads = True
        os.chmod(self.path, 0o600)
        self._thread = threading.Thread(target=self._server.serve_forever, name="control", daemon=True)

    def start(self) -> "ControlServer":
        self._thread.start()
        log.info("automation socket at %s", self.path)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self.path.unlink(missing_ok=True)


def send(path: Path | str, request: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """Send one request to a receiver's automation socket and return its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    answer: dict[str, Any] = json.loads(data)
    return answer
