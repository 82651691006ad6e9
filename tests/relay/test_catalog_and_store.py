"""The catalog API, download by app id [12, 0074-0079], the store pages with JSON-LD, health, metrics."""

from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from relay_server.demo_catalog import DEMO_APPS
from shared.protocol import FORMAT_MIME_TYPES
from tests.helpers.database import test_database_url


def _error(resp) -> dict:
    body = resp.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    return body["error"]


def _get_bytes(client, url, **kw) -> tuple[int, bytes, dict]:
    resp = client.get(url, **kw)
    try:
        return resp.status_code, resp.get_data(), dict(resp.headers)
    finally:
        resp.close()


class _StorePage(HTMLParser):
    """Collects JSON-LD blocks, app cards and download links of a store page."""

    def __init__(self):
        super().__init__()
        self.json_ld: list[dict] = []
        self.cards: list[str] = []
        self.downloads: list[dict] = []
        self._in_ld = False
        self._ld_text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("type") == "application/ld+json":
            self._in_ld, self._ld_text = True, ""
        elif tag == "article" and "card" in (attrs.get("class") or "").split():
            self.cards.append(attrs.get("id", ""))
        elif tag == "a" and "download" in (attrs.get("class") or "").split():
            self.downloads.append(attrs)

    def handle_data(self, data):
        if self._in_ld:
            self._ld_text += data

    def handle_endtag(self, tag):
        if tag == "script" and self._in_ld:
            self._in_ld = False
            self.json_ld.append(json.loads(self._ld_text))


def _parse(html: str) -> _StorePage:
    page = _StorePage()
    page.feed(html)
    page.close()
    return page


# --------------------------------------------------------------------------- catalog API


def test_apps_lists_the_whole_demo_catalog(client):
    resp = client.get("/api/v1/apps")

    assert resp.status_code == 200
    apps = resp.get_json()["apps"]
    assert {a["id"] for a in apps} == {a.id for a in DEMO_APPS}
    for app in apps:
        assert app["packages"], app["id"]
        for package in app["packages"]:
            assert len(package["sha256"]) == 64
            assert package["url"] == f"/files/{package['sha256']}/{package['filename']}"
            assert package["mime_type"] == FORMAT_MIME_TYPES[package["format"]]
            assert package["size"] > 0


@pytest.mark.parametrize(
    "query, expected",
    [
        ("vlc", {"org.videolan.vlc"}),
        ("VLC", {"org.videolan.vlc"}),
        ("org.fdroid", {"org.fdroid.fdroid"}),
        ("podcast", {"de.danoeh.antennapod"}),  # description
        ("Symbian", {"net.sourceforge.s2putty"}),
        ("no-such-app-anywhere", set()),
    ],
)
def test_search_matches_name_id_or_description(client, query, expected):
    resp = client.get("/api/v1/apps", query_string={"q": query})

    assert resp.status_code == 200
    assert {a["id"] for a in resp.get_json()["apps"]} == expected


def test_search_query_longer_than_200_is_400(client):
    resp = client.get("/api/v1/apps", query_string={"q": "x" * 201})

    assert resp.status_code == 400
    assert "q" in _error(resp)["message"]


def test_show_app_has_install_information_and_store_details(client):
    resp = client.get("/api/v1/apps/org.videolan.vlc")

    assert resp.status_code == 200
    app = resp.get_json()
    assert app["id"] == "org.videolan.vlc"
    assert app["name"] == "VLC"
    assert app["version"] == "3.6.0"
    assert app["version_code"] == 13060000
    assert app["developer"] == "VideoLAN"
    assert app["license"] == "GPL-2.0-or-later"
    assert app["homepage"] == "https://www.videolan.org/vlc/"
    assert app["category"] == "Multimedia"
    assert app["store_url"] == "/app/org.videolan.vlc"
    assert app["icon_url"] == "/static/icons/org.videolan.vlc.png"
    assert sorted(p["format"] for p in app["packages"]) == ["apk", "ipa"]
    assert app["size"] == max(p["size"] for p in app["packages"])


