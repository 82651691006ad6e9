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
import secrets
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from shared.messages import PushSignature
from shared.protocol import b64decode_exact

#: Bound into every signature, so a signature made for anything else never verifies here.
CONTEXT = "appbeam-push-v1"
#: A signature older than this no longer allows a silent install (a replayed old push).
MAX_AGE = timedelta(days=30)
#: How far ahead of the receiver's clock a signature may be (clock skew).
MAX_SKEW = timedelta(minutes=10)


def new_push_id() -> str:
    """A fresh push id; senders choose it so that they can sign it."""
    return "p_" + secrets.token_hex(12)


def utc_timestamp(when: datetime | None = None) -> str:
    """``2026-11-26T19:48:42Z``: the form ``signed_at`` takes."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_public_key(value: Any, name: str = "public_key") -> str:
    """A registered public key: base64 of the 32 bytes of an Ed25519 key (normalised)."""
    return base64.b64encode(b64decode_exact(value, 32, name)).decode("ascii")


def fingerprint(public_key: str) -> str:
    """A short form people can compare between devices: ``3f2a 91c0 77de 0b14``."""
    digest = hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


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
        return json.dumps(
            {"context": CONTEXT, **asdict(self)}, sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode("ascii")


def facts_for(
    signature: PushSignature, *, device_id: str, mode: str, app_id: str, version: str | None, fmt: str
) -> PushFacts:
    """The facts ``signature`` claims to cover for this push to this device (what ``verify`` checks)."""
    return PushFacts(signature.push_id, device_id, mode, app_id, version, fmt, signature.sha256, signature.signed_at)


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
        pem = self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
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
