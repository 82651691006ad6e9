"""Several relay processes on one database: PostgreSQL (any hosts), or SQLite (one host).

A device's stream is held by one process; a push may be accepted by another. Two things
cross the process boundary (through PostgreSQL in ``Cluster``; ``HostCluster`` sends the
wake-ups over Unix datagram sockets instead, for processes sharing a SQLite database):

- wake-ups: ``NOTIFY appbeam`` carries only device ids (or a disconnect order), after the
  sending instance's tag; every other process LISTENs and wakes its own streams, which then
  read the database, the source of truth (the sender woke its own already, and skips its own
  NOTIFY, which PostgreSQL also delivers to it). A lost notification costs no more than the
  streams' catch-up poll.
- presence: which devices hold a stream, per relay instance, with a heartbeat, so a push
  knows whether its target is online (and a killed process's devices stop counting once
  its heartbeat is stale).
"""

from __future__ import annotations

import logging
import os
import secrets
import select
import threading
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

import peewee as pw

from relay_server.db import connection, database, is_postgres, utcnow
from relay_server.hub import Hub
from relay_server.models import Presence, RelayInstance
from relay_server.prepared import Prepared, slot

if TYPE_CHECKING:
    import socket

log = logging.getLogger(__name__)

CHANNEL = "appbeam"
HEARTBEAT = 5.0
#: An instance whose heartbeat is older than this is taken as gone.
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT)
_MAX_PAYLOAD = 7000  # PostgreSQL allows 8000 bytes per notification


#: Is the device present on another live relay instance? (The one query a push to a device
#: not connected here costs.)
_PRESENT_ELSEWHERE = Prepared(
    lambda: (
        Presence.select(Presence.device)
        .join(RelayInstance)
        .where(
            (Presence.device == slot("device"))
            & (RelayInstance.id != slot("instance"))
            & (RelayInstance.heartbeat_at >= slot("since", RelayInstance.heartbeat_at))
        )
        .limit(1)
    )
)


def _unhurried() -> None:
    """In this PostgreSQL transaction, commit without waiting for the WAL flush."""
    if is_postgres():
        database.execute_sql("SET LOCAL synchronous_commit TO OFF")


