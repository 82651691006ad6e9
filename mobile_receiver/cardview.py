"""What one push's card on the app-message page says and offers [0130, 0138]. Kivy-free.

The Kivy card only draws a :class:`CardView`; everything a user reads and every button
they get is decided here, so it is tested without a window. The state chip holds a few
words; why a push failed or waits is a sentence in the notice, which wraps. Views depend on
the time (how long ago a push came, "Retrying in 4 s"): the screen asks for them again
every second.

Every word here is in the language spoken now (``mobile_receiver.i18n``), and the numbers,
sizes and times follow its CLDR rules (``shared.formatting.local_*``). The chip's words are
written here rather than taken from ``PushRecord.label`` (English, for the log and the sender).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mobile_receiver.i18n import N_, _, language
from mobile_receiver.record import PROMPT_DOWNLOAD, PROMPT_METERED, PushRecord
from shared.formatting import local_duration, local_megabytes, local_size, local_speed, local_when
from shared.protocol import PushState, Situation

if TYPE_CHECKING:
    from mobile_receiver.inbox import Inbox

S = PushState

# Button actions (INBOX_ACTIONS below says what each does).
DOWNLOAD, DISMISS, PAUSE, RESUME, CANCEL, RETRY, USE_MOBILE_DATA, REMOVE = (
    "download",
    "dismiss",
    "pause",
    "resume",
    "cancel",
    "retry",
    "use_mobile_data",
    "forget",
)
#: Not an inbox method: the card opens or closes the notice's details (the fingerprint to compare).
DETAILS = "details"
#: A push this phone's user cancelled or dismissed, fetched after all.
DOWNLOAD_AGAIN = "download_again"

#: button -> what pressing it does to the inbox, resolved here once (a renamed Inbox method
#: breaks this table, where the type checker and the tests see it, not a tap at run time).
#: DETAILS is not here: the card itself opens and closes the notice's details.
INBOX_ACTIONS: dict[str, Callable[[Inbox, str], None]] = {
    DOWNLOAD: lambda inbox, push_id: inbox.download(push_id),
    DISMISS: lambda inbox, push_id: inbox.dismiss(push_id),
    PAUSE: lambda inbox, push_id: inbox.pause(push_id),
    RESUME: lambda inbox, push_id: inbox.resume(push_id),
    CANCEL: lambda inbox, push_id: inbox.cancel(push_id),
    RETRY: lambda inbox, push_id: inbox.retry(push_id),
    USE_MOBILE_DATA: lambda inbox, push_id: inbox.use_mobile_data(push_id),
    REMOVE: lambda inbox, push_id: inbox.forget(push_id),
    DOWNLOAD_AGAIN: lambda inbox, push_id: inbox.download_again(push_id),
}

#: button -> its words in English (the catalog's key): ``button_text`` says them in the language spoken now.
BUTTON_TEXT = {
    DOWNLOAD: N_("Download"),
    DISMISS: N_("Dismiss"),
    PAUSE: N_("Pause"),
    RESUME: N_("Resume"),
    CANCEL: N_("Cancel"),
    RETRY: N_("Retry"),
    USE_MOBILE_DATA: N_("Use mobile data"),
    REMOVE: N_("Remove"),
    DETAILS: N_("Details"),
    DOWNLOAD_AGAIN: N_("Download again"),
}

#: The chip's words for each state (short: why is a sentence in the notice).
STATE_TEXT = {
    S.QUEUED: N_("Queued (device offline)"),
    S.SENT: N_("Sent"),
    S.DELIVERED: N_("Starting"),
    S.WAITING_FOR_WIFI: N_("Waiting for Wi-Fi"),
    S.DOWNLOADING: N_("Downloading"),
    S.PAUSED: N_("Paused"),
    S.VERIFYING: N_("Verifying"),
    S.INSTALLING: N_("Installing"),
    S.INSTALLED: N_("Installed"),
    S.ALREADY_INSTALLED: N_("Already installed"),
    S.DECLINED: N_("Declined"),
    S.FAILED: N_("Failed"),
    S.CANCELLED: N_("Cancelled"),
    S.EXPIRED: N_("Expired"),
}
WAITING_TEXT = {
    Situation.ASKING_ABOUT_MOBILE_DATA: N_("Asking about mobile data"),
    Situation.WAITING_FOR_RELAY: N_("Waiting for the relay"),
    Situation.WAITING_FOR_SERVER: N_("Waiting for the download server"),
    Situation.NO_CONNECTION: N_("No connection"),
}
#: Sentences other modules store on a push in English (``inbox.py``): shown translated.
STORED_SENTENCES = (N_("The sender withdrew this app"),)


def button_text(action: str) -> str:
    """A card button's words in the language spoken now."""
    return _(BUTTON_TEXT[action])


