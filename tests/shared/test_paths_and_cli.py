"""Data directories and the ``appbeam`` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import shared.paths
from shared import __version__
from shared.paths import data_dir

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- data_dir


def test_override_wins_over_appbeam_home(tmp_path, monkeypatch):
    monkeypatch.setenv("APPBEAM_HOME", str(tmp_path / "home"))
    target = tmp_path / "explicit" / "nested"
    assert data_dir("relay", override=str(target)) == target
    assert target.is_dir()
    assert data_dir("sender", "p2", override=target) == target  # PathLike too; profile not appended
    assert not (tmp_path / "home").exists()


def test_appbeam_home_gives_part_and_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("APPBEAM_HOME", str(tmp_path / "home"))
    assert data_dir("receiver", "phone-1") == tmp_path / "home" / "receiver" / "phone-1"
    assert (tmp_path / "home" / "receiver" / "phone-1").is_dir()
    assert data_dir("relay") == tmp_path / "home" / "relay" / "default"
    assert data_dir("relay") == tmp_path / "home" / "relay" / "default"  # existing is fine


def test_empty_override_and_empty_home_fall_through(tmp_path, monkeypatch):
    platform_dir = tmp_path / "platform"
    monkeypatch.setattr(shared.paths, "user_data_path", lambda *a, **k: platform_dir)
    monkeypatch.setenv("APPBEAM_HOME", "")
    assert data_dir("sender", "work", override="") == platform_dir / "sender" / "work"


def test_without_home_uses_the_platform_data_dir(tmp_path, monkeypatch):
    calls = []

    def fake_user_data_path(appname, appauthor=None, **kwargs):
        calls.append((appname, appauthor))
        return tmp_path / "platform" / appname

    monkeypatch.setattr(shared.paths, "user_data_path", fake_user_data_path)
    monkeypatch.delenv("APPBEAM_HOME", raising=False)
    path = data_dir("receiver", "tablet")
    assert path == tmp_path / "platform" / "appbeam" / "receiver" / "tablet"
    assert path.is_dir()
    assert calls == [("appbeam", False)]


@pytest.mark.parametrize("profile", ["a", "phone-1", "Sam.Phone_2", "0", "x" * 64])
def test_good_profile_names(tmp_path, monkeypatch, profile):
    monkeypatch.setenv("APPBEAM_HOME", str(tmp_path))
    assert data_dir("receiver", profile).name == profile


@pytest.mark.parametrize(
    "profile",
    [
        "",
        ".",
        "..",
        "../escape",
        "a/b",
        "a\\b",
        "/abs",
        ".hidden",
        "-flag",
        "_x",
        "has space",
        "x" * 65,
        "naïve",
        "a\x00b",
        "phone\n",
    ],
)
def test_bad_profile_names_are_rejected_and_nothing_is_created(tmp_path, monkeypatch, profile):
    monkeypatch.setenv("APPBEAM_HOME", str(tmp_path / "home"))
    with pytest.raises(ValueError, match="profile name"):
        data_dir("receiver", profile)
    assert not (tmp_path / "home").exists()


def test_bad_profile_is_rejected_even_with_an_override(tmp_path):
    with pytest.raises(ValueError):
        data_dir("receiver", "../x", override=tmp_path / "o")
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- command line


def _run_python(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "KIVY_"))}
    cmd = [sys.executable, *(("-c", code) if code is not None else args)]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def test_help_lists_every_part():
    result = _run_python("-m", "appbeam_devtools", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: appbeam")
    for command in ("relay", "sender", "receiver", "demo"):
        assert f"    {command} " in result.stdout, command


def test_version_flag(capsys):
    from appbeam_devtools.cli import main

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"appbeam {__version__}"


def test_a_command_is_required(capsys):
    from appbeam_devtools.cli import build_parser

    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([])
    assert info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error(capsys):
    from appbeam_devtools.cli import build_parser

    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["toaster"])
    assert info.value.code == 2


def test_parser_parses_relay_port():
    from appbeam_devtools.cli import build_parser

    args = build_parser().parse_args(["relay", "--port", "9000"])
    assert args.command == "relay"
    assert args.port == 9000
    assert args.host == "127.0.0.1"
    assert args.verbose is False
    args = build_parser().parse_args(["-v", "receiver", "--profile", "phone1", "--platform", "ios"])
    assert (args.command, args.profile, args.platform, args.verbose) == ("receiver", "phone1", "ios", True)
    args = build_parser().parse_args(["sender", "--relay", "http://127.0.0.1:8765"])
    assert (args.command, args.relay) == ("sender", "http://127.0.0.1:8765")


def test_relay_port_must_be_a_number(capsys):
    from appbeam_devtools.cli import build_parser

    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["relay", "--port", "high"])
    assert info.value.code == 2


HEAVY = ("PySide6", "kivy", "flask", "werkzeug", "gevent", "peewee")


def test_building_the_parser_imports_no_gui_or_server_framework():
    code = (
        "import json, sys\n"
        "import appbeam_devtools.cli\n"
        "parser = appbeam_devtools.cli.build_parser()\n"
        "parser.parse_args(['relay', '--port', '9000'])\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    result = _run_python(code=code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
