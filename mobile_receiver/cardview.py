"""What one push's card on the app-message page says and offers [0130, 0138]. Kivy-free.

The Kivy card only draws a :class:`CardView`; everything a user reads and every button
they get is decided here, so it is tested without a window. The state chip holds a few
words; why a push failed or waits is a sentence in the notice, which wraps. Views depend on
the time (how long ago a push came, "Retrying in 4 s"): the screen asks for them again
every second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mobile_receiver.record import PROMPT_DOWNLOAD, PROMPT_METERED, PushRecord
from shared.formatting import human_eta, human_speed, human_when
from shared.formatting import human_size as _human_size
from shared.protocol import PushState

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

BUTTON_TEXT = {
    DOWNLOAD: "Download",
    DISMISS: "Dismiss",
    PAUSE: "Pause",
    RESUME: "Resume",
    CANCEL: "Cancel",
    RETRY: "Retry",
    USE_MOBILE_DATA: "Use mobile data",
    REMOVE: "Remove",
    DETAILS: "Details",
    DOWNLOAD_AGAIN: "Download again",
}


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
    def layout_key(self) -> tuple:
        """Changes when the card's shape changes (not on every progress tick)."""
        return (self.state, self.show_progress, self.actions, bool(self.notice))


def human_size(n: int | None) -> str:
    """``41.2 MB`` with a no-break space: a wrapped line never leaves "MB" alone."""
    return _human_size(n).replace(" ", "\u00a0")


def card_view(rec: PushRecord, now: float | None = None) -> CardView:
    """The card for ``rec`` as it stands at ``now`` (``time.time()``; default: now)."""
    now = time.time() if now is None else now
    state = rec.push_state
    app = rec.app
    version = app.get("version")
    subtitle = " · ".join(
        x for x in (f"Version {version}" if version else "", human_size(rec.size) if rec.size else "") if x
    )
    sender = rec.sender or {}
    who = sender.get("username") or "someone"
    device = sender.get("device_name") or sender.get("device_id")
    when = human_when(rec.created_at, datetime.fromtimestamp(now, UTC))
    origin = f"From {who}" + (f" on {device}" if device else "") + f" · {when}"

    show_progress = state in (S.DOWNLOADING, S.PAUSED, S.WAITING_FOR_WIFI, S.VERIFYING, S.INSTALLING) or (
        state is S.FAILED and rec.bytes_done > 0
    )
    total = rec.size
    progress = min(1.0, rec.bytes_done / total) if total else 0.0
    if state in (S.VERIFYING, S.INSTALLING):
        progress = 1.0
    parts = []
    if show_progress and state not in (S.VERIFYING, S.INSTALLING):
        parts.append(f"{human_size(rec.bytes_done)} of {human_size(total)}" if total else human_size(rec.bytes_done))
        if state is S.DOWNLOADING:
            parts += [p.replace(" ", "\u00a0") for p in (human_speed(rec.speed), human_eta(rec.eta)) if p]

    details = rec.downgraded_details or ""
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
        state_text=rec.label,
        show_progress=show_progress,
        progress=progress,
        progress_text=" · ".join(parts),
        notice=_notice(rec, now),
        actions=actions,
        icon_url=app.get("icon_url"),
        waiting=rec.waiting_for is not None,
        details=details if DETAILS in actions else "",
    )


def _notice(rec: PushRecord, now: float) -> str:
    """The sentence under the state: why it failed, what it waits for and when it tries again."""
    if rec.push_state is S.FAILED:
        return rec.notice or rec.detail or ""
    text = rec.notice or ""
    if rec.waiting_for is not None and rec.retry_at is not None:
        left = round(rec.retry_at - now)
        text = f"{text} Retrying in {left}\u00a0s." if left >= 1 else f"{text} Retrying now."  # "3 s" not split
    return text.strip()
