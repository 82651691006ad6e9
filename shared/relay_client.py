"""The relay client every part uses: accounts, devices, pushes, reports, the event stream.

A thin layer over ``requests``: one method per API route (``docs/api.md``), JSON in and
out, and every failure turned into a :class:`RelayError` carrying the relay's error code
and message. :class:`EventStream` reads a device's Server-Sent Events, reconnecting with
exponential backoff and jitter and resuming from the last event id it saw.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
from tenacity import Retrying, retry_if_exception, stop_never, wait_random_exponential

from shared.messages import InstallInfo, PackageRef
from shared.package_check import NotAPackage, PackageFacts, inspect_package
from shared.protocol import (
    API_PREFIX,
    FORMAT_MIME_TYPES,
    ProtocolError,
    PushMode,
    PushState,
    choose_format,
    format_from_filename,
    parse_app_id,
)
from shared.signing import DeviceKey, PushFacts, new_push_id, utc_timestamp

log = logging.getLogger(__name__)

USER_AGENT = "appbeam/0.1"
#: A sender hashes a package the page gave no SHA-256 for, up to this size.
MAX_HASHED_BYTES = 2 * 1024**3


def abort_response(resp: requests.Response) -> None:
    """Close a response that another thread may be blocked reading.

    ``Response.close()`` alone does not wake a thread blocked in ``recv`` on a quiet
    connection; shutting the socket down does, so closing takes effect at once.
    """
    sock = getattr(getattr(resp.raw, "_connection", None), "sock", None)
    if sock is None:
        fp = getattr(getattr(resp.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    resp.close()


class RelayError(Exception):
    """The relay refused a request, or could not be reached (``status`` is None then)."""

    def __init__(self, status: int | None, code: str, message: str, retry_after: float | None = None):
        super().__init__(f"{message} ({code}{'' if status is None else f', HTTP {status}'})")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """True when trying again later may work (relay down, overloaded, rate limited)."""
        return self.status is None or self.status == 429 or self.status >= 500


class RelayUnavailable(RelayError):
    """The relay could not be reached at all (connection refused, timeout, DNS)."""

    def __init__(self, message: str):
        super().__init__(None, "unavailable", message)


class PackageRefused(RelayError):
    """The sender checked a package before pushing it and it is not what it claims to be (a web
    page saved as .apk, a download cut short: ``shared.package_check``). Nothing was pushed;
    ``message`` is the sentence to show, ``url`` the package's address."""

    def __init__(self, message: str, url: str = "", reason: str = "not_a_package"):
        super().__init__(422, "not_a_package", message)
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class DeviceInfo:
    """How a device describes itself at login [0049]."""

    id: str
    name: str
    model: str
    platform: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "model": self.model, "platform": self.platform}


def _merge_catalog(given: InstallInfo, catalog: Mapping[str, Any]) -> InstallInfo:
    """What the relay will make of ``given``: the catalog's entry with the given fields on top."""
    merged = dict(InstallInfo.from_dict(catalog).to_dict())
    merged.update({k: v for k, v in given.to_dict().items() if v not in (None, [], ())})
    return InstallInfo.from_dict(merged)


def _with_identity(info: InstallInfo, facts: PackageFacts) -> InstallInfo:
    """``info`` with what its only package says of itself where the page said nothing.

    A link without install information gives only a guess from the file name
    (``notesapp-3.0.apk`` -> id ``notesapp``, name ``notesapp-3.0``): when the name is missing or
    is just the package's file name, the package's own id, name and version replace the guess;
    otherwise only what is missing is filled in (the page's words stay)."""
    (ref,) = info.packages
    stem = unquote(urlsplit(ref.url).path.rsplit("/", 1)[-1])
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    guessed = not info.name or info.name == stem
    changes: dict[str, Any] = {}
    if facts.name and (guessed or not info.name):
        changes["name"] = facts.name[:200]
    if facts.version and (guessed or not info.version):
        changes["version"] = facts.version[:64]
    if facts.version_code is not None and info.version_code is None and 0 <= facts.version_code <= 2**53 - 1:
        changes["version_code"] = facts.version_code
    if guessed and facts.app_id:
        try:
            changes["id"] = parse_app_id(facts.app_id)
        except ProtocolError:
            pass  # not an id the protocol carries (a Symbian UID is fine, a GUID with braces is not)
    return info.replace(**changes) if changes else info


