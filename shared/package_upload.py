"""Packages from the sender's side: putting a file from this computer on the relay (hashed
first: content-addressed, sent only when the relay does not keep it yet, in pieces with
progress), and fetching a package the page gave no SHA-256 for once, to hash it and check it is
what it claims (``shared.package_check``) before a phone is told to install it by itself.

``RelayClient`` (``upload_package``, ``hash_package``, ``check_package``, and ``push``, which
hashes what is missing) calls these with itself.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import requests

from shared.api_messages import PackageUpload, UploadedPackage
from shared.i18n import say
from shared.messages import InstallInfo, read
from shared.package_check import NotAPackage, PackageFacts, inspect_package
from shared.protocol import API_PREFIX, FORMAT_MIME_TYPES, ProtocolError, format_from_filename, parse_app_id
from shared.relay_errors import (
    PackageRefused,
    RelayError,
    RelayUnavailable,
    error_from_response,
    unreachable,
    unreadable,
)

if TYPE_CHECKING:
    from shared.relay_client import RelayClient

log = logging.getLogger("shared.relay_client")

#: A sender hashes a package the page gave no SHA-256 for, up to this size.
MAX_HASHED_BYTES = 2 * 1024**3

#: ``progress(bytes_sent, bytes_total)`` while a package file goes up to the relay.
UploadProgress = Callable[[int, int], None]


class UploadBody:
    """A package file as a request body: read in pieces (never whole into memory), with its
    length (so ``requests`` sends Content-Length, which the relay needs) and progress."""

    PIECE = 256 * 1024

    def __init__(self, fileobj: IO[bytes], size: int, progress: UploadProgress | None):
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


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read a mebibyte at a time."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def with_identity(info: InstallInfo, facts: PackageFacts) -> InstallInfo:
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


def upload_package(
    client: RelayClient, path: str | Path, fmt: str | None = None, progress: UploadProgress | None = None
) -> PackageUpload:
    """Put a package file from this computer on the relay, so it can be pushed to a phone.

    Content-addressed: the file's SHA-256 names it, and when the relay already keeps it for
    this account (``HEAD /packages/<sha256>``) nothing is sent. Returns where the relay keeps
    it (``url``, relative to the relay; ``uploaded`` False when it was there already). The
    relay refuses a file that is not a ``fmt`` package (422 ``not_a_package``, with the
    reason), one too large (413) or past the account's quota (507 ``quota_exceeded``): a
    RelayError with the relay's sentence.
    """
    path = Path(path)
    fmt = (fmt or format_from_filename(path.name) or "").lower()
    if not fmt:
        raise ValueError(str(say("%(file)s: not a package format Appbeam knows", file=path.name)))
    try:
        sha, size = file_sha256(path)
    except OSError as exc:
        raise unreadable(path, exc) from exc
    route = f"/packages/{sha}"
    answer = PackageUpload(sha, size, fmt, f"{API_PREFIX}{route}", uploaded=False)
    try:
        head = client.session.head(
            client.url(route), headers=client._headers(), timeout=client.timeout, verify=client.verify
        )
        if head.status_code == 200:
            if progress is not None:
                progress(size, size)
            return answer  # already here: nothing to send
        if head.status_code in (401, 503, 507):
            raise error_from_response(head)
        with open(path, "rb") as f:
            resp = client.session.put(
                client.url(route),
                params={"format": fmt},
                data=UploadBody(f, size, progress),
                headers={**client._headers(), "Content-Type": FORMAT_MIME_TYPES.get(fmt, "application/octet-stream")},
                # The answer comes once the relay has checked and stored the whole file.
                timeout=(client.timeout, max(60.0, client.timeout)),
                verify=client.verify,
            )
    except requests.RequestException as exc:
        raise RelayUnavailable(unreachable(client.base_url, exc)) from exc
    except OSError as exc:
        raise unreadable(path, exc) from exc
    if resp.status_code >= 400:
        raise error_from_response(resp)
    try:
        stored = read(resp.json(), UploadedPackage)
    except (ValueError, ProtocolError) as exc:
        problem = exc.said if isinstance(exc, ProtocolError) else exc
        raise RelayError(
            resp.status_code,
            "bad_response",
            say("the relay's answer to the upload is not one (%(problem)s)", problem=problem),
        ) from exc
    return PackageUpload(stored.sha256, stored.size, stored.format, stored.url, uploaded=True)


def hash_missing(client: RelayClient, info: InstallInfo, formats: set[str]) -> InstallInfo:
    """Fetch and check the packages to be installed whose SHA-256 the page did not give, so
    the phone can install them by itself (a package it cannot fetch stays unhashed: a notice
    then). A package that is not what it claims raises PackageRefused: nothing is pushed.
    What the package says of itself fills in what a bare link could not (_with_identity)."""
    packages = []
    facts: PackageFacts | None = None
    for ref in info.packages:
        if ref.format in formats and ref.sha256 is None:
            try:
                sha, size, facts_here = check_package(client, ref.url, ref.format)
                ref = ref.replace(sha256=sha, size=size)
                facts = facts_here if len(info.packages) == 1 else None
            except PackageRefused:
                raise
            except (requests.RequestException, RelayError, ValueError) as exc:
                log.warning("could not hash %s: %s", ref.url, exc)
        packages.append(ref)
    info = info.replace(packages=tuple(packages))
    return with_identity(info, facts) if facts is not None else info


def hash_package(client: RelayClient, url: str, max_bytes: int = MAX_HASHED_BYTES) -> tuple[str, int]:
    """SHA-256 and size of the package at ``url`` (the token goes only to the relay)."""
    digest, size = hashlib.sha256(), 0
    for chunk in _package_chunks(client, url, max_bytes):
        size += len(chunk)
        digest.update(chunk)
    return digest.hexdigest(), size


def check_package(
    client: RelayClient, url: str, fmt: str, max_bytes: int = MAX_HASHED_BYTES
) -> tuple[str, int, PackageFacts]:
    """Fetch the package at ``url`` once: its SHA-256, its size and what it says of itself
    (``shared.package_check``), or PackageRefused with the reason when it is not a ``fmt``
    package. The bytes go to an anonymous temporary file, gone when this returns."""
    digest, size = hashlib.sha256(), 0
    with tempfile.TemporaryFile(prefix="appbeam-check-") as spool:
        for chunk in _package_chunks(client, url, max_bytes):
            size += len(chunk)
            digest.update(chunk)
            spool.write(chunk)
        try:
            facts = inspect_package(spool, fmt)
        except NotAPackage as exc:
            log.info("refused %s as %s: %s", url, fmt, exc)
            raise PackageRefused(str(exc), url, exc.reason) from exc
    return digest.hexdigest(), size, facts


def _package_chunks(client: RelayClient, url: str, max_bytes: int) -> Iterator[bytes]:
    """The package's bytes as they arrive (the token only to the relay); ValueError past ``max_bytes``."""
    url = client.absolute_url(url)
    own = urlsplit(url)[:2] == urlsplit(client.base_url)[:2]
    size = 0
    with client.session.get(
        url, stream=True, timeout=client.timeout, verify=client.verify, headers=client._headers() if own else {}
    ) as resp:
        if resp.status_code != 200:
            raise RelayError(
                resp.status_code, "http_error", say("HTTP %(status)s from %(url)s", status=resp.status_code, url=url)
            )
        for chunk in resp.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise ValueError(
                    str(say("more than %(bytes)s bytes: too large to hash before sending", bytes=max_bytes))
                )
            yield chunk
