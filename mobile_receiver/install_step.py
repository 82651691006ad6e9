"""After the last byte: verify the package (SHA-256, a format this device installs, the
package check) and hand it to the platform's installer.

A package that fails a check never reaches the installer; its push fails with the sentence
``verify.py`` wrote. The partial file is deleted only once the app is installed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mobile_receiver import failures, verify
from mobile_receiver.download import discard_partial
from mobile_receiver.failures import Failure
from mobile_receiver.i18n import N_, _
from mobile_receiver.inbox_news import InboxNews
from mobile_receiver.platform.base import DevicePlatform, InstallError
from mobile_receiver.record import PushRecord
from mobile_receiver.said import say
from mobile_receiver.state_changes import StateChanges
from shared.messages import PackageRef
from shared.protocol import PushState

if TYPE_CHECKING:
    from mobile_receiver.download_jobs import Job

log = logging.getLogger("mobile_receiver.inbox")

S = PushState


class InstallStep:
    """Verifying then installing one downloaded package."""

    def __init__(
        self,
        states: StateChanges,
        news: InboxNews,
        platform: DevicePlatform,
        device_platform: str,
        *,
        fail: Callable[[PushRecord, Job, Failure], None],
    ):
        self.states = states
        self.news = news
        self.platform = platform
        self.device_platform = device_platform
        self.fail = fail

    def run(
        self, rec: PushRecord, job: Job, package: PackageRef, path: Path, sha256: str | None, mismatch: Failure | None
    ) -> None:
        """``mismatch``: the checksum's verdict, already taken by the download."""
        with self.states.book.lock:
            if job.stop:
                return
            self.states.move(rec, S.VERIFYING, notice=None)
        problem = mismatch or verify.package_problem(path, package.format, self.device_platform)
        if problem is not None:
            self.fail(rec, job, problem)
            return
        self.states.move(rec, S.INSTALLING)
        try:
            installed = self.platform.installer.install(path, rec.install_info, package.format, sha256)
        except InstallError as exc:
            log.warning("installing push %s failed: %s", rec.push_id, exc)
            self.fail(rec, job, failures.install_failed(str(exc)))
            return
        discard_partial(path)
        notice = say(N_("Version {version} installed"), version=installed.version) if installed.version else None
        self.states.move(rec, S.INSTALLED, notice=notice)
        self.news.notice(_("{app} installed").format(app=rec.app_name), key=rec.push_id)