@dataclass(frozen=True)
class CardView:
    """The texts and controls of one card."""

    push_id: str
    app_id: str
    title: str
    subtitle: str  # version and size
    origin: str  # who sent it, from which device, when
    state: str  # PushState value (for the colour)
    state_text: str  # the state in words
    show_progress: bool
    progress: float  # 0..1
    progress_text: str  # "12.3 MB of 41.2 MB · 2.1 MB/s · 14 s left"
    notice: str
    actions: tuple[str, ...]  # first is the main one
    icon_url: str | None
    waiting: bool = False  # held up by something passing (the relay, a server, the network): amber
    details: str = ""  # behind the Details button: the fingerprint to compare before trusting

    @property
    def layout_key(self) -> tuple[str, bool, tuple[str, ...], bool]:
        """Changes when the card's shape changes (not on every progress tick)."""
        return (self.state, self.show_progress, self.actions, bool(self.notice))


def human_size(n: int | None) -> str:
    """``41.2 MB`` with a no-break space, in the language spoken now: a wrapped line never
    leaves "MB" alone."""
    return local_size(n, language()).replace(" ", "\u00a0")


def state_text(rec: PushRecord) -> str:
    """The chip: ``Ready to download``, ``Downloading 42%``, ``Waiting for the relay``..."""
    if rec.prompt == PROMPT_DOWNLOAD:
        return _("Ready to download")
    if rec.prompt == PROMPT_METERED:
        return _("Uses mobile data")
    if rec.waiting_for is not None:
        return _(WAITING_TEXT[rec.waiting_for])
    state = rec.push_state
    if state is S.DOWNLOADING and rec.percent is not None:
        from babel.numbers import format_percent

        return _("Downloading {percent}").format(percent=format_percent(rec.percent / 100, locale=language()))
    return _(STATE_TEXT[state])


def origin_text(rec: PushRecord, now: float) -> str:
    """Who sent it, from which device, and when: ``From anna on Anna's laptop · 5 min. ago``."""
    sender = rec.sender or {}
    who = sender.get("username")
    device = sender.get("device_name") or sender.get("device_id")
    if who and device:
        origin = _("From {user} on {device}").format(user=who, device=device)
    elif who:
        origin = _("From {user}").format(user=who)
    else:
        origin = _("From someone")
    when = local_when(rec.created_at, language(), just_now=_("just now"), now=datetime.fromtimestamp(now, UTC))
    return f"{origin} · {when}" if when else origin