#: ``progress(bytes_sent, bytes_total)`` while a package file goes up to the relay.
UploadProgress = Callable[[int, int], None]


class _UploadBody:
    """A package file as a request body: read in pieces (never whole into memory), with its
    length (so ``requests`` sends Content-Length, which the relay needs) and progress."""

    PIECE = 256 * 1024

    def __init__(self, fileobj, size: int, progress: UploadProgress | None):
        self._file = fileobj
        self._size = size
        self._sent = 0
        self._progress = progress

    def __len__(self) -> int:
        return self._size

    def read(self, amount: int = -1) -> bytes:
        data = self._file.read(self.PIECE if amount is None or amount < 0 else min(amount, self.PIECE))
        self._sent += len(data)
        if self._progress is not None and data:
            self._progress(self._sent, self._size)
        return data


def _unreadable(path: Path, exc: OSError) -> "PackageRefused":
    return PackageRefused(
        f"Appbeam can't read {path.name} ({(exc.strerror or str(exc)).lower()}). Check that it "
        "is still there and that you may open it.",
        path.as_uri(),
        "unreadable",
    )


def _file_sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event from the relay."""

    id: int | None
    event: str
    data: Any


def _error_from_response(resp: requests.Response) -> RelayError:
    try:
        body = resp.json()["error"]
        code, message = str(body["code"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", (resp.text or resp.reason or "request failed").strip()[:300]
    retry_after = resp.headers.get("Retry-After")
    try:
        retry = float(retry_after) if retry_after else None
    except ValueError:
        retry = None
    return RelayError(resp.status_code, code, message, retry)


class RelayClient:
    """Talks to one relay as one device. Thread-safe for independent calls.

    ``key`` is the device's signing key (``shared.signing``): registered at login and used to
    sign every push. A client that logs in without one makes a fresh key for this session,
    so its pushes are signed too (phones see a new key each time; real devices keep theirs).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        key: DeviceKey | None = None,
        verify: bool | str = True,
        timeout: float = 10.0,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.key = key
        self.verify = verify
        self.timeout = timeout
        self._local = threading.local()

    # ------------------------------------------------------------------ plumbing

    @property
    def session(self) -> requests.Session:
        """One ``requests`` session per thread (sessions are not thread-safe)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            session.verify = self.verify
            self._local.session = session
        return session

    def url(self, path: str) -> str:
        """Absolute URL of an API path (``/devices``) or of a relay-relative URL."""
        if path.startswith(("http://", "https://")):
            return path
        if not path.startswith(API_PREFIX) and not path.startswith(("/files/", "/static/")):
            path = API_PREFIX + path
        return urljoin(self.base_url, path.lstrip("/"))

    def absolute_url(self, url: str) -> str:
        """Resolve a URL the relay gave (possibly relative to the relay) to an absolute one."""
        return urljoin(self.base_url, url)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, *, json_body: Any = None, params: Any = None) -> Any:
        """Send one request; return the decoded JSON body (None for 204) or raise RelayError."""
        try:
            resp = self.session.request(
                method,
                self.url(path),
                json=json_body,
                params=params,
                headers=self._headers(),
                timeout=self.timeout,
                verify=self.verify,  # per request: requests lets REQUESTS_CA_BUNDLE beat session.verify
            )
        except requests.RequestException as exc:
            raise RelayUnavailable(f"cannot reach the relay at {self.base_url}: {exc}") from exc
        if resp.status_code >= 400:
            raise _error_from_response(resp)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise RelayError(resp.status_code, "bad_response", "the relay sent something that is not JSON") from exc

    # ------------------------------------------------------------------ accounts and devices

    def health(self) -> dict:
        return self.request("GET", self.absolute_url("healthz"))  # at the root, not under /api/v1

    def create_account(self, username: str, password: str) -> dict:
        return self.request("POST", "/accounts", json_body={"username": username, "password": password})

    def login(self, username: str, password: str, device: DeviceInfo, key: DeviceKey | None = None) -> dict:
        """Log in as ``device`` and register its public key; keeps the token for later calls."""
        self.key = key or self.key or DeviceKey.generate()
        device_body = {**device.to_dict(), "public_key": self.key.public_key}
        body = self.request(
            "POST", "/login", json_body={"username": username, "password": password, "device": device_body}
        )
        self.token = body["token"]
        return body

    def create_pairing(self) -> dict:
        """A one-time code that pairs a new device with this account: ``{code, qr_payload, expires_at}``."""
        return self.request("POST", "/pairings")

    def claim_pairing(self, code: str, device: DeviceInfo, key: DeviceKey | None = None) -> dict:
        """Join the account of a pairing code as ``device`` (no password); keeps the token.
        The answer's ``paired_by`` names the device that made the code, with its public key."""
        self.key = key or self.key or DeviceKey.generate()
        body = self.request(
            "POST",
            "/pairings/claim",
            json_body={"code": code, "device": {**device.to_dict(), "public_key": self.key.public_key}},
        )
        self.token = body["token"]
        return body

    def logout(self) -> None:
        self.request("POST", "/logout")
        self.token = None

    def register_key(self) -> dict:
        """Register this client's key for its device (one that logged in before it had a key)."""
        if self.key is None:
            raise ValueError("this client has no signing key")
        return self.request("PUT", "/me/key", json_body={"public_key": self.key.public_key})

    def change_password(self, current_password: str, new_password: str) -> None:
        """Change the password; every device is logged out, this one keeps a fresh token."""
        body = self.request(
            "POST", "/password", json_body={"current_password": current_password, "new_password": new_password}
        )
        self.token = body["token"]

    def me(self) -> dict:
        return self.request("GET", "/me")

    def devices(self, formats: Iterable[str] = (), app_id: str | None = None) -> list[dict]:
        """Associated devices, own first, each marked compatible or not with ``formats`` [5];
        with ``app_id``, the account's own devices also say which version of it they have
        (``installed``: ``{version, version_code}`` or None)."""
        params = [("format", f) for f in formats] + ([("app_id", app_id)] if app_id else [])
        return self.request("GET", "/devices", params=params)["devices"]

    def report_installed(self, apps: Iterable[dict]) -> None:
        """Tell the relay which apps this device has (``{id, version, version_code}`` each),
        replacing what it said before; only this account's devices see it."""
        self.request("PUT", "/me/installed", json_body={"apps": list(apps)})

    def rename_device(self, device_id: str, name: str) -> dict:
        """Give one of the account's devices (or this one) a new name."""
        return self.request("PATCH", f"/devices/{device_id}", json_body={"name": name})["device"]

    def remove_device(self, device_id: str) -> None:
        self.request("DELETE", f"/devices/{device_id}")

    # ------------------------------------------------------------------ friends

    def friends(self) -> list[dict]:
        return self.request("GET", "/friends")["friends"]

    def request_friend(self, username: str) -> dict:
        return self.request("POST", "/friends", json_body={"username": username})

    def accept_friend(self, username: str) -> dict:
        return self.request("POST", f"/friends/{username}/accept")

    def remove_friend(self, username: str) -> None:
        self.request("DELETE", f"/friends/{username}")

    # ------------------------------------------------------------------ pushes

    def push(
        self,
        app: InstallInfo | Mapping[str, Any],
        mode: PushMode | str,
        device_ids: Iterable[str],
        *,
        platforms: Mapping[str, str] | None = None,
    ) -> list[dict]:
        """Push one app to one or more devices; returns one push per device.

        With a key, each target's push is signed; ``platforms`` (device id to platform, as
        the device picker has them) saves asking the relay which package each target gets.
        """
        info = app if isinstance(app, InstallInfo) else InstallInfo.from_dict(app)
        mode, device_ids = PushMode(mode), list(device_ids)
        body: dict[str, Any] = {"mode": str(mode), "device_ids": device_ids}
        if self.key is not None:
            info, body["signatures"] = self._sign(self._complete(info), mode, device_ids, platforms)
        body["app"] = info.to_dict()
        try:
            return self.request("POST", "/pushes", json_body=body)["pushes"]
        except RelayError as exc:
            if exc.code != "no_public_key":
                raise
        self.register_key()  # logged in before this device had a key: register it, then again
        return self.request("POST", "/pushes", json_body=body)["pushes"]

    def upload_package(self, path: str | Path, fmt: str | None = None, progress: UploadProgress | None = None) -> dict:
        """Put a package file from this computer on the relay, so it can be pushed to a phone.

        Content-addressed: the file's SHA-256 names it, and when the relay already keeps it for
        this account (``HEAD /packages/<sha256>``) nothing is sent. Returns ``{sha256, size,
        format, url, uploaded}`` (``url`` is relative to the relay; ``uploaded`` False when it
        was there already). The relay refuses a file that is not a ``fmt`` package (422
        ``not_a_package``, with the reason), one too large (413) or past the account's quota
        (507 ``quota_exceeded``): a RelayError with the relay's sentence.
        """
        path = Path(path)
        fmt = (fmt or format_from_filename(path.name) or "").lower()
        if not fmt:
            raise ValueError(f"{path.name}: not a package format Appbeam knows")
        try:
            sha, size = _file_sha256(path)
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        route = f"/packages/{sha}"
        answer = {"sha256": sha, "size": size, "format": fmt, "url": f"{API_PREFIX}{route}", "uploaded": False}
        try:
            head = self.session.head(self.url(route), headers=self._headers(), timeout=self.timeout, verify=self.verify)
            if head.status_code == 200:
                if progress is not None:
                    progress(size, size)
                return answer  # already here: nothing to send
            if head.status_code in (401, 503, 507):
                raise _error_from_response(head)
            with open(path, "rb") as f:
                resp = self.session.put(
                    self.url(route),
                    params={"format": fmt},
                    data=_UploadBody(f, size, progress),
                    headers={**self._headers(), "Content-Type": FORMAT_MIME_TYPES.get(fmt, "application/octet-stream")},
                    # The answer comes once the relay has checked and stored the whole file.
                    timeout=(self.timeout, max(60.0, self.timeout)),
                    verify=self.verify,
                )
        except requests.RequestException as exc:
            raise RelayUnavailable(f"cannot reach the relay at {self.base_url}: {exc}") from exc
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        if resp.status_code >= 400:
            raise _error_from_response(resp)
        return {**answer, **resp.json(), "uploaded": True}

    def push_file(
        self,
        path: str | Path,
        info: InstallInfo,
        mode: PushMode | str,
        device_ids: Iterable[str],
        *,
        platforms: Mapping[str, str] | None = None,
        progress: UploadProgress | None = None,
    ) -> list[dict]:
        """Push a package file from this computer: upload it (``upload_package``), then push the
        relay's copy with ``info``'s name, version and id (read from the package by the caller)."""
        path = Path(path)
        stored = self.upload_package(path, progress=progress)
        ref = PackageRef(format=stored["format"], url=stored["url"], sha256=stored["sha256"], size=stored["size"])
        return self.push(info.replace(packages=(ref,), size=stored["size"]), mode, device_ids, platforms=platforms)

    def _complete(self, info: InstallInfo) -> InstallInfo:
        """Fill an app given by id only from the relay's catalog, so what is signed is what is sent."""
        if info.packages:
            return info
        try:
            return _merge_catalog(info, self.app(info.id))
        except RelayError as exc:
            if exc.status == 404:
                return info  # the relay will say there is no such app
            raise

    def _sign(
        self, info: InstallInfo, mode: PushMode, device_ids: list[str], platforms: Mapping[str, str] | None
    ) -> tuple[InstallInfo, dict[str, dict]]:
        if platforms is None or any(d not in platforms for d in device_ids):
            platforms = {d["id"]: d["platform"] for d in self.devices()}
        chosen = {d: choose_format(platforms.get(d, ""), info.formats) for d in device_ids}
        if mode is PushMode.INSTALL_NOW:
            info = self._hash_missing(info, {f for f in chosen.values() if f})
        signed_at, signatures = utc_timestamp(), {}
        for device_id, fmt in chosen.items():
            if fmt is None:
                continue  # unknown device or no package it can install: the relay says which
            facts = PushFacts(
                new_push_id(), device_id, str(mode), info.id, info.version, fmt, info.package_for(fmt).sha256, signed_at
            )
            signatures[device_id] = self.key.sign(facts).to_dict()
        return info, signatures

    def _hash_missing(self, info: InstallInfo, formats: set[str]) -> InstallInfo:
        """Fetch and check the packages to be installed whose SHA-256 the page did not give, so
        the phone can install them by itself (a package it cannot fetch stays unhashed: a notice
        then). A package that is not what it claims raises PackageRefused: nothing is pushed.
        What the package says of itself fills in what a bare link could not (_with_identity)."""
        packages = []
        facts: PackageFacts | None = None
        for ref in info.packages:
            if ref.format in formats and ref.sha256 is None:
                try:
                    sha, size, facts_here = self.check_package(ref.url, ref.format)
                    ref = ref.replace(sha256=sha, size=size)
                    facts = facts_here if len(info.packages) == 1 else None
                except PackageRefused:
                    raise
                except (requests.RequestException, RelayError, ValueError) as exc:
                    log.warning("could not hash %s: %s", ref.url, exc)
            packages.append(ref)
        info = info.replace(packages=tuple(packages))
        return _with_identity(info, facts) if facts is not None else info

    def hash_package(self, url: str, max_bytes: int = MAX_HASHED_BYTES) -> tuple[str, int]:
        """SHA-256 and size of the package at ``url`` (the token goes only to the relay)."""
        digest, size = hashlib.sha256(), 0
        for chunk in self._package_chunks(url, max_bytes):
            size += len(chunk)
            digest.update(chunk)
        return digest.hexdigest(), size

    def check_package(self, url: str, fmt: str, max_bytes: int = MAX_HASHED_BYTES) -> tuple[str, int, PackageFacts]:
        """Fetch the package at ``url`` once: its SHA-256, its size and what it says of itself
        (``shared.package_check``), or PackageRefused with the reason when it is not a ``fmt``
        package. The bytes go to an anonymous temporary file, gone when this returns."""
        digest, size = hashlib.sha256(), 0
        with tempfile.TemporaryFile(prefix="appbeam-check-") as spool:
            for chunk in self._package_chunks(url, max_bytes):
                size += len(chunk)
                digest.update(chunk)
                spool.write(chunk)
            try:
                facts = inspect_package(spool, fmt)
            except NotAPackage as exc:
                log.info("refused %s as %s: %s", url, fmt, exc)
                raise PackageRefused(str(exc), url, exc.reason) from exc
        return digest.hexdigest(), size, facts

    def _package_chunks(self, url: str, max_bytes: int) -> Iterator[bytes]:
        url = self.absolute_url(url)
        own = urlsplit(url)[:2] == urlsplit(self.base_url)[:2]
        size = 0
        with self.session.get(
            url, stream=True, timeout=self.timeout, verify=self.verify, headers=self._headers() if own else {}
        ) as resp:
            if resp.status_code != 200:
                raise RelayError(resp.status_code, "http_error", f"HTTP {resp.status_code} from {url}")
            for chunk in resp.iter_content(chunk_size=256 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ValueError(f"more than {max_bytes} bytes: too large to hash before sending")
                yield chunk

    def report(
        self,
        push_id: str,
        state: PushState | str,
        *,
        bytes_done: int | None = None,
        bytes_total: int | None = None,
        detail: str | None = None,
    ) -> dict:
        """Report this device's progress on a push it received."""
        body: dict[str, Any] = {"state": str(PushState(state))}
        if bytes_done is not None:
            body["bytes_done"] = bytes_done
        if bytes_total is not None:
            body["bytes_total"] = bytes_total
        if detail:
            body["detail"] = detail
        return self.request("POST", f"/pushes/{push_id}/events", json_body=body)

    def pushes(self, role: str = "sent") -> list[dict]:
        return self.request("GET", "/pushes", params={"role": role})["pushes"]

    def get_push(self, push_id: str) -> dict:
        return self.request("GET", f"/pushes/{push_id}")

    def cancel_push(self, push_id: str) -> dict:
        return self.request("DELETE", f"/pushes/{push_id}")

    # ------------------------------------------------------------------ catalog

    def apps(self, query: str | None = None) -> list[dict]:
        return self.request("GET", "/apps", params={"q": query} if query else None)["apps"]

    def app(self, app_id: str) -> dict:
        return self.request("GET", f"/apps/{app_id}")

    def package_url_for(self, app_id: str, platform: str) -> str:
        """Download by app id [0074]: the URL of the package of ``app_id`` that suits ``platform``."""
        try:
            resp = self.session.get(
                self.url(f"/apps/{app_id}/package"),
                params={"platform": platform},
                headers=self._headers(),
                allow_redirects=False,
                timeout=self.timeout,
                verify=self.verify,
            )
        except requests.RequestException as exc:
            raise RelayUnavailable(f"cannot reach the relay at {self.base_url}: {exc}") from exc
        if resp.status_code in (301, 302, 303, 307, 308):
            return self.absolute_url(resp.headers["Location"])
        raise _error_from_response(resp)

    # ------------------------------------------------------------------ stream

    def stream(self, last_event_id: int | None = None, **kwargs: Any) -> "EventStream":
        return EventStream(self, last_event_id=last_event_id, **kwargs)


# ---------------------------------------------------------------------- event stream


@dataclass(frozen=True)
class ConnectionStatus:
    """What an :class:`EventStream` is doing, for a UI to show."""

    state: str  # "connecting" | "connected" | "reconnecting" | "closed"
    retry_in: float | None = None
    error: str | None = None


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, RelayError) and exc.transient


