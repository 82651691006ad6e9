"""The shapes of every push message on the wire, typed once.

Each shape is a `msgspec <https://jcristharif.com/msgspec/>`_ ``Struct``: the relay builds its
answers and stream events from them and encodes them with ``msgspec.json``; the relay client,
the sender and the receiver read the relay's JSON into them; the OpenAPI document's schemas
are generated from them (``relay_server/openapi.py``). A field added here appears everywhere.

Why msgspec: one small C library with no dependencies of its own that types, validates,
encodes and describes (JSON Schema) in one place, and the fastest of its kind - which matters
on the relay's push path (issue 16). pydantic needs Rust (pydantic-core) that the phone's
build cannot compile; attrs+cattrs has no schema generation.

Untrusted input goes through ``from_dict``: it checks every field with the protocol's rules
(``shared.protocol``: app ids, URLs, sizes, base64) and raises :class:`ProtocolError` naming the
field in words a person can act on, which msgspec's own messages are not. :func:`read` is for
the relay's answers to a client, where a shape error is a relay bug or a newer relay: it keeps
unknown fields out and names the field too.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import msgspec

from shared.protocol import (
    FORMAT_MIME_TYPES,
    MAX_INT,
    ProtocolError,
    PushMode,
    PushState,
    b64decode_exact,
    is_push_id,
    parse_app_id,
    parse_device_id,
    parse_sha256,
    parse_text,
    parse_timestamp,
    parse_url,
    parse_whole_number,
)

T = TypeVar("T")

# Field types with the protocol's limits, so the generated schemas (and ``read``) carry them.
AppId = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,199}$", description="app id, e.g. org.videolan.vlc")
]
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256, hexadecimal")]
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_INT)]
Timestamp = Annotated[str, msgspec.Meta(description="ISO 8601 time, UTC")]


class Message(msgspec.Struct, frozen=True):
    """Base of every shape: immutable; ``to_dict`` gives plain JSON-ready values."""

    def to_dict(self) -> dict[str, Any]:
        """The message as the JSON it is sent as, decoded (lists, not tuples)."""
        data: dict[str, Any] = msgspec.json.decode(encode(self))
        return data

    def replace(self: T, **changes: Any) -> T:
        """A copy with some fields changed (``dataclasses.replace`` for Structs)."""
        return msgspec.structs.replace(self, **changes)  # type: ignore[type-var]


def encode(message: Any) -> bytes:
    """A shape (or a dict/list holding shapes) as compact JSON bytes."""
    return _ENCODER.encode(message)


_ENCODER = msgspec.json.Encoder()


def read(data: Any, shape: type[T], where: str = "") -> T:
    """The relay's JSON (already decoded) as ``shape``; ProtocolError naming the field if it
    does not fit (``where`` prefixes the field name, as in ``from_dict``)."""
    try:
        return msgspec.convert(data, shape)
    except msgspec.ValidationError as exc:
        text = str(exc)
        message, _, path = text.partition(" - at `$")
        field = f"{where}{path.rstrip('`').lstrip('.')}" if path else (where.rstrip(".") or shape.__name__)
        raise ProtocolError(field or shape.__name__, message) from None


# --------------------------------------------------------------------------- install information


class PackageRef(Message, frozen=True):
    """One downloadable package of an app: one URL per format [0059]."""

    format: Annotated[str, msgspec.Meta(description="package format: " + ", ".join(FORMAT_MIME_TYPES))]
    url: Annotated[str, msgspec.Meta(description="http(s) address, or a path on the relay")]
    sha256: Sha256 | None = None
    size: Count | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str = "package.") -> PackageRef:
        if not isinstance(data, Mapping):
            raise ProtocolError(where.rstrip("."), "must be an object")
        fmt = (parse_text(data, "format", required=True, limit=16, where=where) or "").lower()
        if fmt not in FORMAT_MIME_TYPES:
            raise ProtocolError(f"{where}format", "unknown package format %(format)s", format=repr(fmt))
        url = parse_url(data, "url", required=True, where=where)
        assert url is not None  # required
        return cls(
            format=fmt,
            url=url,
            sha256=parse_sha256(data.get("sha256"), f"{where}sha256"),
            size=parse_whole_number(data, "size", where=where),
        )


class InstallInfo(Message, frozen=True):
    """Everything a device needs to fetch and install one app [0053, 0059].

    Only ``id`` is required; ``packages`` may be empty when the relay's catalog knows
    the app id (download by app id [0074]).
    """

    id: AppId
    name: str | None = None
    version: str | None = None
    version_code: Count | None = None
    size: Count | None = None
    icon_url: str | None = None
    runtime: str | None = None
    description: str | None = None
    packages: tuple[PackageRef, ...] = ()

    @classmethod
    def from_dict(cls, data: Any, where: str = "app.") -> InstallInfo:
        if not isinstance(data, Mapping):
            raise ProtocolError(where.rstrip("."), "must be an object")
        packages = data.get("packages") or []
        if not isinstance(packages, list):
            raise ProtocolError(f"{where}packages", "must be a list")
        if len(packages) > 16:
            raise ProtocolError(f"{where}packages", "at most 16 packages")
        refs = tuple(PackageRef.from_dict(p, f"{where}packages[{i}].") for i, p in enumerate(packages))
        if len({r.format for r in refs}) != len(refs):
            raise ProtocolError(f"{where}packages", "one package per format")
        return cls(
            id=parse_app_id(data.get("id"), f"{where}id"),
            name=parse_text(data, "name", limit=200, where=where),
            version=parse_text(data, "version", limit=64, where=where),
            version_code=parse_whole_number(data, "version_code", where=where),
            size=parse_whole_number(data, "size", where=where),
            icon_url=parse_url(data, "icon_url", where=where),
            runtime=parse_text(data, "runtime", limit=200, where=where),
            description=parse_text(data, "description", limit=2000, where=where),
            packages=refs,
        )

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(p.format for p in self.packages)

    def package_for(self, fmt: str) -> PackageRef | None:
        return next((p for p in self.packages if p.format == fmt), None)


# --------------------------------------------------------------------------- who sent it, signed how


class PushSender(Message, frozen=True):
    """Who sent a push: the account and the device it came from."""

    username: str
    device_id: str
    device_name: str

    @classmethod
    def from_dict(cls, data: Any) -> PushSender:
        if not isinstance(data, Mapping):
            raise ProtocolError("sender", "must be an object")
        username = parse_text(data, "username", required=True, limit=64, where="sender.")
        assert username is not None  # required
        device_id = parse_device_id(data.get("device_id"), "sender.device_id")
        return cls(username, device_id, parse_text(data, "device_name", limit=100, where="sender.") or device_id)


class PushSignature(Message, frozen=True):
    """A sender's signature for one target, as requests and push messages carry it
    (``shared.signing`` makes and checks it).

    ``sha256`` is the package hash the sender signed (None when it did not know one); a
    receiver compares it with the package it is given before it trusts anything.
    """

    push_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:-]{1,40}$")]
    signed_at: Annotated[str, msgspec.Meta(description="e.g. 2026-11-26T19:48:42Z")]
    sha256: Sha256 | None
    value: Annotated[str, msgspec.Meta(description="base64 of the 64-byte Ed25519 signature")]

    @classmethod
    def from_dict(cls, data: Any, where: str = "signature.") -> PushSignature:
        if not isinstance(data, Mapping):
            raise ProtocolError(where.rstrip("."), "must be an object")
        push_id = data.get("push_id")
        if not is_push_id(push_id):
            raise ProtocolError(f"{where}push_id", "must be 1-40 letters, digits, '.', '_', ':' or '-'")
        signed_at = data.get("signed_at")
        parse_timestamp(signed_at, f"{where}signed_at")
        assert isinstance(signed_at, str)  # parse_timestamp checked it
        value = b64decode_exact(data.get("value"), 64, f"{where}value")
        return cls(
            push_id,
            signed_at,
            parse_sha256(data.get("sha256"), f"{where}sha256"),
            base64.b64encode(value).decode("ascii"),
        )


# --------------------------------------------------------------------------- stream events


class PushMessage(Message, frozen=True):
    """The ``push`` stream event a target device receives [claims 3, 10]."""

    push_id: str
    mode: PushMode
    sender: PushSender
    app: InstallInfo
    created_at: str  # ISO 8601, UTC
    #: The one package chosen for this device. The relay always names one; without it the
    #: device resolves the app id through the relay's catalog (download by app id [0074]).
    package: PackageRef | None = None
    signature: PushSignature | None = None  # when the sender signed it

    @classmethod
    def from_dict(cls, data: Any) -> PushMessage:
        if not isinstance(data, Mapping):
            raise ProtocolError("push", "must be an object")
        try:
            mode = PushMode(str(data.get("mode")))
        except ValueError:
            raise ProtocolError("mode", "must be install_now or notify") from None
        push_id = parse_text(data, "push_id", required=True, limit=64)
        created_at = parse_text(data, "created_at", required=True, limit=64)
        assert push_id is not None and created_at is not None  # required
        signature, package = data.get("signature"), data.get("package")
        return cls(
            push_id=push_id,
            mode=mode,
            sender=PushSender.from_dict(data.get("sender")),
            app=InstallInfo.from_dict(data.get("app")),
            package=PackageRef.from_dict(package) if package is not None else None,
            created_at=created_at,
            signature=PushSignature.from_dict(signature) if signature is not None else None,
        )


class PushUpdate(Message, frozen=True):
    """The ``push_update`` stream event a sending device receives: one push changed state."""

    push_id: str
    device_id: str
    state: PushState
    bytes_done: int | None = None
    bytes_total: int | None = None
    detail: str | None = None
    updated_at: Timestamp | None = None

    @property
    def percent(self) -> int | None:
        return percent(self.bytes_done, self.bytes_total)


class PushCancelled(Message, frozen=True):
    """The ``push_cancelled`` stream event a target device receives: the sender withdrew it."""

    push_id: str


class DeviceKeyChanged(Message, frozen=True):
    """The ``device_key`` stream event: a device of the account registered a new signing key."""

    device_id: str
    name: str


# --------------------------------------------------------------------------- API answers


class HistoryEntry(Message, frozen=True):
    """One step of a push's history (``GET /pushes/<id>``)."""

    state: PushState
    detail: str | None
    bytes_done: int | None
    bytes_total: int | None
    at: str