def card_view(rec: PushRecord, now: float | None = None) -> CardView:
    """The card for ``rec`` as it stands at ``now`` (``time.time()``; default: now)."""
    now = time.time() if now is None else now
    state = rec.push_state
    app = rec.app
    version = app.get("version")
    subtitle = " · ".join(
        x
        for x in (
            _("Version {version}").format(version=version) if version else "",
            human_size(rec.size) if rec.size else "",
        )
        if x
    )
    origin = origin_text(rec, now)

    show_progress = state in (S.DOWNLOADING, S.PAUSED, S.WAITING_FOR_WIFI, S.VERIFYING, S.INSTALLING) or (
        state is S.FAILED and rec.bytes_done > 0
    )
    total = rec.size
    progress = min(1.0, rec.bytes_done / total) if total else 0.0
    if state in (S.VERIFYING, S.INSTALLING):
        progress = 1.0
    parts = []
    if show_progress and state not in (S.VERIFYING, S.INSTALLING):
        done = human_size(rec.bytes_done)
        parts.append(_("{done} of {total}").format(done=done, total=human_size(total)) if total else done)
        if state is S.DOWNLOADING:
            speed = local_speed(rec.speed, language())
            left = local_duration(rec.eta, language())
            parts += [
                p.replace(" ", "\u00a0") for p in (speed, _("{time} left").format(time=left) if left else "") if p
            ]

    details = rec.details_text()
    if rec.prompt == PROMPT_DOWNLOAD:
        actions: tuple[str, ...] = (DOWNLOAD, DISMISS) + ((DETAILS,) if details else ())
    elif rec.prompt == PROMPT_METERED:
        actions = (USE_MOBILE_DATA, CANCEL)
    elif state is S.DOWNLOADING:
        actions = (PAUSE, CANCEL)
    elif state is S.PAUSED:
        actions = (RESUME, CANCEL)
    elif state is S.WAITING_FOR_WIFI:
        actions = (USE_MOBILE_DATA, CANCEL)  # nothing is downloading: there is nothing to pause
    elif state is S.FAILED:
        actions = (RETRY, CANCEL)
    elif state is S.DECLINED and not rec.package_gone:  # this phone's user cancelled or dismissed it: by mistake?
        actions = (DOWNLOAD_AGAIN, REMOVE)
    elif rec.is_final:
        actions = (REMOVE,)
    else:
        actions = ()
    return CardView(
        push_id=rec.push_id,
        app_id=app["id"],
        title=rec.app_name,
        subtitle=subtitle,
        origin=origin,
        state=rec.state,
        state_text=state_text(rec),
        show_progress=show_progress,
        progress=progress,
        progress_text=" · ".join(parts),
        notice=_notice(rec, now),
        actions=actions,
        icon_url=app.get("icon_url"),
        waiting=rec.waiting_for is not None,
        details=details if DETAILS in actions else "",
    )


def _stored(sentence: str | None) -> str:
    """A sentence kept on the push, in the language spoken now when the catalog knows it."""
    return _(sentence) if sentence else ""


def _notice(rec: PushRecord, now: float) -> str:
    """The sentence under the state: why it failed, what it waits for and when it tries again.

    A sentence stored in English by a module that speaks no language of its own is translated
    when the catalog has it (``_()`` leaves any other sentence as it is)."""
    if rec.push_state is S.FAILED:
        return _stored(rec.notice_text() or rec.detail)
    if rec.prompt == PROMPT_METERED:
        size = local_megabytes(rec.size, language())
        if size is None:
            return _("Will use mobile data (the size is not known)")
        return _("Will use {size} of mobile data").format(size=size.replace(" ", "\u00a0"))
    text = _stored(rec.notice_text())
    if rec.waiting_for is not None and rec.retry_at is not None:
        left = round(rec.retry_at - now)
        if left >= 1:  # "3 s": the number and its unit never split over two lines
            again = _("Retrying in {seconds}\u00a0s.").format(seconds=left)
            text = then(text, again)
        else:
            text = then(text, _("Retrying now."))
    return text.strip()


def then(first: str, second: str) -> str:
    """Two sentences one after the other: a space after a Latin full stop, none after a
    full-width one (``…没有响应。7 秒后重试。``), as each script writes them."""
    if not first:
        return second
    return f"{first}{second}" if first.rstrip()[-1:] in "。！？：" else f"{first} {second}"
