"""The relay's content-addressed package store: one file per SHA-256, written atomically."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
#: A temporary file untouched this long (seconds) is a crashed write's, whoever wrote it.
LEFTOVER_AGE = 24 * 3600.0


def _writer_prefix() -> str:
    """Temporary files are named after the process writing them (``4242-….part``), so a process
    starting next to live siblings (``--processes N``) removes only the leftovers of dead ones."""
    return f"{os.getpid()}-"


def _writer_alive(name: str) -> bool:
    """True while the process a temporary file is named after still runs (unknown: assumed alive)."""
    pid_text, dash, _ = name.partition("-")
    if not dash or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # this process is just starting: nothing it writes exists yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _call(func: Callable[[], None]) -> None:
    func()


class HashMismatch(Exception):
    """The bytes written do not have the SHA-256 they were supposed to have."""


class TooLarge(Exception):
    """More bytes than the store accepts for one package."""


class PackageWriter:
    """Receives a package's bytes, hashing as it goes; the store names it by its hash."""

    def __init__(self, fileobj: BinaryIO, max_bytes: int | None):
        self._file = fileobj
        self._hash = hashlib.sha256()
        self.size = 0
        self.max_bytes = max_bytes

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise TooLarge(f"package is larger than {self.max_bytes} bytes")
        self._hash.update(chunk)
        self._file.write(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class PackageStore:
    """Files live at ``root/<first two hex digits>/<sha256>``; nothing half-written is ever there."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    @contextmanager
    def writer(
        self,
        expected_sha256: str | None = None,
        max_bytes: int | None = None,
        check: Callable[[Path], None] | None = None,
        blocking: Callable[[Callable[[], None]], None] = _call,
        place: Callable[[Callable[[], None]], None] = _call,
    ) -> Iterator[PackageWriter]:
        """Write a package through the yielded writer; on success it is moved into place.

        ``check(path)`` looks at the complete, hash-checked file before it goes into the store
        (an upload: is it the package it claims to be?) and raises to refuse it. Any exception
        (including :class:`HashMismatch`) removes the temporary file. The fsync and the check
        run through ``blocking`` (the relay: off gevent's loop, relay_server/off_loop.py); the
        move into place through ``place`` (the upload route: under its lock for this hash,
        with the package's row recorded in the same turn).
        """
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix=_writer_prefix(), suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fileobj:
                writer = PackageWriter(fileobj, max_bytes)
                yield writer
                fileobj.flush()
                blocking(lambda: os.fsync(fileobj.fileno()))
            if expected_sha256 and writer.sha256 != expected_sha256:
                raise HashMismatch(f"expected SHA-256 {expected_sha256}, got {writer.sha256}")
            if check is not None:
                blocking(lambda: check(tmp))
            place(lambda: self._move_into_place(tmp, writer.sha256))
        finally:
            tmp.unlink(missing_ok=True)

    def add_file(self, source: Path) -> tuple[str, int]:
        """Add an existing file (hard-linked when possible); returns (sha256, size)."""
        digest = hashlib.sha256()
        with open(source, "rb") as fileobj:
            for chunk in iter(lambda: fileobj.read(CHUNK), b""):
                digest.update(chunk)
        sha = digest.hexdigest()
        if not self.has(sha):
            fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix=_writer_prefix(), suffix=".part")
            os.close(fd)
            tmp = Path(tmp_name)
            tmp.unlink()
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
            try:
                self._move_into_place(tmp, sha)
            finally:
                tmp.unlink(missing_ok=True)
        return sha, self.path_for(sha).stat().st_size

    def _move_into_place(self, tmp: Path, sha256: str) -> None:
        target = self.path_for(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)

    def clean_tmp(self, older_than: float = LEFTOVER_AGE) -> None:
        """Remove leftovers of writes interrupted by a crash (called at start-up): ``.part`` files
        whose writing process is gone, and any untouched for ``older_than`` seconds. A live
        sibling's upload in progress stays (with ``--processes N`` a restarted process starts
        while the others are receiving); a write in progress touches its file at least once per
        ``upload_rate_window``."""
        cutoff = time.time() - older_than
        for leftover in self.tmp.glob("*.part"):
            try:
                if not _writer_alive(leftover.name) or leftover.stat().st_mtime < cutoff:
                    leftover.unlink(missing_ok=True)
            except FileNotFoundError:  # finished (or cleaned) meanwhile
                continue
