"""The Appbeam wire protocol, defined once for the relay, the sender and the receiver.

The rules of what crosses the network: push modes, push states and which state may
follow which, stream event names, the platform to package-format table of the patent
[0059, 0074-0079], and the rules each field obeys (app ids, URLs, sizes, times, base64).
The shapes built from those fields (install information, push messages, the API's
answers) are in :mod:`shared.messages`. Parsing functions raise :class:`ProtocolError`
naming the bad field, so every part rejects bad input with the same clear message.

A little over 400 lines because it is the whole vocabulary in one place on purpose: states,
transitions, formats and field rules are read together.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from shared.i18n import Sentence, say

API_PREFIX = "/api/v1"


class ProtocolError(ValueError):
    """A message does not have the shape the protocol requires.

    ``message`` is an English template of the shared sentences (``shared.i18n``), its values
    named placeholders given as keywords (``"must be at most %(limit)s characters", limit=500``):
    the relay answers 400 ``invalid_field`` with ``said`` written in each request's language, and
    ``str()`` is the sentence in this process's language (what the sender and the phone show).
    ``.message`` and ``args`` stay English (logs, tests), byte for byte what they always were.
    """

    def __init__(self, field_name: str, message: str | Sentence, /, **values: object):
        problem = message if isinstance(message, Sentence) else say(message, **values)
        self.said = say("%(field)s: %(problem)s", field=field_name, problem=problem)
        super().__init__(self.said.text("en"))
        self.field = field_name
        self.message = problem.text("en")

    def __str__(self) -> str:
        return self.said.text()


# --------------------------------------------------------------------------- modes


class PushMode(StrEnum):
    """What the target device does when a push arrives [claims 2-4]."""

    INSTALL_NOW = "install_now"  # first flag: download and install at once
    NOTIFY = "notify"  # second flag: show a notice, install when the user taps


# --------------------------------------------------------------------------- states


class PushState(StrEnum):
    """Where one push to one device stands. The relay keeps it; the device reports it."""

    QUEUED = "queued"  # target offline: the relay keeps it (and a copy of the package)
    SENT = "sent"  # written to the target's open stream, not yet acknowledged
    DELIVERED = "delivered"  # the device stored it (the acknowledgement)
    WAITING_FOR_WIFI = "waiting_for_wifi"
    DOWNLOADING = "downloading"
    PAUSED = "paused"
    VERIFYING = "verifying"
    INSTALLING = "installing"
    INSTALLED = "installed"
    ALREADY_INSTALLED = "already_installed"
    DECLINED = "declined"  # the device's user said no (dismissed or cancelled)
    FAILED = "failed"  # with a reason in ``detail``; the device may retry
    CANCELLED = "cancelled"  # the sender withdrew it
    EXPIRED = "expired"  # queued too long without the device coming back


#: States in which the push still waits for the device to acknowledge it. Pushes in
#: these states are replayed on every (re)connect: delivery is at least once.
UNACKNOWLEDGED_STATES = frozenset({PushState.QUEUED, PushState.SENT})

#: States in which a push has ended: the sender stops waiting (``appbeam push --wait``), the
#: Pushes panel counts it finished (Clear finished hides it) and the relay's copy of its package
#: may be collected. Nothing more happens to it, except that a push in ``REOPENABLE_STATES``
#: may be re-opened by its own target device (see there).
FINAL_STATES = frozenset(
    {
        PushState.INSTALLED,
        PushState.ALREADY_INSTALLED,
        PushState.DECLINED,
        PushState.CANCELLED,
        PushState.EXPIRED,
    }
)

#: Final states that the push's target device may still leave, because it entered them itself:
#: the phone's user cancelled or dismissed the push and then taps Download again. Only the device
#: can report those exits (``TRANSITIONS[DECLINED]`` holds only states it reports), and only
#: while the relay still has the push and its package (the relay keeps the package of a declined
#: push for as long as it would keep a queued one, and answers 410 ``package_gone`` after that).
#: The sender's cancel and an expiry stay final for good.
REOPENABLE_STATES = frozenset({PushState.DECLINED})

#: States a target device may report with ``POST /pushes/<id>/events``.
DEVICE_REPORTED_STATES = frozenset(
    {
        PushState.DELIVERED,
        PushState.WAITING_FOR_WIFI,
        PushState.DOWNLOADING,
        PushState.PAUSED,
        PushState.VERIFYING,
        PushState.INSTALLING,
        PushState.INSTALLED,
        PushState.ALREADY_INSTALLED,
        PushState.DECLINED,
        PushState.FAILED,
    }
)

#: States from which the sender may still cancel (nothing is being installed yet).
CANCELLABLE_STATES = frozenset(
    {
        PushState.QUEUED,
        PushState.SENT,
        PushState.DELIVERED,
        PushState.WAITING_FOR_WIFI,
        PushState.DOWNLOADING,
        PushState.PAUSED,
        PushState.FAILED,
    }
)

_S = PushState
_BEFORE_DOWNLOAD = {_S.WAITING_FOR_WIFI, _S.DOWNLOADING, _S.DECLINED, _S.FAILED, _S.ALREADY_INSTALLED}
#: Which state may follow which. A device's first report acknowledges the push, so
#: from queued/sent every device-reported state is allowed. Final states have no exits, except
#: declined (``REOPENABLE_STATES``): Download again starts the download as a first Download tap
#: does (downloading, waiting for Wi-Fi, or paused while it asks about mobile data).
TRANSITIONS: Mapping[PushState, frozenset[PushState]] = {
    _S.QUEUED: frozenset(DEVICE_REPORTED_STATES | {_S.SENT, _S.CANCELLED, _S.EXPIRED}),
    _S.SENT: frozenset(DEVICE_REPORTED_STATES | {_S.CANCELLED, _S.EXPIRED}),
    _S.DELIVERED: frozenset(_BEFORE_DOWNLOAD | {_S.PAUSED, _S.VERIFYING, _S.CANCELLED}),
    _S.WAITING_FOR_WIFI: frozenset({_S.DOWNLOADING, _S.PAUSED, _S.DECLINED, _S.FAILED, _S.CANCELLED}),
    _S.DOWNLOADING: frozenset(
        {_S.DOWNLOADING, _S.PAUSED, _S.WAITING_FOR_WIFI, _S.VERIFYING, _S.DECLINED, _S.FAILED, _S.CANCELLED}
    ),
    _S.PAUSED: frozenset({_S.DOWNLOADING, _S.WAITING_FOR_WIFI, _S.DECLINED, _S.FAILED, _S.CANCELLED}),
    _S.VERIFYING: frozenset({_S.INSTALLING, _S.FAILED}),
    _S.INSTALLING: frozenset({_S.INSTALLED, _S.FAILED}),
    # failed -> paused: a retry on mobile data first asks the user (reported as paused, see Situation)
    _S.FAILED: frozenset({_S.DOWNLOADING, _S.WAITING_FOR_WIFI, _S.PAUSED, _S.DECLINED, _S.FAILED, _S.CANCELLED}),
    _S.INSTALLED: frozenset(),
    _S.ALREADY_INSTALLED: frozenset(),
    _S.DECLINED: frozenset({_S.DOWNLOADING, _S.WAITING_FOR_WIFI, _S.PAUSED}),
    _S.CANCELLED: frozenset(),
    _S.EXPIRED: frozenset(),
}


def can_transition(current: PushState | str, new: PushState | str) -> bool:
    """True if a push in ``current`` may move to ``new``."""
    return PushState(new) in TRANSITIONS[PushState(current)]


class Situation(StrEnum):
    """Why a device holds a push without downloading it, though nobody paused it.

    Sent as the ``detail`` of a ``paused`` report (``paused`` exists in every version of the
    protocol, so an older sender shows "Paused" and nothing breaks); :func:`state_label` shows
    the situation instead. The device reports ``downloading`` again as soon as it goes on.
    """

    ASKING_ABOUT_MOBILE_DATA = "asking about mobile data"  # the user is asked before mobile data is used
    WAITING_FOR_RELAY = "waiting for the relay"  # the relay cannot be reached or is failing; retrying
    WAITING_FOR_SERVER = "waiting for the download server"  # the package's server cannot be reached; retrying
    NO_CONNECTION = "no connection"  # the device reaches nothing; retrying


SITUATION_LABELS: Mapping[Situation, str] = {
    Situation.ASKING_ABOUT_MOBILE_DATA: "Asking about mobile data",
    Situation.WAITING_FOR_RELAY: "Waiting for the relay",
    Situation.WAITING_FOR_SERVER: "Waiting for the download server",
    Situation.NO_CONNECTION: "No connection",
}


# --------------------------------------------------------------------------- events


class StreamEvent(StrEnum):
    """Names of the Server-Sent Events on ``GET /api/v1/stream``."""

    PUSH = "push"  # to the target device: a push message (PushMessage)
    PUSH_UPDATE = "push_update"  # to the sending device: a push changed state (PushUpdate)
    PUSH_CANCELLED = "push_cancelled"  # to the target device: the sender withdrew a push
    DEVICE_KEY = "device_key"  # to the account's other devices: a device registered a new signing key


# --------------------------------------------------------------------------- platforms


class Platform(StrEnum):
    """Device platforms (device type in the patent)."""

    ANDROID = "android"
    IOS = "ios"
    SYMBIAN = "symbian"
    WINDOWS_PHONE = "windows_phone"
    LINUX = "linux"
    WINDOWS = "windows"
    MACOS = "macos"
    BROWSER = "browser"  # the browser extension: it sends pushes and installs nothing


#: Package formats each platform installs, best first [0059, 0074-0079].
PLATFORM_FORMATS: Mapping[Platform, tuple[str, ...]] = {
    Platform.ANDROID: ("apk",),
    Platform.IOS: ("ipa", "pxl", "deb"),
    Platform.SYMBIAN: ("sisx", "sis"),
    Platform.WINDOWS_PHONE: ("xap",),
    Platform.LINUX: ("appimage", "deb", "flatpak"),
    Platform.WINDOWS: ("msix", "exe", "msi"),
    Platform.MACOS: ("dmg", "pkg"),
    Platform.BROWSER: (),
}

#: Every package format the product knows, with its MIME type.
FORMAT_MIME_TYPES: Mapping[str, str] = {
    "apk": "application/vnd.android.package-archive",
    "ipa": "application/octet-stream",
    "pxl": "application/octet-stream",
    "deb": "application/vnd.debian.binary-package",
    "sis": "application/vnd.symbian.install",
    "sisx": "x-epoc/x-sisx-app",
    "xap": "application/x-silverlight-app",
    "appimage": "application/vnd.appimage",
    "flatpak": "application/vnd.flatpak",
    "msix": "application/msix",
    "exe": "application/vnd.microsoft.portable-executable",
    "msi": "application/x-msi",
    "dmg": "application/x-apple-diskimage",
    "pkg": "application/octet-stream",
}

#: Formats that mark a download as an app for a phone or tablet, not a file to save.
MOBILE_FORMATS = frozenset(
    f for p in (Platform.ANDROID, Platform.IOS, Platform.SYMBIAN, Platform.WINDOWS_PHONE) for f in PLATFORM_FORMATS[p]
)

PLATFORM_LABELS: Mapping[Platform, str] = {
    Platform.ANDROID: "Android",
    Platform.IOS: "iOS",
    Platform.SYMBIAN: "Symbian",
    Platform.WINDOWS_PHONE: "Windows Phone",
    Platform.LINUX: "Linux",
    Platform.WINDOWS: "Windows",
    Platform.MACOS: "macOS",
    Platform.BROWSER: "Browser",
}


def formats_for(platform: Platform | str) -> tuple[str, ...]:
    """Package formats the platform installs, best first (empty for an unknown platform)."""
    try:
        return PLATFORM_FORMATS[Platform(platform)]
    except ValueError:
        return ()


def choose_format(platform: Platform | str, offered: Iterable[str]) -> str | None:
    """The best format from ``offered`` that ``platform`` installs, or None."""
    offered = {f.lower() for f in offered}
    return next((f for f in formats_for(platform) if f in offered), None)


def format_from_filename(name: str) -> str | None:
    """The package format a file name or URL path ends in (``app.apk`` -> ``apk``), or None."""
    path = urlsplit(name).path if "://" in name else name
    stem = path.rsplit("/", 1)[-1].lower()
    if "." not in stem:
        return None
    ext = stem.rsplit(".", 1)[1]
    return ext if ext in FORMAT_MIME_TYPES else None


def format_from_mime(mime: str) -> str | None:
    """The package format with this (specific) MIME type, or None. Generic types give None."""
    mime = (mime or "").split(";", 1)[0].strip().lower()
    if not mime or mime == "application/octet-stream":
        return None
    return next((f for f, m in FORMAT_MIME_TYPES.items() if m == mime), None)


def incompatibility_reason(platform: Platform | str, offered: Iterable[str]) -> str | None:
    """Why a device of ``platform`` cannot take any of ``offered``, or None when it can."""
    offered = sorted({f.lower() for f in offered})
    if not offered:
        return None
    if choose_format(platform, offered):
        return None
    try:
        label = PLATFORM_LABELS[Platform(platform)]
    except ValueError:
        return f"unknown platform {platform!r}"
    wanted = ", ".join(formats_for(platform)) or "nothing"
    return f"{label} installs {wanted}; this app comes as {', '.join(offered)}"


# --------------------------------------------------------------------------- shapes

_APP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,199}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
MAX_TEXT = 500
#: Largest whole number the protocol carries (sizes, version codes): exact in JSON everywhere.
MAX_INT = 2**53 - 1


def parse_text(
    data: Mapping[str, Any], key: str, *, required: bool = False, limit: int = MAX_TEXT, where: str = ""
) -> str | None:
    name = f"{where}{key}"
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise ProtocolError(name, "is required")
        return None
    if not isinstance(value, str):
        raise ProtocolError(name, "must be a string")
    value = value.strip()
    if required and not value:
        raise ProtocolError(name, "is required")
    if len(value) > limit:
        raise ProtocolError(name, "must be at most %(limit)s characters", limit=limit)
    return value


def parse_whole_number(data: Mapping[str, Any], key: str, *, where: str = "", minimum: int = 0) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{where}{key}", "must be a whole number")
    if value < minimum:
        raise ProtocolError(f"{where}{key}", "must be at least %(minimum)s", minimum=minimum)
    if value > MAX_INT:
        raise ProtocolError(f"{where}{key}", "must be at most %(maximum)s", maximum=MAX_INT)
    return value


def parse_url(data: Mapping[str, Any], key: str, *, required: bool = False, where: str = "") -> str | None:
    value = parse_text(data, key, required=required, limit=2048, where=where)
    if value is None:
        return None
    if value.startswith("/") and not value.startswith("//"):  # relative to the relay (its own files)
        return value
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port out of range
    except ValueError:
        raise ProtocolError(f"{where}{key}", "is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProtocolError(f"{where}{key}", "must be an http(s) URL")
    return value


def parse_app_id(value: Any, name: str = "app.id") -> str:
    """Check an app id (``org.videolan.vlc``): letters, digits, dots, dashes, underscores."""
    if not isinstance(value, str) or not _APP_ID.fullmatch(value):
        raise ProtocolError(name, "must be 1-200 letters, digits, '.', '_' or '-'")
    return value


def parse_device_id(value: Any, name: str = "device.id") -> str:
    """Check a client-chosen device id."""
    if not isinstance(value, str) or not _DEVICE_ID.fullmatch(value):
        raise ProtocolError(name, "must be 1-128 letters, digits, '.', '_', ':' or '-'")
    return value


def parse_sha256(value: Any, name: str) -> str | None:
    """A lower-case hex SHA-256, or None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SHA256.fullmatch(value.lower()):
        raise ProtocolError(name, "must be 64 hexadecimal digits")
    return value.lower()