class Push(Message, frozen=True):
    """A push to one device as the API shows it (``docs/api.md``, Pushes)."""

    id: str
    app: InstallInfo
    mode: PushMode
    requested_mode: PushMode
    device_id: str
    device_name: str
    owner: str  # the target device's account
    sender: PushSender
    format: str
    package: PackageRef
    state: PushState
    bytes_done: int | None
    bytes_total: int | None
    detail: str | None
    mirrored: bool  # the relay holds its own copy of the package
    signed: bool
    created_at: Timestamp
    updated_at: Timestamp
    history: list[HistoryEntry] | msgspec.UnsetType = msgspec.UNSET  # only on GET /pushes/<id>

    @property
    def percent(self) -> int | None:
        return percent(self.bytes_done, self.bytes_total)


class PushList(Message, frozen=True):
    """``{"pushes": [...]}``: the answer to creating and to listing pushes."""

    pushes: list[Push]


def percent(done: int | None, total: int | None) -> int | None:
    """Download progress in whole percent (0-100), or None when the size is unknown."""
    if total and done is not None:
        return max(0, min(100, int(done * 100 / total)))
    return None


#: The shapes whose JSON Schema the OpenAPI document carries.
SCHEMA_SHAPES: tuple[type[Message], ...] = (
    Push,
    PushList,
    PushMessage,
    PushUpdate,
    PushCancelled,
    DeviceKeyChanged,
    InstallInfo,
    PushSignature,
)

__all__ = [
    "DeviceKeyChanged",
    "HistoryEntry",
    "InstallInfo",
    "Message",
    "PackageRef",
    "Push",
    "PushCancelled",
    "PushList",
    "PushMessage",
    "PushSender",
    "PushSignature",
    "PushUpdate",
    "SCHEMA_SHAPES",
    "encode",
    "percent",
    "read",
]
