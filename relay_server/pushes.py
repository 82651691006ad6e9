"""Pushes: creating them [claims 2, 3, 9-11], the states devices report, cancelling.

Each function does its database work in one transaction and wakes the affected event
streams only after it committed, so a stream never reads a half-made push.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from peewee import IntegrityError

from relay_server import catalog, events, signatures, uploads
from relay_server.associations import relation
from relay_server.context import Relay
from relay_server.db import connection, database, iso, utcnow
from relay_server.errors import ApiError, bad_request, not_found
from relay_server.models import Account, CatalogApp, Device, Push, PushHistory
from relay_server.prepared import Prepared, slot
from shared import messages
from shared.messages import InstallInfo, PackageRef, PushSender
from shared.protocol import (
    CANCELLABLE_STATES,
    DEVICE_REPORTED_STATES,
    FINAL_STATES,
    MAX_INT,
    REOPENABLE_STATES,
    UNACKNOWLEDGED_STATES,
    PushMode,
    PushState,
    StreamEvent,
    can_transition,
    choose_format,
    incompatibility_reason,
    parse_device_id,
)
from shared.signing import new_push_id

log = logging.getLogger(__name__)

MAX_TARGETS = 50
#: Forward download progress to the sender at most this often (or on a new whole percent).
PROGRESS_INTERVAL = timedelta(seconds=1)


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


def _parse_request(body: Any) -> tuple[InstallInfo, PushMode, list[str], dict]:
    if not isinstance(body, Mapping):
        raise bad_request("send a JSON object with app, mode and device_ids")
    app = InstallInfo.from_dict(body.get("app"))
    try:
        mode = PushMode(body.get("mode"))
    except ValueError:
        raise bad_request("mode: must be install_now or notify", "invalid_field") from None
    device_ids = body.get("device_ids")
    if not isinstance(device_ids, list) or not device_ids:
        raise bad_request("device_ids: give one or more device ids", "invalid_field")
    if len(device_ids) > MAX_TARGETS:
        raise bad_request(f"device_ids: at most {MAX_TARGETS} devices per push", "invalid_field")
    ids = list(dict.fromkeys(parse_device_id(d, "device_ids[]") for d in device_ids))
    return app, mode, ids, signatures.parse(body, ids)


_IN_CATALOG = Prepared(lambda: CatalogApp.select(CatalogApp.app_id).where(CatalogApp.app_id == slot("app_id")))


def _with_catalog(app: InstallInfo) -> InstallInfo:
    """Fill what the caller left out from the relay's catalog (download by app id [0074])."""
    # Most pushes name an app that is not in the catalog: one cheap look first.
    known = catalog.install_info(app.id) if _IN_CATALOG.execute(app_id=app.id).fetchone() else None
    if known is None:
        if not app.packages:
            raise ApiError(404, "unknown_app", f"no package was given and the relay's catalog has no app {app.id!r}")
        return app
    merged = {k: v for k, v in known.to_dict().items()}
    merged.update({k: v for k, v in app.to_dict().items() if v not in (None, [], ())})
    return InstallInfo.from_dict(merged)


def may_push_package(account: Account, sha256: str) -> bool:
    """May ``account`` push the relay's copy ``sha256``? Only a store package (public), a package
    this account uploaded (relay_server/uploads.py), or a copy the relay made for a push this
    account sent or received: naming a hash must never unlock someone else's private package
    (the target could then download it)."""
    if catalog.public_package(sha256) is not None or uploads.owns(account.id, sha256):
        return True
    mine = Device.select(Device.id).where(Device.account == account.id)
    return (
        Push.select(Push.id)
        .where(
            (Push.package_url == f"/api/v1/packages/{sha256}")
            & (Push.sender_device.in_(mine) | Push.target_device.in_(mine))
        )
        .exists()
    )


def is_own_url(url: str, own_base_url: str) -> bool:
    """True for a URL relative to the relay or on the relay's own host."""
    parts = urlsplit(url)
    return not parts.netloc or parts.netloc.lower() == urlsplit(own_base_url).netloc.lower()


#: A push's target, with its account (``to_dict`` shows the owner).
_DEVICE = Prepared(lambda: Device.select(Device, Account).join(Account).where(Device.id == slot("id")))


