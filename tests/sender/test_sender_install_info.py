"""Install information from JSON-LD and from links (pure Python, no Qt)."""

from __future__ import annotations

import pytest

from desktop_sender.install_info import (
    PackageLink,
    app_id_from_file_name,
    find_app_object,
    human_size,
    info_from_page_call,
    is_package,
    parse_file_size,
    resolve_install_info,
    with_clicked_first,
)
from shared.protocol import ProtocolError

PAGE = "http://127.0.0.1:8765/app/org.videolan.vlc"
SHA = "a" * 64
VLC = {
    "@context": "https://schema.org",
    "@type": "SoftwareApplication",
    "identifier": "org.videolan.vlc",
    "name": "VLC",
    "softwareVersion": "3.6.0",
    "operatingSystem": "Android 5.0+, iOS 12+",
    "image": "/static/icons/org.videolan.vlc.png",
    "fileSize": "41234567",
    "downloadUrl": ["/files/aaa/org.videolan.vlc-3.6.0.apk", "/files/bbb/org.videolan.vlc-3.6.0.ipa"],
    "appbeam:versionCode": 13060000,
    "appbeam:packages": [
        {"format": "apk", "url": "/files/aaa/org.videolan.vlc-3.6.0.apk", "sha256": SHA, "size": 41234567}
    ],
}
OTHER = {
    **VLC,
    "identifier": "org.other",
    "name": "Other",
    "downloadUrl": ["/files/ccc/other.apk"],
    "appbeam:packages": [],
}


def link(url: str, **kw) -> PackageLink:
    return PackageLink(url=url, page_url=PAGE, **kw)


def test_json_ld_of_the_clicked_app_gives_full_install_info():
    clicked = link(
        "http://127.0.0.1:8765/files/aaa/org.videolan.vlc-3.6.0.apk",
        mime_type="application/vnd.android.package-archive",
    )
    info, from_page = resolve_install_info(clicked, [OTHER, VLC])
    assert from_page
    assert (info.id, info.name, info.version, info.version_code, info.size) == (
        "org.videolan.vlc",
        "VLC",
        "3.6.0",
        13060000,
        41234567,
    )
    assert info.icon_url == "http://127.0.0.1:8765/static/icons/org.videolan.vlc.png"
    assert info.runtime == "Android 5.0+, iOS 12+"
    assert info.formats == ("apk", "ipa")  # one package per format, relative URLs made absolute
    assert info.package_for("apk").sha256 == SHA
    assert info.package_for("ipa").url == "http://127.0.0.1:8765/files/bbb/org.videolan.vlc-3.6.0.ipa"


def test_graph_and_lists_are_searched():
    clicked = link("http://127.0.0.1:8765/files/bbb/org.videolan.vlc-3.6.0.ipa")
    assert find_app_object([{"@graph": [{"@type": "WebPage"}, VLC]}], clicked.url, PAGE)["name"] == "VLC"
    assert (
        find_app_object(
            [[{"@type": ["Thing", "MobileApplication"], "name": "M", "downloadUrl": clicked.url}]], clicked.url, PAGE
        )["name"]
        == "M"
    )


def test_a_mirror_with_the_same_path_matches():
    clicked = link("http://localhost:8765/files/aaa/org.videolan.vlc-3.6.0.apk")
    assert find_app_object([VLC], clicked.url, PAGE)["identifier"] == "org.videolan.vlc"


def test_no_matching_json_ld_falls_back_to_the_link():
    clicked = link(
        "http://example.test/dl/com.example.game_v2.1.0.apk", total_bytes=5000, mime_type="application/octet-stream"
    )
    info, from_page = resolve_install_info(clicked, [OTHER])
    assert not from_page
    assert (info.id, info.version, info.size) == ("com.example.game", "2.1.0", 5000)
    assert info.packages[0].url == clicked.url and info.packages[0].format == "apk"


def test_broken_json_ld_falls_back_to_the_link():
    clicked = link("http://127.0.0.1:8765/files/aaa/org.videolan.vlc-3.6.0.apk")
    broken = {**VLC, "identifier": "not an id!", "appbeam:packages": [{"format": "zip", "url": "x"}]}
    info, from_page = resolve_install_info(clicked, [broken])
    assert from_page  # the page described the app; the bad parts are left out
    assert info.id == "org.videolan.vlc" and info.formats == ("apk", "ipa")


@pytest.mark.parametrize(
    "mime, name, expected",
    [
        ("application/vnd.android.package-archive", "x", True),
        ("application/octet-stream", "app.ipa", True),
        ("application/zip", "notes.zip", False),
        ("text/html", "index.html", False),
        ("", "Setup.AppImage", True),
    ],
)
def test_is_package(mime, name, expected):
    assert is_package(mime, name) is expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("41234567", 41234567),
        (1234, 1234),
        ("41 MB", 41_000_000),
        ("3.5MiB", 3_670_016),
        ("1,234", 1234),
        ("big", None),
        (True, None),
        (0, None),
    ],
)
def test_parse_file_size(value, expected):
    assert parse_file_size(value) == expected


def test_app_id_from_file_name():
    assert app_id_from_file_name("org.videolan.vlc-3.6.0.apk") == ("org.videolan.vlc", "3.6.0")
    assert app_id_from_file_name("My App.apk") == ("My-App", None)
    assert app_id_from_file_name("___.apk")[0] == "app"


def test_page_call_accepts_install_info_and_json_ld():
    info = info_from_page_call(
        {"id": "org.example", "packages": [{"format": "apk", "url": "/x.apk"}]}, "http://h.test/p"
    )
    assert info.packages[0].url == "http://h.test/x.apk"
    assert info_from_page_call(VLC, PAGE).name == "VLC"
    with pytest.raises(ProtocolError):
        info_from_page_call({"name": "no id"}, PAGE)
    with pytest.raises(ProtocolError):
        info_from_page_call("nope", PAGE)


def test_clicked_format_first():
    clicked = link("http://127.0.0.1:8765/files/bbb/org.videolan.vlc-3.6.0.ipa")
    info, _ = resolve_install_info(clicked, [VLC])
    assert with_clicked_first(info, "ipa").formats == ("ipa", "apk")


def test_human_size_says_sizes_as_the_store_and_the_phone_do():
    # The store page writes sizes in its reader's language now (relay_server.i18n.formats); in
    # English it must still say what the picker and the phone say.
    from relay_server.i18n.formats import size as store_size
    from shared.formatting import human_size as phone_size

    assert human_size(445206) == "445 kB"
    assert human_size(24_641_536) == "24.6 MB"
    assert human_size is phone_size
    for n in (999, 1500, 445206, 24_641_536, 3_000_000_000):
        assert store_size(n, "en") == human_size(n)
    assert human_size(None) == ""
