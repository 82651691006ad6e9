"""Creating pushes [claims 2, 3, 9-11]: every target checked first (associated? compatible?
entitled to the relay's package? signed right?), then one push per target written in one
transaction, and the streams woken after it committed, so a stream never reads a half-made push.

What happens to a push later lives beside it: ``push_reports.py`` (the states devices report),
``push_cancel.py``, ``push_delivery.py`` (marked sent, the mirror's copy), ``push_views.py`` (reading
and ``view``), ``push_history.py`` (history rows, what the sender hears), ``push_packages.py``
(the relay's own packages and who may push them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import NamedTuple

from peewee import IntegrityError

from relay_server import catalog, events, signatures
from relay_server.associations import relation
from relay_server.context import Relay
from relay_server.errors import ApiError
from relay_server.i18n.errors import said
from relay_server.models import Account, CatalogApp, Device, Push
from relay_server.prepared import Prepared, slot
from relay_server.push_history import record_state
from relay_server.push_packages import is_own_url, may_push_package, relay_package_sha
from relay_server.push_transaction import commit
from shared.api_messages import PushRequest
from shared.i18n import Sentence
from shared.messages import InstallInfo, PackageRef, PushSignature
from shared.protocol import (
    PLATFORM_LABELS,
    Platform,
    PushMode,
    PushState,
    StreamEvent,
    choose_format,
    formats_for,
)
from shared.signing import new_push_id


class _Plan(NamedTuple):
    """One target of a push request, checked and ready to be written."""

    device: Device
    fmt: str
    effective: PushMode
    ref: PackageRef
    local_sha: str | None
    signature: PushSignature | None


_IN_CATALOG = Prepared(lambda: CatalogApp.select(CatalogApp.app_id).where(CatalogApp.app_id == slot("app_id")))


def _with_catalog(app: InstallInfo) -> InstallInfo:
    """Fill what the caller left out from the relay's catalog (download by app id [0074])."""
    # Most pushes name an app that is not in the catalog: one cheap look first.
    known = catalog.install_info(app.id) if _IN_CATALOG.execute(app_id=app.id).fetchone() else None
    if known is None:
        if not app.packages:
            raise ApiError(
                404, "unknown_app", "no package was given and the relay's catalog has no app %(app)s", app=repr(app.id)
            )
        return app
    merged = {k: v for k, v in known.to_dict().items()}
    merged.update({k: v for k, v in app.to_dict().items() if v not in (None, [], ())})
    return InstallInfo.from_dict(merged)


#: A push's target, with its account (``to_dict`` shows the owner).
_DEVICE = Prepared(lambda: Device.select(Device, Account).join(Account).where(Device.id == slot("id")))


def create(relay: Relay, sender: Device, asked: PushRequest, own_base_url: str) -> list[Push]:
    """Create one push per target device, or none at all if any target is refused.

    A target with a signature gets the push id the sender signed; the signature must verify
    with the sender's registered key, or nothing is created (``relay_server/signatures.py``).
    """
    mode, device_ids, signed = asked.mode, asked.device_ids, asked.signed
    app = _with_catalog(asked.app)
    account: Account = sender.account

    plans: list[_Plan] = []
    for device_id in device_ids:
        found = _DEVICE.rows(id=device_id)
        device: Device | None = found[0] if found else None
        rel = relation(account, device) if device is not None else None
        if device is None or rel is None or device.id == sender.id:
            raise ApiError(
                403,
                "not_associated",
                "device %(device)s is not one of your devices or a friend's",
                device=repr(device_id),
            )
        fmt = choose_format(device.platform, app.formats)
        if fmt is None:
            raise ApiError(422, "no_compatible_package", _incompatible(device, app.formats))
        # A friend can never make a device install silently.
        effective = mode if rel == "self" else PushMode.NOTIFY
        ref = app.package_for(fmt)
        if ref is None:  # cannot be: choose_format picked one of the app's formats
            raise ApiError(
                422, "no_compatible_package", "%(device)s: no %(format)s package", device=device.name, format=fmt
            )
        local_sha = relay_package_sha(ref.url) if is_own_url(ref.url, own_base_url) else None
        if local_sha and not relay.store.has(local_sha):
            local_sha = None
        if local_sha and not may_push_package(account, local_sha):
            raise ApiError(
                403,
                "not_entitled",
                "that package on the relay is not yours to send; push the app's own download address instead",
            )
        signature = signed.get(device.id)
        if signature is not None:
            signatures.check(
                sender, signature, target_id=device.id, mode=str(mode), app=app, fmt=fmt, sha256=ref.sha256 or local_sha
            )
        plans.append(_Plan(device, fmt, effective, ref, local_sha, signature))

    try:
        # One transaction with the other requests' writes of the moment (relay_server/group_commit.py);
        # returns once it committed.
        pushes, mirror_ids = commit(relay, lambda: _store(relay, sender, app, mode, plans))
    except IntegrityError:  # a push id the sender chose is taken (a retry, or two requests racing)
        raise ApiError(409, "push_exists", "a push with one of these push ids exists already") from None
    relay.hub.notify([sender.id, *(p.target_device_id for p in pushes)])
    for push_id in mirror_ids:
        relay.mirror.enqueue(push_id, account.id)
    relay.metrics.pushes_created.inc(len(pushes))
    return pushes


_INSERT_PUSH = Prepared(lambda: Push.insert({f: slot(f.name, f) for f in Push._meta.sorted_fields}))


def _store(
    relay: Relay, sender: Device, app: InstallInfo, mode: PushMode, plans: list[_Plan]
) -> tuple[list[Push], list[str]]:
    """Write the pushes (inside the caller's transaction)."""
    pushes: list[Push] = []
    mirror_ids: list[str] = []
    app_json = json.dumps(app.to_dict())
    for device, fmt, effective, ref, local_sha, signature in plans:
        online = relay.hub.is_connected(device.id)
        needs_mirror = not online and local_sha is None
        push = Push(
            id=signature.push_id if signature else new_push_id(),
            sender_device=sender,
            target_device=device,
            app_id=app.id,
            app_json=app_json,
            requested_mode=str(mode),
            mode=str(effective),
            format=fmt,
            package_url=ref.url,
            original_url=ref.url,
            package_sha256=ref.sha256 or local_sha,
            package_size=ref.size,
            mirror_status="pending" if needs_mirror else "none",
            state=str(PushState.SENT if online else PushState.QUEUED),
            signature=json.dumps(signature.to_dict()) if signature else None,
        )
        _INSERT_PUSH.defer(**{f.name: push.__data__.get(f.name) for f in Push._meta.sorted_fields})
        record_state(push)
        if needs_mirror:
            mirror_ids.append(push.id)
        else:
            events.append(device.id, StreamEvent.PUSH, push=push)
        pushes.append(push)
    return pushes, mirror_ids


def _incompatible(device: Device, offered: Iterable[str]) -> Sentence:
    """Why the device can take none of the app's packages: ``shared.protocol.incompatibility_reason``'s
    words after the device's name, as whole sentences of the relay's catalog (the same English)."""
    formats = ", ".join(sorted({f.lower() for f in offered}))
    try:
        label = PLATFORM_LABELS[Platform(device.platform)]
    except ValueError:
        return said("%(device)s: unknown platform %(platform)s", device=device.name, platform=repr(device.platform))
    wanted: str | Sentence = ", ".join(formats_for(device.platform)) or said("nothing")
    return said(
        "%(device)s: %(platform)s installs %(wanted)s; this app comes as %(formats)s",
        device=device.name,
        platform=label,
        wanted=wanted,
        formats=formats,
    )