def create(relay: Relay, sender: Device, body: Any, own_base_url: str) -> list[Push]:
    """Create one push per target device, or none at all if any target is refused.

    A target with a signature gets the push id the sender signed; the signature must verify
    with the sender's registered key, or nothing is created (``relay_server/signatures.py``).
    """
    app, mode, device_ids, signed = _parse_request(body)
    app = _with_catalog(app)
    account: Account = sender.account

    plans = []
    for device_id in device_ids:
        found = _DEVICE.rows(id=device_id)
        device = found[0] if found else None
        rel = relation(account, device) if device is not None else None
        if rel is None or device.id == sender.id:
            raise ApiError(403, "not_associated", f"device {device_id!r} is not one of your devices or a friend's")
        fmt = choose_format(device.platform, app.formats)
        if fmt is None:
            raise ApiError(
                422, "no_compatible_package", f"{device.name}: {incompatibility_reason(device.platform, app.formats)}"
            )
        # A friend can never make a device install silently.
        effective = mode if rel == "self" else PushMode.NOTIFY
        ref: PackageRef = app.package_for(fmt)
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
        plans.append((device, fmt, effective, ref, local_sha, signature))

    try:
        # One transaction with the other requests' writes of the moment (relay_server/group_commit.py);
        # returns once it committed.
        pushes, mirror_ids = _commit(relay, lambda: _store(relay, sender, app, mode, plans))
    except IntegrityError:  # a push id the sender chose is taken (a retry, or two requests racing)
        raise ApiError(409, "push_exists", "a push with one of these push ids exists already") from None
    relay.hub.notify([sender.id, *(p.target_device_id for p in pushes)])
    for push_id in mirror_ids:
        relay.mirror.enqueue(push_id, account.id)
    relay.metrics.pushes_created.inc(len(pushes))
    return pushes


_INSERT_PUSH = Prepared(lambda: Push.insert({f: slot(f.name, f) for f in Push._meta.sorted_fields}))
_INSERT_HISTORY = Prepared(
    lambda: PushHistory.insert({f: slot(f.name, f) for f in PushHistory._meta.sorted_fields if f is not PushHistory.id})
)


def _commit(relay: Relay, work):
    """``work()`` in a committed transaction: shared with concurrent requests when the relay has a
    ``GroupCommit`` (``relay.commits``), else one of its own."""
    if relay.commits is not None:
        return relay.commits.run(work)
    with database.atomic():
        return work()


def _store(relay: Relay, sender: Device, app: InstallInfo, mode: PushMode, plans: list) -> tuple[list[Push], list[str]]:
    """Write the pushes (inside the caller's transaction)."""
    pushes, mirror_ids = [], []
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
        _INSERT_PUSH.execute(**{f.name: push.__data__.get(f.name) for f in Push._meta.sorted_fields})
        record_state(push)
        if needs_mirror:
            mirror_ids.append(push.id)
        else:
            events.append(device.id, StreamEvent.PUSH, push=push)
        pushes.append(push)
    return pushes, mirror_ids


def record_state(push: Push, forward: bool = True) -> None:
    """History row for the push's current state, and its update for the sender's stream."""
    _INSERT_HISTORY.execute(
        push=push.id,
        state=push.state,
        detail=push.detail,
        bytes_done=push.bytes_done,
        bytes_total=push.bytes_total,
        at=push.updated_at,
    )
    if forward:
        _forward(push)


def _forward(push: Push) -> None:
    events.append(push.sender_device_id, StreamEvent.PUSH_UPDATE, push=push, payload=events.push_update(push))
    push.forwarded_at = push.updated_at
    push.forwarded_percent = _percent(push)


def _percent(push: Push) -> int | None:
    if push.bytes_total and push.bytes_done is not None:
        return int(push.bytes_done * 100 / push.bytes_total)
    return None


