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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mobile_receiver import failures, packages, situations, verify
from mobile_receiver.download import (
    DownloadError,
    DownloadOutcome,
    PackageDownload,
    discard_partial,
)
from mobile_receiver.failures import Failure, Where
from mobile_receiver.platform.base import DevicePlatform, InstallError, NetworkStatus
from mobile_receiver.record import (
    PROMPT_DOWNLOAD,
    PROMPT_METERED,
    PushRecord,
    parse_push,
)
from mobile_receiver.reporter import Reporter
from mobile_receiver.retry import Stopped, Wake
from mobile_receiver.storage import ReceiverDB
from mobile_receiver.versions import is_same_or_newer
from shared.formatting import ProgressMeter, megabytes
from shared.messages import PackageRef
from shared.protocol import (
    CANCELLABLE_STATES,
    ProtocolError,
    PushMode,
    PushState,
    Situation,
    can_transition,
)
from shared.relay_client import RelayClient, RelayError

log = logging.getLogger(__name__)

S = PushState
#: How often progress goes to the relay (and to disk): at most twice a second.
REPORT_INTERVAL = 0.5
#: How often the screens hear about progress.
UI_INTERVAL = 0.1

Listener = Callable[[str | None], None]


class _Job:
    """One running download of one push."""

    def __init__(self, previous: "_Job | None"):
        self.previous = previous
        self.thread: threading.Thread | None = None
        self.engine: PackageDownload | None = None
        self.stop: str | None = None  # "pause" | "cancel", set before the engine exists
        self.wake = Wake()  # the waits before the engine exists (asking the relay for the package)
        self.failures = 0  # passing failures in a row


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
        silent_install_refusal: Callable[[dict], str | None],
        wifi_only: Callable[[], bool] = lambda: False,
        can_ask: bool = True,
        download_options: dict | None = None,
        relay_connected: Callable[[], bool] = lambda: True,
    ):
        """``silent_install_refusal(push message)`` says why an install_now push may not install
        without asking (None when it may): the key ring's check, ``mobile_receiver/trust.py``.
        ``relay_connected()`` says whether the relay's event stream is open right now."""
        self.db = db
        self.silent_install_refusal = silent_install_refusal
        self.downloads_dir = Path(data_dir) / "downloads"
        self.platform = platform
        self.device_platform = device_platform
        self.reporter = reporter
        self.client = client
        self.wifi_only = wifi_only
        #: False when nobody can answer the metered question (headless): wait for Wi-Fi instead.
        self.can_ask = can_ask
        self.download_options = download_options or {}
        self.relay_connected = relay_connected
        self._lock = threading.RLock()
        self._records: dict[str, PushRecord] = {r["push_id"]: PushRecord.from_dict(r) for r in db.load_pushes()}
        self._jobs: dict[str, _Job] = {}
        self._meters: dict[str, ProgressMeter] = {}
        self._last_report: dict[str, float] = {}
        self._last_ui: dict[str, float] = {}
        self._listeners: list[Listener] = []
        self._notices: list[Callable[[str], None]] = []
        self._network_connected = True
        self._metered = False
        self._started = False

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Watch the network and pick up what a previous run left unfinished."""
        if self._started:
            return
        self._started = True
        status = self.platform.network.status()
        self._network_connected, self._metered = status.connected, status.metered
        self.platform.network.subscribe(self._on_network)
        with self._lock:
            unfinished = [r for r in self._records.values() if not r.is_final]
        for rec in unfinished:
            self._restore(rec)

    def stop(self) -> None:
        """Stop every running download, keeping partial files (they resume next start)."""
        self.platform.network.unsubscribe(self._on_network)
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self._stop_job(job, job.stop or "shutdown")
        for job in jobs:
            if job.thread:
                job.thread.join(timeout=10)
        self._started = False

    def _restore(self, rec: PushRecord) -> None:
        state = rec.push_state
        if state in (S.DELIVERED,) and rec.prompt is None:
            # killed between acknowledging and acting
            self._act_on_new(rec)
        elif state is S.DOWNLOADING:
            if self.platform.network.is_metered() and not rec.allow_metered:
                self._set(rec, S.WAITING_FOR_WIFI, notice="Waiting for Wi-Fi (this connection is metered)")
            else:
                self._start_download(rec)
        elif state is S.WAITING_FOR_WIFI and not self.platform.network.is_metered():
            self._start_download(rec)
        elif state in (S.VERIFYING, S.INSTALLING):
            why = failures.interrupted_install()
            self._set(rec, S.FAILED, detail=why.sentence, notice=why.sentence)

    # ------------------------------------------------------------------ listening

    def subscribe(self, listener: Listener) -> None:
        """``listener(push_id)`` after any change (``None``: the whole list changed)."""
        self._listeners.append(listener)

    def on_notice(self, listener: Callable[[str], None]) -> None:
        """``listener(text)`` for one-line notices to show the user (a snackbar)."""
        self._notices.append(listener)

    def _changed(self, push_id: str | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(push_id)
            except Exception:  # noqa: BLE001 - a broken screen must not stop downloads
                log.exception("inbox listener failed")

    def announce(self, text: str, title: str = "Appbeam") -> None:
        """A notification and a snackbar that are about no push in particular."""
        self._notice(text, title)

    def _notice(self, text: str, title: str = "Appbeam", key: str | None = None) -> None:
        try:
            self.platform.notifier.notify(title, text, key=key)
        except Exception:  # noqa: BLE001 - notifications are best effort
            log.exception("notification failed")
        for listener in list(self._notices):
            listener(text)

    # ------------------------------------------------------------------ reading

    def records(self) -> list[PushRecord]:
        """Every push, newest first."""
        with self._lock:
            return list(reversed(list(self._records.values())))

    def get(self, push_id: str) -> PushRecord | None:
        with self._lock:
            return self._records.get(push_id)

    def is_active(self, push_id: str) -> bool:
        """True while a download thread runs for the push."""
        with self._lock:
            job = self._jobs.get(push_id)
            return bool(job and job.thread and job.thread.is_alive())

    # ------------------------------------------------------------------ events from the relay

    def receive(self, data: dict) -> PushRecord | None:
        """A ``push`` event: store it, acknowledge it, act on it. Duplicates are ignored."""
        push_id = data.get("push_id") if isinstance(data, dict) else None
        with self._lock:
            if push_id in self._records:
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
        with self._lock:
            if rec.push_id in self._records:
                return None
            self._records[rec.push_id] = rec
            self._save(rec)  # stored first ...
        detail = None
        if rec.downgraded:  # the sender sees it too, with the fingerprint to compare
            detail = f"waiting for the user: {rec.downgraded}"
            if rec.downgraded_details:
                detail = f"{detail}. {rec.downgraded_details}"
        self.reporter.report(rec.push_id, S.DELIVERED, detail=detail)  # ... then acknowledged
        self._changed(None)
        self._act_on_new(rec)
        return rec

    def _refusal(self, data: dict) -> str | None:
        try:
            return self.silent_install_refusal(data)
        except Exception:  # noqa: BLE001 - a failing check must never mean "install"
            log.exception("checking the signature of %s failed", data.get("push_id"))
            return "its signature could not be checked"

    def sender_cancelled(self, push_id: str) -> None:
        """A ``push_cancelled`` event: stop, delete the partial file, show it as cancelled."""
        with self._lock:
            rec = self._records.get(push_id)
            if rec is None or rec.push_state not in CANCELLABLE_STATES:
                return
            rec.state, rec.prompt, rec.situation = str(S.CANCELLED), None, None
            rec.notice = "The sender withdrew this app"
            rec.speed = rec.eta = rec.retry_at = rec.waiting = None
            self._save(rec)
            job = self._jobs.get(push_id)
        self._stop_job(job, "cancel")
        discard_partial(self._part_path(rec))
        self._changed(push_id)

    # ------------------------------------------------------------------ connectivity

    def retry_now(self) -> None:
        """The relay or the network is back: downloads waiting to try again try now."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.wake.wake()
            if job.engine is not None:
                job.engine.wake()

    # ------------------------------------------------------------------ user actions

    def download(self, push_id: str) -> None:
        """Download tapped on a notify push [0141]."""
        rec = self._require(push_id)
        if rec.prompt != PROMPT_DOWNLOAD:
            return
        with self._lock:
            rec.prompt = None
            self._save(rec)
        self._begin(rec)

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
        with self._lock:
            rec.prompt = None
            self._save(rec)
        if choice == "now":
            with self._lock:
                rec.allow_metered = True
            self._start_download(rec)
        elif choice == "wait":
            self._set(rec, S.WAITING_FOR_WIFI, notice="Starts when Wi-Fi is back")
            if not self.platform.network.is_metered():  # Wi-Fi came back while the dialog was open
                self._start_download(rec)
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
            with self._lock:
                rec.allow_metered = True
            self._start_download(rec)

    def pause(self, push_id: str) -> None:
        """Pause tapped: stop the download, keep what is on disk."""
        rec = self._require(push_id)
        with self._lock:
            if rec.push_state not in (S.DOWNLOADING, S.WAITING_FOR_WIFI):
                return
            job = self._jobs.get(push_id)
            self._set(rec, S.PAUSED, notice=None)
        self._stop_job(job, "pause")

    def resume(self, push_id: str) -> None:
        """Resume tapped: continue from where it stopped (asks first on mobile data)."""
        rec = self._require(push_id)
        if rec.push_state is not S.PAUSED:
            return
        self._begin(rec)

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
        with self._lock:
            if rec.push_state is not S.DECLINED or rec.package_gone:
                return
            rec.state, rec.prompt, rec.notice, rec.detail = str(S.DELIVERED), None, None, None
            rec.bytes_done = 0
            rec.reopened = True
            self._save(rec)
        self._changed(push_id)
        self._begin(rec)

    def retry(self, push_id: str) -> None:
        """Retry tapped on a failed push (a package that failed its checks is fetched from zero)."""
        rec = self._require(push_id)
        if rec.push_state is not S.FAILED:
            return
        self._begin(rec)

    def forget(self, push_id: str) -> None:
        """Remove a finished push from the list."""
        with self._lock:
            rec = self._records.get(push_id)
            if rec is None or not rec.is_final:
                return
            del self._records[push_id]
            self.db.delete_push(push_id)
        self._changed(None)

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
            have = installed.version or "a copy"
            self._set(rec, S.ALREADY_INSTALLED, notice=f"{have} is already on this device")
            self._notice(f"{rec.app_name} is already installed", key=rec.push_id)
            return
        if rec.mode == str(PushMode.NOTIFY):
            with self._lock:
                rec.prompt = PROMPT_DOWNLOAD
                if rec.downgraded:
                    rec.notice = f"Not installed by itself: {rec.downgraded}"
                self._save(rec)
            self._changed(rec.push_id)
            who = rec.sender.get("device_name") or rec.sender.get("username")
            why = f" Not installed by itself: {rec.downgraded}." if rec.downgraded else ""
            self._notice(f"{who} sent you {rec.app_name}.{why} Tap Download to install it.", key=rec.push_id)
            return
        self._begin(rec)

    def _begin(self, rec: PushRecord) -> None:
        """Start (or restart) a download, applying the network policy first [0081-0082]."""
        if self.platform.network.is_metered() and not rec.allow_metered:
            if self.wifi_only() or not self.can_ask:
                if rec.push_state is not S.WAITING_FOR_WIFI:
                    self._set(rec, S.WAITING_FOR_WIFI, notice="Waiting for Wi-Fi (this connection is metered)")
                return
            with self._lock:
                rec.prompt = PROMPT_METERED
                rec.notice = f"Will use {megabytes(rec.size)} of mobile data"
                situations.tell(self.reporter, rec, Situation.ASKING_ABOUT_MOBILE_DATA)
                self._save(rec)
            self._changed(rec.push_id)
            return
        self._start_download(rec)

    def _start_download(self, rec: PushRecord) -> None:
        with self._lock:
            if rec.is_final:
                return
            old = self._jobs.get(rec.push_id)
            if old and old.thread and old.thread.is_alive() and old.stop is None and rec.push_state is S.DOWNLOADING:
                return  # already running (a job that just failed may still be unwinding: the new one waits for it)
            job = _Job(previous=old)
            self._jobs[rec.push_id] = job
            self._set(rec, S.DOWNLOADING, notice=None, bytes_done=rec.bytes_done, bytes_total=rec.size)
            job.thread = threading.Thread(
                target=self._download_worker, args=(rec, job), name=f"download-{rec.push_id}", daemon=True
            )
            job.thread.start()

    def _stop_job(self, job: _Job | None, why: str) -> None:
        if job is None:
            return
        with self._lock:
            job.stop = why
            engine = job.engine
        job.wake.stop()
        if engine is not None:
            engine.cancel() if why == "cancel" else engine.pause()

    def _decline(self, rec: PushRecord) -> None:
        with self._lock:
            job = self._jobs.get(rec.push_id)
            rec.prompt = None
            self._set(rec, S.DECLINED, notice=None)
        self._stop_job(job, "cancel")
        discard_partial(self._part_path(rec))

    def _on_network(self, status: NetworkStatus) -> None:
        """Pause downloads when the network turns metered, resume them on Wi-Fi [0083]; when
        a network comes back (or changes), downloads waiting to try again try at once."""
        with self._lock:
            was_metered, was_connected = self._metered, self._network_connected
            self._network_connected = status.connected
            if status.connected:
                self._metered = status.metered
        if not status.connected:
            return  # nothing downloads without a network: running downloads wait and retry
        self.retry_now()
        if was_connected and status.metered == was_metered:
            return  # connectivity changed, the kind of network did not
        if status.metered:
            paused = []
            with self._lock:
                for rec in self._records.values():
                    if rec.push_state is S.DOWNLOADING and not rec.allow_metered:
                        self._set(
                            rec, S.WAITING_FOR_WIFI, notice="Paused: the connection is metered. Resumes on Wi-Fi."
                        )
                        paused.append((rec, self._jobs.get(rec.push_id)))
            for _rec, job in paused:
                self._stop_job(job, "wait")
            if paused:
                names = ", ".join(r.app_name for r, _ in paused)
                self._notice(f"Paused {names}: this connection uses mobile data. It resumes on Wi-Fi.")
            return
        with self._lock:
            waiting = [
                r for r in self._records.values() if r.push_state is S.WAITING_FOR_WIFI or r.prompt == PROMPT_METERED
            ]
        for rec in waiting:
            with self._lock:
                if rec.prompt == PROMPT_METERED:
                    rec.prompt = None
            self._start_download(rec)
        if waiting:
            self._notice("Back on Wi-Fi: downloads resumed")

    # ------------------------------------------------------------------ the worker

    def _part_path(self, rec: PushRecord) -> Path:
        return self.downloads_dir / f"{rec.push_id}.part"

    def _download_worker(self, rec: PushRecord, job: _Job) -> None:
        if job.previous and job.previous.thread and job.previous.thread is not threading.current_thread():
            job.previous.thread.join()  # the old run must let go of the .part file first
        job.previous = None
        try:
            self._download_and_install(rec, job)
        except Exception:  # noqa: BLE001 - whatever happens, the push must not hang
            log.exception("push %s failed", rec.push_id)
            self._fail(rec, job, failures.unexpected())
        finally:
            with self._lock:
                if self._jobs.get(rec.push_id) is job:
                    del self._jobs[rec.push_id]
                rec.speed = rec.eta = rec.retry_at = rec.waiting = None
            self._changed(rec.push_id)

    def _download_and_install(self, rec: PushRecord, job: _Job) -> None:
        package = self._package_for(rec, job)
        if package is None:
            return
        url, headers = packages.request_for(package.url, self.client())
        meter = self._meters.setdefault(rec.push_id, ProgressMeter())
        meter.reset()

        def on_retry(error: DownloadError, seconds: float) -> None:
            self._waiting(rec, job, failures.download_failure(error, self._where(url)), seconds)

        fresh = False
        while True:
            engine = PackageDownload(
                url,
                self._part_path(rec),
                headers=headers,
                expected_size=package.size,
                progress=lambda done, total: self._on_progress(rec, job, done, total),
                on_retry=on_retry,
                **self.download_options,
            )
            with self._lock:
                if job.stop:
                    return
                job.engine = engine
            try:
                result = engine.run()
            except DownloadError as exc:
                log.warning("download of push %s failed: %s", rec.push_id, exc.reason)
                where = self._where(url)
                if rec.reopened and exc.status in (404, 410) and where.on_relay:
                    self._package_gone(rec, job, failures.package_gone_after_decline(where))
                else:
                    self._fail(rec, job, failures.download_failure(exc, where))
                return
            if result.outcome is not DownloadOutcome.COMPLETE:
                return  # whoever paused or cancelled has already set the state
            self._went_on(rec)
            expected = package.sha256 or (rec.package or {}).get("sha256")
            mismatch = verify.checksum_problem(result.sha256, expected)
            if mismatch is not None and result.resumed and not fresh:
                # Pieced together from several connections: fetch it whole once before calling it bad.
                log.warning(
                    "push %s: SHA-256 mismatch after a resumed download; downloading it again from zero", rec.push_id
                )
                discard_partial(result.path)
                fresh = True
                continue
            break
        self._verify_and_install(rec, job, package, result.path, result.sha256, mismatch)

    def _package_for(self, rec: PushRecord, job: _Job) -> PackageRef | None:
        """The package to fetch (asking the relay waits for it if need be), or None when it failed
        or the job was stopped."""

        def on_wait(error: RelayError, seconds: float) -> None:
            log.info("asking the relay for the package of %s failed (%s)", rec.push_id, error)
            self._waiting(
                rec,
                job,
                failures.relay_failure(error, self._relay_url(), network_connected=self._network_connected),
                seconds,
            )

        try:
            package = packages.resolve_waiting(
                rec,
                self.device_platform,
                self.client,
                sleep=job.wake.sleep,
                on_wait=on_wait,
                **{k: v for k, v in self.download_options.items() if k in ("backoff_initial", "backoff_max")},
            )
        except Stopped:
            return None
        except RelayError as exc:
            log.warning("no package for push %s: %s", rec.push_id, exc)
            self._fail(rec, job, failures.relay_failure(exc, self._relay_url()))
            return None
        except ProtocolError as exc:
            log.warning("no package for push %s: %s", rec.push_id, exc)
            self._fail(rec, job, failures.no_package_for_device(verify.platform_label(self.device_platform)))
            return None
        with self._lock:
            rec.package = package.to_dict()
            self._save(rec)
        return package

    def _relay_url(self) -> str | None:
        client = self.client()
        return client.base_url if client is not None else None

    def _where(self, url: str) -> Where:
        return Where(
            url, self._relay_url(), relay_connected=self.relay_connected(), network_connected=self._network_connected
        )

    def _waiting(self, rec: PushRecord, job: _Job, failure: Failure, seconds: float) -> None:
        """A passing failure: the download tries again in ``seconds``; the card says why."""
        with self._lock:
            if job.stop or rec.push_state is not S.DOWNLOADING:
                return
            job.failures += 1
            situations.waiting(self.reporter, rec, failure, seconds, job.failures)
            self._save(rec)
        self._changed(rec.push_id)

    def _went_on(self, rec: PushRecord) -> None:
        """Bytes are flowing again (or the download is complete): the wait is over."""
        with self._lock:
            job = self._jobs.get(rec.push_id)
            if job is not None:
                job.failures = 0
            if not situations.went_on(self.reporter, rec):
                return
            self._last_report[rec.push_id] = time.monotonic()
            self._save(rec)
        self._changed(rec.push_id)

    def _on_progress(self, rec: PushRecord, job: _Job, done: int, total: int | None) -> None:
        now = time.monotonic()
        meter = self._meters.setdefault(rec.push_id, ProgressMeter())
        meter.add(done)
        with self._lock:
            if job.stop or rec.push_state is not S.DOWNLOADING:
                return
            rec.bytes_done = done
            if total:
                rec.bytes_total = total
        self._went_on(rec)
        with self._lock:
            rec.speed = meter.speed
            rec.eta = meter.eta(rec.bytes_total)
            report = now - self._last_report.get(rec.push_id, 0.0) >= REPORT_INTERVAL or done == total
            if report:
                self._last_report[rec.push_id] = now
                self._save(rec)
                self.reporter.report(rec.push_id, S.DOWNLOADING, bytes_done=done, bytes_total=rec.bytes_total)
            ui = report or now - self._last_ui.get(rec.push_id, 0.0) >= UI_INTERVAL
            if ui:
                self._last_ui[rec.push_id] = now
        if ui:
            self._changed(rec.push_id)

    def _verify_and_install(
        self, rec: PushRecord, job: _Job, package: PackageRef, path: Path, sha256: str | None, mismatch: Failure | None
    ) -> None:
        with self._lock:
            if job.stop:
                return
            self._set(rec, S.VERIFYING, notice=None)
        problem = mismatch or verify.package_problem(path, package.format, self.device_platform)
        if problem is not None:
            self._fail(rec, job, problem)
            return
        self._set(rec, S.INSTALLING)
        try:
            installed = self.platform.installer.install(path, rec.install_info, package.format, sha256)
        except InstallError as exc:
            log.warning("installing push %s failed: %s", rec.push_id, exc)
            self._fail(rec, job, failures.install_failed(str(exc)))
            return
        discard_partial(path)
        self._set(rec, S.INSTALLED, notice=f"Version {installed.version or '?'} installed")
        self._notice(f"{rec.app_name} installed", key=rec.push_id)

    def _package_gone(self, rec: PushRecord, job: _Job, failure: Failure) -> None:
        """Download again found the relay's copy gone: the push is declined again, with the
        sentence (the sender sees it too and can Resend); Retry or Download again could not work."""
        with self._lock:
            if job.stop or rec.push_state is not S.DOWNLOADING:
                return
            rec.package_gone = True
            self._set(rec, S.DECLINED, detail=failure.sentence, notice=failure.sentence)
        discard_partial(self._part_path(rec))
        self._notice(f"{rec.app_name} was not installed. {failure.sentence}", key=rec.push_id)

    def _fail(self, rec: PushRecord, job: _Job, failure: Failure) -> None:
        with self._lock:
            if job.stop or rec.push_state not in (S.DOWNLOADING, S.VERIFYING, S.INSTALLING, S.DELIVERED):
                return
            if failure.fresh_download:
                discard_partial(self._part_path(rec))  # what is on disk must not be resumed
                rec.bytes_done = 0
            self._set(rec, S.FAILED, detail=failure.sentence, notice=failure.sentence)
        self._notice(f"{rec.app_name} was not installed. {failure.sentence}", key=rec.push_id)

    # ------------------------------------------------------------------ state changes

    def _set(
        self, rec: PushRecord, state: PushState, *, detail: str | None = None, notice: str | None = "", **extra
    ) -> None:
        """Move ``rec`` to ``state``: store, report, tell listeners. Rejects impossible moves."""
        with self._lock:
            current = rec.push_state
            if current is state and state is not S.DOWNLOADING and rec.situation is None:
                return  # nothing new to say
            if current is not state and not can_transition(current, state):
                log.warning("push %s: ignoring %s -> %s", rec.push_id, current, state)
                return
            rec.state = str(state)
            rec.detail = detail
            rec.situation = None  # whatever the push waited for, the report below moves the relay on
            rec.retry_at = rec.waiting = None
            if notice != "":
                rec.notice = notice
            if state is not S.DOWNLOADING:
                rec.speed = rec.eta = None
            for key, value in extra.items():
                setattr(rec, key, value)
            self._save(rec)
            if state is S.DOWNLOADING:
                self._last_report[rec.push_id] = time.monotonic()
                self.reporter.report(rec.push_id, state, bytes_done=rec.bytes_done, bytes_total=rec.bytes_total)
            else:
                self.reporter.report(rec.push_id, state, detail=detail)
        self._changed(rec.push_id)

    def _save(self, rec: PushRecord) -> None:
        self.db.save_push(rec.push_id, rec.to_dict())
