"""The download threads: one per push that is downloading, from asking the relay for the package
to the last byte, with the passing failures it waits out and the permanent ones it stops at.

A job's thread first waits for the job before it on the same push (a pause then a resume, or a
failure being unwound), because both would write the same ``.part`` file. Pause, cancel and
"wait for Wi-Fi" set ``job.stop`` first and then stop the engine, so a thread that has not
started its engine yet stops as well. A complete file goes on to ``install_step.py``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mobile_receiver import failures, packages, situations, verify
from mobile_receiver.download import DownloadError, DownloadOutcome, PackageDownload, discard_partial
from mobile_receiver.failures import Failure, Where
from mobile_receiver.i18n import _
from mobile_receiver.inbox_news import InboxNews
from mobile_receiver.install_step import InstallStep
from mobile_receiver.platform.base import DevicePlatform
from mobile_receiver.progress_throttle import ProgressThrottle
from mobile_receiver.push_book import PushBook
from mobile_receiver.record import PushRecord
from mobile_receiver.reporter import Reporter
from mobile_receiver.retry import Stopped, Wake
from mobile_receiver.state_changes import StateChanges
from shared.messages import PackageRef
from shared.protocol import ProtocolError, PushState
from shared.relay_client import RelayClient
from shared.relay_errors import RelayError

log = logging.getLogger("mobile_receiver.inbox")

S = PushState


class Job:
    """One running download of one push."""

    def __init__(self, previous: Job | None):
        self.previous = previous
        self.thread: threading.Thread | None = None
        self.engine: PackageDownload | None = None
        self.stop: str | None = None  # "pause" | "cancel" | "wait", set before the engine exists
        self.wake = Wake()  # the waits before the engine exists (asking the relay for the package)
        self.failures = 0  # passing failures in a row


class DownloadJobs:
    """The running downloads by push id, and what each one's thread does."""

    def __init__(
        self,
        book: PushBook,
        states: StateChanges,
        news: InboxNews,
        throttle: ProgressThrottle,
        reporter: Reporter,
        platform: DevicePlatform,
        device_platform: str,
        client: Callable[[], RelayClient | None],
        downloads_dir: Path,
        *,
        download_options: dict[str, Any],
        relay_connected: Callable[[], bool],
        network_connected: Callable[[], bool],
    ):
        self.book = book
        self.states = states
        self.news = news
        self.throttle = throttle
        self.reporter = reporter
        self.device_platform = device_platform
        self.client = client
        self.downloads_dir = downloads_dir
        self.download_options = download_options
        self.relay_connected = relay_connected
        self.network_connected = network_connected
        self.install = InstallStep(states, news, platform, device_platform, fail=self.fail)
        self._jobs: dict[str, Job] = {}

    # ------------------------------------------------------------------ the running jobs

    def get(self, push_id: str) -> Job | None:
        with self.book.lock:
            return self._jobs.get(push_id)

    def running(self) -> list[Job]:
        with self.book.lock:
            return list(self._jobs.values())

    def is_active(self, push_id: str) -> bool:
        """True while a download thread runs for the push."""
        with self.book.lock:
            job = self._jobs.get(push_id)
            return bool(job and job.thread and job.thread.is_alive())

    def wake_all(self) -> None:
        """Downloads waiting to try again try now."""
        for job in self.running():
            job.wake.wake()
            if job.engine is not None:
                job.engine.wake()

    def stop_all(self) -> None:
        """Stop every running download, keeping partial files, and wait for the threads."""
        jobs = self.running()
        for job in jobs:
            self.stop(job, job.stop or "shutdown")
        for job in jobs:
            if job.thread:
                job.thread.join(timeout=10)

    def start(self, rec: PushRecord) -> None:
        """Move ``rec`` to downloading and start its thread (unless one already runs)."""
        with self.book.lock:
            if rec.is_final:
                return
            old = self._jobs.get(rec.push_id)
            if old and old.thread and old.thread.is_alive() and old.stop is None and rec.push_state is S.DOWNLOADING:
                return  # already running (a job that just failed may still be unwinding: the new one waits for it)
            job = Job(previous=old)
            self._jobs[rec.push_id] = job
            self.states.move(rec, S.DOWNLOADING, notice=None, bytes_done=rec.bytes_done, bytes_total=rec.size)
            job.thread = threading.Thread(
                target=self._worker, args=(rec, job), name=f"download-{rec.push_id}", daemon=True
            )
            job.thread.start()

    def stop(self, job: Job | None, why: str) -> None:
        """Stop ``job`` for ``why`` ("pause", "cancel" deletes nothing here, "wait", "shutdown")."""
        if job is None:
            return
        with self.book.lock:
            job.stop = why
            engine = job.engine
        job.wake.stop()
        if engine is not None:
            engine.cancel() if why == "cancel" else engine.pause()

    def part_path(self, rec: PushRecord) -> Path:
        return self.downloads_dir / f"{rec.push_id}.part"

    # ------------------------------------------------------------------ one job's thread

    def _worker(self, rec: PushRecord, job: Job) -> None:
        if job.previous and job.previous.thread and job.previous.thread is not threading.current_thread():
            job.previous.thread.join()  # the old run must let go of the .part file first
        job.previous = None
        try:
            self._download_and_install(rec, job)
        except Exception:  # noqa: BLE001 - whatever happens, the push must not hang
            log.exception("push %s failed", rec.push_id)
            self.fail(rec, job, failures.unexpected())
        finally:
            with self.book.lock:
                if self._jobs.get(rec.push_id) is job:
                    del self._jobs[rec.push_id]
                rec.speed = rec.eta = rec.retry_at = rec.waiting = None
            self.news.changed(rec.push_id)

    def _download_and_install(self, rec: PushRecord, job: Job) -> None:
        package = self._package_for(rec, job)
        if package is None:
            return
        url, headers = packages.request_for(package.url, self.client())
        self.throttle.meter(rec.push_id).reset()

        def on_retry(error: DownloadError, seconds: float) -> None:
            self._waiting(rec, job, failures.download_failure(error, self._where(url)), seconds)

        fresh = False
        while True:
            engine = PackageDownload(
                url,
                self.part_path(rec),
                headers=headers,
                expected_size=package.size,
                progress=lambda done, total: self._on_progress(rec, job, done, total),
                on_retry=on_retry,
                **self.download_options,
            )
            with self.book.lock:
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
                    self.fail(rec, job, failures.download_failure(exc, where))
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
        self.install.run(rec, job, package, result.path, result.sha256, mismatch)

    def _package_for(self, rec: PushRecord, job: Job) -> PackageRef | None:
        """The package to fetch (asking the relay waits for it if need be), or None when it failed
        or the job was stopped."""

        def on_wait(error: RelayError, seconds: float) -> None:
            log.info("asking the relay for the package of %s failed (%s)", rec.push_id, error)
            self._waiting(
                rec,
                job,
                failures.relay_failure(error, self._relay_url(), network_connected=self.network_connected()),
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
            self.fail(rec, job, failures.relay_failure(exc, self._relay_url()))
            return None
        except ProtocolError as exc:
            log.warning("no package for push %s: %s", rec.push_id, exc)
            self.fail(rec, job, failures.no_package_for_device(verify.platform_label(self.device_platform)))
            return None
        with self.book.lock:
            rec.package = package.to_dict()
            self.book.save(rec)
        return package

    def _relay_url(self) -> str | None:
        client = self.client()
        return client.base_url if client is not None else None

    def _where(self, url: str) -> Where:
        return Where(
            url, self._relay_url(), relay_connected=self.relay_connected(), network_connected=self.network_connected()
        )

    # ------------------------------------------------------------------ what a job hears

    def _waiting(self, rec: PushRecord, job: Job, failure: Failure, seconds: float) -> None:
        """A passing failure: the download tries again in ``seconds``; the card says why."""
        with self.book.lock:
            if job.stop or rec.push_state is not S.DOWNLOADING:
                return
            job.failures += 1
            situations.waiting(self.reporter, rec, failure, seconds, job.failures)
            self.book.save(rec)
        self.news.changed(rec.push_id)

    def _went_on(self, rec: PushRecord) -> None:
        """Bytes are flowing again (or the download is complete): the wait is over."""
        with self.book.lock:
            job = self._jobs.get(rec.push_id)
            if job is not None:
                job.failures = 0
            if not situations.went_on(self.reporter, rec):
                return
            self.throttle.reported(rec.push_id)
            self.book.save(rec)
        self.news.changed(rec.push_id)

    def _on_progress(self, rec: PushRecord, job: Job, done: int, total: int | None) -> None:
        meter = self.throttle.meter(rec.push_id)
        meter.add(done)
        with self.book.lock:
            if job.stop or rec.push_state is not S.DOWNLOADING:
                return
            rec.bytes_done = done
            if total:
                rec.bytes_total = total
        self._went_on(rec)
        with self.book.lock:
            rec.speed = meter.speed
            rec.eta = meter.eta(rec.bytes_total)
            due = self.throttle.due(rec.push_id, done, total)
            if due.relay:
                self.book.save(rec)
                self.reporter.report(rec.push_id, S.DOWNLOADING, bytes_done=done, bytes_total=rec.bytes_total)
        if due.screens:
            self.news.changed(rec.push_id)

    def _package_gone(self, rec: PushRecord, job: Job, failure: Failure) -> None:
        """Download again found the relay's copy gone: the push is declined again, with the
        sentence (the sender sees it too and can Resend); Retry or Download again could not work."""
        with self.book.lock:
            if job.stop or rec.push_state is not S.DOWNLOADING:
                return
            rec.package_gone = True
            self.states.move(rec, S.DECLINED, detail=failure.sentence, notice=failure.sentence)
        discard_partial(self.part_path(rec))
        self.news.notice(not_installed(rec, failure), key=rec.push_id)

    def fail(self, rec: PushRecord, job: Job, failure: Failure) -> None:
        """A permanent failure: Failed, with the sentence (a package that must not be resumed is deleted)."""
        with self.book.lock:
            if job.stop or rec.push_state not in (S.DOWNLOADING, S.VERIFYING, S.INSTALLING, S.DELIVERED):
                return
            if failure.fresh_download:
                discard_partial(self.part_path(rec))  # what is on disk must not be resumed
                rec.bytes_done = 0
            self.states.move(rec, S.FAILED, detail=failure.sentence, notice=failure.sentence)
        self.news.notice(not_installed(rec, failure), key=rec.push_id)


def not_installed(rec: PushRecord, failure: Failure) -> str:
    """The notification after a push ended without its app: the app, then why (already a sentence)."""
    return _("{app} was not installed. {reason}").format(app=rec.app_name, reason=failure.sentence)