def _parse_report(body: Any) -> tuple[PushState, int | None, int | None, str | None]:
    if not isinstance(body, Mapping):
        raise bad_request("send a JSON object with state")
    try:
        state = PushState(body.get("state"))
    except ValueError:
        raise bad_request(f"state: unknown state {body.get('state')!r}", "invalid_field") from None
    if state not in DEVICE_REPORTED_STATES:
        raise bad_request(f"state: a device cannot report {state}", "invalid_field")
    numbers = []
    for key in ("bytes_done", "bytes_total"):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT):
            raise bad_request(f"{key}: must be a whole number of bytes (0 to {MAX_INT})", "invalid_field")
        numbers.append(value)
    done, total = numbers
    if done is not None and total is not None and done > total:
        raise bad_request("bytes_done: cannot be more than bytes_total", "invalid_field")
    detail = body.get("detail")
    if detail is not None and not isinstance(detail, str):
        raise bad_request("detail: must be a string", "invalid_field")
    return state, done, total, (detail[:500] if detail is not None else None)


def report(relay: Relay, device: Device, push_id: str, body: Any) -> Push:
    """A target device reports where it stands with a push."""
    state, done, total, detail = _parse_report(body)
    # Committed with the other requests' writes of the moment (relay_server/group_commit.py).
    push = _commit(relay, lambda: _apply_report(relay, device, push_id, state, done, total, detail))
    relay.hub.notify([push.sender_device_id])
    return push


def _apply_report(
    relay: Relay,
    device: Device,
    push_id: str,
    state: PushState,
    done: int | None,
    total: int | None,
    detail: str | None,
) -> Push:
    """The report's reads and writes (inside the caller's transaction)."""
    push = _visible_push(device, push_id)
    if push.target_device_id != device.id:
        raise ApiError(403, "not_target", "only the device that received a push reports on it")
    current = PushState(push.state)
    if state is PushState.DELIVERED and current not in UNACKNOWLEDGED_STATES and current not in FINAL_STATES:
        return push  # a repeated acknowledgement (at-least-once delivery): nothing changes
    # The same state again changes something only while downloading (progress), on a new
    # failure, or when the device says something new about where it stands ("Waiting for the
    # relay" -> "Asking about mobile data" while paused); an empty detail clears the old one.
    new_detail = detail is not None and (detail or None) != push.detail
    if state == current and state not in (PushState.DOWNLOADING, PushState.FAILED) and not new_detail:
        return push
    if not can_transition(current, state) and not (state == current and new_detail):
        raise ApiError(409, "bad_transition", f"a push that is {current} cannot become {state}")
    if current in REOPENABLE_STATES and state != current:
        _require_package_kept(relay, push)  # Download again on the phone
    effective_total = total if total is not None else push.bytes_total
    if done is not None and effective_total is not None and done > effective_total:
        raise bad_request("bytes_done: cannot be more than bytes_total", "invalid_field")
    now = utcnow()
    changed = state != current
    if current in UNACKNOWLEDGED_STATES:
        push.acknowledged_at = now
        relay.metrics.observe_delivery(push.created_at, now)
    push.state = str(state)
    push.updated_at = now
    if done is not None:
        push.bytes_done = done
    if total is not None:
        push.bytes_total = total
    push.detail = (detail or None) if (detail is not None or changed) else push.detail
    if changed or new_detail or state is PushState.FAILED:
        record_state(push)
    elif _progress_due(push, now):
        _forward(push)
    _SAVE_REPORT.execute(id=push.id, **{f.name: getattr(push, f.name) for f in _REPORTED})
    return push


def _require_package_kept(relay: Relay, push: Push) -> None:
    """A declined push re-opened by its device (Download again) needs the package it points at:
    when that is the relay's own copy and housekeeping has collected it since, the re-opening is
    refused with 410 ``package_gone`` (the push stays declined; the sender can Resend)."""
    sha = relay_package_sha(push.package_url) if push.package_url else None
    if sha and not relay.store.has(sha):
        raise ApiError(
            410, "package_gone", "the relay no longer keeps this push's package; ask the sender to send it again"
        )


#: What a report can change in a push (``report``): saved by one prepared UPDATE.
_REPORTED = (
    Push.state,
    Push.updated_at,
    Push.acknowledged_at,
    Push.bytes_done,
    Push.bytes_total,
    Push.detail,
    Push.forwarded_at,
    Push.forwarded_percent,
)
_SAVE_REPORT = Prepared(
    lambda: Push.update({f: slot(f.name, f) for f in _REPORTED}).where(Push.id == slot("id", Push.id))
)


