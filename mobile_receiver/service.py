"""The background service: the relay connection, off the UI thread.

Holds the device's event stream in its own thread, hands ``push`` and ``push_cancelled``
events to the inbox, and persists the id of the last event it handled so that after a
restart the relay replays what was missed (``Last-Event-ID``). Owns the report outbox
and the network monitor, and says how the connection is doing (connected, reconnecting
in N s, offline: in a sentence from ``shared.explain``) for the screens to show. The
stream tries again at once when the platform says the network changed, and downloads
waiting for the relay try again the moment its stream is back. Kivy-free: the headless
receiver and the tests run it without a window.

Just over 400 lines: it wires the parts (profile, client, stream, reporter, inbox, platform)
and owns the connection's life cycle, which reads best in one place.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mobile_receiver import devices, pairing
from mobile_receiver import platform as device_platform
from mobile_receiver.i18n import _
from mobile_receiver.inbox import Inbox
from mobile_receiver.installed_report import InstalledReporter
from mobile_receiver.platform.base import DevicePlatform, NetworkStatus
from mobile_receiver.profile import KEY_FILE, Profile, ProfileStore, log_in, log_out
from mobile_receiver.reporter import Reporter
from mobile_receiver.storage import ReceiverDB
from mobile_receiver.trust import KeyRing, KnownKey
from shared.api_messages import PairingClaimed
from shared.event_stream import ConnectionStatus, EventStream
from shared.explain import explain, host_of, relay_place
from shared.protocol import StreamEvent
from shared.relay_client import RelayClient
from shared.relay_errors import RelayError
from shared.signing import DeviceKey
from shared.sse import Event

log = logging.getLogger(__name__)

LAST_EVENT_ID = "last_event_id"


@dataclass(frozen=True)
class Connection:
    """The relay connection as the screens show it."""

    state: str  # "offline" | "connecting" | "connected" | "reconnecting" | "signed_out"
    retry_at: float | None = None  # time.monotonic() of the next attempt, when reconnecting
    error: str | None = None  # for the log
    #: What went wrong, as a sentence for a person (``shared.explain``), when something did.
    explanation: str | None = None

    def describe(self, now: float | None = None) -> str:
        """``Connected``, ``Can't reach the relay at relay.example. Retrying in 4 s.``, ``Offline``..."""
        if self.state == "connected":
            return "Connected"
        if self.state == "reconnecting":
            left = None
            if self.retry_at is not None:
                left = max(0, round(self.retry_at - (now if now is not None else time.monotonic())))
            if self.explanation:
                return f"{self.explanation} Retrying in {left}\u00a0s." if left else f"{self.explanation} Retrying now."
            return f"Reconnecting in {left} s" if left else "Reconnecting"
        if self.state == "connecting":
            return "Connecting"
        if self.state == "signed_out":
            return "Signed out: log in again"
        return self.explanation or "Offline"


