"""The relay API's refusals in the language the request asks for (issue 17), from a real relay
process over HTTP: the ``code`` and status never change, the ``message`` is Simplified Chinese for
``zh-CN``/``zh-Hans``/``zh`` and English otherwise (byte for byte what older clients read), and a
sentence with a value (a name, a size, a count) is translated whole, its values in the reader's
digits and units."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket

import pytest
import requests

from shared.formatting import local_size
from tests.helpers.relay_process import RelayProcess, anna_with_laptop_and_phone

MAX_BYTES = 4_000_000
API = "/api/v1"
WRONG_PASSWORD = {
    "username": "anna",
    "password": "not her password",
    "device": {"id": "anna-tablet", "name": "Tablet", "model": "Tab S9", "platform": "android"},
}


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    env = {"APPBEAM_UPLOAD_MAX_BYTES": str(MAX_BYTES)}
    with RelayProcess(tmp_path_factory.mktemp("error-i18n"), env=env) as process:
        process.laptop, process.phone = anna_with_laptop_and_phone(process.url)
        yield process


def _error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


@pytest.mark.parametrize(
    ("accept", "message", "content_language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "用户名或密码错误", "zh-CN"),
        ("zh-Hans", "用户名或密码错误", "zh-CN"),
        (None, "wrong username or password", "en"),
        ("en-GB,en;q=0.9", "wrong username or password", "en"),
        ("zh-TW,zh;q=0.9", "wrong username or password", "en"),  # Traditional Chinese is not translated yet
    ],
)
def test_a_refused_login_speaks_the_asked_language_with_the_same_code(relay, accept, message, content_language):
    headers = {"Accept-Language": accept} if accept else {}
    response = requests.post(f"{relay.url}{API}/login", json=WRONG_PASSWORD, headers=headers, timeout=30)
    assert _error(response) == (401, "bad_credentials", message)
    assert response.headers["Content-Language"] == content_language
    assert response.headers["Vary"] == "Accept-Language"  # no cache in front hands it to another reader


def test_a_name_in_a_refusal_keeps_its_place_in_either_language(relay):
    auth = {"Authorization": f"Bearer {relay.laptop.token}"}
    ask = {"username": "nobody-here"}
    zh = requests.post(f"{relay.url}{API}/friends", json=ask, headers={**auth, "Accept-Language": "zh"}, timeout=30)
    en = requests.post(f"{relay.url}{API}/friends", json=ask, headers=auth, timeout=30)
    assert _error(zh) == (404, "unknown_user", "没有用户 'nobody-here'")
    assert _error(en) == (404, "unknown_user", "there is no user 'nobody-here'")


def test_a_web_page_upload_is_refused_with_the_shared_sentence_in_chinese(relay):
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>" * 20
    sha = hashlib.sha256(page).hexdigest()
    url = f"{relay.url}{API}/packages/{sha}?format=apk"
    auth = {"Authorization": f"Bearer {relay.laptop.token}", "Content-Type": "application/octet-stream"}
    zh = requests.put(url, data=page, headers={**auth, "Accept-Language": "zh-CN"}, timeout=30)
    assert _error(zh) == (422, "not_a_package", "此文件是网页，不是 Android 应用（apk）。该网站可能需要你先登录。")
    en = requests.put(url, data=page, headers=auth, timeout=30)
    assert _error(en) == (
        422,
        "not_a_package",
        "This file is a web page, not an Android app (apk). The site may need you to sign in first.",
    )


def _refused_upload(relay, accept: str | None) -> bytes:
    """A package announced one byte over the limit (none of it sent): the relay's whole answer."""
    sock = socket.create_connection(("127.0.0.1", relay.port), timeout=30)
    language = f"Accept-Language: {accept}\r\n" if accept else ""
    try:
        sock.sendall(
            f"PUT {API}/packages/{'cd' * 32}?format=apk HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n"
            f"Authorization: Bearer {relay.laptop.token}\r\n{language}"
            f"Content-Length: {MAX_BYTES + 1}\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data
    finally:
        sock.close()


def test_a_size_and_a_count_in_a_refusal_follow_the_language(relay):
    zh, en = _refused_upload(relay, "zh-CN,zh;q=0.9"), _refused_upload(relay, None)
    assert zh.startswith(b"HTTP/1.1 413") and en.startswith(b"HTTP/1.1 413")
    zh_error, en_error = (json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"] for answer in (zh, en))
    assert zh_error["code"] == en_error["code"] == "too_large"
    # English: exactly the sentence clients have always read.
    assert en_error["message"] == "the relay takes packages of up to 4.0 MB, and this one is larger (4,000,001 bytes)"
    assert (
        zh_error["message"] == f"中继接收的安装包最大为 {local_size(MAX_BYTES, 'zh_CN')}，而这个更大（4,000,001 字节）"
    )


def test_a_push_the_phone_cannot_install_is_refused_with_its_name_in_either_language(relay):
    auth = {"Authorization": f"Bearer {relay.laptop.token}"}
    ipa_only = {"id": "org.example.notes", "packages": [{"format": "ipa", "url": "https://apps.example/notes.ipa"}]}
    push = {"app": ipa_only, "mode": "notify", "device_ids": ["anna-phone"]}
    zh = requests.post(f"{relay.url}{API}/pushes", json=push, headers={**auth, "Accept-Language": "zh-CN"}, timeout=30)
    en = requests.post(f"{relay.url}{API}/pushes", json=push, headers=auth, timeout=30)
    assert _error(zh) == (422, "no_compatible_package", "Phone：Android 安装的是 apk；这个应用提供的是 ipa")
    assert _error(en) == (422, "no_compatible_package", "Phone: Android installs apk; this app comes as ipa")


def test_the_check_refuses_an_error_sentence_built_past_the_catalog(tmp_path):
    """An f-string given to ApiError would reach a Chinese reader in English: the check says where."""
    from relay_server.i18n import errors
    from shared.i18n import Domain, catalogs

    shutil.copytree(errors.HERE / "zh_CN", tmp_path / "zh_CN")
    shutil.copy(errors.ERRORS.pot_file(), tmp_path / "errors.pot")
    code = tmp_path / "friends.py"
    marked = sorted(m.id for m in catalogs.extract(errors.ERRORS) if m.id)
    code.write_text("".join(f"N_({msgid!r})\n" for msgid in marked), encoding="utf-8")
    domain = Domain("errors", tmp_path, project="test", sources=lambda: [code], keywords=errors.KEYWORDS)
    assert catalogs.check(domain, errors.SENTENCES) == []
    with code.open("a", encoding="utf-8") as f:
        f.write('raise ApiError(404, "unknown_user", f"there is no user {username!r}")\n')
    assert catalogs.check(domain, errors.SENTENCES) == [
        f"friends.py:{len(marked) + 1}: ApiError() is given a sentence that is not marked for translation "
        "(use a template with %(name)s placeholders)"
    ]


def test_an_unknown_route_and_a_wrong_method_speak_the_asked_language(relay):
    zh = requests.get(f"{relay.url}{API}/no-such-thing", headers={"Accept-Language": "zh-CN"}, timeout=30)
    en = requests.get(f"{relay.url}{API}/no-such-thing", timeout=30)
    assert _error(zh) == (404, "not_found", "服务器上找不到请求的 URL。如果 URL 是你手动输入的，请检查拼写后重试。")
    assert _error(en) == (
        404,
        "not_found",
        "The requested URL was not found on the server. If you entered the URL manually please check your "
        "spelling and try again.",
    )
    wrong = requests.delete(f"{relay.url}{API}/login", headers={"Accept-Language": "zh"}, timeout=30)
    assert _error(wrong) == (405, "method_not_allowed", "请求的 URL 不允许使用此方法。")
    assert "POST" in wrong.headers["Allow"]


# ----------------------------------------------------------------- the HTTP fronts' own refusals
#
# A malformed request, a body too slow or too large and a failure past the application are
# answered by the HTTP front itself (``relay_server.lean_http``, or pywsgi with
# ``relay_server.request_deadlines``), before Flask sees a request: the same JSON as the API's
# refusals (one typed shape, ``shared.api_messages.Error``), in the language the request asks for.

ZH = "zh-CN,zh;q=0.9,en;q=0.8"
MAX_REQUEST = 1024 * 1024  # the relay's largest non-package body (RelayConfig.max_request_bytes)


def test_a_field_that_does_not_fit_is_named_in_the_asked_language(relay):
    """400 ``invalid_field``: the shared protocol's sentence (``ProtocolError``), translated whole,
    the field's name kept as it is on the wire; English byte for byte what it always was."""
    auth = {"Authorization": f"Bearer {relay.laptop.token}"}
    push = {"app": {"id": "not an id!"}, "mode": "notify", "device_ids": ["anna-phone"]}
    zh = requests.post(f"{relay.url}{API}/pushes", json=push, headers={**auth, "Accept-Language": "zh-CN"}, timeout=30)
    en = requests.post(f"{relay.url}{API}/pushes", json=push, headers=auth, timeout=30)
    assert _error(zh) == (400, "invalid_field", "app.id：必须是 1 到 200 个字母、数字、'.'、'_' 或 '-'")
    assert _error(en) == (400, "invalid_field", "app.id: must be 1-200 letters, digits, '.', '_' or '-'")
    assert zh.headers["Content-Language"] == "zh-CN"


# The tests above share one relay process (``relay``); the ones below start their own relays or an
# in-process app. On PostgreSQL each of those starts on an emptied database (tests/helpers/database.py),
# so no test that uses ``relay`` may come after them.


@pytest.fixture(scope="module", params=["lean", "pywsgi"])
def front(request, tmp_path_factory):
    env = {"APPBEAM_BODY_TIMEOUT": "2", "APPBEAM_HEADER_TIMEOUT": "2"}
    data_dir = tmp_path_factory.mktemp(f"front-{request.param}")
    with RelayProcess(data_dir, env=env, extra_args=["--http-server", request.param]) as process:
        process.front = request.param
        yield process


def _raw(relay, request: bytes, then: bytes = b"") -> tuple[bytes, dict[str, str], bytes]:
    """Send ``request`` (and ``then``, if the relay has not hung up yet); the status line, the
    headers (lower-case names) and the body the relay answers before closing."""
    sock = socket.create_connection(("127.0.0.1", relay.port), timeout=30)
    try:
        sock.sendall(request)
        try:
            sock.sendall(then)
        except OSError:
            pass  # the relay answered and closed before reading all of it
        data = b""
        try:
            while not _whole(data) and (chunk := sock.recv(65536)):
                data += chunk
        except ConnectionResetError:
            pass
    finally:
        sock.close()
    return _parts(data)


def _parts(data: bytes) -> tuple[bytes, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return status.encode("latin-1"), headers, body


def _whole(data: bytes) -> bool:
    """True once the answer's body is all there (pywsgi keeps a refused request's connection open)."""
    if b"\r\n\r\n" not in data:
        return False
    _status, headers, body = _parts(data)
    return "content-length" in headers and len(body) >= int(headers["content-length"])


def _late_body(relay, accept: str | None) -> tuple[bytes, dict[str, str], bytes]:
    language = f"Accept-Language: {accept}\r\n" if accept else ""
    return _raw(
        relay,
        f"POST {API}/accounts HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n{language}"
        "Content-Length: 1000\r\n\r\n{".encode(),
    )


def test_a_body_that_never_arrives_is_refused_in_the_asked_language(front):
    zh_status, zh_headers, zh_body = _late_body(front, ZH)
    en_status, en_headers, en_body = _late_body(front, None)
    assert zh_status.startswith(b"HTTP/1.1 408") and en_status.startswith(b"HTTP/1.1 408")
    assert json.loads(zh_body) == {
        "error": {"code": "request_timeout", "message": "请求内容未在 2 秒内到达；请重新发送请求"}
    }
    assert json.loads(en_body) == {
        "error": {
            "code": "request_timeout",
            "message": "the request body did not arrive within 2 s; send the request again",
        }
    }
    assert (zh_headers["content-language"], en_headers["content-language"]) == ("zh-CN", "en")


def _chunked_too_large(relay, accept: str | None) -> tuple[bytes, dict[str, str], bytes]:
    language = f"Accept-Language: {accept}\r\n" if accept else ""
    piece = b"x" * 65536
    chunks = b"%x\r\n%s\r\n" % (len(piece), piece) * (MAX_REQUEST // len(piece) + 2) + b"0\r\n\r\n"
    head = (
        f"POST {API}/accounts HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n{language}"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    return _raw(relay, head, chunks)


def _announced_too_large(relay, accept: str) -> bytes:
    """A body announced over the limit (none of it sent): refused by the Flask app itself."""
    status, _headers, body = _raw(
        relay,
        f"POST {API}/accounts HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
        f"Accept-Language: {accept}\r\nConnection: close\r\nContent-Length: {MAX_REQUEST + 1}\r\n\r\n".encode(),
    )
    assert status.startswith(b"HTTP/1.1 413")
    return body


def test_a_chunked_body_past_the_limit_is_refused_in_the_asked_language_with_the_apps_own_bytes(front):
    zh_status, zh_headers, zh_body = _chunked_too_large(front, ZH)
    en_status, _en_headers, en_body = _chunked_too_large(front, "en-GB")
    assert zh_status.startswith(b"HTTP/1.1 413") and en_status.startswith(b"HTTP/1.1 413")
    assert json.loads(zh_body) == {"error": {"code": "too_large", "message": "请求内容太大"}}
    assert json.loads(en_body) == {"error": {"code": "too_large", "message": "request body is too large"}}
    assert zh_headers["content-language"] == "zh-CN"
    # Written once: the front's refusal is byte for byte the one the Flask app sends.
    assert zh_body == _announced_too_large(front, ZH)
    assert en_body == _announced_too_large(front, "en")


def _malformed(relay, accept: str | None) -> tuple[bytes, dict[str, str], bytes]:
    language = f"Accept-Language: {accept}\r\n" if accept else ""
    # httptools reports a header once the next one begins: the language comes before Host.
    return _raw(relay, f"GET /healthz HTTP/1.1\r\n{language}Host: relay\r\nNot a header\r\n\r\n".encode())


def test_a_malformed_request_is_refused_in_the_asked_language(front):
    if front.front != "lean":
        # Not a gap in the relay: pywsgi reads a header line without a colon leniently and serves
        # the request (200), so there is no refusal to write in any language.
        pytest.skip("pywsgi accepts this request line by line: nothing is refused")
    zh_status, zh_headers, zh_body = _malformed(front, ZH)
    en_status, _en_headers, en_body = _malformed(front, None)
    assert zh_status.startswith(b"HTTP/1.1 400") and en_status.startswith(b"HTTP/1.1 400")
    zh_error, en_error = json.loads(zh_body)["error"], json.loads(en_body)["error"]
    assert zh_error["code"] == en_error["code"] == "bad_request"
    assert en_error["message"].startswith("malformed HTTP request: ")
    # The parser's own words stay as they are; the sentence around them is Chinese.
    assert zh_error["message"] == "HTTP 请求格式错误：" + en_error["message"].removeprefix("malformed HTTP request: ")
    assert zh_headers["content-language"] == "zh-CN"


def test_health_names_its_storage_problems_in_the_asked_language(app, client):
    storage = app.extensions["appbeam_relay"].storage
    storage.min_free = 1 << 62  # no disk has that much room: the probe finds the disk full
    storage.forget()
    zh = client.get("/healthz", headers={"Accept-Language": ZH})
    en = client.get("/healthz")
    assert zh.status_code == en.status_code == 507
    assert zh.get_json()["error"]["code"] == en.get_json()["error"]["code"] == "storage_full"
    en_message, zh_message = en.get_json()["error"]["message"], zh.get_json()["error"]["message"]
    mib = en_message.removeprefix("only ").removesuffix(" MiB free in the data directory")
    assert en_message == f"only {mib} MiB free in the data directory" and mib.replace(",", "").isdigit()
    assert zh_message == f"数据目录只剩 {mib} MiB 可用空间"
    assert zh.headers["Content-Language"] == "zh-CN" and en.headers["Retry-After"]


def test_headers_too_large_are_refused_in_the_asked_language(front):
    big = "X-Padding: " + "a" * 70_000 + "\r\n"
    if front.front != "lean":
        # pywsgi reads the headers itself and refuses a line that long in its own words.
        status, _headers, _body = _raw(front, f"GET /healthz HTTP/1.1\r\nHost: relay\r\n{big}\r\n".encode())
        assert status.split(b" ")[1] in (b"400", b"431"), status
        return
    answers = {}
    for accept in (ZH, "en"):
        head = f"GET /healthz HTTP/1.1\r\nAccept-Language: {accept}\r\nHost: relay\r\n{big}\r\n"
        status, headers, body = _raw(front, head.encode())
        assert status.startswith(b"HTTP/1.1 431")
        assert headers["vary"] == "Accept-Language"
        answers[headers["content-language"]] = json.loads(body)["error"]
    assert answers == {
        "zh-CN": {"code": "headers_too_large", "message": "请求行和请求头不能超过 64 KiB"},
        "en": {"code": "headers_too_large", "message": "the request line and headers must fit in 64 KiB"},
    }
