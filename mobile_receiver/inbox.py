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
        -> verifying (SHA-256, format) -> installing -> installed        [0083, 0110]
        failures -> failed (Retry goes back to downloading)
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from shared.protocol import (
    CANCELLABLE_STATES,
    PackageRef,
    ProtocolError,
    PushMode,
    PushState,
    can_transition,
    choose_format,
    format_from_filename,
    formats_for,
)
from shared.relay_client import RelayClient, RelayError

from mobile_receiver.download import DownloadError, DownloadOutcome, PackageDownload, discard_partial
from shared.formatting import ProgressMeter, megabytes
from mobile_receiver.platform.base import DevicePlatform, InstallError, NetworkStatus
from mobile_receiver.record import PROMPT_DOWNLOAD, PROMPT_METERED, PushRecord, parse_push
from mobile_receiver.reporter import Reporter
from mobile_receiver.storage import ReceiverDB
from mobile_receiver.versions import is_same_or_newer

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
    ):
        """``silent_install_refusal(push message)`` says why an install_now push may not install
        without asking (None when it may): the key ring's check, ``mobile_receiver/trust.py``."""
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
        self._lock = threading.RLock()
        self._records: dict[str, PushRecord] = {r["push_id"]: PushRecord.from_dict(r) for r in db.load_pushes()}
        self._jobs: dict[str, _Job] = {}
        self._meters: dict[str, ProgressMeter] = {}
        self._last_report: dict[str, float] = {}
        self._last_ui: dict[str, float] = {}
        self._listeners: list[Listener] = []
        self._notices: list[Callable[[str], None]] = []
        self._started = False

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Watch the network and pick up what a previous run left unfinished."""
        if self._started:
            return
        self._started = True
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
                job.stop = job.stop or "shutdown"
        for job in jobs:
            if job.engine:
                job.engine.pause()
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
            self._set(rec, S.FAILED, detail="interrupted while installing; tap Retry")

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
                rec.mode, rec.downgraded = str(PushMode.NOTIFY), reason
        with self._lock:
            if rec.push_id in self._records:
                return None
            self._records[rec.push_id] = rec
            self._save(rec)  # stored first ...
        detail = f"waiting for the user: {rec.downgraded}" if rec.downgraded else None
        self.reporter.report(rec.push_id, S.DELIVERED, detail=detail)  # ... then acknowledged
        self._changed(None)
        self._act_on_new(rec)
        return rec

    def _refusal(self, data: dict) -> str | None:
        try:
            return self.silent_install_refusal(data)
        except Exception as exc:  # noqa: BLE001 - a failing check must never mean "install"
            log.exception("checking the signature of %s failed", data.get("push_id"))
            return f"the signature could not be checked ({exc})"

    def sender_cancelled(self, push_id: str) -> None:
        """A ``push_cancelled`` event: stop, delete the partial file, show it as cancelled."""
        with self._lock:
            rec = self._records.get(push_id)
            if rec is None or rec.push_state not in CANCELLABLE_STATES:
                return
            rec.state, rec.prompt, rec.notice = str(S.CANCELLED), None, "The sender withdrew this app"
            rec.speed = rec.eta = None
            self._save(rec)
            job = self._jobs.get(push_id)
        self._stop_job(job, "cancel")
        discard_partial(self._part_path(rec))
        self._changed(push_id)

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
        """"Use mobile data" on a push waiting for Wi-Fi (or asking): download now on this network."""
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

    def retry(self, push_id: str) -> None:
        """Retry tapped on a failed push."""
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
            why = " It was not installed by itself because " + rec.downgraded + "." if rec.downgraded else ""
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
                self._save(rec)
            self._changed(rec.push_id)
            return
        self._start_download(rec)

    def _start_download(self, rec: PushRecord) -> None:
        with self._lock:
            if rec.is_final:
                return
            old = self._jobs.get(rec.push_id)
            if old and old.thread and old.thread.is_alive() and old.stop is None:
                return  # already running
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
        """Pause downloads when the network turns metered, resume them on Wi-Fi [0083]."""
        if status.metered:
            paused = []
            with self._lock:
                for rec in self._records.values():
                    if rec.push_state is S.DOWNLOADING and not rec.allow_metered:
                        self._set(rec, S.WAITING_FOR_WIFI, notice="Paused: the connection is metered. Resumes on Wi-Fi.")
                        paused.append((rec, self._jobs.get(rec.push_id)))
            for rec, job in paused:
                self._stop_job(job, "wait")
            if paused:
                names = ", ".join(r.app_name for r, _ in paused)
                self._notice(f"Paused {names}: this connection uses mobile data. It resumes on Wi-Fi.")
            return
        with self._lock:
            waiting = [r for r in self._records.values() if r.push_state is S.WAITING_FOR_WIFI or r.prompt == PROMPT_METERED]
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
        except Exception as exc:  # noqa: BLE001 - whatever happens, the push must not hang
            log.exception("push %s failed", rec.push_id)
            self._fail(rec, job, f"unexpected error: {exc}")
        finally:
            with self._lock:
                if self._jobs.get(rec.push_id) is job:
                    del self._jobs[rec.push_id]
                rec.speed = rec.eta = None
            self._changed(rec.push_id)

    def _download_and_install(self, rec: PushRecord, job: _Job) -> None:
        try:
            package = self._resolve_package(rec)
        except (RelayError, ProtocolError) as exc:
            self._fail(rec, job, f"no package for this device: {getattr(exc, 'message', exc)}")
            return
        url, headers = self._request_for(package.url)
        meter = self._meters.setdefault(rec.push_id, ProgressMeter())
        meter.reset()
        engine = PackageDownload(
            url,
            self._part_path(rec),
            headers=headers,
            expected_size=package.size,
            progress=lambda done, total: self._on_progress(rec, job, done, total),
            **self.download_options,
        )
        with self._lock:
            if job.stop:
                return
            job.engine = engine
        try:
            result = engine.run()
        except DownloadError as exc:
            self._fail(rec, job, exc.reason)
            return
        if result.outcome is not DownloadOutcome.COMPLETE:
            return  # whoever paused or cancelled has already set the state
        self._verify_and_install(rec, job, package, result.path, result.sha256)

    def _resolve_package(self, rec: PushRecord) -> PackageRef:
        """The package this device should fetch: the push's, another of the app's, or the catalog's."""
        wanted = formats_for(self.device_platform)
        pkg = rec.package_ref
        if pkg and pkg.format in wanted:
            return pkg
        info = rec.install_info
        fmt = choose_format(self.device_platform, info.formats)
        if fmt:
            pkg = info.package_for(fmt)
        else:
            client = self.client()
            if client is None:
                raise RelayError(None, "offline", "not logged in to a relay")
            url = client.package_url_for(info.id, self.device_platform)
            fmt = format_from_filename(url) or (wanted[0] if wanted else None)
            if fmt is None:
                raise ProtocolError("package", f"no package format for {self.device_platform}")
            pkg = PackageRef(format=fmt, url=url, sha256=None, size=info.size)
        with self._lock:
            rec.package = pkg.to_dict()
            self._save(rec)
        return pkg

    def _request_for(self, url: str) -> tuple[str, dict]:
        """The absolute URL of a package and the headers to send: the token only to the relay."""
        client = self.client()
        if client is None:
            return url, {}
        absolute = client.absolute_url(url)
        same_host = _origin(absolute) == _origin(client.base_url)
        return absolute, (client._headers() if same_host else {})

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

    def _verify_and_install(self, rec: PushRecord, job: _Job, package: PackageRef, path: Path, sha256: str | None) -> None:
        with self._lock:
            if job.stop:
                return
            self._set(rec, S.VERIFYING, notice=None)
        expected = package.sha256 or (rec.package or {}).get("sha256")
        if expected and sha256 != expected:
            discard_partial(path)  # a corrupt file must not be resumed
            with self._lock:
                rec.bytes_done = 0
            self._fail(rec, job, "the package does not match its SHA-256 checksum")
            return
        if package.format not in formats_for(self.device_platform):
            self._fail(rec, job, f"this device cannot install .{package.format} packages")
            return
        self._set(rec, S.INSTALLING)
        try:
            installed = self.platform.installer.install(path, rec.install_info, package.format, sha256)
        except InstallError as exc:
            self._fail(rec, job, str(exc))
            return
        discard_partial(path)
        self._set(rec, S.INSTALLED, notice=f"Version {installed.version or '?'} installed")
        self._notice(f"{rec.app_name} installed", key=rec.push_id)

    def _fail(self, rec: PushRecord, job: _Job, reason: str) -> None:
        with self._lock:
            if job.stop or rec.push_state not in (S.DOWNLOADING, S.VERIFYING, S.INSTALLING, S.DELIVERED):
                return
            self._set(rec, S.FAILED, detail=reason, notice=None)
        self._notice(f"{rec.app_name}: {reason}", key=rec.push_id)

    # ------------------------------------------------------------------ state changes

    def _set(self, rec: PushRecord, state: PushState, *, detail: str | None = None, notice: str | None = "", **extra) -> None:
        """Move ``rec`` to ``state``: store, report, tell listeners. Rejects impossible moves."""
        with self._lock:
            current = rec.push_state
            if current is not state or state is S.DOWNLOADING:
                if current is not state and not can_transition(current, state):
                    log.warning("push %s: ignoring %s -> %s", rec.push_id, current, state)
                    return
            else:
                return  # nothing new to say
            rec.state = str(state)
            rec.detail = detail
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


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()