class ReceiverService:
    """Everything that runs behind the screens for one receiver profile."""

    def __init__(
        self,
        data_dir: Path,
        *,
        platform: DevicePlatform | None = None,
        can_ask: bool = True,
        stream_options: dict[str, Any] | None = None,
        download_options: dict[str, Any] | None = None,
        reporter_options: dict[str, Any] | None = None,
        client: RelayClient | None = None,
        installed_options: dict[str, Any] | None = None,
    ) -> None:
        """``client`` replaces the profile's relay client (tests give a fake one)."""
        self.data_dir = Path(data_dir)
        self.store = ProfileStore(self.data_dir)
        self.profile: Profile = self.store.load()
        self.db = ReceiverDB(self.data_dir / "receiver.sqlite3")
        self.platform = platform or device_platform.choose(self.data_dir, self.profile.platform)
        self.stream_options = stream_options or {}
        self._client: RelayClient | None = client or (self.profile.client() if self.profile.logged_in else None)
        self.reporter = Reporter(self.db, lambda: self._client, **(reporter_options or {}))
        self.reporter.on_signed_out = self._removed_by_relay
        self.keyring = KeyRing(self.data_dir)
        #: Tells the relay which apps are installed here (after login, installs, reconnects).
        self.installed_reporter = InstalledReporter(
            self.platform.installer, lambda: self._client, **(installed_options or {})
        )
        self.inbox = Inbox(
            self.db,
            self.data_dir,
            self.platform,
            self.profile.platform,
            self.reporter,
            lambda: self._client,
            silent_install_refusal=self.silent_install_refusal,
            wifi_only=lambda: self.profile.wifi_only,
            can_ask=can_ask,
            download_options=download_options,
            relay_connected=lambda: self.connection.state == "connected",
        )
        self.inbox.subscribe(self._push_changed)
        self.connection = Connection("offline")
        self._connection_listeners: list[Callable[[Connection], None]] = []
        self._stop = threading.Event()
        self._stream: EventStream | None = None
        self._stream_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._started = False

    # ------------------------------------------------------------------ life cycle

    @property
    def client(self) -> RelayClient | None:
        return self._client

    def start(self) -> None:
        """Start the network monitor, the outbox, the inbox and (if logged in) the stream."""
        if self._started:
            return
        self._started = True
        self.platform.network.subscribe(self._network_changed)
        self.platform.network.start()
        self.reporter.start()
        self.inbox.start()
        self.installed_reporter.start()
        if self._client is not None:
            self._start_stream()

    def stop(self) -> None:
        """Stop every thread this service started; partial downloads stay for next time."""
        self._stop_stream()
        self.platform.network.unsubscribe(self._network_changed)
        self.inbox.stop()
        self.installed_reporter.stop()
        self.reporter.stop()
        self.platform.network.stop()
        self.db.close()
        self._started = False

    # ------------------------------------------------------------------ account

    def log_in(self, relay_url: str, username: str, password: str, device_name: str | None = None) -> Profile:
        """Log in and register this device (blocking: call it off the UI thread)."""
        if device_name:
            self.profile.device_name = device_name
        log_in(self.store, self.profile, relay_url, username, password)
        self._stop_stream()
        self._client = self.profile.client()
        try:
            announced = self.keyring.pin_account(self._client.devices(), self._account_name())
        except RelayError as exc:  # the ring then pins what it first sees once connected
            log.warning("could not read the account's device keys: %s", exc)
        else:
            self._announce(announced)
        self._signed_in()
        return self.profile

    def create_account(self, relay_url: str, username: str, password: str, device_name: str | None = None) -> Profile:
        """Make a new account on the relay, then log in to it as this device (blocking)."""
        if not relay_url.startswith(("http://", "https://")):
            relay_url = "http://" + relay_url
        RelayClient(relay_url).create_account(username, password)
        return self.log_in(relay_url, username, password, device_name)

    def pair(self, request: "pairing.PairingRequest", device_name: str | None = None) -> PairingClaimed:
        """Join an account by a pairing code (blocking: off the UI thread). The computer that made
        the code is trusted at once, so its first "Install now" installs with no tap.
        Returns the relay's answer; raises RelayError or pairing.PairingInputError."""
        if device_name:
            self.profile.device_name = device_name
        answer = pairing.claim(self.store, self.profile, request)
        self._stop_stream()
        self._client = self.profile.client()
        try:
            devices = self._client.devices()
        except RelayError as exc:  # the pairing computer is trusted all the same
            log.warning("could not read the account's device keys: %s", exc)
            devices = []
        self._announce(self.keyring.pin_pairing(devices, self._account_name(), answer.paired_by))
        self._signed_in()
        return answer

    def _signed_in(self) -> None:
        if self.profile.removed_notice:
            self.profile.removed_notice = ""
            self.store.save(self.profile)
        self.reporter.wake()
        self.installed_reporter.wake(force=True)
        if self._started:
            self._start_stream()

    def uninstall(self, app_id: str) -> None:
        """Uninstall tapped in Settings; the relay hears of it."""
        self.platform.installer.uninstall(app_id)
        self.installed_reporter.wake()

    def _push_changed(self, push_id: str | None) -> None:
        rec = self.inbox.get(push_id) if push_id else None
        if push_id is None or (rec is not None and rec.state == "installed"):
            self.installed_reporter.wake()

    def log_out(self) -> None:
        """Forget the token and disconnect (blocking: call it off the UI thread)."""
        self._stop_stream()
        log_out(self.store, self.profile)  # the key ring stays: logging in again pins nothing new
        self._client = None
        self._set_connection(Connection("offline"))

    def removed_here(self) -> None:
        """This phone removed itself from the account (Settings; the relay already said yes):
        disconnect and forget the token (blocking: call it off the UI thread)."""
        self._stop_stream()
        self._removed_by_relay()

    def _removed_by_relay(self, refused_token: str | None = None) -> None:
        """The relay no longer accepts this phone's token: it was removed from the account (from
        another device, or here) or the password changed. The token is forgotten, so the next
        start shows the first screen; the connection says so in a sentence the first screen shows
        (``devices.removed_sentence``). Pushes, installed apps and keys stay.

        ``refused_token`` is the token the relay refused, when known: a refusal that arrives late,
        for a token this phone no longer uses (it signed in again meanwhile), changes nothing."""
        if self.connection.state == "signed_out":
            return
        if refused_token is not None and refused_token != self.profile.token:
            log.info("a refusal for an older token arrived late; this phone's current token stays")
            return
        sentence = devices.removed_sentence(self.profile.username, self.profile.relay_url)
        self.profile.token, self.profile.removed_notice = None, sentence
        self.store.save(self.profile)
        self._client = None
        self._set_connection(Connection("signed_out", error="token refused (401)", explanation=sentence))

    def save_profile(self) -> None:
        self.store.save(self.profile)

    # ------------------------------------------------------------------ connection

    def on_connection(self, listener: Callable[[Connection], None]) -> None:
        """``listener(connection)`` from the service's thread whenever the connection changes."""
        self._connection_listeners.append(listener)

    def _set_connection(self, connection: Connection) -> None:
        self.connection = connection
        for listener in list(self._connection_listeners):
            try:
                listener(connection)
            except Exception:  # noqa: BLE001
                log.exception("connection listener failed")

    def refresh(self) -> None:
        """Pull to refresh: reconnect now (the relay replays anything missed) and send reports."""
        self.reporter.wake()
        with self._stream_lock:
            stream = self._stream
        if stream is not None:
            self._close_stream(stream)  # the stream thread opens a new one at once
        elif self._client is not None and self._started:
            self._start_stream()

    def _start_stream(self) -> None:
        if not hasattr(self._client, "stream"):
            return  # a client without an event stream (a test double) only takes reports
        self._stop.clear()
        self._thread = threading.Thread(target=self._run_stream, name="relay-stream", daemon=True)
        self._thread.start()

    def _stop_stream(self) -> None:
        self._stop.set()
        with self._stream_lock:
            stream = self._stream
        if stream is not None:
            self._close_stream(stream)
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None

    @staticmethod
    def _close_stream(stream: EventStream) -> None:
        stream.close()  # shuts the socket down too, so the reader thread wakes at once

    def _network_changed(self, status: NetworkStatus) -> None:
        """The platform says the network changed: a stream waiting to reconnect tries now."""
        if not status.connected:
            return
        with self._stream_lock:
            stream = self._stream
        if stream is not None and hasattr(stream, "retry_now"):
            stream.retry_now()
        self.reporter.wake()

    def _explain(self, error: BaseException | None) -> str:
        relay_url = self._client.base_url if self._client is not None else self.profile.relay_url
        if error is None:
            host = host_of(relay_url)
            if host:
                return _("Lost the connection to the relay at {host}.").format(host=host)
            return _("Lost the connection to the relay.")
        return explain(error, place=relay_place(relay_url)).text

    def _on_stream_status(self, status: ConnectionStatus) -> None:
        if status.state == "connected":
            self._set_connection(Connection("connected"))
            self.reporter.wake()  # back online: send what queued up
            self.installed_reporter.wake(force=True)  # the relay may have missed a change
            self.inbox.retry_now()  # downloads waiting for the relay go on now
            threading.Thread(target=self.refresh_keys, name="refresh-keys", daemon=True).start()
        elif status.state == "reconnecting":
            retry_at = time.monotonic() + status.retry_in if status.retry_in else None
            with self._stream_lock:
                stream = self._stream
            error = getattr(stream, "last_error", None) if status.retry_in else None
            self._set_connection(Connection("reconnecting", retry_at, status.error, self._explain(error)))
        elif status.state == "connecting" and self.connection.state != "reconnecting":
            self._set_connection(Connection("connecting"))

    def _run_stream(self) -> None:
        while not self._stop.is_set():
            client = self._client
            if client is None:
                break
            last = self.db.get_meta(LAST_EVENT_ID)
            stream = client.stream(
                last_event_id=int(last) if last else None, on_status=self._on_stream_status, **self.stream_options
            )
            with self._stream_lock:
                self._stream = stream
            if self._stop.is_set():  # stopped while this stream was being made: _stop_stream did not see it
                self._close_stream(stream)
            try:
                for event in stream:
                    self.handle_event(event)
            except RelayError as exc:
                log.warning("the relay closed this device's stream: %s", exc)
                if exc.status == 401:
                    self._removed_by_relay(client.token)
                else:
                    self._set_connection(Connection("offline", error=str(exc), explanation=self._explain(exc)))
                break
            finally:
                with self._stream_lock:
                    self._stream = None
            if not self._stop.is_set():
                self._set_connection(Connection("reconnecting", None))
        if self.connection.state not in ("signed_out",):
            self._set_connection(Connection("offline"))

    # ------------------------------------------------------------------ keys

    def refresh_keys(self) -> list[KnownKey]:
        """Read the account's device keys; announce keys this phone has not seen before."""
        client = self._client
        if client is None or not hasattr(client, "devices"):
            return []
        try:
            announced = self.keyring.observe(client.devices(), self._account_name())
        except RelayError as exc:
            log.info("could not refresh the account's device keys: %s", exc)
            return []
        self._announce(announced)
        return announced

    def _announce(self, keys: list[KnownKey]) -> None:
        for key in keys:
            template = (
                _(
                    "{device} changed its key (fingerprint {fingerprint}). Its pushes will not install by "
                    "themselves until you tap Trust next to '{device}' in Settings."
                )
                if key.changed
                else _(
                    "{device} is new (fingerprint {fingerprint}). Its pushes will not install by themselves "
                    "until you tap Trust next to '{device}' in Settings."
                )
            )
            self.inbox.announce(
                template.format(device=key.name, fingerprint=key.fingerprint), title=_("New device key")
            )

    def _account_name(self) -> str:
        return f"{self.profile.username}@{self.profile.relay_url}"

    def silent_install_refusal(self, push: dict[str, Any]) -> str | None:
        """The key ring's verdict on an install_now push (refreshing the keys once if the sender's
        key is not known yet: it may be a device that just logged in)."""
        sender = (push.get("sender") or {}).get("device_id")
        key = self.keyring.get(sender) if isinstance(sender, str) else None
        if key is None:
            self.refresh_keys()
        return self.keyring.refusal(
            push, self.profile.device_id, own_name=self.profile.device_name or self.profile.model
        )

    @functools.cached_property
    def own_fingerprint(self) -> str:
        """This device's key, as the user compares it with what other devices show (read once)."""
        return DeviceKey.load_or_create(self.data_dir / KEY_FILE).fingerprint

    def trust_key(self, device_id: str) -> KnownKey:
        """The user trusts a device's key (Settings)."""
        return self.keyring.trust(device_id)

    def handle_event(self, event: Event) -> None:
        """Act on one stream event, then remember its id (so it is not replayed again)."""
        if event.event == StreamEvent.PUSH:
            sender = (event.data.get("sender") or {}).get("device_id") if isinstance(event.data, dict) else None
            if isinstance(sender, str):
                self.keyring.saw_push_from(sender)  # it sends: Settings lists it among the senders
            self.inbox.receive(event.data)
            if isinstance(sender, str):
                self.keyring.saw_push_from(sender)  # a key first read while the push was checked
        elif event.event == StreamEvent.PUSH_CANCELLED:
            push_id = event.data.get("push_id") if isinstance(event.data, dict) else None
            if push_id:
                self.inbox.sender_cancelled(push_id)
        elif event.event == StreamEvent.DEVICE_KEY:
            threading.Thread(target=self.refresh_keys, name="refresh-keys", daemon=True).start()
        if event.id is not None:
            self.db.set_meta(LAST_EVENT_ID, str(event.id))
