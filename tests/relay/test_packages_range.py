"""Package downloads with HTTP Range, If-Range and ETag: ``/api/v1/packages/<sha>`` and ``/files/..``.

Every body is compared byte for byte with the file in the relay's content-addressed store.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
import requests

APK_MIME = "application/vnd.android.package-archive"


def _error(resp) -> dict:
    body = resp.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    return body["error"]


@pytest.fixture
def setup(client, api, app):
    """anna's laptop pushed F-Droid (catalog, apk only) to anna-phone; the package is in the store."""
    for name in ("anna", "eve"):
        api.account(name)
    laptop = api.login("anna", "anna-laptop", platform="linux")
    phone = api.login("anna", "anna-phone")
    tablet = api.login("anna", "anna-tablet")
    eve = api.login("eve", "eve-phone")
    push = api.push(laptop, ["anna-phone"], app={"id": "org.fdroid.fdroid"}).get_json()["pushes"][0]
    package = client.get("/api/v1/apps/org.fdroid.fdroid").get_json()["packages"][0]
    sha = push["package"]["sha256"]
    assert sha == package["sha256"]
    data = app.extensions["appbeam_relay"].store.path_for(sha).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha and len(data) > 1000
    return {
        "laptop": laptop,
        "phone": phone,
        "tablet": tablet,
        "eve": eve,
        "sha": sha,
        "data": data,
        "file_url": package["url"],
        "push": push,
    }


@pytest.fixture(params=["packages", "files"])
def source(request, setup):
    """(url, headers) of the same package through the authenticated and the public route."""
    if request.param == "packages":
        return f"/api/v1/packages/{setup['sha']}", dict(setup["phone"])
    return setup["file_url"], {}


def _fetch(client, url, headers, method="GET"):
    resp = client.open(url, method=method, headers=headers)
    try:
        return resp.status_code, resp.get_data(), resp.headers
    finally:
        resp.close()


# --------------------------------------------------------------------------- access


def test_target_device_downloads_the_whole_package(client, setup, source):
    url, headers = source

    status, body, resp_headers = _fetch(client, url, headers)

    assert status == 200
    assert body == setup["data"]
    assert resp_headers["Accept-Ranges"] == "bytes"
    assert resp_headers["ETag"] == f'"{setup["sha"]}"'
    assert resp_headers["Content-Type"] == APK_MIME
    assert int(resp_headers["Content-Length"]) == len(setup["data"])
    assert resp_headers.get("Last-Modified")


@pytest.mark.parametrize("who", ["tablet", "eve", "laptop"])
def test_devices_without_a_push_using_the_package_get_404(client, setup, who):
    """The answer a package the relay does not keep gets: nobody learns that it exists."""
    resp = client.get(f"/api/v1/packages/{setup['sha']}", headers=setup[who])
    unknown = client.get(f"/api/v1/packages/{'0' * 64}", headers=setup[who])

    assert resp.status_code == unknown.status_code == 404
    assert _error(resp)["code"] == _error(unknown)["code"] == "unknown_package"


def test_package_download_needs_a_token(client, setup):
    resp = client.get(f"/api/v1/packages/{setup['sha']}")

    assert resp.status_code == 401
    assert _error(resp)["code"] == "unauthorized"


@pytest.mark.parametrize("sha", ["0" * 64, "f" * 64, "not-a-hash", "x" * 300])
def test_unknown_package_is_404(client, setup, sha):
    resp = client.get(f"/api/v1/packages/{sha}", headers=setup["phone"])

    assert resp.status_code == 404
    assert _error(resp)["code"] == "unknown_package"


def test_hash_in_the_path_is_case_insensitive(client, setup):
    status, body, _ = _fetch(client, f"/api/v1/packages/{setup['sha'].upper()}", setup["phone"])

    assert status == 200
    assert body == setup["data"]


def test_push_with_the_relays_own_file_url_grants_the_download(client, api, setup):
    """A sender may name the relay's own file (as the store page links do) without a hash."""
    api.push(
        setup["laptop"],
        ["anna-tablet"],
        app={"id": "org.example.copy", "packages": [{"format": "apk", "url": setup["file_url"]}]},
    )

    status, body, _ = _fetch(client, f"/api/v1/packages/{setup['sha']}", setup["tablet"])

    assert status == 200
    assert body == setup["data"]


def test_removed_push_target_loses_access(client, setup):
    """The entitlement is the push: once the device is removed and logs in again, nothing is left."""
    client.delete("/api/v1/devices/anna-phone", headers=setup["laptop"])

    assert client.get(f"/api/v1/packages/{setup['sha']}", headers=setup["phone"]).status_code == 401


# --------------------------------------------------------------------------- Range


def test_first_100_bytes(client, setup, source):
    url, headers = source
    size = len(setup["data"])

    status, body, resp_headers = _fetch(client, url, {**headers, "Range": "bytes=0-99"})

    assert status == 206
    assert body == setup["data"][:100]
    assert resp_headers["Content-Range"] == f"bytes 0-99/{size}"
    assert resp_headers["Content-Length"] == "100"
    assert resp_headers["Content-Type"] == APK_MIME


def test_open_ended_range_resumes_from_an_offset(client, setup, source):
    url, headers = source
    size = len(setup["data"])

    status, body, resp_headers = _fetch(client, url, {**headers, "Range": "bytes=100-"})

    assert status == 206
    assert body == setup["data"][100:]
    assert resp_headers["Content-Range"] == f"bytes 100-{size - 1}/{size}"


