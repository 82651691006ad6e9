"""The shapes of the API's other requests and answers, typed once: accounts, devices, friends,
pairings, installed apps, uploads, the catalog, the health check and errors.

The push shapes and the stream's events live in ``shared.messages``, with the why of msgspec;
these follow the same rules. The relay encodes its answers from them
(``relay_server/api/body.py: answer``) and reads request bodies through their ``from_dict``,
which checks each field and raises :class:`ProtocolError` naming it (the relay answers 400
``invalid_field`` with that sentence); the relay client sends the requests from them and
reads every answer into them (``shared.messages.read``); ``relay_server/openapi.py``
generates their schemas. Field names and types are the wire's: old clients keep working.

Over 400 lines because it holds some thirty small shapes, one per body, grouped by resource; each
is a few lines, and one module keeps ``API_SCHEMA_SHAPES`` (what the OpenAPI document carries)
beside them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, cast

import msgspec

from shared.i18n import N_
from shared.messages import Count, InstallInfo, Message, PackageRef, PushSignature, Sha256, Timestamp
from shared.protocol import (
    DEVICE_REPORTED_STATES,
    MAX_INT,
    Platform,
    ProtocolError,
    PushMode,
    PushState,
    b64decode_exact,
    parse_app_id,
    parse_device_id,
)

#: How a device relates to the caller in the device list.
Relation = Literal["self", "friend"]
#: Where a friendship stands, seen from the caller.
FriendStatus = Literal["accepted", "pending_incoming", "pending_outgoing"]
PublicKey = Annotated[str, msgspec.Meta(description="base64 of the device's 32-byte Ed25519 public key")]

#: The most devices one push request may name (each is a push of its own).
MAX_PUSH_TARGETS = 50
#: The longest detail a report keeps (a longer one is cut).
MAX_DETAIL = 500

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")

#: The most apps one device may report as installed.
MAX_INSTALLED_APPS = 2000


def _object(data: Any, where: str, hint: str = N_("must be an object")) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ProtocolError(where, hint)
    return data


def _text(data: Mapping[str, Any], key: str, min_len: int = 1, max_len: int = 256) -> str:
    """A string field of ``min_len``-``max_len`` characters, taken as given (passwords, names)."""
    value = data.get(key)
    if not isinstance(value, str) or not (min_len <= len(value) <= max_len):
        raise ProtocolError(
            key, "must be a string of %(min_len)s-%(max_len)s characters", min_len=min_len, max_len=max_len
        )
    return value


def _public_key(value: Any, name: str) -> str:
    """A registered public key: base64 of an Ed25519 key's 32 bytes, normalised."""
    return base64.b64encode(b64decode_exact(value, 32, name)).decode("ascii")


# --------------------------------------------------------------------------- accounts


class Account(Message, frozen=True):
    """An account as answers name it: ``{username}`` (also the answer to creating one)."""

    username: str


class NewAccount(Message, frozen=True):
    """``POST /accounts``: the username (3-32 of a-z, 0-9, '.', '_', '-') and a password."""

    username: str
    password: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NewAccount:
        username = data.get("username")
        if not isinstance(username, str) or not _USERNAME.fullmatch(username.strip().lower()):
            raise ProtocolError("username", "3-32 characters of a-z, 0-9, '.', '_' or '-'")
        return cls(username.strip().lower(), _text(data, "password", min_len=8))


class DeviceInfo(Message, frozen=True):
    """How a device describes itself at login and when it claims a pairing code [0049]."""

    id: str
    name: str
    model: str
    platform: Platform
    public_key: PublicKey | None = None

    @classmethod
    def from_dict(cls, data: Any) -> DeviceInfo:
        device = _object(data, "device", N_("give {id, name, model, platform}"))
        try:
            platform = Platform(str(device.get("platform")))
        except ValueError:
            known = ", ".join(p.value for p in Platform)
            raise ProtocolError("device.platform", "one of %(platforms)s", platforms=known) from None
        device_id = parse_device_id(device.get("id"))
        name, model = (_device_text(device, key) for key in ("name", "model"))
        key = device.get("public_key")
        return cls(device_id, name, model, platform, _public_key(key, "device.public_key") if key is not None else None)


def _device_text(device: Mapping[str, Any], key: str) -> str:
    value = device.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise ProtocolError(f"device.{key}", "1-100 characters")
    return value.strip()


