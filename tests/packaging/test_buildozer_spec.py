"""The APK gets every third-party module the receiver imports (buildozer.spec's requirements
against the imports of the code buildozer.spec ships) and none of the developer tools."""

from __future__ import annotations

import ast
import configparser
import os
import re
import sys
from fnmatch import fnmatch
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: import name -> python-for-android requirement name, where they differ.
REQUIREMENT_OF = {"jnius": "pyjnius", "apkInspector": "apkinspector"}
#: Imported only by "Open a picture of the QR code"; no recipe builds zxing-cpp (mobile_receiver/README.md).
NOT_ON_ANDROID = {"zxingcpp", "PIL"}


def _spec() -> configparser.ConfigParser:
    spec = configparser.ConfigParser(interpolation=None)
    spec.read(REPO / "buildozer.spec")
    return spec


def _listed(key: str) -> list[str]:
    return [item.strip() for item in _spec()["app"].get(key, "").split(",") if item.strip()]


def _ships(relative: str) -> bool:
    """Buildozer's rule: an include pattern wins; otherwise the extension must be listed and
    neither an excluded folder nor an exclude pattern may match."""
    if any(fnmatch(relative, pattern) for pattern in _listed("source.include_patterns")):
        return True
    if relative.rsplit(".", 1)[-1] not in _listed("source.include_exts"):
        return False
    if any(relative.startswith(folder.rstrip("/") + "/") for folder in _listed("source.exclude_dirs")):
        return False
    return not any(fnmatch(relative, pattern) for pattern in _listed("source.exclude_patterns"))


def _shipped_files() -> list[Path]:
    shipped = []
    for root, dirs, files in os.walk(REPO):
        here = Path(root).relative_to(REPO)
        # Hidden folders never ship; the build output and node's modules are not source.
        dirs[:] = [d for d in dirs if not d.startswith(".") and str(here / d) not in ("build", "bin")]
        dirs[:] = [d for d in dirs if d != "node_modules"]
        shipped += [Path(root) / name for name in files if _ships(str(here / name))]
    return shipped


def _shipped_python() -> list[Path]:
    return [path for path in _shipped_files() if path.suffix == ".py"]


def _third_party_imports() -> dict[str, Path]:
    own = {"mobile_receiver", "shared", "relay_server", "desktop_sender", "appbeam_devtools", "tests", "bench"}
    found: dict[str, Path] = {}
    # What the receiver runs (the recipes for python-for-android ship too, but are never imported).
    for path in (
        path for path in _shipped_python() if path.relative_to(REPO).parts[0] in ("mobile_receiver", "shared")
    ):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in own and top != "__future__":
                    found.setdefault(top, path)
    return found


def test_every_module_the_receiver_imports_is_a_requirement_of_the_apk():
    requirements = {re.split(r"[=<>]", item.strip())[0].lower() for item in _spec()["app"]["requirements"].split(",")}
    imports = _third_party_imports()
    assert "kivy" in imports and "cryptography" in imports  # the scan sees the receiver's imports
    missing = {
        name: str(path.relative_to(REPO))
        for name, path in imports.items()
        if name not in NOT_ON_ANDROID and REQUIREMENT_OF.get(name, name).lower() not in requirements
    }
    assert not missing, f"buildozer.spec's requirements leave out (module: first importer): {missing}"


def test_the_apk_icon_is_the_logo_the_receiver_shows():
    icon = _spec()["app"]["icon.filename"].replace("%(source.dir)s", str(REPO))
    assert Path(icon) == REPO / "shared" / "assets" / "appbeam.png"
    assert Path(icon).is_file()


def test_the_apk_leaves_the_developer_tools_out():
    shipped = {str(path.relative_to(REPO)) for path in _shipped_python()}
    assert "mobile_receiver/android_main.py" in shipped and "shared/relay_client.py" in shipped
    assert (REPO / "appbeam_devtools" / "demo.py").is_file()
    tools = sorted(name for name in shipped if name.startswith("appbeam_devtools/"))
    assert not tools, f"buildozer.spec ships the developer tools: {tools}"


def test_what_the_apk_ships_imports_the_developer_tools_only_when_asked():
    """Only ``--control`` (a desktop receiver under automation) reaches for them, inside a function."""
    at_module_level = []
    for path in _shipped_python():
        for node in ast.parse(path.read_text(), str(path)).body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "appbeam_devtools" for name in names):
                at_module_level.append(str(path.relative_to(REPO)))
    assert not at_module_level, f"the APK would fail to import these: {at_module_level}"
