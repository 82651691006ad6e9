"""The relay client every part uses: accounts, devices, pushes, reports, the event stream.

A thin layer over ``requests``: one method per API route (``docs/api.md``), JSON in and
out, and every failure turned into a :class:`RelayError` (``shared/relay_errors.py``) carrying
the relay's error code and message. Beside it: ``shared/event_stream.py`` (a device's
Server-Sent Events, reconnecting with backoff and resuming from the last event id; ``stream()``
opens one), ``shared/sse.py`` (reading the events) and ``shared/package_upload.py`` (uploading
a package file, hashing and checking a package before a push).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from shared import package_upload
from shared.event_stream import EventStream
from shared.messages import InstallInfo, PackageRef
from shared.package_check import PackageFacts
from shared.package_upload import MAX_HASHED_BYTES, UploadProgress
from shared.protocol import API_PREFIX, PushMode, PushState, choose_format
from shared.relay_errors import RelayError, RelayUnavailable, error_from_response
from shared.signing import DeviceKey, PushFacts, new_push_id, utc_timestamp

log = logging.getLogger(__name__)

USER_AGENT = "appbeam/0.1"


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
            raise error_from_response(resp)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise RelayError(resp.status_code, "bad_response", "the relay sent something that is not JSON") from exc

    # ------------------------------------------------------------------ accounts and devices

    def health(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", self.absolute_url("healthz"))  # at the root, not under /api/v1
        return answer

    def create_account(self, username: str, password: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.request(
            "POST", "/accounts", json_body={"username": username, "password": password}
        )
        return answer

    def login(self, username: str, password: str, device: DeviceInfo, key: DeviceKey | None = None) -> dict[str, Any]:
        """Log in as ``device`` and register its public key; keeps the token for later calls."""
        self.key = key or self.key or DeviceKey.generate()
        device_body = {**device.to_dict(), "public_key": self.key.public_key}
        body: dict[str, Any] = self.request(
            "POST", "/login", json_body={"username": username, "password": password, "device": device_body}
        )
        self.token = body["token"]
        return body

    def create_pairing(self) -> dict[str, Any]:
        """A one-time code that pairs a new device with this account: ``{code, qr_payload, expires_at}``."""
        answer: dict[str, Any] = self.request("POST", "/pairings")
        return answer

    def claim_pairing(self, code: str, device: DeviceInfo, key: DeviceKey | None = None) -> dict[str, Any]:
        """Join the account of a pairing code as ``device`` (no password); keeps the token.
        The answer's ``paired_by`` names the device that made the code, with its public key."""
        self.key = key or self.key or DeviceKey.generate()
        body: dict[str, Any] = self.request(
            "POST",
            "/pairings/claim",
            json_body={"code": code, "device": {**device.to_dict(), "public_key": self.key.public_key}},
        )
        self.token = body["token"]
        return body

    def logout(self) -> None:
        self.request("POST", "/logout")
        self.token = None

    def register_key(self) -> dict[str, Any]:
        """Register this client's key for its device (one that logged in before it had a key)."""
        if self.key is None:
            raise ValueError("this client has no signing key")
        answer: dict[str, Any] = self.request("PUT", "/me/key", json_body={"public_key": self.key.public_key})
        return answer

    def change_password(self, current_password: str, new_password: str) -> None:
        """Change the password; every device is logged out, this one keeps a fresh token."""
        body = self.request(
            "POST", "/password", json_body={"current_password": current_password, "new_password": new_password}
        )
        self.token = body["token"]

    def me(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", "/me")
        return answer

    def devices(self, formats: Iterable[str] = (), app_id: str | None = None) -> list[dict[str, Any]]:
        """Associated devices, own first, each marked compatible or not with ``formats`` [5];
        with ``app_id``, the account's own devices also say which version of it they have
        (``installed``: ``{version, version_code}`` or None)."""
        params = [("format", f) for f in formats] + ([("app_id", app_id)] if app_id else [])
        answer: list[dict[str, Any]] = self.request("GET", "/devices", params=params)["devices"]
        return answer

    def report_installed(self, apps: Iterable[dict[str, Any]]) -> None:
        """Tell the relay which apps this device has (``{id, version, version_code}`` each),
        replacing what it said before; only this account's devices see it."""
        self.request("PUT", "/me/installed", json_body={"apps": list(apps)})

    def rename_device(self, device_id: str, name: str) -> dict[str, Any]:
        """Give one of the account's devices (or this one) a new name."""
        answer: dict[str, Any] = self.request("PATCH", f"/devices/{device_id}", json_body={"name": name})["device"]
        return answer

    def remove_device(self, device_id: str) -> None:
        self.request("DELETE", f"/devices/{device_id}")

    # ------------------------------------------------------------------ friends

    def friends(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.request("GET", "/friends")["friends"]
        return answer

    def request_friend(self, username: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("POST", "/friends", json_body={"username": username})
        return answer

    def accept_friend(self, username: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("POST", f"/friends/{username}/accept")
        return answer

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
    ) -> list[dict[str, Any]]:
        """Push one app to one or more devices; returns one push per device.

        With a key, each target's push is signed; ``platforms`` (device id to platform, as
        the device picker has them) saves asking the relay which package each target gets.
        """
        info = app if isinstance(app, InstallInfo) else InstallInfo.from_dict(app)
        mode, device_ids = PushMode(mode), list(device_ids)
        body: dict[str, Any] = {"mode": str(mode), "device_ids": device_ids}
        if self.key is not None:
            info, body["signatures"] = self._sign(self.key, self._complete(info), mode, device_ids, platforms)
        body["app"] = info.to_dict()
        try:
            answer: list[dict[str, Any]] = self.request("POST", "/pushes", json_body=body)["pushes"]
            return answer
        except RelayError as exc:
            if exc.code != "no_public_key":
                raise
        self.register_key()  # logged in before this device had a key: register it, then again
        again: list[dict[str, Any]] = self.request("POST", "/pushes", json_body=body)["pushes"]
        return again

    def upload_package(
        self, path: str | Path, fmt: str | None = None, progress: UploadProgress | None = None
    ) -> dict[str, Any]:
        """Put a package file from this computer on the relay (``shared.package_upload``): returns
        ``{sha256, size, format, url, uploaded}``; the relay's refusals are RelayErrors."""
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
    ) -> list[dict[str, Any]]:
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
        self,
        key: DeviceKey,
        info: InstallInfo,
        mode: PushMode,
        device_ids: list[str],
        platforms: Mapping[str, str] | None,
    ) -> tuple[InstallInfo, dict[str, dict[str, Any]]]:
        if platforms is None or any(d not in platforms for d in device_ids):
            platforms = {d["id"]: d["platform"] for d in self.devices()}
        chosen = {d: choose_format(platforms.get(d, ""), info.formats) for d in device_ids}
        if mode is PushMode.INSTALL_NOW:
            info = package_upload.hash_missing(self, info, {f for f in chosen.values() if f})
        signed_at = utc_timestamp()
        signatures: dict[str, dict[str, Any]] = {}
        for device_id, fmt in chosen.items():
            if fmt is None:
                continue  # unknown device or no package it can install: the relay says which
            ref = info.package_for(fmt)  # there is one: the format was chosen from the app's
            sha256 = ref.sha256 if ref is not None else None
            facts = PushFacts(new_push_id(), device_id, str(mode), info.id, info.version, fmt, sha256, signed_at)
            signatures[device_id] = key.sign(facts).to_dict()
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
    ) -> dict[str, Any]:
        """Report this device's progress on a push it received."""
        body: dict[str, Any] = {"state": str(PushState(state))}
        if bytes_done is not None:
            body["bytes_done"] = bytes_done
        if bytes_total is not None:
            body["bytes_total"] = bytes_total
        if detail:
            body["detail"] = detail
        answer: dict[str, Any] = self.request("POST", f"/pushes/{push_id}/events", json_body=body)
        return answer

    def pushes(self, role: str = "sent") -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.request("GET", "/pushes", params={"role": role})["pushes"]
        return answer

    def get_push(self, push_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", f"/pushes/{push_id}")
        return answer

    def cancel_push(self, push_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("DELETE", f"/pushes/{push_id}")
        return answer

    # ------------------------------------------------------------------ catalog

    def apps(self, query: str | None = None) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.request("GET", "/apps", params={"q": query} if query else None)["apps"]
        return answer

    def app(self, app_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", f"/apps/{app_id}")
        return answer

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
        raise error_from_response(resp)

    # ------------------------------------------------------------------ stream

    def stream(self, last_event_id: int | None = None, **kwargs: Any) -> EventStream:
        """This device's event stream (``shared/event_stream.py``), from ``last_event_id``."""
        return EventStream(self, last_event_id=last_event_id, **kwargs)
