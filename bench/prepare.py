"""The bench's own setup step: Python clients into the venv, peers from Debian's packages."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.common import log

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
#: Debian packages the peers need (binary name -> package).
APT_PACKAGES = {"mosquitto": "mosquitto", "nginx": "nginx", "curl": "curl"}
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def ensure_python_deps() -> None:
    """pip-install bench/requirements.txt into the running interpreter if anything is missing."""
    missing = [m for m in ("aiohttp", "aiomqtt", "paho", "psutil") if importlib.util.find_spec(m) is None]
    if not missing:
        return
    log(f"installing bench requirements ({', '.join(missing)} missing)")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)], check=True)


def which(binary: str) -> str | None:
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(_SBIN)
    return shutil.which(binary, path=path)


_apt_updated = False


def ensure_binary(binary: str) -> str | None:
    """The path of ``binary``, apt-installing its package first if missing (None if impossible)."""
    found = which(binary)
    if found:
        return found
    global _apt_updated
    package = APT_PACKAGES[binary]
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        log(f"{binary} is missing and cannot be installed here (no apt-get or not root)")
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        if not _apt_updated:
            subprocess.run([apt, "update", "-qq"], check=True, env=env, capture_output=True, timeout=300)
            _apt_updated = True
        log(f"apt-get install -y {package}")
        subprocess.run([apt, "install", "-y", "-qq", package], check=True, env=env, capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        log(f"could not install {package}: {exc}")
        return None
    return which(binary)
