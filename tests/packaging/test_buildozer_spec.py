"""The APK gets every third-party module the receiver imports: buildozer.spec's requirements
against the imports of mobile_receiver/ and shared/ (the code buildozer.spec ships)."""

from __future__ import annotations

import ast
import configparser
import re
import sys
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


def _shipped_files() -> list[Path]:
    excluded = {part.strip() for part in _spec()["app"]["source.exclude_patterns"].split(",")}
    return [
        path
        for folder in ("mobile_receiver", "shared")
        for path in (REPO / folder).rglob("*.py")
        if str(path.relative_to(REPO)) not in excluded
    ]


def _third_party_imports() -> dict[str, Path]:
    own = {"mobile_receiver", "shared", "relay_server", "desktop_sender", "tests", "bench"}
    found: dict[str, Path] = {}
    for path in _shipped_files():
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
