"""Push signatures on the relay: read them from a push request and check them early.

The relay cannot make or change a signature (it has no device's private key); it checks
each one against the sender's registered key only so that a client with a bug hears about
it at once, instead of its pushes quietly arriving as notices. Receivers verify again with
the keys they pinned themselves, which is what actually protects them.
"""

from __future__ import annotations

from relay_server.errors import bad_request
from relay_server.models import Device
from shared.messages import InstallInfo, PushSignature
from shared.signing import facts_for, verify


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
