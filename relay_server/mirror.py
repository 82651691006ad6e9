"""The relay's copy of a package for a device that is offline [claims 9-11, 0087].

A queued push's package is fetched into the content-addressed store by a small pool of
background workers; pushes still waiting for their copy are picked up again after a restart
(and by the janitor on every pass). Fetching is bounded (size cap, timeouts, a few
redirects) and, unless the operator allows it, refuses loopback, private, link-local and
other non-public addresses, checked on every hop. The connection goes to exactly the address
that was checked (``pinned_http``), so a DNS server cannot answer a public address to the
check and a private one to the connection.

No account can hold up another's copies. A sending account has at most
``mirror_per_account`` copies in progress; of the accounts with copies waiting, the one with
the fewest in progress goes next (round-robin among equals). A copy that averages less than
``mirror_min_rate`` bytes/s over ``mirror_rate_window`` seconds is abandoned, and its push
goes out with the original URL and a detail that says why; so does a copy that finds the
disk full. If even that cannot be written (the database refuses it too), the push stays
pending, and the janitor hands it back to the mirror on its next pass.

Over 500 lines: the fair queue, the rate rule and the copy itself share the worker pool's state.
"""

from __future__ import annotations

import errno
import ipaddress
import itertools
import logging
import socket
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, cast
from urllib.parse import urljoin, urlsplit

import peewee
import requests
import urllib3
from peewee import fn
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_when_event_set, wait_exponential_jitter
from tenacity.stop import stop_base

from relay_server import push_delivery, push_packages
from relay_server.address_policy import is_public
from relay_server.db import connection, database
from relay_server.models import Device, Package, Push
from relay_server.package_store import HashMismatch, PackageWriter, TooLarge
from relay_server.pinned_http import PinnedAdapter
from shared.protocol import FORMAT_MIME_TYPES, PushState
from shared.relay_client import USER_AGENT

if TYPE_CHECKING:  # the Relay holds its mirror
    from relay_server.context import Relay

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
#: Most bytes taken from the connection at once; a read returns whatever has arrived.
READ_CHUNK = 256 * 1024
#: Without ``read1`` (urllib3 before 2.3) a read waits for all it asked for: ask for less.
SMALL_READ_CHUNK = 16 * 1024


def account_usage(account_id: int) -> int:
    """Bytes of the relay's copies that pushes sent from this account still use."""
    in_use = (
        Push.select(Push.package_sha256)
        .join(Device, on=(Push.sender_device == Device.id))
        .where((Device.account == account_id) & (Push.mirror_status == "done"))
        .distinct()
    )
    total = Package.select(fn.COALESCE(fn.SUM(Package.size), 0)).where(Package.sha256.in_(in_use)).scalar()
    return int(total or 0)


class MirrorRefused(Exception):
    """The package cannot be mirrored (forbidden address, too large, wrong hash, HTTP error)."""


class TooSlow(MirrorRefused):
    """The package server sends too slowly for the relay to keep a copy."""


class _Transient(Exception):
    """A failure worth another try (connection reset, 5xx)."""


class _Stopped(Exception):
    """The mirror is stopping: the copy is left pending for the next start."""


_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_DISK_FULL_WORDS = ("database or disk is full", "no space left on device", "disk quota exceeded")


def is_disk_full(exc: BaseException | None) -> bool:
    """True if ``exc``, or what caused it, is a full disk.

    That is a file write that found no space (ENOSPC, or a quota: EDQUOT), or the database
    refusing a write for the same reason (SQLite's "database or disk is full",
    PostgreSQL's ``disk_full``, SQLSTATE 53100).
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
            return True
        if getattr(exc, "pgcode", None) == "53100":
            return True
        if isinstance(exc, (peewee.DatabaseError, sqlite3.DatabaseError)) and any(
            words in str(exc).lower() for words in _DISK_FULL_WORDS
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def check_url(url: str) -> None:
    """Refuse anything but http(s) URLs with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MirrorRefused(f"only http(s) URLs can be mirrored, not {url!r}")


