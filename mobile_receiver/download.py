"""The download engine: one package, streamed to a ``.part`` file, resumable, verifiable.

Plain Python (no Kivy), so it runs in a worker thread of the receiver and in tests.
What it guarantees, in the spirit of Android's DownloadManager:

- memory stays flat: the body is streamed in chunks straight to ``<name>.part``;
- resume uses ``Range`` plus ``If-Range`` (the ETag, else Last-Modified) and appends only
  on ``206`` with the expected start; a ``200`` means "whole body" and restarts from zero;
  ``416`` or a changed ETag restarts cleanly;
- the SHA-256 is computed while downloading, seeded with the bytes already on disk;
- free space is checked before any byte is written;
- transient failures (connection dropped, timeouts, 408, 429, 5xx) are retried with capped
  exponential backoff and jitter (tenacity, ``mobile_receiver/retry.py``), by default for as
  long as it takes, each attempt resuming where the last one stopped; ``on_retry`` hears of
  each wait and ``wake()`` cuts the current one short (the network is back);
- the body is read as it arrives (``read1``), so bytes received before a connection breaks
  are on disk and never fetched twice;
- ``pause()`` and ``cancel()`` are safe from any thread: pausing keeps the partial file,
  cancelling deletes it.

Failures raise :class:`DownloadError` with the HTTP status or the exception that caused them;
its ``reason`` is for the log. What a person reads is made from them by
``mobile_receiver/failures.py``.

The validators (ETag, Last-Modified, total size) live in a small sidecar ``<name>.part.json``
so a download survives the process being killed and restarted.

It is some 500 lines because each of those guarantees is a case of its own (416 with the file
already whole, a 200 to a Range, an ETag that changed, a body longer than announced, a pause
that closes the socket under the reader); they share one ``.part`` file and one lock, so they
stay together, each in a method that names its step.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_never

from mobile_receiver.background_hash import BackgroundHasher
from mobile_receiver.retry import DOWNLOAD_BACKOFF_CAP, DOWNLOAD_BACKOFF_INITIAL, Stopped, Wake, backoff
from mobile_receiver.storage import write_json_atomic
from shared.responses import abort_response

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
#: Space kept free on top of the package itself, so a download never fills the disk.
SPACE_MARGIN = 16 * 1024 * 1024

ProgressCallback = Callable[[int, "int | None"], None]
#: ``on_retry(error, seconds)``: a transient failure; the next attempt is in ``seconds``.
RetryCallback = Callable[["DownloadError", float], None]

#: HTTP answers that mean "not now" rather than "never".
TRANSIENT_STATUSES = frozenset({408, 425, 429})


class DownloadError(Exception):
    """A download failed. ``transient`` says whether trying again later may work.

    ``reason`` is for the log; ``status`` is the server's HTTP answer, when that was the
    problem, and ``cause`` the exception behind it (a ``requests.HTTPError`` for an answer).
    """

    def __init__(
        self, reason: str, *, transient: bool = False, status: int | None = None, cause: BaseException | None = None
    ):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.status = status
        self.cause = cause


class NotEnoughSpace(DownloadError):
    """The disk has less free space than the rest of the package needs."""

    def __init__(self, reason: str, *, needed: int, free: int):
        super().__init__(reason)
        self.needed = needed
        self.free = free


class PackageChanged(DownloadError):
    """The server's package is not the size the push announced."""


class DownloadOutcome(enum.Enum):
    """How :meth:`PackageDownload.run` ended (failures raise :class:`DownloadError`)."""

    COMPLETE = "complete"
    PAUSED = "paused"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class DownloadResult:
    """What a finished (or stopped) run left behind."""

    outcome: DownloadOutcome
    path: Path
    bytes_done: int
    bytes_total: int | None
    sha256: str | None  # only for COMPLETE
    #: True when some of the bytes came from an earlier connection (a resume with Range):
    #: a checksum mismatch is then worth one fresh download before calling it a failure.
    resumed: bool = False


class _Stopped(Exception):
    """Internal: pause() or cancel() interrupted a read or a backoff wait."""


class _Restart(Exception):
    """Internal: the partial file cannot be continued; start again from byte zero."""


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, DownloadError) and exc.transient


def sidecar_path(part_path: Path) -> Path:
    """Where the validators of a partial download are kept."""
    return part_path.with_name(part_path.name + ".json")


def discard_partial(part_path: Path) -> None:
    """Delete a partial download and its validators (after a cancel)."""
    for path in (part_path, sidecar_path(part_path)):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _free_space(path: Path) -> int:
    return shutil.disk_usage(path).free


