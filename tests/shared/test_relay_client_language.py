"""The relay client asks in its user's language (issue 17): every request carries
``Accept-Language`` for the language in use *now* (``shared.i18n.use_language``), so the relay's
refusals, a stream's and an upload's included, come back in it the moment the user switches;
and the sentences the client makes itself (an answer that is not JSON, a relay out of reach, a
download refused, a file it cannot read, a field that does not fit the protocol) are in it too.
A real relay process on loopback; English stays byte for byte what it was."""

from __future__ import annotations

import socket

import pytest
import requests

from shared import i18n
from shared.protocol import ProtocolError, parse_app_id, parse_text
from shared.relay_client import DeviceInfo, RelayClient
from shared.relay_errors import PackageRefused, RelayError, RelayUnavailable
from tests.helpers.relay_process import RelayProcess

API = "/api/v1"
TABLET = DeviceInfo("anna-tablet", "Tablet", "Tab S9", "android")


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    with RelayProcess(tmp_path_factory.mktemp("client-language")) as process:
        anna = RelayClient(process.url)
        anna.create_account("anna", "correct horse")
        anna.login("anna", "correct horse", DeviceInfo("anna-laptop", "Laptop", "ThinkPad", "linux"))
        process.anna = anna
        yield process


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.use_language("en")


def _refusal(call) -> RelayError:
    with pytest.raises(RelayError) as caught:
        call()
    return caught.value


def test_a_refusal_comes_in_the_language_in_use_and_follows_a_switch_at_once(relay):
    client = RelayClient(relay.url)  # one client (one session) across the switch
    i18n.use_language("zh_CN")
    zh = _refusal(lambda: client.login("anna", "not her password", TABLET))
    i18n.use_language("en")
    en = _refusal(lambda: client.login("anna", "not her password", TABLET))
    assert (zh.status, zh.code, zh.message) == (401, "bad_credentials", "用户名或密码错误")
    assert (en.status, en.code, en.message) == (401, "bad_credentials", "wrong username or password")


def test_a_field_the_relay_refuses_is_named_in_the_language_in_use(relay):
    client = RelayClient(relay.url)
    i18n.use_language("zh_CN")
    zh = _refusal(lambda: client.create_account("No Spaces Allowed", "correct horse"))
    i18n.use_language("en")
    en = _refusal(lambda: client.create_account("No Spaces Allowed", "correct horse"))
    assert (zh.status, zh.code) == (en.status, en.code) == (400, "invalid_field")
    assert zh.message == "username：3 到 32 个字符，只能用 a-z、0-9、'.'、'_' 或 '-'"
    assert en.message == "username: 3-32 characters of a-z, 0-9, '.', '_' or '-'"


def _asked_directly(relay, path: str, accept: str) -> str:
    """What the relay says to a plain request for ``path`` with a stale token, in ``accept``."""
    headers = {"Authorization": "Bearer stale", "Accept-Language": accept}
    return requests.get(f"{relay.url}{path}", headers=headers, timeout=30).json()["error"]["message"]


def test_the_event_stream_asks_in_the_language_in_use(relay):
    stale = RelayClient(relay.url, token="stale")
    chinese, english = _asked_directly(relay, f"{API}/stream", "zh-CN"), _asked_directly(relay, f"{API}/stream", "en")
    assert chinese != english  # the relay has this refusal in both languages
    i18n.use_language("zh_CN")
    stream = stale.stream()
    try:
        zh = _refusal(lambda: next(iter(stream)))
    finally:
        stream.close()
    assert (zh.status, zh.message) == (401, chinese)


def test_an_upload_asks_in_the_language_in_use(relay, tmp_path):
    page = tmp_path / "notes.apk"
    page.write_bytes(b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>" * 20)
    i18n.use_language("zh_CN")
    zh = _refusal(lambda: relay.anna.upload_package(page))
    i18n.use_language("en")
    en = _refusal(lambda: relay.anna.upload_package(page))
    assert zh.code == en.code == "not_a_package"
    assert zh.message == "此文件是网页，不是 Android 应用（apk）。该网站可能需要你先登录。"
    assert en.message == "This file is a web page, not an Android app (apk). The site may need you to sign in first."


def _both(make) -> tuple[str, str]:
    """The sentence ``make()`` raises in Chinese, then in English."""
    said = []
    for lang in ("zh_CN", "en"):
        i18n.use_language(lang)
        with pytest.raises((RelayError, ProtocolError, ValueError)) as caught:
            make()
        error = caught.value
        said.append(error.message if isinstance(error, RelayError) else str(error))
    return said[0], said[1]


def test_an_answer_that_is_not_json_is_said_in_the_language_in_use(relay):
    zh, en = _both(lambda: relay.anna.request("GET", "/static/store.css"))
    assert (zh, en) == ("中继发来的内容不是 JSON", "the relay sent something that is not JSON")


def test_a_relay_out_of_reach_is_said_in_the_language_in_use():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"  # nobody listens: refused at once
    client = RelayClient(url, timeout=5)
    with pytest.raises(RelayUnavailable):
        client.health()
    zh, en = _both(client.health)
    assert zh.startswith(f"无法连接到 {url}/ 的中继：")
    assert en.startswith(f"cannot reach the relay at {url}/: ")
    assert zh.removeprefix(f"无法连接到 {url}/ 的中继：") == en.removeprefix(f"cannot reach the relay at {url}/: ")


def test_a_refused_download_and_an_unreadable_file_are_said_in_the_language_in_use(relay, tmp_path):
    missing = f"{relay.url}/files/no-such-package.apk"
    zh, en = _both(lambda: relay.anna.hash_package(missing))
    assert (zh, en) == (f"{missing} 返回了 HTTP 404", f"HTTP 404 from {missing}")
    gone = tmp_path / "gone.apk"
    zh, en = _both(lambda: relay.anna.upload_package(gone))
    assert zh.startswith("Appbeam 无法读取 gone.apk（") and zh.endswith(
        "）。请检查文件是否还在，以及你是否有权限打开它。"
    )
    assert (
        en
        == "Appbeam can't read gone.apk (no such file or directory). Check that it is still there and that you may open it."
    )
    with pytest.raises(PackageRefused):
        relay.anna.upload_package(gone)


def test_a_field_that_does_not_fit_is_said_in_the_language_in_use_and_logged_in_english():
    zh, en = _both(lambda: parse_app_id("not an id!"))
    assert zh == "app.id：必须是 1 到 200 个字母、数字、'.'、'_' 或 '-'"
    assert en == "app.id: must be 1-200 letters, digits, '.', '_' or '-'"
    i18n.use_language("zh_CN")
    with pytest.raises(ProtocolError) as caught:
        parse_text({"name": "x" * 600}, "name", limit=500)
    assert str(caught.value) == "name：不能超过 500 个字符"
    assert caught.value.args == ("name: must be at most 500 characters",)  # what the log keeps
    assert (caught.value.field, caught.value.message) == ("name", "must be at most 500 characters")


def test_a_field_refused_without_a_reason_names_only_the_field():
    """An empty reason (a parser that said nothing) is no sentence, not the catalog's header."""
    i18n.use_language("zh_CN")
    assert str(ProtocolError("push", "")) == "push："
    i18n.use_language("en")
    assert str(ProtocolError("push", "")) == "push: "