class Login(Message, frozen=True):
    """``POST /login``: the account's password and the device that logs in."""

    username: str
    password: str
    device: DeviceInfo

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Login:
        # Any username is let through to the password check: an unknown one is "wrong username or password".
        given = data.get("username")
        password = _text(data, "password")
        return cls(
            (given if isinstance(given, str) else "").strip().lower(),
            password,
            DeviceInfo.from_dict(data.get("device")),
        )


class PasswordChange(Message, frozen=True):
    """``POST /password``: the current password and the new one (8-256 characters)."""

    current_password: str
    new_password: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PasswordChange:
        return cls(_text(data, "current_password"), _text(data, "new_password", min_len=8))


class KeyRegistration(Message, frozen=True):
    """``PUT /me/key``: the calling device's public key."""

    public_key: PublicKey

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KeyRegistration:
        return cls(_public_key(data.get("public_key"), "public_key"))


class NewToken(Message, frozen=True):
    """The answer to a password change: the calling device's fresh token."""

    token: str


# --------------------------------------------------------------------------- devices


class InstalledVersion(Message, frozen=True):
    """Which version of an app a device has (from its installed-apps report)."""

    version: str | None
    version_code: Count | None


class Device(Message, frozen=True):
    """A device as the caller sees it (``GET /devices``; ``self`` is the caller's account)."""

    id: str
    name: str
    model: str
    platform: str
    owner: str  # the device's account
    relation: Relation
    online: bool
    last_seen: Timestamp | None
    formats: list[str]  # the package formats it installs
    public_key: PublicKey | None
    fingerprint: str | None  # the key in short, for people to compare
    compatible: bool  # can install one of the formats the caller asked about
    reason: str | None  # why not, when it cannot
    #: Only with ``?app_id=``, and only on the caller's own devices: the version there, or null.
    installed: InstalledVersion | None | msgspec.UnsetType = msgspec.UNSET


class DeviceList(Message, frozen=True):
    """``GET /devices``: associated devices, own first."""

    devices: list[Device]


class OneDevice(Message, frozen=True):
    """``{device}``: the answer to renaming a device and to registering a key."""

    device: Device


class DeviceRename(Message, frozen=True):
    """``PATCH /devices/<id>``: the new name, 1-100 characters."""

    name: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceRename:
        name = _text(data, "name", max_len=100).strip()
        if not name:
            raise ProtocolError("name", "give the device a name")
        return cls(name)


class Session(Message, frozen=True):
    """A device signed in: the answer to logging in (``GET /me`` has it without the token)."""

    token: str
    account: Account
    device: Device


class Me(Message, frozen=True):
    """``GET /me``: the calling account and device."""

    account: Account
    device: Device


# --------------------------------------------------------------------------- installed apps


class InstalledApp(Message, frozen=True):
    """One app a device reports as installed."""

    id: str
    version: str | None = None
    version_code: Count | None = None


class InstalledApps(Message, frozen=True):
    """``PUT /me/installed``: every app on the device (replaces what it said before)."""

    apps: list[InstalledApp]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InstalledApps:
        apps = data.get("apps")
        if not isinstance(apps, list):
            raise ProtocolError("apps", "give a list of {id, version, version_code}")
        if len(apps) > MAX_INSTALLED_APPS:
            raise ProtocolError("apps", "at most %(count)s apps", count=MAX_INSTALLED_APPS)
        rows: dict[str, InstalledApp] = {}  # an app id reported twice: the last one counts
        for index, app in enumerate(apps):
            where = f"apps[{index}]"
            if not isinstance(app, dict):
                raise ProtocolError(where, "must be an object")
            app_id = parse_app_id(app.get("id"), f"{where}.id")
            version = app.get("version")
            if version is not None and (not isinstance(version, str) or len(version) > 64):
                raise ProtocolError(f"{where}.version", "text of at most 64 characters")
            code = app.get("version_code")
            if code is not None and (isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= MAX_INT):
                raise ProtocolError(f"{where}.version_code", "a whole number")
            rows[app_id] = InstalledApp(app_id, version, code)
        return cls(list(rows.values()))


class InstalledCount(Message, frozen=True):
    """The answer to an installed-apps report: how many apps the relay now knows of."""

    installed: int


# --------------------------------------------------------------------------- friends


class Friend(Message, frozen=True):
    """A friend or a friend request, seen from the caller."""

    username: str
    status: FriendStatus


class FriendList(Message, frozen=True):
    """``GET /friends``: friends and requests, by username."""

    friends: list[Friend]


