"""``PUT /packages/<sha256>``: a device uploads a package file, so it can push an app the relay
has never seen (a package built on the computer, or had from a friend).

Content-addressed: the client names the SHA-256 first, and may ask ``HEAD /packages/<sha256>``
whether the relay already keeps it for this account (then there is nothing to send). The body
is streamed to disk as it arrives (relay_server/lean_http.py and request_deadlines.py hand it
over unread, at a minimum transfer rate) through the package store's writer: a temporary file
in the store's folder, hashed while written, fsynced, then renamed into place. Nothing half
written stays: a hash mismatch (422), a file that is not a package of its format (422, the
sentence from shared/package_check.py), a body that ends early (400) or is too slow (408) and a
full disk (507, relay_server/storage_health.py) all remove the temporary file.

No database connection is held while the bytes arrive: the checks before (who, how big, the
quota) and the record after each take one briefly. The quota counts the bytes the account's
uploads in progress announced too, and an account (and the process) has a few uploads at once
at most (relay_server/upload_slots.py): more are refused before their bodies are read. The
file's check and fsync run off gevent's loop (relay_server/off_loop.py). The upload's row is
written before its file is renamed into place: a refused or failed record leaves no file in
the store, and never deletes one another upload of the same bytes put there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, current_app, g, request
from flask.typing import ResponseReturnValue

from relay_server import uploads as owned
from relay_server.api.body import answer
from relay_server.auth import device_required
from relay_server.context import current_relay
from relay_server.db import database
from relay_server.errors import ApiError, bad_request
from relay_server.off_loop import run_off_loop
from relay_server.package_store import HashMismatch, PackageStore, TooLarge
from relay_server.request_deadlines import UploadTooSlow
from relay_server.storage_health import storage_problem
from relay_server.upload_slots import AccountBusy, RelayBusy, UploadSlots
from shared.api_messages import UploadedPackage
from shared.i18n import Number, Size
from shared.package_check import NotAPackage, inspect_package
from shared.protocol import API_PREFIX, FORMAT_MIME_TYPES, format_from_mime

log = logging.getLogger(__name__)

uploads = Blueprint("uploads", __name__, url_prefix=API_PREFIX)
uploads.record_once(lambda _state: owned.create_table())

_SHA256 = re.compile(r"[0-9a-f]{64}")
_READ = 256 * 1024
_BUSY_RETRY_AFTER = 30  # seconds


@uploads.put("/packages/<sha256>")
@device_required
def upload_package(sha256: str) -> ResponseReturnValue:
    sha256 = sha256.lower()
    if not _SHA256.fullmatch(sha256):
        raise bad_request("sha256: must be 64 hexadecimal digits (the package's SHA-256)", "invalid_field")
    fmt = _claimed_format()
    relay = current_relay()
    config = relay.config
    length = request.content_length
    if length is None:
        raise ApiError(411, "length_required", "send the package with its Content-Length")
    if length > config.upload_max_bytes:
        raise ApiError(
            413,
            "too_large",
            "the relay takes packages of up to %(limit)s, and this one is larger (%(bytes)s bytes)",
            limit=Size(config.upload_max_bytes),
            bytes=Number(length),
        )
    account_id = g.account.id
    already = owned.owns(account_id, sha256) and relay.store.has(sha256)
    try:
        slots = _slots()
        with slots.hold(account_id, 0 if already else length):
            # What the account keeps, plus what its uploads in progress (this one included) announced.
            on_the_way = slots.reserved_bytes(account_id)
            if not already and owned.stored_bytes(account_id) + on_the_way > config.upload_quota_bytes:
                raise _over_quota(account_id, length, on_the_way - length)
            new = _receive_and_record(relay.store, account_id, sha256, fmt, length)
    except AccountBusy:
        raise ApiError(
            429,
            "too_many_uploads",
            "your account is already uploading %(count)s packages; send this one once one of them has finished",
            {"Retry-After": str(_BUSY_RETRY_AFTER)},
            count=Number(config.upload_per_account),
        ) from None
    except RelayBusy:
        raise ApiError(
            503,
            "relay_busy",
            "the relay is receiving as many uploads as it can at the moment; try again in a minute",
            {"Retry-After": str(_BUSY_RETRY_AFTER)},
        ) from None
    log.info(
        "device %s uploaded package %s (%d bytes, %s)%s",
        g.device.id,
        sha256,
        length,
        fmt,
        "" if new else ", which it had uploaded before",
    )
    return answer(UploadedPackage(sha256, length, fmt, f"{API_PREFIX}/packages/{sha256}"), 201 if new else 200)


def _over_quota(account_id: int, length: int, uploading: int = 0) -> ApiError:
    quota = current_relay().config.upload_quota_bytes
    used = owned.stored_bytes(account_id)
    sizes = {"used": Size(used), "quota": Size(quota), "size": Size(length)}
    if uploading:
        return ApiError(
            507,
            "quota_exceeded",
            "your account keeps %(used)s of uploaded packages on the relay (and is uploading %(uploading)s "
            "more) and may keep %(quota)s; this one (%(size)s) does not fit. Uploads are deleted once "
            "their pushes are done: try again after the phones installed them",
            uploading=Size(uploading),
            **sizes,
        )
    return ApiError(
        507,
        "quota_exceeded",
        "your account keeps %(used)s of uploaded packages on the relay and may keep "
        "%(quota)s; this one (%(size)s) does not fit. Uploads are deleted once "
        "their pushes are done: try again after the phones installed them",
        **sizes,
    )


def _claimed_format() -> str:
    """The package's format: ``?format=apk``, else from its Content-Type."""
    fmt = (request.args.get("format") or format_from_mime(request.content_type or "") or "").lower()
    if not fmt:
        raise bad_request("format: say which kind of package this is (?format=apk, ipa, deb, …)", "invalid_field")
    if fmt not in FORMAT_MIME_TYPES:
        raise bad_request("format: %(format)s is not a package format Appbeam knows", "invalid_field", format=repr(fmt))
    return fmt


