"""Colours of the receiver, in one place (RGBA, 0-1). Kivy-free."""

from shared.protocol import PushState

BACKGROUND = (0.953, 0.961, 0.976, 1)
SURFACE = (1, 1, 1, 1)
PRIMARY = (0.161, 0.384, 1.0, 1)  # #2962FF
PRIMARY_DARK = (0.114, 0.29, 0.82, 1)
TEXT = (0.122, 0.141, 0.188, 1)
TEXT_SECONDARY = (0.42, 0.447, 0.502, 1)
DIVIDER = (0.89, 0.906, 0.925, 1)
GREEN = (0.118, 0.62, 0.353, 1)
AMBER = (0.86, 0.55, 0.0, 1)
RED = (0.851, 0.22, 0.22, 1)
GREY = (0.55, 0.58, 0.62, 1)
#: Quiet buttons (Remove, Dismiss, Decline, Cancel in a dialog): a dark slate, so they read as
#: buttons one may press; GREY on its own light tint looked disabled.
NEUTRAL = (0.29, 0.32, 0.37, 1)

#: The colour of each push state's chip and progress bar.
STATE_COLOURS = {
    PushState.DELIVERED: PRIMARY,
    PushState.WAITING_FOR_WIFI: AMBER,
    PushState.DOWNLOADING: PRIMARY,
    PushState.PAUSED: AMBER,
    PushState.VERIFYING: PRIMARY,
    PushState.INSTALLING: PRIMARY,
    PushState.INSTALLED: GREEN,
    PushState.ALREADY_INSTALLED: GREEN,
    PushState.DECLINED: GREY,
    PushState.FAILED: RED,
    PushState.CANCELLED: GREY,
    PushState.EXPIRED: GREY,
    PushState.QUEUED: GREY,
    PushState.SENT: GREY,
}

#: Placeholder icon colours, picked by app id so an app keeps its colour.
PLACEHOLDERS = [
    (0.36, 0.42, 0.75, 1),
    (0.0, 0.59, 0.53, 1),
    (0.91, 0.44, 0.18, 1),
    (0.61, 0.15, 0.69, 1),
    (0.13, 0.59, 0.95, 1),
    (0.47, 0.33, 0.28, 1),
]


def placeholder_colour(app_id: str) -> tuple[float, ...]:
    return PLACEHOLDERS[sum(map(ord, app_id)) % len(PLACEHOLDERS)]