def _progress_due(push: Push, now) -> bool:
    percent = _percent(push)
    last_at = push.forwarded_at
    if last_at is not None and last_at.tzinfo is None:
        last_at = last_at.replace(tzinfo=now.tzinfo)
    return (
        push.forwarded_percent is None
        or percent is None
        or percent != push.forwarded_percent
        or last_at is None
        or now - last_at >= PROGRESS_INTERVAL
    )


def cancel(relay: Relay, device: Device, push_id: str) -> Push:
    """The sender withdraws a push that is not being installed yet."""
    with database.atomic():
        push = _visible_push(device, push_id)
        if push.sender_device_id != device.id:
            raise ApiError(403, "not_sender", "only the device that sent a push can cancel it")
        if PushState(push.state) not in CANCELLABLE_STATES:
            raise ApiError(409, "not_cancellable", f"a push that is {push.state} can no longer be cancelled")
        push.state = str(PushState.CANCELLED)
        push.detail = "cancelled by the sender"
        push.updated_at = utcnow()
        record_state(push)
        push.save()
        events.append(
            push.target_device_id, StreamEvent.PUSH_CANCELLED, push=push, payload=messages.PushCancelled(push.id)
        )
    relay.hub.notify([push.sender_device_id, push.target_device_id])
    return push


_MARK_SENT = Prepared(
    lambda: Push.update(
        state=str(PushState.SENT),
        updated_at=slot("at", Push.updated_at),
        sent_at=slot("at", Push.sent_at),
        forwarded_at=slot("at", Push.forwarded_at),
        forwarded_percent=slot("percent"),
    ).where((Push.id == slot("id")) & (Push.state == str(PushState.QUEUED)))
)


def mark_sent(relay: Relay, push_ids: Iterable[str]) -> None:
    """Pushes just written to their device's stream: queued -> sent, sender told."""
    ids = list(push_ids)
    if not ids:
        return
    senders = set()
    with database.atomic():
        for push in Push.select().where(Push.id.in_(ids), Push.state == str(PushState.QUEUED)):
            push.state = str(PushState.SENT)
            push.updated_at = push.sent_at = utcnow()
            record_state(push)
            _MARK_SENT.execute(id=push.id, at=push.updated_at, percent=push.forwarded_percent)
            senders.add(push.sender_device_id)
    relay.hub.notify(senders)


class SentMarks:
    """Pushes that streams wrote, on their way to ``mark_sent``, many in one transaction.

    When thousands of devices reconnect at once, each stream sends the pushes it missed;
    marking them in one write transaction per stream cost more than sending them. Streams
    hand the ids over here instead: one drainer (a greenlet under gevent, a thread
    otherwise) marks whatever gathered while it was busy, ``BATCH`` at a time (so a write
    transaction never holds up the other greenlets for long), and ends when none are left.
    """

    BATCH = 100

    def __init__(self, relay: Relay):
        self.relay = relay
        self._ids: list[str] = []
        self._lock = threading.Lock()
        self._draining = False
        self._idle = threading.Event()
        self._idle.set()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until everything handed over was marked (the relay is stopping)."""
        return self._idle.wait(timeout)

    def add(self, push_ids: Iterable[str]) -> None:
        with self._lock:
            self._ids.extend(push_ids)
            if self._draining or not self._ids:
                return
            self._draining = True
            self._idle.clear()
        threading.Thread(target=self._drain, name="sent-marks", daemon=True).start()

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch, self._ids = self._ids[: self.BATCH], self._ids[self.BATCH :]
                if not batch:
                    self._draining = False
                    self._idle.set()
                    return
            try:
                with connection():
                    mark_sent(self.relay, batch)
            except Exception:  # noqa: BLE001 - the device has the push; the next batch must still go
                log.exception("could not mark %d pushes as sent", len(batch))


def sent_marks(relay: Relay) -> SentMarks:
    """The relay's ``SentMarks`` (made on first use)."""
    marks = getattr(relay, "sent_marks", None)
    if marks is None:
        marks = relay.sent_marks = SentMarks(relay)
    return marks