class Cluster:
    """This process's membership: heartbeat, presence rows, NOTIFY out, LISTEN in."""

    def __init__(self, database_url: str, hub: Hub):
        self.url = database_url
        self.hub = hub
        self.instance_id = secrets.token_hex(8)
        #: The first item of every NOTIFY this process sends, so its own listener can skip them
        #: (its streams were woken directly): ``@`` starts no device id (``shared.protocol``), so
        #: a process of an older version takes it for a device it does not hold, and goes on.
        self._origin = "@" + self.instance_id
        self._stop = threading.Event()
        self._wakeup_r, self._wakeup_w = os.pipe()  # lets stop() interrupt the listener's select
        self._threads: list[threading.Thread] = []
        # Wake-ups wait here for the publisher thread, which sends all that gathered in one
        # message: requests answered together cost one NOTIFY, and none waits for its own.
        self._wakes: set[str] = set()
        self._wakes_lock = threading.Lock()
        self._wakes_due = threading.Event()

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        with database.connection_context():
            RelayInstance.create(id=self.instance_id)
        for target, name in (
            (self._heartbeat, "cluster-heartbeat"),
            (self._listen, "cluster-listen"),
            (self._publish_wakes, "cluster-wakes"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("relay instance %s joined the cluster", self.instance_id)

    def stop(self) -> None:
        self._stop.set()
        self._wakes_due.set()
        os.write(self._wakeup_w, b"x")
        for thread in self._threads:
            thread.join(timeout=10)
        os.close(self._wakeup_r)
        os.close(self._wakeup_w)
        try:
            with database.connection_context():
                RelayInstance.delete().where(RelayInstance.id == self.instance_id).execute()
        except pw.PeeweeException:
            log.warning("could not remove relay instance %s", self.instance_id)

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                with database.connection_context():
                    RelayInstance.update(heartbeat_at=utcnow()).where(RelayInstance.id == self.instance_id).execute()
                    RelayInstance.delete().where(RelayInstance.heartbeat_at < utcnow() - 4 * STALE_AFTER).execute()
            except pw.PeeweeException:
                log.exception("cluster heartbeat failed")

    # ------------------------------------------------------------------ presence

    def set_present(self, device_id: str, present: bool) -> None:
        with connection(), database.atomic():
            _unhurried()  # a presence row need not survive a power cut: no WAL flush wait
            if present:
                Presence.insert(device=device_id, instance=self.instance_id).on_conflict_ignore().execute()
            else:
                Presence.delete().where(
                    (Presence.device == device_id) & (Presence.instance == self.instance_id)
                ).execute()

    def _live(self) -> pw.Expression:
        return RelayInstance.heartbeat_at >= utcnow() - STALE_AFTER

    def is_present_elsewhere(self, device_id: str) -> bool:
        with connection():
            return bool(
                _PRESENT_ELSEWHERE.execute(
                    device=device_id, instance=self.instance_id, since=utcnow() - STALE_AFTER
                ).fetchone()
            )

    def present_elsewhere(self) -> set[str]:
        query = (
            Presence.select(Presence.device)
            .join(RelayInstance)
            .where((RelayInstance.id != self.instance_id) & self._live())
            .tuples()
        )
        rows = cast("Iterable[tuple[str]]", query)  # (peewee's stubs type .tuples() as the model query)
        return {device for (device,) in rows}

    # ------------------------------------------------------------------ messages

    def publish_wake(self, device_ids: Iterable[str]) -> None:
        """Have the other processes wake these devices' streams (soon, from the publisher thread)."""
        with self._wakes_lock:
            self._wakes.update(device_ids)
        self._wakes_due.set()

    def _publish_wakes(self) -> None:
        while True:
            self._wakes_due.wait()
            self._wakes_due.clear()
            with self._wakes_lock:
                device_ids, self._wakes = self._wakes, set()
            if device_ids:
                try:
                    self._publish("w", sorted(device_ids))
                except Exception:  # noqa: BLE001 - this thread must go on; the streams' catch-up poll covers it
                    log.exception("could not wake %d device(s) on the other relay processes", len(device_ids))
            if self._stop.is_set():
                return

    def publish_disconnect(self, device_id: str, token_hash: str | None) -> None:
        self._publish("d", [f"{device_id}|{token_hash or ''}"])

    def _publish(self, kind: str, items: list[str]) -> None:
        with connection():
            self._send(kind, items)

    def _send(self, kind: str, items: list[str]) -> None:
        batch: list[str] = []
        for item in items + [None]:
            if item is None or sum(len(i) + 1 for i in batch) + len(item) > _MAX_PAYLOAD:
                if batch:
                    # Outside a transaction the notification is a transaction of its own: it need
                    # not wait for a WAL flush (nothing durable is in it). Inside one, the
                    # caller's commit decides.
                    sql = (
                        "SELECT pg_notify(%s, %s)"
                        if database.in_transaction()
                        else "SELECT set_config('synchronous_commit', 'off', true), pg_notify(%s, %s)"
                    )
                    database.execute_sql(sql, (CHANNEL, kind + ":" + ",".join([self._origin, *batch])))
                batch = []
            if item is not None:
                batch.append(item)

    def _listen(self) -> None:
        """Receive other processes' messages; reconnect if the server goes away."""
        import psycopg2

        while not self._stop.is_set():
            try:
                conn = psycopg2.connect(self.url)
                conn.autocommit = True
                conn.cursor().execute(f"LISTEN {CHANNEL}")
                while not self._stop.is_set():
                    ready = select.select([conn, self._wakeup_r], [], [], HEARTBEAT)[0]
                    if conn in ready:
                        conn.poll()
                        while conn.notifies:
                            self._handle(conn.notifies.pop(0).payload)
                conn.close()
            except psycopg2.Error:
                log.exception("cluster listener lost its connection; reconnecting")
                self._stop.wait(1.0)

    def _handle(self, payload: str) -> None:
        kind, _, body = payload.partition(":")
        items = [i for i in body.split(",") if i]
        origin = items.pop(0) if items and items[0].startswith("@") else None
        if origin == self._origin:
            return  # this process's own message: PostgreSQL sends a NOTIFY to every listener
        if kind == "w":
            self.hub.wake_local(items)
        elif kind == "d":
            for item in items:
                device_id, _, token_hash = item.partition("|")
                self.hub.disconnect_local(device_id, token_hash or None)


class HostCluster(Cluster):
    """Relay processes on one host sharing one database (``appbeam relay --processes N``).

    Presence and heartbeats are the same table rows as ``Cluster``'s; wake-ups and disconnect
    orders go from process to process over Unix stream sockets instead of ``NOTIFY``, so it
    also works on SQLite: every process listens on ``<directory>/<instance>.sock`` and keeps
    one connection to each other process's socket, writing one line per message. A stream
    socket holds a few hundred KB and a full one makes the sender wait (up to ``SEND_TIMEOUT``),
    so bursts are not dropped (datagram sockets queue only ten messages); a message that still
    cannot go is covered by the streams' catch-up poll at every keepalive tick, as a lost
    notification is. Sockets of processes that died are removed by the next process that
    cannot connect to them.
    """

    _RESCAN = 1.0  # seconds between fresh listings of the peers' sockets
    SEND_TIMEOUT = 2.0

    def __init__(self, directory: str | Path, hub: Hub):
        super().__init__("", hub)
        self.directory = Path(directory)
        self.path = self.directory / f"{self.instance_id}.sock"
        self._server: socket.socket | None = None
        self._peers: dict[str, socket.socket | None] = {}  # socket path -> connected socket (None: not connected)
        self._send_lock = threading.Lock()
        self._scanned = 0.0

    def start(self) -> None:
        import socket

        self.directory.mkdir(parents=True, exist_ok=True)
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(64)
        super().start()

    def stop(self) -> None:
        super().stop()
        for sock in [self._server, *self._peers.values()]:
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        try:
            self.path.unlink()
        except OSError:
            pass

    def _publish(self, kind: str, items: list[str]) -> None:
        self._send(kind, items)

    def _peer_paths(self) -> list[str]:
        import time

        now = time.monotonic()
        if now - self._scanned > self._RESCAN:
            try:
                found = {str(p) for p in self.directory.glob("*.sock") if p != self.path}
            except OSError:
                found = set()
            for gone in set(self._peers) - found:
                self._drop(gone)
                self._peers.pop(gone, None)
            for new in found - set(self._peers):
                self._peers[new] = None
            self._scanned = now
        return list(self._peers)

    def _send(self, kind: str, items: list[str]) -> None:
        import socket

        lines: list[str] = []
        batch: list[str] = []
        for item in [*items, None]:
            if item is None or sum(len(i) + 1 for i in batch) + len(item) > _MAX_PAYLOAD:
                if batch:
                    lines.append(kind + ":" + ",".join(batch) + "\n")
                batch = []
            if item is not None:
                batch.append(item)
        data = "".join(lines).encode()
        if not data:
            return
        with self._send_lock:  # one writer at a time: lines never interleave
            for peer in self._peer_paths():
                sock = self._peers.get(peer)
                try:
                    if sock is None:
                        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                        sock.settimeout(self.SEND_TIMEOUT)
                        sock.connect(peer)
                        self._peers[peer] = sock
                    sock.sendall(data)
                except (ConnectionRefusedError, FileNotFoundError):
                    self._drop(peer)
                    self._forget(peer)
                except OSError:  # slow or gone: reconnect next time; streams catch up at their poll
                    self._drop(peer)

    def _drop(self, peer: str) -> None:
        sock = self._peers.get(peer)
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
        if peer in self._peers:
            self._peers[peer] = None

    def _forget(self, peer: str) -> None:
        """A socket nobody listens on any more: its process died (it rejoins with a new one)."""
        try:
            os.unlink(peer)
        except OSError:
            pass
        self._peers.pop(peer, None)
        self._scanned = 0.0

    def _listen(self) -> None:
        """Accept the other processes' connections; one reader for each."""
        server = self._server
        assert server is not None, "start() binds the socket before this thread starts"
        watched: list[socket.socket | int] = [server, self._wakeup_r]
        while not self._stop.is_set():
            try:
                ready = select.select(watched, [], [], HEARTBEAT)[0]
                if server not in ready:
                    continue
                conn, _ = server.accept()
            except (OSError, ValueError):
                if self._stop.is_set():
                    return
                continue
            threading.Thread(target=self._read, args=(conn,), name="cluster-peer", daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        pending = b""
        try:
            while not self._stop.is_set():
                data = conn.recv(65536)
                if not data:
                    return
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line:
                        self._handle(line.decode())
        except OSError:
            return
        finally:
            conn.close()
