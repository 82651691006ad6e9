"""Signed pushes: a device's Ed25519 key, and the facts a push signature covers.

Every device makes a key pair at its first login and registers the public key with the
relay. The sending device signs each push, per target, over the facts that decide what is
installed where (:class:`PushFacts`). The target device verifies with the key it pinned
for the sender (``mobile_receiver/trust.py``) and installs silently only when that works.
The relay stores and forwards signatures but cannot make them, so neither a compromised
relay nor an edited relay database can turn a push into a silent install.

Keys and signatures travel as standard base64 of the raw 32/64 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import secrets
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.protocol import ProtocolError, parse_sha256

#: Bound into every signature, so a signature made for anything else never verifies here.
CONTEXT = "appbeam-push-v1"
#: A signature older than this no longer allows a silent install (a replayed old push).
MAX_AGE = timedelta(days=30)
#: How far ahead of the receiver's clock a signature may be (clock skew).
MAX_SKEW = timedelta(minutes=10)

#: Push ids senders may choose (the relay's own are ``p_`` and 24 hex digits).
_PUSH_ID = re.compile(r"[A-Za-z0-9_.:-]{1,40}")


def new_push_id() -> str:
    """A fresh push id; senders choose it so that they can sign it."""
    return "p_" + secrets.token_hex(12)


def is_push_id(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and _PUSH_ID.fullmatch(value) is not None


def utc_timestamp(when: datetime | None = None) -> str:
    """``2026-11-26T19:48:42Z``: the form ``signed_at`` takes."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: Any, name: str = "signed_at") -> datetime:
    if not isinstance(value, str):
        raise ProtocolError(name, "must be a time like 2026-11-26T19:48:42Z")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ProtocolError(name, "must be a time like 2026-11-26T19:48:42Z") from None


def _b64decode(value: Any, length: int, name: str) -> bytes:
    if not isinstance(value, str) or len(value) > 200:
        raise ProtocolError(name, "must be base64 text")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(name, "must be base64 text") from None
    if len(raw) != length:
        raise ProtocolError(name, f"must be {length} bytes")
    return raw


def parse_public_key(value: Any, name: str = "public_key") -> str:
    """A registered public key: base64 of the 32 bytes of an Ed25519 key (normalised)."""
    return base64.b64encode(_b64decode(value, 32, name)).decode("ascii")


def fingerprint(public_key: str) -> str:
    """A short form people can compare between devices: ``3f2a 91c0 77de 0b14``."""
    digest = hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]
    return " ".join(digest[i:i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class PushFacts:
    """What a push signature covers: which package, for which device, installed how, when."""

    push_id: str
    device_id: str  # the target device
    mode: str  # the mode the sender asked for
    app_id: str
    version: str | None
    format: str
    sha256: str | None
    signed_at: str

    def canonical(self) -> bytes:
        """The exact bytes signed: sorted, compact JSON with the context string."""
        return json.dumps({"context": CONTEXT, **asdict(self)}, sort_keys=True,
                          separators=(",", ":"), ensure_ascii=True).encode("ascii")


@dataclass(frozen=True)
class PushSignature:
    """A sender's signature for one target, as requests and push messages carry it.

    ``sha256`` is the package hash the sender signed (None when it did not know one); a
    receiver compares it with the package it is given before it trusts anything.
    """

    push_id: str
    signed_at: str
    sha256: str | None
    value: str

    @classmethod
    def from_dict(cls, data: Any, where: str = "signature.") -> "PushSignature":
        if not isinstance(data, Mapping):
            raise ProtocolError(where.rstrip("."), "must be an object")
        push_id = data.get("push_id")
        if not is_push_id(push_id):
            raise ProtocolError(f"{where}push_id", "must be 1-40 letters, digits, '.', '_', ':' or '-'")
        signed_at = data.get("signed_at")
        parse_timestamp(signed_at, f"{where}signed_at")
        value = _b64decode(data.get("value"), 64, f"{where}value")
        assert isinstance(signed_at, str)  # parse_timestamp checked it
        return cls(push_id, signed_at, parse_sha256(data.get("sha256"), f"{where}sha256"),
                   base64.b64encode(value).decode("ascii"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def facts(self, *, device_id: str, mode: str, app_id: str, version: str | None, fmt: str) -> PushFacts:
        return PushFacts(self.push_id, device_id, mode, app_id, version, fmt, self.sha256, self.signed_at)


def verify(public_key: str, facts: PushFacts, signature: str) -> bool:
    """True if ``signature`` (base64) was made over ``facts`` with the key ``public_key``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
        key.verify(base64.b64decode(signature), facts.canonical())
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


class DeviceKey:
    """This device's signing key. Kept in a file only its owner can read."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._private = private_key
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_key = base64.b64encode(raw).decode("ascii")

    @classmethod
    def generate(cls) -> "DeviceKey":
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str]) -> "DeviceKey":
        """The key stored at ``path``; a new one (written there first) if there is none."""
        path = Path(path)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            fresh = cls.generate()
            fresh._write(path)
            return fresh
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 key")
        return cls(key)

    def _write(self, path: Path) -> None:
        pem = self._private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def sign(self, facts: PushFacts) -> PushSignature:
        value = base64.b64encode(self._private.sign(facts.canonical())).decode("ascii")
        return PushSignature(facts.push_id, facts.signed_at, facts.sha256, value)