def public_address(hostname: str) -> str:
    """Resolve ``hostname`` once and return the address to connect to (SSRF protection).

    Refuses the name if any of its addresses is loopback, private, link-local or otherwise
    not public; the caller must connect to the address returned, not resolve the name again.
    """
    try:
        infos = socket.getaddrinfo(hostname, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise MirrorRefused(f"cannot resolve {hostname}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not is_public(address):
            raise MirrorRefused(f"{hostname} resolves to a non-public address ({address})")
    return str(infos[0][4][0])


class _FairQueue:
    """Copies waiting for a worker, taken fairly between the accounts that sent them.

    An account with ``per_account`` copies in progress waits. Of the others, the one with
    the fewest copies in progress goes next, and among equals the one served longest ago
    (round-robin), so a newcomer never waits behind another account's backlog. A push is
    never held twice: one already waiting or in progress is not queued again. Workers wait
    in ``take`` (threads in tests, greenlets under gevent, where ``threading`` is patched).
    """

    def __init__(self, per_account: int):
        self.per_account = max(1, per_account)
        self._changed = threading.Condition()
        self._waiting: dict[object, deque[str]] = {}  # sending account -> its push ids, oldest first
        self._running: Counter[object] = Counter()  # sending account -> copies in progress
        self._served: dict[object, int] = {}  # sending account -> the turn it was last given
        self._turns = itertools.count()
        self._held: set[str] = set()  # push ids waiting or in progress

    def put(self, account: object, push_id: str) -> bool:
        """Queue a copy for ``account``; False if this push is already waiting or in progress."""
        with self._changed:
            if push_id in self._held:
                return False
            self._held.add(push_id)
            self._waiting.setdefault(account, deque()).append(push_id)
            self._changed.notify_all()
            return True

    def take(self, stopping: threading.Event) -> tuple[object, str] | None:
        """The next (account, push id) to copy; waits for one, None once ``stopping`` is set."""
        with self._changed:
            while not stopping.is_set():
                account = self._next_account()
                if account is not None:
                    return account, self._begin(account)
                self._changed.wait()
            return None

    def done(self, account: object, push_id: str) -> None:
        """A copy taken from ``take`` is over (made, failed, or left for later)."""
        with self._changed:
            self._running[account] -= 1
            if self._running[account] <= 0:
                del self._running[account]
                if account not in self._waiting:
                    self._served.pop(account, None)
            self._held.discard(push_id)
            self._changed.notify_all()

    def wake_all(self) -> None:
        """Let waiting workers see that they should stop."""
        with self._changed:
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is waiting or in progress; False if that took longer than ``timeout``."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._held, timeout)

    def _next_account(self) -> object | None:
        ready = [account for account in self._waiting if self._running[account] < self.per_account]
        return min(ready, key=lambda account: (self._running[account], self._served.get(account, -1)), default=None)

    def _begin(self, account: object) -> str:
        waiting = self._waiting[account]
        push_id = waiting.popleft()
        if not waiting:
            del self._waiting[account]
        self._running[account] += 1
        self._served[account] = next(self._turns)
        return push_id


class _RateGuard:
    """Abandons a copy that averages less than ``min_rate`` bytes/s over ``window`` seconds.

    The first window starts when the request is sent, so a server slow to answer counts too.
    The speed is judged whenever bytes arrive; a server that sends nothing at all is the read
    timeout's case. A ``min_rate`` or ``window`` of 0 turns the check off.
    """

    def __init__(self, min_rate: int, window: float):
        self.min_rate = min_rate
        self.window = window
        self._since = time.monotonic()
        self._bytes = 0

    def received(self, count: int) -> None:
        if self.min_rate <= 0 or self.window <= 0:
            return
        self._bytes += count
        elapsed = time.monotonic() - self._since
        if elapsed < self.window:
            return
        rate = self._bytes / elapsed
        if rate < self.min_rate:
            raise TooSlow(
                f"the package server was too slow: {rate:,.0f} bytes/s over {elapsed:.0f} s, "
                f"and the relay gives up below {self.min_rate:,} bytes/s"
            )
        self._since, self._bytes = time.monotonic(), 0


def _copy_body(
    resp: requests.Response, writer: PackageWriter, guard: _RateGuard, stopping: threading.Event | None
) -> None:
    """Write the response body into ``writer`` as it arrives, judging its speed on every read."""
    raw = resp.raw
    read, amount = getattr(raw, "read1", None), READ_CHUNK
    if read is None:
        read, amount = raw.read, SMALL_READ_CHUNK
    while True:
        if stopping is not None and stopping.is_set():
            raise _Stopped()
        try:
            chunk = read(amount, decode_content=True)
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError) as exc:
            raise _Transient(str(exc)) from exc
        except urllib3.exceptions.HTTPError as exc:  # a body that cannot be decoded, a TLS failure
            raise MirrorRefused(str(exc)) from exc
        if not chunk:
            return
        guard.received(len(chunk))
        writer.write(chunk)


def _problem(exc: Exception, url: str, push_id: str) -> str:
    """Why a copy could not be made, in the words the push's detail uses (and logged)."""
    if is_disk_full(exc):
        log.error("could not mirror %s for push %s: the disk is full (%s)", url, push_id, exc)
        return "its disk is full"
    if isinstance(exc, (MirrorRefused, requests.RequestException, _Transient, OSError)):
        log.warning("could not mirror %s for push %s: %s", url, push_id, exc)
        return str(exc)
    log.error("unexpected error mirroring %s for push %s", url, push_id, exc_info=exc)
    return f"unexpected error: {exc}"


def _wait_on(stopping: threading.Event) -> Callable[[float], None]:
    """A sleep that ends early when ``stopping`` is set."""

    def sleep(seconds: float) -> None:
        stopping.wait(seconds)

    return sleep


class Mirror:
    """A small pool of background workers that copy queued pushes' packages into the store.

    The workers take copies from a ``_FairQueue`` and hold each to a minimum speed
    (``_RateGuard``), so one account's slow package server cannot stall other accounts'
    pushes. ``start``/``stop`` may be called again (tests hold the mirror that way).
    """

    def __init__(self, relay: Relay):
        self.relay = relay
        self._queue = _FairQueue(relay.config.mirror_per_account)
        self._workers: list[threading.Thread] = []
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start the workers and pick up copies that a previous run did not finish."""
        self._stopping = threading.Event()
        self.requeue_pending()
        self._workers = [
            threading.Thread(target=self._work, args=(self._stopping,), name=f"mirror-{number}", daemon=True)
            for number in range(max(1, self.relay.config.mirror_workers))
        ]
        for worker in self._workers:
            worker.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the workers. Copies in progress are abandoned and stay pending, like the
        waiting ones: a later ``start`` (or the next run of the relay) makes them."""
        self._stopping.set()
        self._queue.wake_all()
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self._workers = []

    def enqueue(self, push_id: str, account_id: int | None = None) -> None:
        """Queue the copy for a push (one already waiting or in progress is not queued again).

        ``account_id`` is the sending account, when the caller knows it (saves a query on the
        push path); otherwise it is looked up.
        """
        self._queue.put(account_id if account_id is not None else self._sender_account(push_id), push_id)

    def requeue_pending(self) -> int:
        """Queue every push still waiting for its copy that is neither queued nor in progress
        (at start-up, and from the janitor); returns how many were queued.

        Only queued pushes need a copy: a cancelled or expired one will not be delivered.
        """
        with connection():
            query = (
                Push.select(Push.id, Device.account)
                .join(Device, on=(Push.sender_device == Device.id))
                .where((Push.state == str(PushState.QUEUED)) & (Push.mirror_status == "pending"))
                .order_by(Push.created_at)
                .tuples()
            )
            waiting = list(cast("Iterable[tuple[str, int]]", query))  # (peewee's stubs: .tuples() keeps models)
        return sum(self._queue.put(account, push_id) for push_id, account in waiting)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests: wait until every queued copy was handled."""
        return self._queue.wait_idle(timeout)

    def _sender_account(self, push_id: str) -> object:
        """The account that sent the push: its copies take that account's turns."""
        try:
            with connection():
                return (
                    Device.select(Device.account)
                    .join(Push, on=(Push.sender_device == Device.id))
                    .where(Push.id == push_id)
                    .scalar()
                )
        except Exception:  # noqa: BLE001 - the copy must still be made, in a shared turn
            log.exception("could not find who sent push %s", push_id)
            return None

    def _work(self, stopping: threading.Event) -> None:
        while True:
            taken = self._queue.take(stopping)
            if taken is None:
                return
            account, push_id = taken
            left = False
            try:
                self._mirror_one(push_id, stopping)
            except _Stopped:
                left = True
            except Exception:  # a bad package or a refused write must never stop the worker
                log.exception("mirroring push %s failed; it stays pending and is tried again later", push_id)
            finally:
                self._queue.done(account, push_id)
            if left:  # waits for the next start with the copies not begun yet
                self._queue.put(account, push_id)

    def _mirror_one(self, push_id: str, stopping: threading.Event | None = None) -> None:
        with connection():
            push = Push.get_or_none(Push.id == push_id)
            if push is None or push.mirror_status != "pending":
                return
            room = self.relay.config.mirror_quota_bytes - account_usage(push.sender_device.account_id)
        problem: str | None
        if room <= 0:
            sha, size, problem = None, None, "the sender's storage quota on the relay is used up"
        else:
            sha, size, problem = self._copy(push, room, stopping)
        self._finish(push_id, sha, size, problem)

    def _copy(
        self, push: Push, room: int, stopping: threading.Event | None
    ) -> tuple[str | None, int | None, str | None]:
        """Fetch the push's package: (sha256, size, None), or (None, None, why not).

        No database connection is held meanwhile: a copy can take minutes.
        """
        url = push.original_url
        try:
            sha, size = self.fetch(url, push.package_sha256, push.format, max_bytes=room, stopping=stopping)
        except _Stopped:
            raise
        except Exception as exc:  # any failure: still deliver the push, never leave it pending
            if stopping is not None and stopping.is_set():
                raise _Stopped() from exc
            return None, None, _problem(exc, url, push.id)
        log.info("mirrored %s as %s for push %s", url, sha, push.id)
        return sha, size, None

    def _finish(self, push_id: str, sha: str | None, size: int | None, problem: str | None) -> None:
        """Record the outcome and deliver the push. If the database refuses the write because
        the disk is full, the push stays pending: the janitor hands it back on a later pass."""
        try:
            with connection():
                push_delivery.mirror_finished(self.relay, push_id, sha, size, problem)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            log.error(
                "could not record the copy for push %s, the disk is full (%s); it is tried again later", push_id, exc
            )

    def fetch(
        self,
        url: str,
        expected_sha256: str | None,
        fmt: str,
        max_bytes: int | None = None,
        stopping: threading.Event | None = None,
    ) -> tuple[str, int]:
        """Copy ``url`` into the store (once per SHA-256); returns (sha256, size).

        ``max_bytes`` (the sender's remaining quota) lowers the size cap for this copy; once
        ``stopping`` is set, the copy ends without another try.
        """
        local = push_packages.relay_package_sha(url)
        if local and self.relay.store.has(local) and not urlsplit(url).netloc:
            return local, self.relay.store.path_for(local).stat().st_size
        # A hash the sender merely claims proves nothing: the bytes are always fetched from the
        # push's own URL (the store keeps one copy however many pushes use it).
        stop: stop_base = stop_after_attempt(3)
        sleep: Callable[[float], None] = time.sleep
        if stopping is not None:  # no further try, and no wait for one, once the mirror stops
            stop, sleep = stop | stop_when_event_set(stopping), _wait_on(stopping)
        for attempt in Retrying(
            retry=retry_if_exception_type(_Transient),
            wait=wait_exponential_jitter(multiplier=1, max=20),
            stop=stop,
            sleep=sleep,
            reraise=True,
        ):
            with attempt:
                sha, size = self._download(url, expected_sha256, max_bytes, stopping)
        with connection(), database.atomic():
            Package.insert(
                sha256=sha, size=size, content_type=FORMAT_MIME_TYPES.get(fmt, "application/octet-stream")
            ).on_conflict_ignore().execute()
        return sha, size

    def _download(
        self, url: str, expected_sha256: str | None, max_bytes: int | None, stopping: threading.Event | None = None
    ) -> tuple[str, int]:
        config = self.relay.config
        cap = min(config.mirror_max_bytes, max_bytes) if max_bytes is not None else config.mirror_max_bytes
        if stopping is not None and stopping.is_set():
            raise _Stopped()
        # One judge of speed for the whole attempt: slow redirects count as well.
        guard = _RateGuard(config.mirror_min_rate, config.mirror_rate_window)
        with requests.Session() as session:
            session.headers["User-Agent"] = USER_AGENT
            if not config.mirror_allow_private:
                # Every connection, on every hop, resolves once, checks, and goes to that address.
                session.mount("http://", PinnedAdapter(public_address))
                session.mount("https://", PinnedAdapter(public_address))
            for _ in range(MAX_REDIRECTS + 1):
                check_url(url)
                try:
                    resp = session.get(
                        url, stream=True, allow_redirects=False, timeout=(config.mirror_timeout, config.mirror_timeout)
                    )
                except (requests.ConnectionError, requests.Timeout) as exc:
                    raise _Transient(str(exc)) from exc
                with resp:
                    if resp.is_redirect:
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    if resp.status_code >= 500 or resp.status_code == 429:
                        raise _Transient(f"HTTP {resp.status_code} from {url}")
                    if resp.status_code != 200:
                        raise MirrorRefused(f"HTTP {resp.status_code} from {url}")
                    declared = int(resp.headers.get("Content-Length") or 0)
                    if declared > cap:
                        raise MirrorRefused(f"package is {declared} bytes, more than the {cap} allowed")
                    try:
                        with self.relay.store.writer(expected_sha256, cap) as writer:
                            _copy_body(resp, writer, guard, stopping)
                    except (TooLarge, HashMismatch) as exc:
                        raise MirrorRefused(str(exc)) from exc
                    return writer.sha256, writer.size
            raise MirrorRefused(f"more than {MAX_REDIRECTS} redirects")
