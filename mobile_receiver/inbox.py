"""The inbox: every push this device received, and the state machine that moves each one on.

Kivy-free. The background service hands it ``push`` and ``push_cancelled`` events; the
screens call its user actions (download, dismiss, pause, resume, cancel, retry, answer the
metered question); the network monitor tells it when the connection turns metered or
back to Wi-Fi. Every change is stored before it is reported, every report goes through
the ordered outbox, and listeners (the UI) hear about each change from whatever thread
made it; they must hand it to their own thread.

Flow of one push (states from ``shared.protocol``):

    received -> install_now not signed by a trusted key of this account? -> notify, saying why
             -> stored -> delivered (ack)
      already installed at same/newer version -> already_installed          [0080]
      notify   -> waits for Download / Dismiss (declined)                  [0141]
      install_now, or Download tapped:
        metered network -> ask (Download now / Wait for Wi-Fi / Cancel)    [0081-0082]
                           or waiting_for_wifi when "Only download on Wi-Fi"
        downloading <-> paused, -> waiting_for_wifi when the network turns metered
        -> verifying (SHA-256, format, package check) -> installing -> installed   [0083, 0110]
        passing causes (the relay away, the server down, no network): the download waits and
          tries again by itself, resuming where it stopped (failures.py, retry.py)
        permanent causes -> failed, with a sentence (Retry goes back to downloading)

What a push waits for without anyone having paused it (the user is asked about mobile data,
the relay is away...) the relay hears as ``paused`` with a ``Situation`` (situations.py).

``Inbox`` is the facade the service and the screens use; the work is done by its parts:
``push_book.py`` (the records and their rows), ``state_changes.py`` (every state change: stored,
reported, told), ``inbox_news.py`` (listeners and notices), ``metered_policy.py`` (mobile data and
Wi-Fi), ``download_jobs.py`` (the download threads), ``progress_throttle.py`` (how often progress
is told) and ``install_step.py`` (verify, install). They share the book's one lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mobile_receiver import failures, trust
from mobile_receiver.download import discard_partial
from mobile_receiver.download_jobs import DownloadJobs
from mobile_receiver.i18n import N_, _
from mobile_receiver.inbox_news import InboxNews, Listener
from mobile_receiver.metered_policy import MeteredPolicy
from mobile_receiver.platform.base import DevicePlatform
from mobile_receiver.progress_throttle import ProgressThrottle
from mobile_receiver.push_book import PushBook
from mobile_receiver.record import PROMPT_DOWNLOAD, PROMPT_METERED, PushRecord, parse_push
from mobile_receiver.reporter import Reporter
from mobile_receiver.said import Said, say
from mobile_receiver.state_changes import StateChanges
from mobile_receiver.storage import ReceiverDB
from mobile_receiver.versions import is_same_or_newer
from shared.protocol import CANCELLABLE_STATES, ProtocolError, PushMode, PushState
from shared.relay_client import RelayClient

log = logging.getLogger(__name__)

S = PushState


class Inbox:
    """The pushes of this device and everything that happens to them."""

    def __init__(
        self,
        db: ReceiverDB,
        data_dir: Path,
        platform: DevicePlatform,
        device_platform: str,
        reporter: Reporter,
        client: Callable[[], RelayClient | None],
        *,
        silent_install_refusal: Callable[[dict[str, Any]], str | None],
        wifi_only: Callable[[], bool] = lambda: False,
        can_ask: bool = True,
        download_options: dict[str, Any] | None = None,
        relay_connected: Callable[[], bool] = lambda: True,
    ):
        """``silent_install_refusal(push message)`` says why an install_now push may not install
        without asking (None when it may): the key ring's check, ``mobile_receiver/trust.py``.
        ``relay_connected()`` says whether the relay's event stream is open right now."""
        self.db = db
        self.silent_install_refusal = silent_install_refusal
        self.platform = platform
        self.reporter = reporter
        self.client = client
        self.book = PushBook(db)
        self.news = InboxNews(platform)
        throttle = ProgressThrottle()
        self.states = StateChanges(self.book, reporter, self.news, throttle)
        self.jobs = DownloadJobs(
            self.book,
            self.states,
            self.news,
            throttle,
            reporter,
            platform,
            device_platform,
            client,
            Path(data_dir) / "downloads",
            download_options=download_options or {},
            relay_connected=relay_connected,
            network_connected=lambda: self.policy.network_connected,
        )
        self.policy = MeteredPolicy(
            self.book, self.states, self.news, reporter, platform, self.jobs, wifi_only=wifi_only, can_ask=can_ask
        )
        self._started = False

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Watch the network and pick up what a previous run left unfinished."""
        if self._started:
            return
        self._started = True
        self.policy.watch()
        for rec in [r for r in self.book.all() if not r.is_final]:
            self._restore(rec)

    def stop(self) -> None:
        """Stop every running download, keeping partial files (they resume next start)."""
        self.policy.unwatch()
        self.jobs.stop_all()
        self._started = False

    def _restore(self, rec: PushRecord) -> None:
        state = rec.push_state
        if state in (S.DELIVERED,) and rec.prompt is None:
            # killed between acknowledging and acting
            self._act_on_new(rec)
        elif state in (S.DOWNLOADING, S.WAITING_FOR_WIFI):
            self.policy.restore(rec)
        elif state in (S.VERIFYING, S.INSTALLING):
            why = failures.interrupted_install()
            self.states.move(rec, S.FAILED, detail=why.sentence, notice=why.sentence)

    # ------------------------------------------------------------------ listening

    def subscribe(self, listener: Listener) -> None:
        """``listener(push_id)`` after any change (``None``: the whole list changed)."""
        self.news.subscribe(listener)

    def on_notice(self, listener: Callable[[str], None]) -> None:
        """``listener(text)`` for one-line notices to show the user (a snackbar)."""
        self.news.on_notice(listener)

    def announce(self, text: str, title: str = "Appbeam") -> None:
        """A notification and a snackbar that are about no push in particular."""
        self.news.notice(text, title)

    # ------------------------------------------------------------------ reading

    def records(self) -> list[PushRecord]:
        """Every push, newest first."""
        return list(reversed(self.book.all()))

    def get(self, push_id: str) -> PushRecord | None:
        return self.book.get(push_id)

    def is_active(self, push_id: str) -> bool:
        """True while a download thread runs for the push."""
        return self.jobs.is_active(push_id)

    # ------------------------------------------------------------------ events from the relay

    def receive(self, data: dict[str, Any]) -> PushRecord | None:
        """A ``push`` event: store it, acknowledge it, act on it. Duplicates are ignored."""
        push_id = data.get("push_id") if isinstance(data, dict) else None
        if push_id in self.book:
            log.debug("push %s again (replayed): already have it", push_id)
            return None
        try:
            rec = parse_push(data)
        except ProtocolError as exc:
            log.warning("ignoring a malformed push %s: %s", push_id, exc)
            return None
        if rec.mode == str(PushMode.INSTALL_NOW):
            reason = self._refusal(data)
            if reason:
                log.warning("push %s will not install by itself: %s", rec.push_id, reason)
                rec.mode, rec.downgraded = str(PushMode.NOTIFY), str(reason)
                rec.downgraded_details = getattr(reason, "details", "") or None
                said, details_said = getattr(reason, "said", None), getattr(reason, "details_said", None)
                rec.downgraded_said = said.to_dict() if said else None
                rec.downgraded_details_said = details_said.to_dict() if details_said else None
        if not self.book.add(rec):  # stored first ...
            return None
        detail = None
        if rec.downgraded:  # the sender sees it too, with the fingerprint to compare
            detail = f"waiting for the user: {rec.downgraded}"
            if rec.downgraded_details:
                detail = f"{detail}. {rec.downgraded_details}"
        self.reporter.report(rec.push_id, S.DELIVERED, detail=detail)  # ... then acknowledged
        self.news.changed(None)
        self._act_on_new(rec)
        return rec

    def _refusal(self, data: dict[str, Any]) -> str | None:
        try:
            return self.silent_install_refusal(data)
        except Exception:  # noqa: BLE001 - a failing check must never mean "install"
            log.exception("checking the signature of %s failed", data.get("push_id"))
            return trust.refuse(N_("its signature could not be checked"))

    def sender_cancelled(self, push_id: str) -> None:
        """A ``push_cancelled`` event: stop, delete the partial file, show it as cancelled. A push
        this phone had declined is marked too: Download again is no longer offered for an app its
        sender withdrew (the relay would refuse the re-opening and the package)."""
        with self.book.lock:
            rec = self.book.get(push_id)
            if rec is None or (rec.push_state not in CANCELLABLE_STATES and rec.push_state is not S.DECLINED):
                return
            rec.state, rec.prompt, rec.situation = str(S.CANCELLED), None, None
            rec.keep_notice(say(N_("The sender withdrew this app")))
            rec.speed = rec.eta = rec.retry_at = rec.waiting = None
            self.book.save(rec)
            job = self.jobs.get(push_id)
        self.jobs.stop(job, "cancel")
        discard_partial(self.jobs.part_path(rec))
        self.news.changed(push_id)

    # ------------------------------------------------------------------ connectivity

    def retry_now(self) -> None:
        """The relay or the network is back: downloads waiting to try again try now."""
        self.jobs.wake_all()

    # ------------------------------------------------------------------ user actions

    def download(self, push_id: str) -> None:
        """Download tapped on a notify push [0141]."""
        rec = self._require(push_id)
        if rec.prompt != PROMPT_DOWNLOAD:
            return
        with self.book.lock:
            rec.prompt = None
            self.book.save(rec)
        self.policy.begin(rec)

    def dismiss(self, push_id: str) -> None:
        """Dismiss tapped on a notify push: the user declines it."""
        rec = self._require(push_id)
        if rec.prompt == PROMPT_DOWNLOAD:
            self._decline(rec)

    def answer_metered(self, push_id: str, choice: str) -> None:
        """The metered question: ``now`` (use mobile data), ``wait`` (for Wi-Fi) or ``cancel``."""
        rec = self._require(push_id)
        if rec.prompt != PROMPT_METERED:
            return
        with self.book.lock:
            rec.prompt = None
            self.book.save(rec)
        if choice == "now":
            with self.book.lock:
                rec.allow_metered = True
            self.jobs.start(rec)
        elif choice == "wait":
            self.policy.wait_for_wifi(rec)
        elif choice == "cancel":
            self._decline(rec)
        else:
            raise ValueError(f"unknown answer {choice!r}")

    def use_mobile_data(self, push_id: str) -> None:
        """ "Use mobile data" on a push waiting for Wi-Fi (or asking): download now on this network."""
        rec = self._require(push_id)
        if rec.prompt == PROMPT_METERED:
            self.answer_metered(push_id, "now")
        elif rec.push_state is S.WAITING_FOR_WIFI:
            with self.book.lock:
                rec.allow_metered = True
            self.jobs.start(rec)

    def pause(self, push_id: str) -> None:
        """Pause tapped: stop the download, keep what is on disk."""
        rec = self._require(push_id)
        with self.book.lock:
            if rec.push_state not in (S.DOWNLOADING, S.WAITING_FOR_WIFI):
                return
            job = self.jobs.get(push_id)
            self.states.move(rec, S.PAUSED, notice=None)
        self.jobs.stop(job, "pause")

    def resume(self, push_id: str) -> None:
        """Resume tapped: continue from where it stopped (asks first on mobile data)."""
        rec = self._require(push_id)
        if rec.push_state is not S.PAUSED:
            return
        self.policy.begin(rec)

    def cancel(self, push_id: str) -> None:
        """Cancel tapped: stop, delete the partial file, tell the sender the user declined."""
        rec = self._require(push_id)
        if rec.push_state in (S.VERIFYING, S.INSTALLING) or rec.is_final:
            return
        self._decline(rec)

    def download_again(self, push_id: str) -> None:
        """Download again tapped on a push this phone's user cancelled or dismissed (by mistake):
        fetched and installed as if Download had been tapped. The relay lets the device that
        declined a push re-open it (``shared.protocol.REOPENABLE_STATES``), so the sender's Pushes
        panel follows the new download to Installed. If the relay has let the package go since,
        the push is declined again with a sentence saying so (``failures.package_gone_after_decline``)."""
        rec = self._require(push_id)
        with self.book.lock:
            if rec.push_state is not S.DECLINED or rec.package_gone:
                return
            rec.state, rec.prompt, rec.notice, rec.detail = str(S.DELIVERED), None, None, None
            rec.bytes_done = 0
            rec.reopened = True
            self.book.save(rec)
        self.news.changed(push_id)
        self.policy.begin(rec)

    def retry(self, push_id: str) -> None:
        """Retry tapped on a failed push (a package that failed its checks is fetched from zero)."""
        rec = self._require(push_id)
        if rec.push_state is not S.FAILED:
            return
        self.policy.begin(rec)

    def forget(self, push_id: str) -> None:
        """Remove a finished push from the list."""
        if self.book.forget(push_id):
            self.news.changed(None)

    # ------------------------------------------------------------------ the state machine

    def _require(self, push_id: str) -> PushRecord:
        rec = self.get(push_id)
        if rec is None:
            raise KeyError(push_id)
        return rec

    def _act_on_new(self, rec: PushRecord) -> None:
        info = rec.install_info
        installed = self.platform.installer.installed(info.id)
        if installed and is_same_or_newer(installed.version, installed.version_code, info.version, info.version_code):
            notice = (
                say(N_("{version} is already on this device"), version=installed.version)
                if installed.version
                else say(N_("A copy is already on this device"))
            )
            self.states.move(rec, S.ALREADY_INSTALLED, notice=notice)
            self.news.notice(_("{app} is already installed").format(app=rec.app_name), key=rec.push_id)
            return
        if rec.mode == str(PushMode.NOTIFY):
            with self.book.lock:
                rec.prompt = PROMPT_DOWNLOAD
                reason = rec.downgraded_reason()
                if reason is not None:
                    rec.keep_notice(say(N_("Not installed by itself: {reason}"), reason=reason))
                self.book.save(rec)
            self.news.changed(rec.push_id)
            who = rec.sender.get("device_name") or rec.sender.get("username") or _("Someone")
            if reason is None:
                text = _("{sender} sent you {app}. Tap Download to install it.").format(sender=who, app=rec.app_name)
            else:
                text = _(
                    "{sender} sent you {app}. Not installed by itself: {reason}. Tap Download to install it."
                ).format(sender=who, app=rec.app_name, reason=reason.text() if isinstance(reason, Said) else reason)
            self.news.notice(text, key=rec.push_id)
            return
        self.policy.begin(rec)

    def _decline(self, rec: PushRecord) -> None:
        with self.book.lock:
            job = self.jobs.get(rec.push_id)
            rec.prompt = None
            self.states.move(rec, S.DECLINED, notice=None)
        self.jobs.stop(job, "cancel")
        discard_partial(self.jobs.part_path(rec))