def mirror_finished(relay: Relay, push_id: str, sha256: str | None, size: int | None, problem: str | None) -> None:
    """The relay's copy of a queued push's package is ready (or could not be made)."""
    with database.atomic():
        push = Push.get_or_none(Push.id == push_id)
        if push is None or push.mirror_status != "pending":
            return
        if sha256:
            push.package_url = f"/api/v1/packages/{sha256}"
            push.package_sha256 = sha256
            push.package_size = size
            push.mirror_status = "done"
        else:
            push.mirror_status = "failed"
            push.detail = f"the relay could not keep a copy ({problem}); the device will fetch the original"
            push.updated_at = utcnow()
            record_state(push)
        push.save()
        if PushState(push.state) not in FINAL_STATES:
            events.append(push.target_device_id, StreamEvent.PUSH, push=push)
    relay.hub.notify([push.target_device_id, push.sender_device_id])


_Sender, _SenderAccount, _Target, _TargetAccount = Device.alias(), Account.alias(), Device.alias(), Account.alias()
#: A push with its sender and target devices and their accounts: ``to_dict`` needs no further query.
_PUSH = Prepared(
    lambda: (
        # (Named columns: a whole Device alias would select its ``model`` column wrongly, as the alias's model.)
        Push.select(
            Push,
            _Sender.id,
            _Sender.name,
            _Sender.account,
            _SenderAccount.id,
            _SenderAccount.username,
            _Target.id,
            _Target.name,
            _Target.account,
            _TargetAccount.id,
            _TargetAccount.username,
        )
        .join(_Sender, on=(Push.sender_device == _Sender.id), attr="sender_device")
        .join(_SenderAccount, on=(_Sender.account == _SenderAccount.id), attr="account")
        .switch(Push)
        .join(_Target, on=(Push.target_device == _Target.id), attr="target_device")
        .join(_TargetAccount, on=(_Target.account == _TargetAccount.id), attr="account")
        .where(Push.id == slot("id"))
    )
)


def _visible_push(device: Device, push_id: str) -> Push:
    """The push if ``device`` sent or received it; 404 otherwise (no existence leak)."""
    found = _PUSH.rows(id=push_id)
    push = found[0] if found else None
    if push is None or device.id not in (push.sender_device_id, push.target_device_id):
        raise not_found(f"no push {push_id!r} for this device", "unknown_push")
    return push


def get(device: Device, push_id: str) -> Push:
    return _visible_push(device, push_id)


def listing(device: Device, role: str, limit: int) -> list[Push]:
    if role not in ("sent", "received"):
        raise bad_request("role: must be sent or received", "invalid_field")
    column = Push.sender_device if role == "sent" else Push.target_device
    return list(Push.select().where(column == device.id).order_by(Push.created_at.desc(), Push.id).limit(limit))


def view(push: Push, history: bool = False) -> messages.Push:
    """A push as the API shows it (``docs/api.md``; the shape is ``shared.messages.Push``)."""
    sender: Device = push.sender_device
    target: Device = push.target_device
    shown = messages.Push(
        id=push.id,
        app=messages.read(push.app, InstallInfo, "app."),
        mode=PushMode(push.mode),
        requested_mode=PushMode(push.requested_mode),
        device_id=target.id,
        device_name=target.name,
        owner=target.account.username,
        sender=PushSender(sender.account.username, sender.id, sender.name),
        format=push.format,
        package=PackageRef(push.format, push.package_url, push.package_sha256, push.package_size),
        state=PushState(push.state),
        bytes_done=push.bytes_done,
        bytes_total=push.bytes_total,
        detail=push.detail,
        mirrored=push.mirror_status == "done",
        signed=push.signature is not None,
        created_at=iso(push.created_at),
        updated_at=iso(push.updated_at),
    )
    if history:
        steps = [
            messages.HistoryEntry(PushState(h.state), h.detail, h.bytes_done, h.bytes_total, iso(h.at))
            for h in push.history.order_by(PushHistory.id)
        ]
        shown = shown.replace(history=steps)
    return shown
