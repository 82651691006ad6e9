"""Mobile data: ask before downloading on a metered connection, or wait for Wi-Fi; pause
downloads when the connection turns metered and resume them when Wi-Fi is back [0081-0083].

It also keeps what the network monitor last said (connected? metered?), which the download
threads read to explain a failure ("no network" rather than "the server is down").
"""

from __future__ import annotations

from collections.abc import Callable

from babel.lists import format_list

from mobile_receiver import situations
from mobile_receiver.download_jobs import DownloadJobs
from mobile_receiver.i18n import N_, _, language
from mobile_receiver.inbox_news import InboxNews
from mobile_receiver.platform.base import DevicePlatform, NetworkStatus
from mobile_receiver.push_book import PushBook
from mobile_receiver.record import PROMPT_METERED, PushRecord
from mobile_receiver.reporter import Reporter
from mobile_receiver.said import say
from mobile_receiver.state_changes import StateChanges
from shared.formatting import megabytes
from shared.protocol import PushState, Situation

S = PushState

WAITING_FOR_WIFI = say(N_("Waiting for Wi-Fi (this connection is metered)"))


class MeteredPolicy:
    """Whether a download may start on this network, and what a change of network does."""

    def __init__(
        self,
        book: PushBook,
        states: StateChanges,
        news: InboxNews,
        reporter: Reporter,
        platform: DevicePlatform,
        jobs: DownloadJobs,
        *,
        wifi_only: Callable[[], bool],
        can_ask: bool,
    ):
        self.book = book
        self.states = states
        self.news = news
        self.reporter = reporter
        self.network = platform.network
        self.jobs = jobs
        self.wifi_only = wifi_only
        #: False when nobody can answer the metered question (headless): wait for Wi-Fi instead.
        self.can_ask = can_ask
        self.network_connected = True
        self.metered = False

    def watch(self) -> None:
        """Take the network's state now and follow its changes."""
        status = self.network.status()
        self.network_connected, self.metered = status.connected, status.metered
        self.network.subscribe(self.on_network)

    def unwatch(self) -> None:
        self.network.unsubscribe(self.on_network)

    def begin(self, rec: PushRecord) -> None:
        """Start (or restart) a download, asking first or waiting for Wi-Fi on mobile data."""
        if self.network.is_metered() and not rec.allow_metered:
            if self.wifi_only() or not self.can_ask:
                if rec.push_state is not S.WAITING_FOR_WIFI:
                    self.states.move(rec, S.WAITING_FOR_WIFI, notice=WAITING_FOR_WIFI)
                return
            with self.book.lock:
                rec.prompt = PROMPT_METERED
                rec.keep_notice(say(N_("Will use {size} of mobile data"), size=megabytes(rec.size)))
                situations.tell(self.reporter, rec, Situation.ASKING_ABOUT_MOBILE_DATA)
                self.book.save(rec)
            self.news.changed(rec.push_id)
            return
        self.jobs.start(rec)

    def restore(self, rec: PushRecord) -> None:
        """A download the last run left running or waiting for Wi-Fi: go on if this network allows."""
        if rec.push_state is S.DOWNLOADING:
            if self.network.is_metered() and not rec.allow_metered:
                self.states.move(rec, S.WAITING_FOR_WIFI, notice=WAITING_FOR_WIFI)
            else:
                self.jobs.start(rec)
        elif rec.push_state is S.WAITING_FOR_WIFI and not self.network.is_metered():
            self.jobs.start(rec)

    def wait_for_wifi(self, rec: PushRecord) -> None:
        """The user chose to wait for Wi-Fi (which may be back already)."""
        self.states.move(rec, S.WAITING_FOR_WIFI, notice=say(N_("Starts when Wi-Fi is back")))
        if not self.network.is_metered():  # Wi-Fi came back while the dialog was open
            self.jobs.start(rec)

    def on_network(self, status: NetworkStatus) -> None:
        """Pause downloads when the network turns metered, resume them on Wi-Fi [0083]; when
        a network comes back (or changes), downloads waiting to try again try at once."""
        with self.book.lock:
            was_metered, was_connected = self.metered, self.network_connected
            self.network_connected = status.connected
            if status.connected:
                self.metered = status.metered
        if not status.connected:
            return  # nothing downloads without a network: running downloads wait and retry
        self.jobs.wake_all()
        if was_connected and status.metered == was_metered:
            return  # connectivity changed, the kind of network did not
        if status.metered:
            self._pause_for_wifi()
        else:
            self._resume_on_wifi()

    def _pause_for_wifi(self) -> None:
        paused = []
        with self.book.lock:
            for rec in self.book.all():
                if rec.push_state is S.DOWNLOADING and not rec.allow_metered:
                    self.states.move(
                        rec, S.WAITING_FOR_WIFI, notice=say(N_("Paused: the connection is metered. Resumes on Wi-Fi."))
                    )
                    paused.append((rec, self.jobs.get(rec.push_id)))
        for _rec, job in paused:
            self.jobs.stop(job, "wait")
        if paused:
            names = format_list([r.app_name for r, _job in paused], locale=language())
            self.news.notice(
                _("Paused {apps}: this connection uses mobile data. It resumes on Wi-Fi.").format(apps=names)
            )

    def _resume_on_wifi(self) -> None:
        with self.book.lock:
            waiting = [r for r in self.book.all() if r.push_state is S.WAITING_FOR_WIFI or r.prompt == PROMPT_METERED]
        for rec in waiting:
            with self.book.lock:
                if rec.prompt == PROMPT_METERED:
                    rec.prompt = None
            self.jobs.start(rec)
        if waiting:
            self.news.notice(_("Back on Wi-Fi: downloads resumed"))
