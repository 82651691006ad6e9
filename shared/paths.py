"""Where each part keeps its data (platformdirs), with one override for tests and the demo."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

from platformdirs import user_data_path

_PROFILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def data_dir(part: str, profile: str = "default", override: str | os.PathLike[str] | None = None) -> Path:
    """The data directory of ``part`` ("relay", "sender", "receiver") for one profile.

    ``override`` (a ``--data-dir`` flag) wins; then ``APPBEAM_HOME`` (all parts under one
    folder, as the demo and the tests use); then the platform's user data directory.
    """
    if not _PROFILE.fullmatch(profile):
        raise ValueError(f"profile name {profile!r}: use letters, digits, '.', '_' or '-'")
    if override:
        path = Path(override)
    elif os.environ.get("APPBEAM_HOME"):
        path = Path(os.environ["APPBEAM_HOME"]) / part / profile
    else:
        path = user_data_path("appbeam", appauthor=False) / part / profile
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirUnusable(path, exc) from exc
    return path


class DataDirUnusable(SystemExit):
    """A data folder that cannot be made: which one, why, and what to do, as one sentence.

    A ``SystemExit`` because no command can do anything without its data folder, and every
    command calls ``data_dir`` at start-up: uncaught, Python prints the sentence (no traceback)
    and exits with status 1. A command with something better to say catches it.
    """

    def __init__(self, path: Path, exc: OSError):
        self.path = path
        if exc.errno == errno.EEXIST or (exc.errno == errno.ENOTDIR and path.is_file()):
            why = "it is a file, not a folder"
        elif exc.errno == errno.ENOTDIR:
            why = "part of that path is a file, not a folder"
        elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
            why = "the disk is full"
        else:
            why = (exc.strerror or str(exc)).rstrip(".")
        advice = "Free some space or choose" if why == "the disk is full" else "Choose"
        self.sentence = (
            f"The data folder {path} cannot be used ({why}). "
            f"{advice} another folder with --data-dir (or APPBEAM_HOME) that this user can write."
        )
        super().__init__(self.sentence)