class FriendRequest(Message, frozen=True):
    """``POST /friends``: whom to ask."""

    username: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FriendRequest:
        username = data.get("username")
        if not isinstance(username, str) or not username.strip():
            raise ProtocolError("username", "required")
        return cls(username)


# --------------------------------------------------------------------------- pairing


class Pairing(Message, frozen=True):
    """``POST /pairings``: a one-time code, what the QR code says, and when the code expires."""

    code: str
    qr_payload: str
    expires_at: Timestamp


class PairingClaim(Message, frozen=True):
    """``POST /pairings/claim``: the code and the device that joins the account.

    ``code`` is taken as given: the relay checks it (``shared.pairing``) where it counts failures.
    """

    code: str
    device: DeviceInfo

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PairingClaim:
        device = DeviceInfo.from_dict(data.get("device"))
        code = data.get("code")
        return cls(code if isinstance(code, str) else "", device)


class PairedBy(Message, frozen=True):
    """The device that made a pairing code, so the new one can trust its key."""

    device_id: str
    name: str
    public_key: PublicKey | None


class PairingClaimed(Message, frozen=True):
    """The answer to claiming a pairing code: a session, and who made the code."""

    token: str
    account: Account
    device: Device
    paired_by: PairedBy


# --------------------------------------------------------------------------- pushes (requests)


class PushRequest(Message, frozen=True):
    """``POST /pushes``: one app to one or more devices, signed per target when the sender can.

    The relay reads it with ``relay_server/pushes.py`` (``InstallInfo.from_dict`` and the
    signatures' own checks) on its push path; this is its shape, sent by the client.
    """

    app: InstallInfo
    mode: PushMode
    device_ids: Annotated[list[str], msgspec.Meta(min_length=1, max_length=MAX_PUSH_TARGETS)]
    #: per target device id: the sender's signature
    signatures: dict[str, PushSignature] | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PushRequest:
        """The request as the relay takes it: every field checked, device ids without repeats."""
        app = InstallInfo.from_dict(data.get("app"))
        asked_mode: Any = data.get("mode")
        try:
            mode = PushMode(asked_mode)
        except ValueError:
            raise ProtocolError("mode", "must be install_now or notify") from None
        device_ids = data.get("device_ids")
        if not isinstance(device_ids, list) or not device_ids:
            raise ProtocolError("device_ids", "give one or more device ids")
        if len(device_ids) > MAX_PUSH_TARGETS:
            raise ProtocolError("device_ids", "at most %(count)s devices per push", count=MAX_PUSH_TARGETS)
        ids = list(dict.fromkeys(parse_device_id(d, "device_ids[]") for d in device_ids))
        signatures = _signatures(data.get("signatures"), ids)
        return cls(app, mode, ids, signatures if signatures is not None else msgspec.UNSET)

    @property
    def signed(self) -> dict[str, PushSignature]:
        """The signatures by target device id (none when the sender signed nothing)."""
        return self.signatures if isinstance(self.signatures, dict) else {}


