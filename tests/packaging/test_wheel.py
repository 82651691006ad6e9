"""A built wheel works on its own: installed away from the repository, the relay serves the store
page, its stylesheet and its icons, every part finds the files it ships, and a part started
without its extra says which one to install.

The wheel is built from a copy of the sources (the shared working tree gets no ``build/``
folder) with the venv's setuptools and no network, installed with ``pip install --target``, and
run on the venv's python with ``-S`` and ``PYTHONPATH=<installed copy>:<venv site-packages>``
from a folder outside the repository: neither the checkout nor its editable install (a ``.pth``
file, skipped by ``-S``) can stand in for a file the wheel left out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import requests

from appbeam_devtools.local_relay import LocalRelay, free_port

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "relay_server", "desktop_sender", "mobile_receiver", "appbeam_devtools")
#: Files that are not package data (the packages' READMEs are for the repository).
NOT_SHIPPED = {".py", ".pyc", ".md"}


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The wheel, built from this checkout and installed into a folder of its own."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for package in PACKAGES:
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    dist = root / "dist"
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(dist),
        ],
        cwd=root,
    )
    assert built.returncode == 0, f"pip wheel failed:\n{built.stdout}\n{built.stderr}"
    [wheel] = dist.glob("appbeam-*.whl")
    target = root / "site"
    installed = _run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        cwd=root,
    )
    assert installed.returncode == 0, f"pip install failed:\n{installed.stdout}\n{installed.stderr}"
    return target


def _installed_env(site: Path) -> dict[str, str]:
    """The installed copy first, then the venv's third-party packages; nothing from the checkout."""
    paths = dict.fromkeys([str(site), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(PYTHONPATH=os.pathsep.join(paths), PYTHONSAFEPATH="1", PYTHONNOUSERSITE="1", PYTHONUNBUFFERED="1")
    return env


class InstalledRelay(LocalRelay):
    """``appbeam relay`` from the installed wheel, started from a folder outside the repository."""

    def __init__(self, site: Path, data_dir: Path, workdir: Path):
        super().__init__(data_dir, extra_args=["--demo-scale", "0.01"], env=_installed_env(site))
        self.workdir = workdir

    def command(self) -> list[str]:
        return [sys.executable, "-S", *super().command()[1:]]


def test_every_file_the_packages_ship_is_in_the_wheel(site):
    tracked = _run(["git", "ls-files", "--", *PACKAGES], cwd=REPO).stdout.split()
    shipped = [Path(name) for name in tracked if Path(name).suffix not in NOT_SHIPPED]
    assert shipped, "no package data found in the checkout"
    missing = [str(path) for path in shipped if not (site / path).is_file()]
    assert not missing, f"the wheel leaves out: {', '.join(missing)}"
    assert not (site / "assets").exists(), "nothing should be installed beside the packages"


def test_the_installed_relay_serves_the_store_its_stylesheet_and_icons(site, tmp_path):
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    with InstalledRelay(site, tmp_path / "relay", workdir) as relay:
        css = requests.get(f"{relay.url}/static/store.css", timeout=10)
        assert css.status_code == 200
        assert css.content == (REPO / "relay_server" / "static" / "store.css").read_bytes()

        logo = requests.get(f"{relay.url}/static/icons/appbeam.png", timeout=10)
        assert logo.status_code == 200
        assert logo.headers["Content-Type"] == "image/png"
        assert logo.content == (REPO / "shared" / "assets" / "appbeam.png").read_bytes()

        page = requests.get(f"{relay.url}/", timeout=10)
        assert page.status_code == 200
        assert "Appbeam Store" in page.text
        assert "/static/store.css" in page.text
        icon = requests.get(f"{relay.url}/static/icons/org.videolan.vlc.png", timeout=10)
        assert "/static/icons/org.videolan.vlc.png" in page.text
        assert icon.status_code == 200
        assert icon.content == (REPO / "relay_server" / "static" / "icons" / "org.videolan.vlc.png").read_bytes()

        # The relay that answered ran from the wheel: its log names no file of the checkout's packages.
        assert not any(str(REPO / package) in relay.log_tail(200) for package in PACKAGES)


#: Run in the installed copy: where each part finds what it ships.
PROBE = """
import json
from importlib.resources import files

import desktop_sender.cli, appbeam_devtools.receiver_screenshots, relay_server.app, shared.assets

print(json.dumps({
    "modules": [m.__file__ for m in (desktop_sender.cli, appbeam_devtools.receiver_screenshots, relay_server.app,
                                     shared.assets)],
    "logo": str(shared.assets.LOGO),
    "store": str(relay_server.app.ASSETS),
    "receiver_icons": str(appbeam_devtools.receiver_screenshots.ICONS),
    "login_kv": (files("mobile_receiver") / "ui" / "screens" / "login.kv").read_text()[:40],
}))
"""


def test_each_part_finds_its_files_in_the_installed_copy(site, tmp_path):
    probe = _run([sys.executable, "-S", "-c", PROBE], cwd=tmp_path, env=_installed_env(site))
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    for path in found["modules"]:
        assert Path(path).is_relative_to(site), f"{path} was imported from outside the installed wheel"
    assert Path(found["logo"]) == site / "shared" / "assets" / "appbeam.png"
    assert Path(found["logo"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Path(found["store"]) == site / "relay_server" / "static"
    assert Path(found["receiver_icons"]) == site / "relay_server" / "static" / "icons"
    assert found["login_kv"]


#: ``appbeam`` with one module made unimportable, as on a machine without that part's extra.
WITHOUT = """
import sys

MISSING = sys.argv.pop(1)


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == MISSING:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NotInstalled())
from appbeam_devtools.cli import main

sys.exit(main())
"""


@pytest.mark.parametrize(
    "part, missing, args",
    [
        ("relay", "gevent", ["--port", "0"]),
        ("relay", "flask", ["--port", "0"]),
        ("sender", "PySide6", ["--headless"]),
        ("receiver", "kivy", []),
    ],
)
def test_a_part_without_its_extra_says_which_one_to_install(site, tmp_path, part, missing, args):
    if args[:2] == ["--port", "0"]:
        args = ["--port", str(free_port())]
    result = _run(
        [sys.executable, "-S", "-c", WITHOUT, missing, part, "--data-dir", str(tmp_path / part), *args],
        cwd=tmp_path,
        env=_installed_env(site),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"pip install 'appbeam[{part}]'" in result.stderr
    assert missing in result.stderr
    assert "Traceback" not in result.stderr