class PackageDownload:
    """Downloads one package URL to ``part_path``; ``run()`` blocks, the rest is thread-safe.

    ``run()`` may be called again after a pause (or on a new object after a restart of
    the app): it continues from the bytes on disk.
    """

    def __init__(
        self,
        url: str,
        part_path: str | os.PathLike[str],
        *,
        headers: Mapping[str, str] | None = None,
        expected_size: int | None = None,
        session: requests.Session | None = None,
        progress: ProgressCallback | None = None,
        chunk_size: int = CHUNK_SIZE,
        attempts: int | None = None,
        backoff_initial: float = DOWNLOAD_BACKOFF_INITIAL,
        backoff_max: float = DOWNLOAD_BACKOFF_CAP,
        timeout: tuple[float, float] = (10.0, 30.0),
        free_space: Callable[[Path], int] = _free_space,
        space_margin: int = SPACE_MARGIN,
        on_retry: RetryCallback | None = None,
    ):
        """``attempts``: connections tried before a transient failure is raised (None: no limit)."""
        self.url = url
        self.part_path = Path(part_path)
        self.headers = dict(headers or {})
        self.expected_size = expected_size
        self._own_session = session is None  # ours to close when a run ends
        self.session = session or requests.Session()
        self.progress = progress or (lambda done, total: None)
        self.chunk_size = chunk_size
        self.attempts = attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.timeout = timeout
        self.free_space = free_space
        self.space_margin = space_margin
        self.on_retry = on_retry or (lambda error, seconds: None)
        self._stop = threading.Event()
        self._wake = Wake()
        self._resumed = False
        self._why_stop: DownloadOutcome | None = None
        self._lock = threading.Lock()
        self._response: requests.Response | None = None
        self.bytes_done = 0
        self.bytes_total: int | None = expected_size

    # ------------------------------------------------------------------ control

    def pause(self) -> None:
        """Stop soon, keeping the partial file; safe from any thread."""
        self._request_stop(DownloadOutcome.PAUSED)

    def cancel(self) -> None:
        """Stop soon and delete the partial file; safe from any thread."""
        self._request_stop(DownloadOutcome.CANCELLED)

    def _request_stop(self, why: DownloadOutcome) -> None:
        with self._lock:
            # cancel wins over pause: a cancelled download must never leave a file behind
            if self._why_stop is not DownloadOutcome.CANCELLED:
                self._why_stop = why
            self._stop.set()
            self._wake.stop()
            resp, self._response = self._response, None
        if resp is not None:
            abort_response(resp)

    def wake(self) -> None:
        """Try again now if waiting to retry (the network or the relay is back); safe from any thread."""
        self._wake.wake()

    # ------------------------------------------------------------------ running

    def run(self) -> DownloadResult:
        """Download until complete, paused or cancelled; raise DownloadError on failure."""
        with self._lock:
            if self._why_stop is DownloadOutcome.PAUSED:
                # a fresh run after a pause: forget the old pause request
                self._why_stop = None
                self._stop.clear()
                self._wake.reset()
        self.part_path.parent.mkdir(parents=True, exist_ok=True)
        self._resumed = False
        retrying = Retrying(
            retry=retry_if_exception(_transient),
            wait=backoff(self.backoff_initial, self.backoff_max),
            stop=stop_never if self.attempts is None else stop_after_attempt(self.attempts),
            sleep=self._sleep,
            before_sleep=self._before_retry,
            reraise=True,
        )
        try:
            sha256 = retrying(self._attempt)
        except _Stopped:
            return self._stopped()
        except DownloadError:
            if self._stop.is_set():
                return self._stopped()
            raise
        finally:
            if self._own_session:
                self.session.close()  # no idle keep-alive connection outlives the run
        return DownloadResult(
            DownloadOutcome.COMPLETE, self.part_path, self.bytes_done, self.bytes_total, sha256, resumed=self._resumed
        )

    def _stopped(self) -> DownloadResult:
        if self._why_stop is DownloadOutcome.CANCELLED:
            discard_partial(self.part_path)
            self.bytes_done = 0
        why = self._why_stop
        assert why is not None, "stopped without a reason"  # set by pause() or cancel() before _Stopped
        return DownloadResult(why, self.part_path, self.bytes_done, self.bytes_total, None)

    def _sleep(self, seconds: float) -> None:
        try:
            self._wake.sleep(seconds)
        except Stopped:
            raise _Stopped() from None

    def _before_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if not isinstance(error, DownloadError):
            return  # only a passing DownloadError is retried (_transient)
        seconds = state.next_action.sleep if state.next_action else 0.0
        log.info("download of %s failed (%s), retrying in %.1f s", self.url, getattr(error, "reason", error), seconds)
        try:
            self.on_retry(error, seconds)
        except Exception:  # noqa: BLE001 - a broken listener must not stop the download
            log.exception("on_retry listener failed")

    def _attempt(self) -> str:
        """One connection: resume (or start) and read to the end; return the SHA-256."""
        for _ in range(3):  # a restart from zero gets a fresh request, a few times at most
            try:
                return self._attempt_once()
            except _Restart as why:
                log.info("restarting download of %s from zero: %s", self.url, why)
                discard_partial(self.part_path)
        raise DownloadError("the server keeps changing the package", transient=True)

    def _attempt_once(self) -> str:
        if self._stop.is_set():
            raise _Stopped()
        meta = self._read_sidecar()
        offset = self.part_path.stat().st_size if self.part_path.exists() else 0
        if offset and meta.get("url") not in (None, self.url):
            raise _Restart("the package URL changed")
        total = meta.get("total") or self.expected_size
        if total is not None and offset > total:
            raise _Restart("the partial file is longer than the package")
        self._check_space(total, offset)

        headers = dict(self.headers)
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = meta.get("etag") if _strong(meta.get("etag")) else meta.get("last_modified")
            if validator:
                headers["If-Range"] = validator
        try:
            resp = self.session.get(self.url, headers=headers, stream=True, timeout=self.timeout)
        except requests.RequestException as exc:
            if self._stop.is_set():
                raise _Stopped() from exc
            raise DownloadError(f"cannot reach the server: {exc!r}", transient=True, cause=exc) from exc
        with self._lock:
            if self._stop.is_set():
                resp.close()
                raise _Stopped()
            self._response = resp
        try:
            return self._consume(resp, offset, meta)
        finally:
            with self._lock:
                self._response = None
            resp.close()

    def _consume(self, resp: requests.Response, offset: int, meta: dict[str, Any]) -> str:
        """Write the answer's body to the ``.part`` file; the whole file's SHA-256."""
        if resp.status_code == 416:
            return self._already_whole(resp, offset, meta)
        total, append = self._continues_at(resp, offset, meta)
        if self.expected_size is not None and total is not None and total != self.expected_size:
            raise PackageChanged(f"the server's package is {total} bytes, the push said {self.expected_size}")
        if not append:
            offset = 0
        self._resumed = append  # bytes from an earlier connection are kept
        self._check_space(total, offset)
        # Validators first: if we are killed mid-body, the next run knows what it resumes.
        write_json_atomic(
            sidecar_path(self.part_path),
            {
                "url": self.url,
                "etag": resp.headers.get("ETag"),
                "last_modified": resp.headers.get("Last-Modified"),
                "total": total,
            },
        )
        hasher = BackgroundHasher(self._hash_existing(offset) if append else None)
        self.bytes_done, self.bytes_total = offset, total
        self.progress(self.bytes_done, self.bytes_total)
        try:
            self._write_body(resp, total, hasher, "ab" if append else "wb")
        finally:
            hasher.close()
        if self._stop.is_set():
            raise _Stopped()
        if total is not None and self.bytes_done < total:
            raise DownloadError(
                f"the connection ended at byte {self.bytes_done} of {total}",
                transient=True,
                cause=ConnectionError("the connection ended early"),
            )
        if total is None:
            self.bytes_total = self.bytes_done
        return hasher.hexdigest()

    def _already_whole(self, resp: requests.Response, offset: int, meta: dict[str, Any]) -> str:
        """416 to a Range from ``offset``: the file may be all on disk already; else start afresh."""
        total = _total_from_content_range(resp.headers.get("Content-Range"))
        if offset and total == offset and meta.get("total") == offset:
            # everything is already on disk (killed between the last byte and the rename)
            self.bytes_done, self.bytes_total = offset, total
            self._resumed = True
            return self._hash_existing(offset).hexdigest()
        raise _Restart("the server cannot serve the rest (416)")

    def _continues_at(self, resp: requests.Response, offset: int, meta: dict[str, Any]) -> tuple[int | None, bool]:
        """The package's total size (if known) and whether the body continues the ``.part``
        file (206 from ``offset``, the same ETag) or replaces it (200); other answers are errors."""
        status = resp.status_code
        if status == 206:
            start, total = _parse_content_range(resp.headers.get("Content-Range"))
            if start != offset:
                raise _Restart(f"the server sent bytes from {start}, not {offset}")
            etag = resp.headers.get("ETag")
            if meta.get("etag") and etag and etag != meta["etag"]:
                raise _Restart("the package changed on the server (new ETag)")
            return total, True
        if status == 200:
            if offset:
                log.info("server sent the whole package again; restarting %s from zero", self.url)
            return _int_header(resp.headers.get("Content-Length")), False
        transient = status in TRANSIENT_STATUSES or status >= 500
        raise DownloadError(
            f"HTTP {status} from {self.url}",
            transient=transient,
            status=status,
            cause=requests.HTTPError(f"HTTP {status}", response=resp),
        )

    def _write_body(self, resp: requests.Response, total: int | None, hasher: BackgroundHasher, mode: str) -> None:
        """The body into the ``.part`` file as it arrives, hashed and told as progress."""
        try:
            with open(self.part_path, mode) as out:
                for chunk in _body(resp, self.chunk_size):
                    if self._stop.is_set():
                        raise _Stopped()
                    if not chunk:
                        continue
                    out.write(chunk)
                    hasher.update(chunk)
                    self.bytes_done += len(chunk)
                    if total is not None and self.bytes_done > total:
                        raise _Restart("the server sent more bytes than it announced")
                    self.progress(self.bytes_done, self.bytes_total)
        except (
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            ConnectionError,
            TimeoutError,
            AttributeError,
            ValueError,
        ) as exc:
            # AttributeError/ValueError: the response was closed under us by pause()/cancel().
            if self._stop.is_set():
                raise _Stopped() from exc
            raise DownloadError(
                f"the connection dropped at byte {self.bytes_done}: {exc!r}", transient=True, cause=exc
            ) from exc
        except OSError as exc:  # the disk, not the network (requests' errors are OSErrors too)
            if self._stop.is_set():
                raise _Stopped() from exc
            raise DownloadError(f"cannot write the package: {exc!r}", cause=exc) from exc

    # ------------------------------------------------------------------ helpers

    def _read_sidecar(self) -> dict[str, Any]:
        try:
            data = json.loads(sidecar_path(self.part_path).read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _hash_existing(self, length: int) -> "hashlib._Hash":
        """A SHA-256 seeded with the first ``length`` bytes already on disk."""
        hasher = hashlib.sha256()
        with open(self.part_path, "rb") as part:
            remaining = length
            while remaining:
                block = part.read(min(1024 * 1024, remaining))
                if not block:
                    raise _Restart("the partial file is shorter than expected")
                hasher.update(block)
                remaining -= len(block)
        return hasher

    def _check_space(self, total: int | None, offset: int) -> None:
        if total is None:
            return
        needed = max(0, total - offset)
        free = self.free_space(self.part_path.parent)
        if free < needed + self.space_margin:
            raise NotEnoughSpace(
                f"not enough free space: needs {_mb(needed + self.space_margin)}, {_mb(free)} free",
                needed=needed + self.space_margin,
                free=free,
            )


def _body(resp: requests.Response, chunk_size: int) -> Iterator[bytes]:
    """The body's bytes as they arrive, up to ``chunk_size`` at a time.

    A body with a length is read with ``read1``, which returns what has arrived instead of
    waiting for a whole chunk: when the connection breaks, every byte received so far has
    been written, so the resume asks for nothing twice. A chunked body goes through
    ``iter_content`` (urllib3 reads it chunk by chunk anyway).
    """
    raw = resp.raw
    if getattr(raw, "chunked", False) or not hasattr(raw, "read1"):
        yield from resp.iter_content(chunk_size=chunk_size)
        return
    while chunk := raw.read1(chunk_size, decode_content=True):
        yield chunk


def _strong(etag: str | None) -> bool:
    # If-Range needs a strong validator (RFC 9110 13.1.5); weak ETags start with W/.
    return etag is not None and etag != "" and not etag.startswith("W/")


def _int_header(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _parse_content_range(value: str | None) -> tuple[int | None, int | None]:
    """``bytes 100-199/1000`` -> (100, 1000); total None when ``*``."""
    if not value or not value.startswith("bytes "):
        return None, None
    span, _, total = value[6:].partition("/")
    start = _int_header(span.partition("-")[0])
    return start, _int_header(total) if total != "*" else None


def _total_from_content_range(value: str | None) -> int | None:
    """``bytes */1000`` (the form of a 416) -> 1000."""
    if not value or "/" not in value:
        return None
    return _int_header(value.rsplit("/", 1)[1])


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"