def _signatures(raw: Any, device_ids: list[str]) -> dict[str, PushSignature] | None:
    """``signatures`` of a push request: one per target device id, optional as a whole."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ProtocolError("signatures", "must be an object of device id to signature")
    unknown = [d for d in raw if d not in device_ids]
    if unknown:
        raise ProtocolError("signatures", "%(device)s is not one of device_ids", device=repr(unknown[0]))
    signatures = {d: PushSignature.from_dict(raw[d], f"signatures.{d}.") for d in raw}
    push_ids = [s.push_id for s in signatures.values()]
    if len(set(push_ids)) != len(push_ids):
        raise ProtocolError("signatures", "every target needs its own push_id")
    return signatures


#: The states a device may report (``shared.protocol.DEVICE_REPORTED_STATES``, checked in tests/shared).
ReportedState = Literal[
    "already_installed",
    "declined",
    "delivered",
    "downloading",
    "failed",
    "installed",
    "installing",
    "paused",
    "verifying",
    "waiting_for_wifi",
]


class PushReport(Message, frozen=True):
    """``POST /pushes/<id>/events``: where the target device stands (whether the push may go
    there from where it is, the relay decides: ``relay_server/push_reports.py``)."""

    state: ReportedState
    bytes_done: Count | msgspec.UnsetType = msgspec.UNSET
    bytes_total: Count | msgspec.UnsetType = msgspec.UNSET
    detail: str | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PushReport:
        """The report as the relay takes it: a state a device may report, byte counts that fit,
        a detail of at most 500 characters (longer is cut, not refused)."""
        asked: Any = data.get("state")
        try:
            state = PushState(asked)
        except ValueError:
            raise ProtocolError("state", "unknown state %(state)s", state=repr(asked)) from None
        if state not in DEVICE_REPORTED_STATES:
            raise ProtocolError("state", "a device cannot report %(state)s", state=str(state))
        counts: list[int | msgspec.UnsetType] = []
        for key in ("bytes_done", "bytes_total"):
            value = data.get(key)
            whole = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT
            if value is not None and not whole:
                raise ProtocolError(key, "must be a whole number of bytes (0 to %(max)s)", max=MAX_INT)
            counts.append(msgspec.UNSET if value is None else value)
        done, total = counts
        if isinstance(done, int) and isinstance(total, int) and done > total:
            raise ProtocolError("bytes_done", "cannot be more than bytes_total")
        detail = data.get("detail")
        if detail is not None and not isinstance(detail, str):
            raise ProtocolError("detail", "must be a string")
        return cls(
            cast(ReportedState, str(state)), done, total, detail[:MAX_DETAIL] if detail is not None else msgspec.UNSET
        )

    def value(self, name: str) -> Any:
        """A field, or None when the device left it out."""
        given = getattr(self, name)
        return None if given is msgspec.UNSET else given


# --------------------------------------------------------------------------- packages and the catalog


class UploadedPackage(Message, frozen=True):
    """The answer to ``PUT /packages/<sha256>``: the relay keeps it, under ``url``."""

    sha256: Sha256
    size: Count
    format: str
    url: str


class PackageUpload(UploadedPackage, frozen=True):
    """What the client's upload gives back: the relay's answer, and whether bytes were sent
    (False when the relay had the file already). Never on the wire."""

    uploaded: bool


class CatalogPackageRef(PackageRef, frozen=True):
    """A package of a catalog app: a package reference with what the store page shows."""

    runtime: str | None = None
    filename: str | None = None
    mime_type: str | None = None


class CatalogEntry(Message, frozen=True):
    """An app of the relay's catalog (``GET /apps``): install information plus store details."""

    id: str
    name: str | None = None
    version: str | None = None
    version_code: Count | None = None
    size: Count | None = None
    icon_url: str | None = None
    runtime: str | None = None
    description: str | None = None
    packages: tuple[CatalogPackageRef, ...] = ()
    developer: str | None = None
    license: str | None = None
    homepage: str | None = None
    category: str | None = None
    store_url: str | None = None

    def install_info(self) -> InstallInfo:
        """The entry as install information (what a push of it carries)."""
        data = self.to_dict()
        data["packages"] = [{k: p[k] for k in ("format", "url", "sha256", "size")} for p in data["packages"]]
        return InstallInfo.from_dict(data)


class CatalogList(Message, frozen=True):
    """``GET /apps``: the catalog's apps matching the search, by name."""

    apps: list[CatalogEntry]


# --------------------------------------------------------------------------- operations


class Health(Message, frozen=True):
    """``GET /healthz`` when the relay can serve: its version and kind of database."""

    status: Literal["ok"]
    version: str
    database: Literal["sqlite", "postgresql"]


class ErrorDetail(Message, frozen=True):
    """What went wrong: a code for programs, a sentence for people."""

    code: str
    message: str


class Error(Message, frozen=True):
    """Every refusal: ``{"error": {"code", "message"}}`` with the HTTP status."""

    error: ErrorDetail

    @classmethod
    def of(cls, code: str, message: str) -> Error:
        """The refusal with ``code`` and the sentence ``message``."""
        return cls(ErrorDetail(code, message))


#: The shapes whose JSON Schema the OpenAPI document carries (beside ``messages.SCHEMA_SHAPES``).
API_SCHEMA_SHAPES: tuple[type[Message], ...] = (
    Account,
    NewAccount,
    DeviceInfo,
    Login,
    PasswordChange,
    KeyRegistration,
    NewToken,
    Device,
    DeviceList,
    OneDevice,
    DeviceRename,
    Session,
    Me,
    InstalledApps,
    InstalledCount,
    Friend,
    FriendList,
    FriendRequest,
    Pairing,
    PairingClaim,
    PairingClaimed,
    PushRequest,
    PushReport,
    UploadedPackage,
    CatalogEntry,
    CatalogList,
    Health,
    Error,
)
