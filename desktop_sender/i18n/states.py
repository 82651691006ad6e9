"""A push's state in the user's language, for the Pushes panel.

``shared.protocol.state_label`` says the same in English for every part (the receiver and the
CLI use it); the window translates here instead, with the same rules, so English reads exactly
as before. ``detail`` is what the device reported (a reason from the phone): it is shown as the
phone said it.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from desktop_sender.i18n import QT_TRANSLATE_NOOP
from shared.protocol import PushState, Situation

_CONTEXT = "PushState"

_LABELS = {
    PushState.QUEUED: QT_TRANSLATE_NOOP("PushState", "Queued (device offline)"),
    PushState.SENT: QT_TRANSLATE_NOOP("PushState", "Sent"),
    PushState.DELIVERED: QT_TRANSLATE_NOOP("PushState", "Delivered"),
    PushState.WAITING_FOR_WIFI: QT_TRANSLATE_NOOP("PushState", "Waiting for Wi-Fi"),
    PushState.DOWNLOADING: QT_TRANSLATE_NOOP("PushState", "Downloading"),
    PushState.PAUSED: QT_TRANSLATE_NOOP("PushState", "Paused"),
    PushState.VERIFYING: QT_TRANSLATE_NOOP("PushState", "Verifying"),
    PushState.INSTALLING: QT_TRANSLATE_NOOP("PushState", "Installing"),
    PushState.INSTALLED: QT_TRANSLATE_NOOP("PushState", "Installed"),
    PushState.ALREADY_INSTALLED: QT_TRANSLATE_NOOP("PushState", "Already installed"),
    PushState.DECLINED: QT_TRANSLATE_NOOP("PushState", "Declined"),
    PushState.FAILED: QT_TRANSLATE_NOOP("PushState", "Failed"),
    PushState.CANCELLED: QT_TRANSLATE_NOOP("PushState", "Cancelled"),
    PushState.EXPIRED: QT_TRANSLATE_NOOP("PushState", "Expired"),
}

_SITUATIONS = {
    Situation.ASKING_ABOUT_MOBILE_DATA: QT_TRANSLATE_NOOP("PushState", "Asking about mobile data"),
    Situation.WAITING_FOR_RELAY: QT_TRANSLATE_NOOP("PushState", "Waiting for the relay"),
    Situation.WAITING_FOR_SERVER: QT_TRANSLATE_NOOP("PushState", "Waiting for the download server"),
    Situation.NO_CONNECTION: QT_TRANSLATE_NOOP("PushState", "No connection"),
}


def push_state_text(state: PushState | str, percent: int | None = None, detail: str | None = None) -> str:
    """``Downloading 42%``, ``Failed: no space``, ``Waiting for the relay``..., translated."""
    from desktop_sender.i18n.formats import local_percent

    state = PushState(state)
    if state is PushState.DOWNLOADING and percent is not None:
        return QCoreApplication.translate("PushState", "Downloading {percent}").format(percent=local_percent(percent))
    if state is PushState.PAUSED and detail is not None and detail in {s.value for s in _SITUATIONS}:
        return QCoreApplication.translate(_CONTEXT, _SITUATIONS[Situation(detail)])
    if state is PushState.FAILED and detail:
        return QCoreApplication.translate("PushState", "Failed: {reason}").format(reason=detail)
    if state is PushState.DELIVERED and detail:
        # e.g. waiting for the user: the push could not install by itself
        return QCoreApplication.translate("PushState", "Delivered, {detail}").format(detail=detail)
    return QCoreApplication.translate(_CONTEXT, _LABELS[state])
