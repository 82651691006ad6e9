"""The relay client every part uses: accounts, devices, pushes, reports, the event stream.

A thin layer over ``requests``: one method per API route (``docs/api.md``). Requests are sent
from, and every answer is read into, the typed messages of ``shared/api_messages.py`` and
``shared/messages.py`` (an answer of another shape is a RelayError ``bad_response`` naming the
field); every failure is a :class:`RelayError` (``shared/relay_errors.py``) carrying the
relay's error code and message. Beside it: ``shared/event_stream.py`` (a device's
Server-Sent Events, reconnecting with backoff and resuming from the last event id; ``stream()``
opens one), ``shared/sse.py`` (reading the events) and ``shared/package_upload.py`` (uploading
a package file, hashing and checking a package before a push).

Over 400 lines because it has one short method per route of the API (about thirty), beside
the request plumbing they share.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests

from shared import package_upload
from shared.api_messages import (
    Account,
    CatalogEntry,
    CatalogList,
    Device,
    DeviceInfo,
    DeviceList,
    DeviceRename,
    Friend,
    FriendList,
    FriendRequest,
    Health,
    InstalledApp,
    InstalledApps,
    KeyRegistration,
    Login,
    Me,
    NewAccount,
    NewToken,
    OneDevice,
    PackageUpload,
    Pairing,
    PairingClaim,
    PairingClaimed,
    PasswordChange,
    PushReport,
    PushRequest,
    Session,
)
from shared.event_stream import EventStream
from shared.i18n import accept_language, say
from shared.messages import InstallInfo, Message, PackageRef, Push, PushList, PushSignature, encode, read
from shared.package_check import PackageFacts
from shared.package_upload import MAX_HASHED_BYTES, UploadProgress
from shared.protocol import API_PREFIX, ProtocolError, PushMode, PushState, choose_format
from shared.relay_errors import RelayError, RelayUnavailable, error_from_response, unreachable
from shared.signing import DeviceKey, PushFacts, new_push_id, utc_timestamp

log = logging.getLogger(__name__)

USER_AGENT = "appbeam/0.1"
T = TypeVar("T")

__all__ = ["DeviceInfo", "RelayClient"]  # DeviceInfo: how a device describes itself at login


def _merge_catalog(given: InstallInfo, catalog: CatalogEntry) -> InstallInfo:
    """What the relay will make of ``given``: the catalog's entry with the given fields on top."""
    merged = catalog.install_info().to_dict()
    merged.update({k: v for k, v in given.to_dict().items() if v not in (None, [], ())})
    return InstallInfo.from_dict(merged)