def _receive_and_record(store: PackageStore, account_id: int, sha256: str, fmt: str, length: int) -> bool:
    """Stream the body into the store, checked, and record it as this account's; True if the
    account did not own it before. An ApiError (with the temporary file gone) if it is refused.

    The row is written before the file is renamed into place (``place``): an upload refused
    by the quota, or one whose row cannot be written (database busy, no pooled connection),
    never had its file in the store, so nothing is left without a row and nothing is unlinked
    that another account's upload, or the mirror, has just put there under the same hash."""
    body = request.environ["wsgi.input"]
    recorded: list[bool] = []

    def place(move: Callable[[], None]) -> None:
        database.connect(reuse_if_open=True)
        recorded.append(
            owned.record(
                account_id,
                sha256,
                length,
                FORMAT_MIME_TYPES.get(fmt, "application/octet-stream"),
                current_relay().config.upload_quota_bytes,
            )
        )
        try:
            move()
        except OSError:
            if recorded[-1]:  # not this account's after all (the row of the package itself stays)
                owned.disown(account_id, sha256)
            raise

    database.close()  # the bytes may take minutes: the connection goes back to the pool meanwhile
    try:
        with store.writer(
            expected_sha256=sha256,
            max_bytes=length,
            check=lambda path: _check(path, fmt),
            blocking=run_off_loop,
            place=place,
        ) as writer:
            while writer.size < length:
                chunk = body.read(min(_READ, length - writer.size))
                if not chunk:
                    break
                writer.write(chunk)
            if writer.size < length:
                raise EOFError(f"{writer.size} of {length} bytes arrived")
    except owned.OverQuota:
        # Another upload of this account was recorded while these bytes arrived (one in another
        # relay process: the reservations are per process).
        raise _over_quota(account_id, length) from None
    except HashMismatch:
        raise ApiError(
            422,
            "hash_mismatch",
            "the file that arrived does not have the SHA-256 it was sent under; it was not kept. Send it again",
        ) from None
    except NotAPackage as exc:
        raise ApiError(422, "not_a_package", exc.said) from None
    except TooLarge:
        raise ApiError(413, "too_large", "the body is longer than its Content-Length") from None
    except UploadTooSlow as exc:
        raise ApiError(408, "request_timeout", exc.said) from None
    except (EOFError, OSError) as exc:
        if isinstance(exc, OSError) and storage_problem(exc) is not None:
            raise  # a full or read-only disk: 507 or 503 (relay_server/errors.py)
        log.info("upload of %s ended early: %s", sha256, exc)
        raise ApiError(
            400, "incomplete_upload", "the upload ended before the whole file arrived; nothing was kept. Send it again"
        ) from None
    finally:
        database.connect(reuse_if_open=True)
    return recorded[0]


def _slots() -> UploadSlots:
    """This process's uploads in progress (relay_server/upload_slots.py)."""
    extensions = current_app.extensions
    if "appbeam_upload_slots" not in extensions:
        config = current_relay().config
        extensions["appbeam_upload_slots"] = UploadSlots(config.upload_per_account, config.upload_concurrency)
    slots: UploadSlots = extensions["appbeam_upload_slots"]
    return slots


def _check(path: Path, fmt: str) -> None:
    """Refuse a file that is not a ``fmt`` package (a web page saved as .apk, a cut-short file)."""
    inspect_package(path, fmt)