class EventStream:
    """Reads the calling device's event stream for as long as it is iterated.

    Reconnects after any network failure, waiting with exponential backoff and full jitter
    (each wait random below a bound that doubles up to ``max_backoff``, reset after each good
    connection; the short default cap means a relay that comes back is reached within that
    many seconds), and sends ``Last-Event-ID`` so the relay replays what was missed.
    ``retry_now()`` ends a wait at once (the network changed). Stops with RelayError on a
    refusal that retrying cannot fix (revoked token). ``close()`` from any thread ends the
    iteration. ``last_error`` is the exception of the last failed attempt (for
    ``shared.explain``).
    """

    def __init__(
        self,
        client: RelayClient,
        last_event_id: int | None = None,
        *,
        on_status: Callable[[ConnectionStatus], None] | None = None,
        read_timeout: float = 45.0,
        max_backoff: float = 2.0,
    ):
        self.client = client
        self.last_event_id = last_event_id
        self.on_status = on_status or (lambda status: None)
        self.read_timeout = read_timeout
        self.max_backoff = max_backoff
        self.last_error: BaseException | None = None
        self._closed = threading.Event()
        self._nudged = threading.Event()  # set by retry_now() and close(): a backoff wait ends
        self._response: requests.Response | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop reading; safe from any thread."""
        self._closed.set()
        self._nudged.set()
        with self._lock:
            resp, self._response = self._response, None
        if resp is not None:
            _end(resp)

    def retry_now(self) -> None:
        """If waiting to reconnect, try at once (the network changed); safe from any thread.
        An open connection is left as it is."""
        self._nudged.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __iter__(self) -> Iterator[Event]:
        try:
            yield from self._connections()
        finally:
            self.on_status(ConnectionStatus("closed"))

    def _connections(self) -> Iterator[Event]:
        while not self._closed.is_set():
            try:
                resp = self._connect_with_backoff()
            except _Closed:
                break
            self.on_status(ConnectionStatus("connected"))
            try:
                yield from self._read(resp)
            except (requests.RequestException, OSError, AttributeError) as exc:
                # AttributeError: the response was closed under us by close().
                if self._closed.is_set():
                    break
                log.info("event stream dropped: %s", exc)
            finally:
                _end(resp)
            if not self._closed.is_set():
                self.on_status(ConnectionStatus("reconnecting", retry_in=0.0, error="connection lost"))

    # -- connecting

    def _connect_with_backoff(self) -> requests.Response:
        def before_sleep(state) -> None:
            wait = state.next_action.sleep if state.next_action else None
            error = state.outcome.exception() if state.outcome else None
            self.last_error = error
            self.on_status(ConnectionStatus("reconnecting", retry_in=wait, error=str(error) if error else None))

        self._nudged.clear()
        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            wait=wait_random_exponential(multiplier=0.5, max=self.max_backoff),
            stop=stop_never,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        self.on_status(ConnectionStatus("connecting"))
        return retrying(self._connect_once)

    def _sleep(self, seconds: float) -> None:
        self._nudged.wait(seconds)
        self._nudged.clear()
        if self._closed.is_set():
            raise _Closed()

    def _connect_once(self) -> requests.Response:
        if self._closed.is_set():
            raise _Closed()
        headers = {"Accept": "text/event-stream", "Connection": "close", **self.client._headers()}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        # Each stream connection gets a session (and so a socket) of its own: when a stream
        # ends, its socket must never be handed to the next request, which could then land on
        # a connection the server is closing.
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        try:
            resp = session.get(
                self.client.url("/stream"),
                headers=headers,
                stream=True,
                timeout=(self.client.timeout, self.read_timeout),
                verify=self.client.verify,
            )
        except requests.RequestException as exc:
            session.close()
            raise RelayUnavailable(f"cannot reach the relay: {exc}") from exc
        resp._appbeam_session = session  # closed with the response (see _end)
        if resp.status_code != 200:
            error = _error_from_response(resp)
            _end(resp)
            raise error
        with self._lock:
            self._response = resp
        if self._closed.is_set():  # closed while we were connecting
            _end(resp)
            raise _Closed()
        return resp

    # -- reading

    def _read(self, resp: requests.Response) -> Iterator[Event]:
        event_id: int | None = None
        name = "message"
        data_lines: list[str] = []
        for raw in _lines(resp):
            if self._closed.is_set():
                return
            line = raw.decode("utf-8", errors="replace")
            if not line:
                if data_lines:
                    event = Event(event_id, name, _decode(data_lines))
                    if event_id is not None:
                        self.last_event_id = event_id
                    yield event
                event_id, name, data_lines = None, "message", []
                continue
            if line.startswith(":"):
                continue  # keepalive comment
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "data":
                data_lines.append(value)
            elif key == "event":
                name = value
            elif key == "id":
                event_id = int(value) if value.isdigit() else None


def _end(resp: requests.Response) -> None:
    """Close a stream's response, its socket and the session made for it."""
    abort_response(resp)
    session = getattr(resp, "_appbeam_session", None)
    if session is not None:
        session.close()


def _lines(resp: requests.Response) -> Iterator[bytes]:
    """The response body's lines as they arrive (SSE allows CRLF, LF or CR endings).

    A chunked body is read chunk by chunk; a body that ends when the connection closes (no
    chunking, no length: HTTP/1.0 or some proxies) is read with ``read1``, which returns
    what has arrived instead of waiting for a full buffer.
    """
    if getattr(resp.raw, "chunked", False) or not hasattr(resp.raw, "read1"):
        chunks = resp.iter_content(chunk_size=None)
    else:
        chunks = iter(lambda: resp.raw.read1(65536), b"")
    pending = b""
    for chunk in chunks:
        pending += chunk
        lines = pending.splitlines(keepends=True)
        # The last piece may be a line still arriving (or a CR whose LF is in the next chunk).
        pending = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        for line in lines:
            yield line.rstrip(b"\r\n")
    if pending:
        yield pending.rstrip(b"\r\n")


def _decode(lines: list[str]) -> Any:
    text = "\n".join(lines)
    try:
        return json.loads(text)
    except ValueError:
        return text


class _Closed(Exception):
    """Internal: the stream was closed while waiting to reconnect."""
