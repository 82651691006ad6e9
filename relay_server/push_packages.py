"""Which relay package a push may name: the relay's own files by their SHA-256, and who may
push them (naming a hash must never unlock someone else's private package).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from relay_server import catalog, uploads
from relay_server.models import Account, Device, Push
from shared.protocol import PushState

#: States of a push that no longer entitle its target to the package (the sender withdrew it,
#: or it waited too long): relay_server/api/packages.py refuses the download too.
WITHDRAWN = (str(PushState.CANCELLED), str(PushState.EXPIRED))


def relay_package_sha(url: str) -> str | None:
    """The SHA-256 if ``url`` names a file of this relay (``/files/<sha>/..`` or
    ``/api/v1/packages/<sha>``), relative or on the relay's own host."""
    path = urlsplit(url).path
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "files":
        candidate = parts[1]
    elif len(parts) == 4 and parts[:3] == ["api", "v1", "packages"]:
        candidate = parts[3]
    else:
        return None
    return candidate if len(candidate) == 64 and all(c in "0123456789abcdef" for c in candidate) else None


def may_push_package(account: Account, sha256: str) -> bool:
    """May ``account`` push the relay's copy ``sha256``? Only a store package (public), a package
    this account uploaded (relay_server/uploads.py), or a copy the relay made for a push this
    account sent or received: naming a hash must never unlock someone else's private package
    (the target could then download it). A received push that was cancelled or expired counts
    no more: pushing the copy on to itself would give its phone what the sender withdrew."""
    if catalog.public_package(sha256) is not None or uploads.owns(account.id, sha256):
        return True
    mine = Device.select(Device.id).where(Device.account == account.id)
    received = Push.target_device.in_(mine) & Push.state.not_in(WITHDRAWN)
    return (
        Push.select(Push.id)
        .where((Push.package_url == f"/api/v1/packages/{sha256}") & (Push.sender_device.in_(mine) | received))
        .exists()
    )


def is_own_url(url: str, own_base_url: str) -> bool:
    """True for a URL relative to the relay or on the relay's own host."""
    parts = urlsplit(url)
    return not parts.netloc or parts.netloc.lower() == urlsplit(own_base_url).netloc.lower()