@pytest.mark.parametrize("app_id, status", [("com.unknown.app", 404), ("bad id", 400), ("-x", 400)])
def test_show_unknown_or_invalid_app(client, app_id, status):
    resp = client.get(f"/api/v1/apps/{app_id}")

    assert resp.status_code == status
    if status == 404:
        assert _error(resp)["code"] == "unknown_app"


# --------------------------------------------------------------------------- download by app id


@pytest.mark.parametrize(
    "app_id, platform, fmt",
    [
        ("org.fdroid.fdroid", "android", "apk"),
        ("org.videolan.vlc", "android", "apk"),
        ("org.videolan.vlc", "ios", "ipa"),
        ("net.sourceforge.s2putty", "symbian", "sisx"),
    ],
)
def test_package_by_app_id_redirects_to_the_right_bytes(client, app_id, platform, fmt):
    app = client.get(f"/api/v1/apps/{app_id}").get_json()
    expected = next(p for p in app["packages"] if p["format"] == fmt)

    resp = client.get(f"/api/v1/apps/{app_id}/package", query_string={"platform": platform})

    assert resp.status_code == 302
    location = urlsplit(resp.headers["Location"]).path
    assert location == expected["url"]
    assert location.startswith("/files/")
    status, body, headers = _get_bytes(client, location)
    assert status == 200
    assert hashlib.sha256(body).hexdigest() == expected["sha256"]
    assert len(body) == expected["size"]
    assert headers["Content-Type"] == FORMAT_MIME_TYPES[fmt]


def test_package_for_a_platform_without_one_is_404_with_the_reason(client):
    resp = client.get("/api/v1/apps/org.fdroid.fdroid/package?platform=ios")

    assert resp.status_code == 404
    error = _error(resp)
    assert error["code"] == "no_package_for_platform"
    assert error["message"] == "F-Droid has no package for ios (it comes as apk)"


def test_package_without_platform_is_400(client):
    for query in ("", "?platform="):
        resp = client.get(f"/api/v1/apps/org.fdroid.fdroid/package{query}")
        assert resp.status_code == 400
        assert "platform" in _error(resp)["message"]


def test_package_for_unknown_platform_is_404_naming_it(client):
    resp = client.get("/api/v1/apps/org.fdroid.fdroid/package?platform=palmos")

    assert resp.status_code == 404
    assert "palmos" in _error(resp)["message"]


def test_package_of_unknown_app_is_404(client):
    resp = client.get("/api/v1/apps/com.unknown.app/package?platform=android")

    assert resp.status_code == 404
    assert _error(resp)["code"] == "unknown_app"


# --------------------------------------------------------------------------- store pages


def _api_apps(client) -> dict[str, dict]:
    return {a["id"]: a for a in client.get("/api/v1/apps").get_json()["apps"]}


def _check_json_ld(ld: dict, app: dict, host: str) -> None:
    assert ld["@context"] == "https://schema.org"
    assert ld["@type"] == "SoftwareApplication"
    assert ld["identifier"] == app["id"]
    assert ld["name"] == app["name"]
    assert ld["softwareVersion"] == app["version"]
    assert ld["fileSize"] == str(app["size"])
    assert ld["image"] == host + app["icon_url"]
    assert ld["appbeam:versionCode"] == app["version_code"]
    assert ld["offers"]["price"] == "0"
    expected = [
        {"format": p["format"], "url": host + p["url"], "sha256": p["sha256"], "size": p["size"]}
        for p in app["packages"]
    ]
    assert [{k: p[k] for k in ("format", "url", "sha256", "size")} for p in ld["appbeam:packages"]] == expected
    assert ld["downloadUrl"] == [p["url"] for p in expected]
    for package in ld["appbeam:packages"]:
        assert package["runtime"]


def test_store_page_has_a_card_and_json_ld_per_app_matching_the_api(client):
    resp = client.get("/")

    assert resp.status_code == 200
    assert resp.content_type.startswith("text/html")
    page = _parse(resp.get_data(as_text=True))
    apps = _api_apps(client)
    assert sorted(page.cards) == sorted(f"app-{app_id}" for app_id in apps)
    assert sorted(ld["identifier"] for ld in page.json_ld) == sorted(apps)
    for ld in page.json_ld:
        _check_json_ld(ld, apps[ld["identifier"]], "http://localhost")