def test_suffix_range_gives_the_last_bytes(client, setup, source):
    url, headers = source
    size = len(setup["data"])

    status, body, resp_headers = _fetch(client, url, {**headers, "Range": "bytes=-100"})

    assert status == 206
    assert body == setup["data"][-100:]
    assert resp_headers["Content-Range"] == f"bytes {size - 100}-{size - 1}/{size}"


def test_range_in_the_middle_and_up_to_the_last_byte(client, setup, source):
    url, headers = source
    size = len(setup["data"])

    middle = _fetch(client, url, {**headers, "Range": "bytes=500-1499"})
    last = _fetch(client, url, {**headers, "Range": f"bytes={size - 1}-{size + 1000}"})

    assert (middle[0], middle[1]) == (206, setup["data"][500:1500])
    assert (last[0], last[1]) == (206, setup["data"][-1:])


def test_pieces_put_together_are_the_package(client, setup, source):
    url, headers = source
    size = len(setup["data"])
    step = size // 3 + 1
    pieces = [
        _fetch(client, url, {**headers, "Range": f"bytes={start}-{start + step - 1}"})[1]
        for start in range(0, size, step)
    ]

    assert b"".join(pieces) == setup["data"]


@pytest.mark.parametrize("offset", [0, 1, 1000])
def test_range_beyond_the_end_is_416_with_the_size(client, setup, source, offset):
    url, headers = source
    size = len(setup["data"])

    status, _, resp_headers = _fetch(client, url, {**headers, "Range": f"bytes={size + offset}-"})

    assert status == 416
    assert resp_headers["Content-Range"] == f"bytes */{size}"


def test_if_range_with_the_current_etag_gives_the_part(client, setup, source):
    url, headers = source

    status, body, _ = _fetch(client, url, {**headers, "Range": "bytes=100-", "If-Range": f'"{setup["sha"]}"'})

    assert status == 206
    assert body == setup["data"][100:]


def test_if_range_with_a_stale_etag_gives_the_whole_package(client, setup, source):
    url, headers = source

    status, body, _ = _fetch(client, url, {**headers, "Range": "bytes=100-", "If-Range": '"' + "0" * 64 + '"'})

    assert status == 200
    assert body == setup["data"]


def test_head_gives_headers_only(client, setup, source):
    url, headers = source

    status, body, resp_headers = _fetch(client, url, headers, method="HEAD")

    assert status == 200
    assert body == b""
    assert int(resp_headers["Content-Length"]) == len(setup["data"])
    assert resp_headers["Accept-Ranges"] == "bytes"
    assert resp_headers["ETag"] == f'"{setup["sha"]}"'
    assert resp_headers["Content-Type"] == APK_MIME


def test_head_needs_the_same_entitlement(client, setup):
    assert _fetch(client, f"/api/v1/packages/{setup['sha']}", {}, method="HEAD")[0] == 401
    assert _fetch(client, f"/api/v1/packages/{setup['sha']}", setup["eve"], method="HEAD")[0] == 404


def test_if_none_match_with_the_etag_is_304(client, setup, source):
    url, headers = source

    status, body, _ = _fetch(client, url, {**headers, "If-None-Match": f'"{setup["sha"]}"'})

    assert status == 304
    assert body == b""


# --------------------------------------------------------------------------- real HTTP, real curl


CURL = shutil.which("curl")


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_curl_resumes_an_interrupted_download_from_a_real_relay(tmp_path):
    from tests.helpers.relay_process import RelayProcess

    with RelayProcess(tmp_path / "relay") as relay:
        http = requests.Session()
        assert (
            http.post(
                f"{relay.url}/api/v1/accounts", json={"username": "anna", "password": "correct horse"}
            ).status_code
            == 201
        )
        tokens = {}
        for device_id, platform in [("anna-laptop", "linux"), ("anna-phone", "android")]:
            resp = http.post(
                f"{relay.url}/api/v1/login",
                json={
                    "username": "anna",
                    "password": "correct horse",
                    "device": {"id": device_id, "name": device_id, "model": "m", "platform": platform},
                },
            )
            assert resp.status_code == 200
            tokens[device_id] = resp.json()["token"]
        resp = http.post(
            f"{relay.url}/api/v1/pushes",
            headers={"Authorization": f"Bearer {tokens['anna-laptop']}"},
            json={"app": {"id": "org.videolan.vlc"}, "mode": "install_now", "device_ids": ["anna-phone"]},
        )
        assert resp.status_code == 201
        package = resp.json()["pushes"][0]["package"]
        sha, size = package["sha256"], package["size"]

        for url, extra in [
            (f"{relay.url}/api/v1/packages/{sha}", ["-H", f"Authorization: Bearer {tokens['anna-phone']}"]),
            (f"{relay.url}{package['url']}", []),
        ]:
            full = requests.get(url, headers=dict([extra[1].split(": ", 1)]) if extra else {}).content
            assert hashlib.sha256(full).hexdigest() == sha and len(full) == size
            target = tmp_path / f"partial-{len(extra)}.apk"
            target.write_bytes(full[: size // 3])  # an interrupted download

            result = subprocess.run(
                [
                    CURL,
                    "--silent",
                    "--show-error",
                    "--fail",
                    "-C",
                    "-",
                    "-o",
                    str(target),
                    "-D",
                    str(tmp_path / "headers.txt"),
                    *extra,
                    url,
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )

            assert result.returncode == 0, result.stderr
            assert hashlib.sha256(target.read_bytes()).hexdigest() == sha
            status_line = (tmp_path / "headers.txt").read_text().splitlines()[0]
            assert " 206" in status_line, "curl resumed with a Range request"
