"""Telling the relay which apps this phone has (``PUT /me/installed``), so the sender's picker can
say "Installed" or "Update from 3.5 to 3.6" (issue 14, item 4).

A thread of its own sends the whole list whenever it is woken (after a login or a pairing, an
install or an uninstall, a reconnect) and the list differs from the last one the relay took.
When the relay cannot be reached, or refuses for a while, it tries again quietly with a growing
pause; nothing is shown to the user, and nothing waits for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from mobile_receiver.platform.base import Installer
from mobile_receiver.wake_loop import WakeLoop
from shared.api_messages import InstalledApp
from shared.relay_client import RelayClient
from shared.relay_errors import RelayError

log = logging.getLogger(__name__)


def installed_list(installer: Installer) -> list[InstalledApp]:
    """The installed apps as the relay takes them, by id."""
    apps = [InstalledApp(app.app_id, app.version or None, app.version_code) for app in installer.installed_apps()]
    return sorted(apps, key=lambda a: a.id)


class InstalledReporter:
    """Sends the installed list when woken and it changed; retries quietly."""

    def __init__(
        self,
        installer: Installer,
        client: Callable[[], RelayClient | None],
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 60.0,
    ):
        self.installer = installer
        self.client = client
        self._loop = WakeLoop(
            self.send_if_changed, name="installed-report", backoff_initial=backoff_initial, backoff_max=backoff_max
        )
        self._sent: tuple[str, str | None, list[InstalledApp]] | None = None  # (relay url, token, list) last accepted
        self.last_error: Exception | None = None

    def wake(self, force: bool = False) -> None:
        """Send the list now if it changed (``force``: even if not, e.g. after a new login)."""
        if force:
            self._sent = None
        self._loop.wake()

    def send_if_changed(self) -> bool:
        """One attempt; True when the relay has the current list (or there is no one to tell)."""
        client = self.client()
        if client is None or not getattr(client, "token", None) or not hasattr(client, "report_installed"):
            return True
        apps = installed_list(self.installer)
        stamp = (client.base_url, client.token, apps)
        if stamp == self._sent:
            return True
        try:
            client.report_installed(apps)
        except RelayError as exc:
            self.last_error = exc
            log.info("could not tell the relay which apps are installed (will try again): %s", exc)
            return False
        self._sent, self.last_error = stamp, None
        log.debug("told the relay of %d installed app(s)", len(apps))
        return True

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()