#: Push ids senders may choose (the relay's own are ``p_`` and 24 hex digits).
_PUSH_ID = re.compile(r"[A-Za-z0-9_.:-]{1,40}")


def is_push_id(value: Any) -> TypeGuard[str]:
    """True for an id a sender may give its push (1-40 letters, digits, '.', '_', ':', '-')."""
    return isinstance(value, str) and _PUSH_ID.fullmatch(value) is not None


def parse_timestamp(value: Any, name: str = "signed_at") -> datetime:
    """A UTC time in the one form the protocol writes it: ``2026-11-26T19:48:42Z``."""
    if not isinstance(value, str):
        raise ProtocolError(name, "must be a time like 2026-11-26T19:48:42Z")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise ProtocolError(name, "must be a time like 2026-11-26T19:48:42Z") from None


def b64decode_exact(value: Any, length: int, name: str) -> bytes:
    """Standard base64 text of exactly ``length`` bytes (keys, signatures)."""
    if not isinstance(value, str) or len(value) > 200:
        raise ProtocolError(name, "must be base64 text")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(name, "must be base64 text") from None
    if len(raw) != length:
        raise ProtocolError(name, "must be %(length)s bytes", length=length)
    return raw


def state_label(state: PushState | str, percent: int | None = None, detail: str | None = None) -> str:
    """A push state in words a person understands (``Downloading 42%``, ``Failed: no space``)."""
    state = PushState(state)
    if state is PushState.DOWNLOADING and percent is not None:
        return f"Downloading {percent}%"
    if state is PushState.PAUSED and detail is not None and detail in SITUATION_LABELS:
        return SITUATION_LABELS[Situation(detail)]  # not paused by anyone: waiting for something
    if state is PushState.FAILED and detail:
        return f"Failed: {detail}"
    if state is PushState.DELIVERED and detail:
        return f"Delivered, {detail}"  # e.g. waiting for the user: the push could not install by itself
    return _LABELS[state]


_LABELS = {
    PushState.QUEUED: "Queued (device offline)",
    PushState.SENT: "Sent",
    PushState.DELIVERED: "Delivered",
    PushState.WAITING_FOR_WIFI: "Waiting for Wi-Fi",
    PushState.DOWNLOADING: "Downloading",
    PushState.PAUSED: "Paused",
    PushState.VERIFYING: "Verifying",
    PushState.INSTALLING: "Installing",
    PushState.INSTALLED: "Installed",
    PushState.ALREADY_INSTALLED: "Already installed",
    PushState.DECLINED: "Declined",
    PushState.FAILED: "Failed",
    PushState.CANCELLED: "Cancelled",
    PushState.EXPIRED: "Expired",
}
