"""The shared sentences (what went wrong, why a file is not a package) in Simplified Chinese and
English (issue 17): the language the app chose or the system's, values placed after translation,
and the catalogs check that fails on a missing translation, a new string or a glued sentence."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from shared import i18n
from shared.explain import explain, relay_place
from shared.i18n import catalogs
from shared.package_check import NotAPackage, inspect_package

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.use_language("en")


def _refused() -> requests.ConnectionError:
    """A real refused connection: a loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    try:
        requests.get(f"http://127.0.0.1:{port}/", timeout=5)
    except requests.ConnectionError as exc:
        return exc
    raise AssertionError("something answered on a closed port")


def test_a_refused_relay_is_explained_in_the_language_chosen():
    exc = _refused()
    i18n.use_language("zh-CN")
    zh = explain(exc, place=relay_place("http://relay.example:8765"), retry_in=8).text
    assert zh == "无法连接中继 relay.example:8765：那里没有任何响应。它在运行吗？8 秒后重试。"
    i18n.use_language("en")
    en = explain(exc, place=relay_place("http://relay.example:8765"), retry_in=8).text
    assert en == "Can't reach the relay at relay.example:8765: nothing answers there. Is it running? Retrying in 8 s."


def test_a_relay_message_in_chinese_ends_as_a_chinese_sentence():
    from shared.relay_errors import RelayError

    i18n.use_language("zh_CN")
    refused = RelayError(409, "already_friends", "你和 alice 已经是好友了")
    assert explain(refused).text == "你和 alice 已经是好友了。"
    i18n.use_language("en")
    refused = RelayError(409, "already_friends", "you and alice are already friends")
    assert explain(refused).text == "You and alice are already friends."


def test_a_refused_file_names_its_format_in_either_language():
    web_page = io.BytesIO(b"<!doctype html><html><body>Sign in</body></html>")
    i18n.use_language("zh_CN")
    with pytest.raises(NotAPackage) as refused:
        inspect_package(web_page, "apk")
    assert refused.value.reason == "web_page"
    assert str(refused.value) == "此文件是网页，不是 Android 应用（apk）。该网站可能需要你先登录。"
    # The same refusal, written again in English for someone else (the relay answers each request in its own).
    assert refused.value.said.text("en") == (
        "This file is a web page, not an Android app (apk). The site may need you to sign in first."
    )


def test_the_relay_is_asked_for_the_language_in_use():
    i18n.use_language("zh_CN")
    assert i18n.accept_language() == "zh-CN,zh;q=0.9,en;q=0.8"
    assert i18n.accept_language("en") == "en"


def test_numbers_in_a_sentence_follow_the_language():
    said = i18n.say(
        "This file is not %(what)s a phone would install: its table of contents is far "
        "larger than any app's (over %(files)s files or %(megabytes)s MB). "
        "It may be damaged, or made to overload whoever opens it.",
        what=i18n.say("an Android app (apk)"),
        files=i18n.Number(100_000),
        megabytes=i18n.Number(16),
    )
    assert "(over 100,000 files or 16 MB)" in said.text("en")
    assert "超过 100,000 个文件或 16 MB" in said.text("zh_CN")
    assert i18n.Size(41_234_567).in_language("en") == "41.2 MB"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "en_US.UTF-8", "LANGUAGE": "zh_Hans:en"}, "zh_CN"),
        ({"LANG": "zh_TW.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
    ],
)
def test_the_system_language_is_the_default(env, expected):
    clean = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    out = subprocess.run(
        [sys.executable, "-c", "from shared import i18n; print(i18n.current_language())"],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == expected


def test_the_catalogs_are_complete():
    done = subprocess.run(
        [sys.executable, "-m", "shared.i18n.catalogs", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def _copy_of_the_domain(tmp_path: Path, source: str) -> i18n.Domain:
    """The shared domain in tmp_path, its catalogs copied, its one source file being source."""
    shutil.copytree(i18n.HERE / "zh_CN", tmp_path / "zh_CN")
    shutil.copy(i18n.SHARED.pot_file(), tmp_path / "shared.pot")
    code = tmp_path / "explain.py"
    code.write_text(source, encoding="utf-8")
    return i18n.Domain("shared", tmp_path, project="test", sources=lambda: [code], keywords=i18n.SHARED.keywords)


def _every_marked_call_of_the_real_sources() -> str:
    """A source file that marks exactly the strings the real catalogs have."""
    ids = sorted(m.id for m in catalogs.extract(i18n.SHARED) if m.id)
    return "".join(f"_({msgid!r})\n" for msgid in ids)


def test_the_check_finds_a_missing_translation(tmp_path):
    domain = _copy_of_the_domain(tmp_path, _every_marked_call_of_the_real_sources())
    assert catalogs.check(domain, catalogs.SHARED_SENTENCES) == []
    po = domain.po_file("zh_CN")
    text = po.read_text(encoding="utf-8")
    assert 'msgstr "中继正忙。"' in text
    po.write_text(text.replace('msgstr "中继正忙。"', 'msgstr ""'), encoding="utf-8")
    assert catalogs.check(domain, catalogs.SHARED_SENTENCES) == [
        "zh_CN/LC_MESSAGES/shared.po: 'The relay is busy.' is untranslated"
    ]


def test_the_check_finds_a_new_sentence_and_a_glued_one(tmp_path):
    source = _every_marked_call_of_the_real_sources()
    source += "_('The relay is on fire.')\n"
    source += "Explanation(f'Cannot reach {place}.', True)\n"
    domain = _copy_of_the_domain(tmp_path, source)
    found = catalogs.check(domain, catalogs.SHARED_SENTENCES)
    assert "shared.pot: new in the code, not in the catalog: 'The relay is on fire.'" in found
    assert "zh_CN/LC_MESSAGES/shared.po: new in the code, not in the catalog: 'The relay is on fire.'" in found
    assert any(line.startswith("explain.py:") and "Explanation()" in line for line in found), found
