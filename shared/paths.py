"""Where each part keeps its data (platformdirs), with one override for tests and the demo."""

from __future__ import annotations

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
    path.mkdir(parents=True, exist_ok=True)
    return path