def _decoded(resp: requests.Response) -> Any:
    """A successful answer's JSON (None for 204 or an empty body); RelayError when it is not JSON."""
    if resp.status_code == 204 or not resp.content:
        return None
    try:
        return resp.json()
    except ValueError as exc:
        raise RelayError(resp.status_code, "bad_response", say("the relay sent something that is not JSON")) from exc


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
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self.new_session()
            self._local.session = session
        return session

    def new_session(self) -> requests.Session:
        """A ``requests`` session as this client's: its User-Agent, its TLS verification."""
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        session.verify = self.verify
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
        """What every request to this relay carries: the user's language, asked afresh each time
        (a switch in Settings applies to the next request), so the relay refuses in it; the token."""
        headers = {"Accept-Language": accept_language()}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def call(
        self, method: str, path: str, shape: type[T], *, json_body: Message | None = None, params: Any = None
    ) -> T:
        """Send one request and read its answer as ``shape``; RelayError ``bad_response``
        (with the answer's status) when it is not one."""
        resp = self._send(method, path, json_body, params)
        try:
            return read(_decoded(resp), shape)
        except ProtocolError as exc:
            raise RelayError(
                resp.status_code,
                "bad_response",
                say("the relay's answer is not what Appbeam expects (%(problem)s)", problem=exc.said),
            ) from exc

    def request(self, method: str, path: str, *, json_body: Message | None = None, params: Any = None) -> Any:
        """Send one request (its body a typed message); return the decoded JSON body (None for
        204) or raise RelayError."""
        return _decoded(self._send(method, path, json_body, params))

    def _send(self, method: str, path: str, body: Message | None, params: Any) -> requests.Response:
        headers = self._headers()
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            resp = self.session.request(
                method,
                self.url(path),
                data=encode(body) if body is not None else None,
                params=params,
                headers=headers,
                timeout=self.timeout,
                verify=self.verify,  # per request: requests lets REQUESTS_CA_BUNDLE beat session.verify
            )
        except requests.RequestException as exc:
            raise RelayUnavailable(unreachable(self.base_url, exc)) from exc
        if resp.status_code >= 400:
            raise error_from_response(resp)
        return resp

    # ------------------------------------------------------------------ accounts and devices

    def health(self) -> Health:
        return self.call("GET", self.absolute_url("healthz"), Health)  # at the root, not under /api/v1

    def create_account(self, username: str, password: str) -> Account:
        return self.call("POST", "/accounts", Account, json_body=NewAccount(username, password))

    def login(self, username: str, password: str, device: DeviceInfo, key: DeviceKey | None = None) -> Session:
        """Log in as ``device`` and register its public key; keeps the token for later calls."""
        self.key = key or self.key or DeviceKey.generate()
        device = device.replace(public_key=self.key.public_key)
        session = self.call("POST", "/login", Session, json_body=Login(username, password, device))
        self.token = session.token
        return session

    def create_pairing(self) -> Pairing:
        """A one-time code that pairs a new device with this account."""
        return self.call("POST", "/pairings", Pairing)

    def claim_pairing(self, code: str, device: DeviceInfo, key: DeviceKey | None = None) -> PairingClaimed:
        """Join the account of a pairing code as ``device`` (no password); keeps the token.
        The answer's ``paired_by`` names the device that made the code, with its public key."""
        self.key = key or self.key or DeviceKey.generate()
        claim = PairingClaim(code, device.replace(public_key=self.key.public_key))
        claimed = self.call("POST", "/pairings/claim", PairingClaimed, json_body=claim)
        self.token = claimed.token
        return claimed

    def logout(self) -> None:
        self.request("POST", "/logout")
        self.token = None

    def register_key(self) -> Device:
        """Register this client's key for its device (one that logged in before it had a key)."""
        if self.key is None:
            raise ValueError("this client has no signing key")
        return self.call("PUT", "/me/key", OneDevice, json_body=KeyRegistration(self.key.public_key)).device

    def change_password(self, current_password: str, new_password: str) -> None:
        """Change the password; every device is logged out, this one keeps a fresh token."""
        body = PasswordChange(current_password, new_password)
        self.token = self.call("POST", "/password", NewToken, json_body=body).token

    def me(self) -> Me:
        return self.call("GET", "/me", Me)

    def devices(self, formats: Iterable[str] = (), app_id: str | None = None) -> list[Device]:
        """Associated devices, own first, each marked compatible or not with ``formats`` [5];
        with ``app_id``, the account's own devices also say which version of it they have
        (``installed``: an InstalledVersion, or None)."""
        params = [("format", f) for f in formats] + ([("app_id", app_id)] if app_id else [])
        return self.call("GET", "/devices", DeviceList, params=params).devices

    def report_installed(self, apps: Iterable[InstalledApp]) -> None:
        """Tell the relay which apps this device has, replacing what it said before; only this
        account's devices see it."""
        self.request("PUT", "/me/installed", json_body=InstalledApps(list(apps)))

    def rename_device(self, device_id: str, name: str) -> Device:
        """Give one of the account's devices (or this one) a new name."""
        return self.call("PATCH", f"/devices/{device_id}", OneDevice, json_body=DeviceRename(name)).device

    def remove_device(self, device_id: str) -> None:
        self.request("DELETE", f"/devices/{device_id}")

    # ------------------------------------------------------------------ friends

    def friends(self) -> list[Friend]:
        return self.call("GET", "/friends", FriendList).friends

    def request_friend(self, username: str) -> Friend:
        return self.call("POST", "/friends", Friend, json_body=FriendRequest(username))

    def accept_friend(self, username: str) -> Friend:
        return self.call("POST", f"/friends/{username}/accept", Friend)

    def remove_friend(self, username: str) -> None:
        self.request("DELETE", f"/friends/{username}")

    # ------------------------------------------------------------------ pushes

    def push(
        self,
        app: InstallInfo | CatalogEntry | Mapping[str, Any],
        mode: PushMode | str,
        device_ids: Iterable[str],
        *,
        platforms: Mapping[str, str] | None = None,
    ) -> list[Push]:
        """Push one app to one or more devices; returns one push per device.

        With a key, each target's push is signed; ``platforms`` (device id to platform, as
        the device picker has them) saves asking the relay which package each target gets.
        """
        if isinstance(app, CatalogEntry):
            info = app.install_info()
        else:
            info = app if isinstance(app, InstallInfo) else InstallInfo.from_dict(app)
        mode, device_ids = PushMode(mode), list(device_ids)
        signatures: dict[str, PushSignature] | None = None
        if self.key is not None:
            info, signatures = self._sign(self.key, self._complete(info), mode, device_ids, platforms)
        body = (
            PushRequest(info, mode, device_ids)
            if signatures is None
            else PushRequest(info, mode, device_ids, signatures)
        )
        try:
            return self.call("POST", "/pushes", PushList, json_body=body).pushes
        except RelayError as exc:
            if exc.code != "no_public_key":
                raise
        self.register_key()  # logged in before this device had a key: register it, then again
        return self.call("POST", "/pushes", PushList, json_body=body).pushes

    def upload_package(
        self, path: str | Path, fmt: str | None = None, progress: UploadProgress | None = None
    ) -> PackageUpload:
        """Put a package file from this computer on the relay (``shared.package_upload``): returns
        where the relay keeps it, and whether it was sent; the relay's refusals are RelayErrors."""
        return package_upload.upload_package(self, path, fmt, progress)

    def push_file(
        self,
        path: str | Path,
        info: InstallInfo,
        mode: PushMode | str,
        device_ids: Iterable[str],
        *,
        platforms: Mapping[str, str] | None = None,
        progress: UploadProgress | None = None,
    ) -> list[Push]:
        """Push a package file from this computer: upload it (``upload_package``), then push the
        relay's copy with ``info``'s name, version and id (read from the package by the caller)."""
        path = Path(path)
        stored = self.upload_package(path, progress=progress)
        ref = PackageRef(format=stored.format, url=stored.url, sha256=stored.sha256, size=stored.size)
        return self.push(info.replace(packages=(ref,), size=stored.size), mode, device_ids, platforms=platforms)

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
        self,
        key: DeviceKey,
        info: InstallInfo,
        mode: PushMode,
        device_ids: list[str],
        platforms: Mapping[str, str] | None,
    ) -> tuple[InstallInfo, dict[str, PushSignature]]:
        if platforms is None or any(d not in platforms for d in device_ids):
            platforms = {d.id: d.platform for d in self.devices()}
        chosen = {d: choose_format(platforms.get(d, ""), info.formats) for d in device_ids}
        if mode is PushMode.INSTALL_NOW:
            info = package_upload.hash_missing(self, info, {f for f in chosen.values() if f})
        signed_at = utc_timestamp()
        signatures: dict[str, PushSignature] = {}
        for device_id, fmt in chosen.items():
            if fmt is None:
                continue  # unknown device or no package it can install: the relay says which
            ref = info.package_for(fmt)  # there is one: the format was chosen from the app's
            sha256 = ref.sha256 if ref is not None else None
            facts = PushFacts(new_push_id(), device_id, str(mode), info.id, info.version, fmt, sha256, signed_at)
            signatures[device_id] = key.sign(facts)
        return info, signatures

    def hash_package(self, url: str, max_bytes: int = MAX_HASHED_BYTES) -> tuple[str, int]:
        """SHA-256 and size of the package at ``url`` (the token goes only to the relay)."""
        return package_upload.hash_package(self, url, max_bytes)

    def check_package(self, url: str, fmt: str, max_bytes: int = MAX_HASHED_BYTES) -> tuple[str, int, PackageFacts]:
        """The package at ``url``'s SHA-256, size and what it says of itself, or PackageRefused
        with the reason when it is not a ``fmt`` package (``shared.package_upload``)."""
        return package_upload.check_package(self, url, fmt, max_bytes)

    def report(
        self,
        push_id: str,
        state: PushState | str,
        *,
        bytes_done: int | None = None,
        bytes_total: int | None = None,
        detail: str | None = None,
    ) -> Push:
        """Report this device's progress on a push it received."""
        report = PushReport(str(PushState(state)))  # type: ignore[arg-type]  # PushState checked it; the relay too
        if bytes_done is not None:
            report = report.replace(bytes_done=bytes_done)
        if bytes_total is not None:
            report = report.replace(bytes_total=bytes_total)
        if detail:
            report = report.replace(detail=detail)
        return self.call("POST", f"/pushes/{push_id}/events", Push, json_body=report)

    def pushes(self, role: str = "sent") -> list[Push]:
        return self.call("GET", "/pushes", PushList, params={"role": role}).pushes

    def get_push(self, push_id: str) -> Push:
        return self.call("GET", f"/pushes/{push_id}", Push)

    def cancel_push(self, push_id: str) -> Push:
        return self.call("DELETE", f"/pushes/{push_id}", Push)

    # ------------------------------------------------------------------ catalog

    def apps(self, query: str | None = None) -> list[CatalogEntry]:
        return self.call("GET", "/apps", CatalogList, params={"q": query} if query else None).apps

    def app(self, app_id: str) -> CatalogEntry:
        return self.call("GET", f"/apps/{app_id}", CatalogEntry)

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
            raise RelayUnavailable(unreachable(self.base_url, exc)) from exc
        if resp.status_code in (301, 302, 303, 307, 308):
            return self.absolute_url(resp.headers["Location"])
        raise error_from_response(resp)

    # ------------------------------------------------------------------ stream

    def stream(self, last_event_id: int | None = None, **kwargs: Any) -> EventStream:
        """This device's event stream (``shared/event_stream.py``), from ``last_event_id``."""
        return EventStream(self, last_event_id=last_event_id, **kwargs)