def test_store_download_buttons_link_to_the_package_files(client):
    page = _parse(client.get("/").get_data(as_text=True))
    apps = _api_apps(client)

    expected = sorted((a["id"], p["format"], p["url"]) for a in apps.values() for p in a["packages"])
    assert sorted((d["data-app-id"], d["data-format"], d["href"]) for d in page.downloads) == expected
    assert all("download" in d for d in page.downloads)


def test_store_search_shows_only_matching_cards(client):
    page = _parse(client.get("/?q=vlc").get_data(as_text=True))

    assert page.cards == ["app-org.videolan.vlc"]
    assert [ld["identifier"] for ld in page.json_ld] == ["org.videolan.vlc"]


def test_app_page_has_one_json_ld_matching_the_api(client):
    resp = client.get("/app/org.videolan.vlc")

    assert resp.status_code == 200
    page = _parse(resp.get_data(as_text=True))
    assert len(page.json_ld) == 1
    _check_json_ld(page.json_ld[0], _api_apps(client)["org.videolan.vlc"], "http://localhost")
    assert sorted(d["data-format"] for d in page.downloads) == ["apk", "ipa"]


def test_json_ld_urls_use_the_host_the_page_was_asked_on(client):
    page = _parse(client.get("/app/org.fdroid.fdroid", base_url="http://relay.example:8765").get_data(as_text=True))

    assert page.json_ld[0]["downloadUrl"][0].startswith("http://relay.example:8765/files/")


def test_unknown_app_page_is_404(client):
    assert client.get("/app/com.unknown.app").status_code == 404


def test_public_file_with_wrong_name_or_unknown_hash_is_404(client):
    app = _api_apps(client)["org.fdroid.fdroid"]
    package = app["packages"][0]

    assert _get_bytes(client, package["url"])[0] == 200
    assert _get_bytes(client, f"/files/{package['sha256']}/other-name.apk")[0] == 404
    assert _get_bytes(client, f"/files/{'0' * 64}/{package['filename']}")[0] == 404
    assert _get_bytes(client, f"/files/not-a-hash/{package['filename']}")[0] == 404


def test_public_file_hash_is_case_insensitive(client):
    package = _api_apps(client)["org.fdroid.fdroid"]["packages"][0]

    status, body, _ = _get_bytes(client, f"/files/{package['sha256'].upper()}/{package['filename']}")

    assert status == 200
    assert hashlib.sha256(body).hexdigest() == package["sha256"]


def test_icons_are_served(client):
    app = _api_apps(client)["org.videolan.vlc"]

    status, body, headers = _get_bytes(client, app["icon_url"])

    assert status == 200
    assert body.startswith(b"\x89PNG")


# --------------------------------------------------------------------------- health and metrics


def test_healthz(client):
    resp = client.get("/healthz")

    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok"
    assert body["database"] == ("postgresql" if test_database_url() else "sqlite")
    assert isinstance(body["version"], str) and body["version"]


def test_metrics_show_connected_devices_and_pushes_by_state(client, api):
    api.account("anna")
    laptop = api.login("anna", "anna-laptop", platform="linux")
    phone = api.login("anna", "anna-phone")
    push_id = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]["id"]
    api.push(laptop, ["anna-phone"])
    api.report(phone, push_id, "delivered")

    resp = client.get("/metrics")

    assert resp.status_code == 200
    assert resp.content_type.startswith("text/plain")
    lines = resp.get_data(as_text=True).splitlines()
    assert "appbeam_connected_devices 0.0" in lines
    assert 'appbeam_pushes{state="queued"} 1.0' in lines
    assert 'appbeam_pushes{state="delivered"} 1.0' in lines
    assert "appbeam_pushes_created_total 2.0" in lines
    assert "appbeam_delivery_latency_seconds_count 1.0" in lines


def test_metrics_count_an_open_stream(client, api):
    api.account("anna")
    phone = api.login("anna", "anna-phone")
    stream = client.get("/api/v1/stream", headers=phone, buffered=False)
    try:
        next(iter(stream.response))
        lines = client.get("/metrics").get_data(as_text=True).splitlines()
    finally:
        stream.close()

    assert "appbeam_connected_devices 1.0" in lines
