"""Push signatures on the relay: read them from a push request and check them early.

The relay cannot make or change a signature (it has no device's private key); it checks
each one against the sender's registered key only so that a client with a bug hears about
it at once, instead of its pushes quietly arriving as notices. Receivers verify again with
the keys they pinned themselves, which is what actually protects them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relay_server.errors import bad_request
from relay_server.models import Device
from shared.messages import InstallInfo, PushSignature
from shared.signing import facts_for, verify


def parse(body: Mapping[str, Any], device_ids: list[str]) -> dict[str, PushSignature]:
    """``signatures`` of a push request: one per target device id, optional as a whole."""
    raw = body.get("signatures")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise bad_request("signatures: must be an object of device id to signature", "invalid_field")
    unknown = [d for d in raw if d not in device_ids]
    if unknown:
        raise bad_request("signatures: %(device)s is not one of device_ids", "invalid_field", device=repr(unknown[0]))
    signatures = {d: PushSignature.from_dict(raw[d], f"signatures.{d}.") for d in raw}
    push_ids = [s.push_id for s in signatures.values()]
    if len(set(push_ids)) != len(push_ids):
        raise bad_request("signatures: every target needs its own push_id", "invalid_field")
    return signatures


def check(
    sender: Device,
    signature: PushSignature,
    *,
    target_id: str,
    mode: str,
    app: InstallInfo,
    fmt: str,
    sha256: str | None,
) -> None:
    """Refuse (400) a signature that would not verify on the target device."""
    if not sender.public_key:
        raise bad_request("signatures: this device registered no public key at login", "no_public_key")
    if signature.sha256 is not None and signature.sha256 != sha256:
        raise bad_request(
            "signatures.%(device)s.sha256: differs from the package's SHA-256 (%(sha256)s)",
            "signature_mismatch",
            device=target_id,
            sha256=sha256,
        )
    facts = facts_for(signature, device_id=target_id, mode=mode, app_id=app.id, version=app.version, fmt=fmt)
    if not verify(sender.public_key, facts, signature.value):
        raise bad_request(
            "signatures.%(device)s: does not verify with this device's key over "
            "(push %(push)s, format %(format)s, version %(version)s, mode %(mode)s)",
            "bad_signature",
            device=target_id,
            push=signature.push_id,
            format=fmt,
            version=app.version,
            mode=mode,
        )
