"""The per-device event log and its Server-Sent Events rendering."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urljoin

import peewee
from peewee import JOIN, SQL, NodeList, fn

from relay_server.db import database, defer_sql, is_postgres, iso, utcnow
from relay_server.models import Account, Device, Event, Push
from relay_server.prepared import Prepared, slot
from shared.messages import (
    InstallInfo,
    Message,
    PackageRef,
    PushMessage,
    PushSender,
    PushSignature,
    PushUpdate,
    encode,
    read,
)
from shared.protocol import UNACKNOWLEDGED_STATES, PushMode, PushState, StreamEvent

#: Any fixed number: the advisory lock that orders event writes on PostgreSQL.
_EVENT_LOCK = 0x61707062


_INSERT = Prepared(
    lambda: Event.insert(
        device=slot("device"),
        kind=slot("kind"),
        push=slot("push"),
        payload=slot("payload"),
        created_at=slot("created_at", Event.created_at),
    )
)


class _Order(threading.local):
    """Whether this thread's (greenlet's) transaction holds the event-order lock already."""

    held = False


_order = _Order()


@contextmanager
def order_held() -> Iterator[None]:
    """Inside a transaction: take the event-order lock now, once for every event the
    transaction appends (``GroupCommit`` wraps each shared transaction in this). On PostgreSQL
    that is one round trip per transaction instead of one per event (it goes with the first
    statement), and it is taken before any savepoint, so rolling one write of a batch back
    cannot give it up. Nothing on SQLite.

    Taken first, before any row the transaction updates: a transaction that updated a push and
    then waited for this lock, while the lock's holder waited for that push's row, would be a
    deadlock. So every event writer that updates rows first enters this at its start
    (``push_delivery.mirror_finished``); the others append (and lock) before they update. The
    price: a batch of reports that writes no event still holds the lock until it commits."""
    if not is_postgres() or _order.held:
        yield
        return
    defer_sql("SELECT pg_advisory_xact_lock(%s)", (_EVENT_LOCK,))  # sent with the first statement
    _order.held = True
    try:
        yield
    finally:
        _order.held = False  # the transaction ends with this block: PostgreSQL lets the lock go


def append(device_id: str, kind: StreamEvent, push: Push | None = None, payload: Message | None = None) -> None:
    """Record an event for a device (inside the caller's transaction).

    ``payload`` is the event's message, stored as the JSON it is sent as; a ``push`` event
    stores none, it is rendered from its push when sent (``push_message``), as it stands then.

    Streams read "events after the last id I sent", so ids must become visible in the
    order they were given out. SQLite has one writer at a time; on PostgreSQL two
    transactions could commit out of order, so event writers take one transaction-scoped
    advisory lock first (held until commit, re-entrant within the transaction), unless the
    transaction took it already (``order_held``).
    """
    if is_postgres() and not _order.held:
        database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_EVENT_LOCK,))
    _INSERT.defer(
        device=device_id,
        kind=str(kind),
        push=push.id if push is not None else None,
        payload=encode(payload).decode() if payload is not None else None,
        created_at=utcnow(),
    )


def push_update(push: Push) -> PushUpdate:
    """The ``push_update`` event the sending device gets when its push changed."""
    return PushUpdate(
        push_id=push.id,
        device_id=push.target_device_id,
        state=PushState(push.state),
        bytes_done=push.bytes_done,
        bytes_total=push.bytes_total,
        detail=push.detail,
        updated_at=iso(push.updated_at),
    )


def push_message(push: Push, base_url: str) -> PushMessage:
    """The ``push`` event a target device receives, as the push stands now [claims 3, 10].
    Addresses on the relay itself (``/api/v1/packages/...``) are made absolute."""
    sender: Device = push.sender_device
    app = read(push.app, InstallInfo, "app.")
    app = app.replace(
        icon_url=urljoin(base_url, app.icon_url) if app.icon_url else None,
        packages=tuple(ref.replace(url=urljoin(base_url, ref.url)) for ref in app.packages),
    )
    signature = push.signature_dict
    return PushMessage(
        push_id=push.id,
        mode=PushMode(push.mode),
        sender=PushSender(sender.account.username, sender.id, sender.name),
        app=app,
        package=PackageRef(push.format, urljoin(base_url, push.package_url), push.package_sha256, push.package_size),
        signature=read(signature, PushSignature, "signature.") if signature is not None else None,
        created_at=iso(push.created_at),
    )


_Sender = Device.alias()
_SenderAccount = Account.alias()
_SENDER_COLUMNS = (_Sender.id, _Sender.name, _Sender.account, _SenderAccount.id, _SenderAccount.username)


def _with_push(query: peewee.ModelSelect[Event]) -> peewee.ModelSelect[Event]:
    """Join each event's push with its sender device and account: rendering a ``push`` event
    then needs no further query (thousands of streams wake at once in a reconnect storm)."""
    return (
        query.join(Push, JOIN.LEFT_OUTER, on=(Event.push == Push.id))
        .join(_Sender, JOIN.LEFT_OUTER, on=(Push.sender_device == _Sender.id), attr="sender_device")
        .join(_SenderAccount, JOIN.LEFT_OUTER, on=(_Sender.account == _SenderAccount.id), attr="account")
    )


#: How many events a stream reads at once.
BATCH = 500


def _events_where(condition: Callable[[], peewee.Expression]) -> Prepared:
    return Prepared(
        lambda: (
            _with_push(Event.select(Event, Push, *_SENDER_COLUMNS))
            .where((Event.device == slot("device")) & condition())
            .order_by(Event.id)
            .limit(BATCH)
        )
    )


def _unacknowledged_pushes() -> peewee.Query:
    return Push.select(Push.id).where(
        (Push.target_device == slot("device")) & Push.state.in_([str(s) for s in UNACKNOWLEDGED_STATES])
    )


_NEWER = _events_where(lambda: Event.id > slot("after"))
#: The device's push events whose push is still unacknowledged, found from its pushes (by the
#: ``(target_device, state)`` index), not by reading every event it ever had: a phone with years of
#: history reconnects as fast as a new one. A push event goes to its push's target device
#: (``append``'s callers), so the push carries the device. The unary ``+`` keeps SQLite from
#: walking the whole table in id order instead (its planner has no statistics to know better).
_UNACKED = Prepared(
    lambda: (
        _with_push(Event.select(Event, Push, *_SENDER_COLUMNS))
        .where(
            (Event.kind == str(StreamEvent.PUSH))
            & Event.push.in_(_unacknowledged_pushes())
            & (NodeList((SQL("+"), Event.id), glue="") > slot("page"))
        )
        .order_by(Event.id)
        .limit(BATCH)
    )
)
_LATEST_ID = Prepared(
    lambda: Event.select(Event.id).where(Event.device == slot("device")).order_by(Event.id.desc()).limit(1)
)
_HIGHEST_ID = Prepared(lambda: Event.select(fn.MAX(Event.id)))


def pending_for(device_id: str, after_id: int | None, page_after: int = 0) -> list[Event]:
    """Events a stream should send on (re)connecting, one batch with ids above ``page_after``
    (call again with the last id until a batch comes back short): everything after
    ``after_id``, plus every push not yet acknowledged (``after_id`` None means a fresh
    connection that only wants unacknowledged pushes and what comes next).

    Two index-friendly reads merged here rather than one query with an OR, which no planner
    answers without reading every event of the device: the first ``BATCH`` of the union is
    within the first ``BATCH`` of each."""
    unacked: list[Event] = _UNACKED.rows(device=device_id, page=page_after)
    if after_id is None:
        return unacked
    newer: list[Event] = _NEWER.rows(device=device_id, after=max(after_id, page_after))
    if not unacked:
        return newer
    merged = {event.id: event for event in unacked}
    merged.update((event.id, event) for event in newer)
    return [merged[i] for i in sorted(merged)][:BATCH]


def highest_id() -> int:
    """The highest event id in the log (0 when empty)."""
    row = _HIGHEST_ID.execute().fetchone()
    return int((row[0] if row else None) or 0)


def newer_than(device_id: str, after_id: int) -> list[Event]:
    """Live events after ``after_id``."""
    return _NEWER.rows(device=device_id, after=after_id)


def latest_id(device_id: str) -> int:
    row = _LATEST_ID.execute(device=device_id).fetchone()
    return int(row[0]) if row else 0


def render(event: Event, base_url: str) -> str:
    """One event as Server-Sent Events text. Stored payloads are already the JSON sent."""
    if event.kind == str(StreamEvent.PUSH):
        assert event.push is not None, "a push event is deleted with its push (on_delete=CASCADE)"
        data = encode(push_message(event.push, base_url)).decode()
    else:
        data = event.payload or "{}"
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"
