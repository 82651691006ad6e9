"""The relay's copy of a package for a device that is offline [claims 9-11, 0087].

A queued push's package is fetched into the content-addressed store by a background
worker; pushes still waiting for their copy are picked up again after a restart. Fetching
is bounded (size cap, timeouts, a few redirects) and, unless the operator allows it,
refuses loopback, private, link-local and other non-public addresses, checked on every hop.
The connection goes to exactly the address that was checked (``pinned_http``), so a DNS
server cannot answer a public address to the check and a private one to the connection.
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import socket
import threading
from urllib.parse import urljoin, urlsplit

import requests
from peewee import fn
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from shared.protocol import FORMAT_MIME_TYPES
from shared.relay_client import USER_AGENT

from relay_server import pushes
from relay_server.db import database
from relay_server.models import Device, Package, Push
from relay_server.package_store import HashMismatch, TooLarge
from relay_server.pinned_http import PinnedAdapter

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5


def account_usage(account_id: int) -> int:
    """Bytes of the relay's copies that pushes sent from this account still use."""
    in_use = (Push.select(Push.package_sha256)
              .join(Device, on=(Push.sender_device == Device.id))
              .where((Device.account == account_id) & (Push.mirror_status == "done"))
              .distinct())
    total = Package.select(fn.COALESCE(fn.SUM(Package.size), 0)).where(Package.sha256.in_(in_use)).scalar()
    return int(total or 0)


class MirrorRefused(Exception):
    """The package cannot be mirrored (forbidden address, too large, wrong hash, HTTP error)."""


class _Transient(Exception):
    """A failure worth another try (connection reset, 5xx)."""


def check_url(url: str) -> None:
    """Refuse anything but http(s) URLs with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MirrorRefused(f"only http(s) URLs can be mirrored, not {url!r}")


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """The SSRF policy: only globally routable addresses may be fetched."""
    return address.is_global


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
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not _is_public(address):
            raise MirrorRefused(f"{hostname} resolves to a non-public address ({address})")
    return infos[0][4][0]


class Mirror:
    """A background worker that copies queued pushes' packages into the store."""

    def __init__(self, relay):
        self.relay = relay
        self._queue: "queue.Queue[str | None]" = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker and pick up copies that a previous run did not finish."""
        with database.connection_context():
            for push in Push.select(Push.id).where(Push.mirror_status == "pending"):
                self._queue.put(push.id)
        self._thread = threading.Thread(target=self._run, name="mirror", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def enqueue(self, push_id: str) -> None:
        self._queue.put(push_id)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests: wait until every queued copy was handled."""
        done = threading.Event()
        threading.Thread(target=lambda: (self._queue.join(), done.set()), daemon=True).start()
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            push_id = self._queue.get()
            try:
                if push_id is None:
                    return
                with database.connection_context():
                    self._mirror_one(push_id)
            except Exception:  # a bad package must never stop the worker
                log.exception("mirroring push %s failed", push_id)
            finally:
                self._queue.task_done()

    def _mirror_one(self, push_id: str) -> None:
        push = Push.get_or_none(Push.id == push_id)
        if push is None or push.mirror_status != "pending":
            return
        room = self.relay.config.mirror_quota_bytes - account_usage(push.sender_device.account_id)
        if room <= 0:
            pushes.mirror_finished(self.relay, push_id, None, None, "the sender's storage quota on the relay is used up")
            return
        try:
            sha, size = self.fetch(push.original_url, push.package_sha256, push.format, max_bytes=room)
        except (MirrorRefused, requests.RequestException, _Transient, OSError) as exc:
            log.warning("could not mirror %s for push %s: %s", push.original_url, push_id, exc)
            pushes.mirror_finished(self.relay, push_id, None, None, str(exc))
            return
        except Exception as exc:  # anything else: still deliver the push, never leave it pending
            log.exception("unexpected error mirroring %s for push %s", push.original_url, push_id)
            pushes.mirror_finished(self.relay, push_id, None, None, f"unexpected error: {exc}")
            return
        log.info("mirrored %s as %s for push %s", push.original_url, sha, push_id)
        pushes.mirror_finished(self.relay, push_id, sha, size, None)

    def fetch(self, url: str, expected_sha256: str | None, fmt: str, max_bytes: int | None = None) -> tuple[str, int]:
        """Copy ``url`` into the store (once per SHA-256); returns (sha256, size).

        ``max_bytes`` (the sender's remaining quota) lowers the size cap for this copy.
        """
        local = pushes.relay_package_sha(url)
        if local and self.relay.store.has(local) and not urlsplit(url).netloc:
            return local, self.relay.store.path_for(local).stat().st_size
        # A hash the sender merely claims proves nothing: the bytes are always fetched from the
        # push's own URL (the store keeps one copy however many pushes use it).
        for attempt in Retrying(
            retry=retry_if_exception_type(_Transient),
            wait=wait_exponential_jitter(multiplier=1, max=20),
            stop=stop_after_attempt(3),
            reraise=True,
        ):
            with attempt:
                sha, size = self._download(url, expected_sha256, max_bytes)
        with database.atomic():
            Package.insert(sha256=sha, size=size,
                           content_type=FORMAT_MIME_TYPES.get(fmt, "application/octet-stream")).on_conflict_ignore().execute()
        return sha, size

    def _download(self, url: str, expected_sha256: str | None, max_bytes: int | None) -> tuple[str, int]:
        config = self.relay.config
        cap = min(config.mirror_max_bytes, max_bytes) if max_bytes is not None else config.mirror_max_bytes
        with requests.Session() as session:
            session.headers["User-Agent"] = USER_AGENT
            if not config.mirror_allow_private:
                # Every connection, on every hop, resolves once, checks, and goes to that address.
                session.mount("http://", PinnedAdapter(public_address))
                session.mount("https://", PinnedAdapter(public_address))
            for _ in range(MAX_REDIRECTS + 1):
                check_url(url)
                try:
                    resp = session.get(url, stream=True, allow_redirects=False,
                                       timeout=(config.mirror_timeout, config.mirror_timeout))
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
                            for chunk in resp.iter_content(chunk_size=256 * 1024):
                                writer.write(chunk)
                    except (TooLarge, HashMismatch) as exc:
                        raise MirrorRefused(str(exc)) from exc
                    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                        raise _Transient(str(exc)) from exc
                    return writer.sha256, writer.size
            raise MirrorRefused(f"more than {MAX_REDIRECTS} redirects")
