"""A package is checked for what it claims to be: real containers pass with the app's identity;
web pages, text, cut-short and damaged files are refused with a sentence a person can act on.

Every file here is made by the test itself (relay_server.demo_catalog writes real containers)."""

from __future__ import annotations

import io
import logging
import struct
import subprocess
import sys
import zipfile

import pytest

from relay_server.demo_catalog import android_manifest, build_package
from shared.package_check import (
    NotAPackage,
    PackageFacts,
    inspect_package,
    looks_like_web_page,
    resolve_string_resource,
    uid_checksum,
)
from tests.helpers.messages import push_json

LOGIN_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Example Apps</title></head>
<body><form action="/login" method="post"><input name="user"><input type="password" name="pw">
<button>Sign in</button></form></body></html>
"""


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _refusal(path, fmt: str) -> NotAPackage:
    with pytest.raises(NotAPackage) as info:
        inspect_package(path, fmt)
    return info.value


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


# --------------------------------------------------------------------------- real packages pass


def test_an_apk_gives_its_application_id_name_version_and_code(tmp_path):
    path = _write(tmp_path, "notesapp-3.0.apk", build_package("apk", "org.example.notes", "Notes", "3.0", 30))
    assert inspect_package(path, "apk") == PackageFacts("apk", "org.example.notes", "Notes", "3.0", 30)


def test_an_ipa_gives_its_bundle_id_name_and_versions(tmp_path):
    path = _write(
        tmp_path, "Notes.ipa", build_package("ipa", "org.example.notes", "Notes", "3.0", 30, runtime="iOS 15+")
    )
    assert inspect_package(path, "ipa") == PackageFacts("ipa", "org.example.notes", "Notes", "3.0", 30)


@pytest.mark.parametrize("fmt", ["pxl", "xap", "deb", "sis", "sisx"])
def test_the_other_mobile_formats_pass_with_their_name_and_version(tmp_path, fmt):
    path = _write(tmp_path, f"notes.{fmt}", build_package(fmt, "org.example.notes", "Notes", "3.1.4", 314))
    facts = inspect_package(path, fmt)
    assert facts.format == fmt
    assert facts.name == "Notes"
    assert facts.version == ("3.1" if fmt == "sis" else "3.1.4")


def test_a_symbian_9_file_named_sis_is_accepted_as_sis(tmp_path):
    """Many Symbian 9 apps are published as .sis: the SISX header is accepted under either name."""
    path = _write(tmp_path, "notes.sis", build_package("sisx", "org.example.notes", "Notes", "1.2.0", 120))
    assert inspect_package(path, "sis").name == "Notes"


def test_format_names_are_case_insensitive(tmp_path):
    path = _write(tmp_path, "NOTES.APK", build_package("apk", "org.example.notes", "Notes", "3.0", 30))
    assert inspect_package(path, "APK").app_id == "org.example.notes"


def test_a_label_given_as_a_string_resource_is_looked_up_in_resources_arsc(tmp_path):
    """Real apps say android:label="@string/app_name": the name is in resources.arsc."""
    label_id = 0x7F0B0000  # package 0x7f, type 0x0b ("string"), entry 0
    manifest = android_manifest("org.example.notes", 30, "3.0", label_id)
    apk = _zip(
        {"AndroidManifest.xml": manifest, "resources.arsc": _arsc(0x0B, ["Notes Pro"]), "classes.dex": b"dex\n035\0"}
    )
    path = _write(tmp_path, "notes.apk", apk)
    assert inspect_package(path, "apk") == PackageFacts("apk", "org.example.notes", "Notes Pro", "3.0", 30)


def test_a_version_name_given_as_a_string_resource_is_looked_up_too(tmp_path):
    manifest = android_manifest("org.example.notes", 30, 0x7F0B0001, 0x7F0B0000)
    apk = _zip({"AndroidManifest.xml": manifest, "resources.arsc": _arsc(0x0B, ["Notes Pro", "3.0-beta"])})
    path = _write(tmp_path, "notes.apk", apk)
    assert inspect_package(path, "apk") == PackageFacts("apk", "org.example.notes", "Notes Pro", "3.0-beta", 30)


def test_an_unresolvable_label_leaves_the_name_unknown_but_the_app_valid(tmp_path):
    manifest = android_manifest("org.example.notes", 30, "3.0", 0x7F0B0007)
    path = _write(tmp_path, "notes.apk", _zip({"AndroidManifest.xml": manifest, "classes.dex": b"dex\n035\0"}))
    assert inspect_package(path, "apk") == PackageFacts("apk", "org.example.notes", None, "3.0", 30)


def test_resources_with_a_utf8_string_pool_are_read_too():
    """aapt2 writes the table's values as UTF-8."""
    arsc = _arsc(0x0B, ["Notes", "Pad — Ünïcode"], utf8=True)
    assert resolve_string_resource(arsc, 0x7F0B0001) == "Pad — Ünïcode"
    assert resolve_string_resource(arsc, 0x7F0B0002) is None  # no such entry
    assert resolve_string_resource(arsc, 0x7F0C0000) is None  # no such type


def test_resolving_a_resource_in_damaged_resources_gives_none():
    assert resolve_string_resource(b"\x02\x00\x0c\x00garbage", 0x7F0B0000) is None
    assert resolve_string_resource(b"", 0x7F0B0000) is None


# --------------------------------------------------------------------------- what users run into


def test_a_web_page_called_apk_is_refused_with_a_clear_reason(tmp_path):
    path = _write(tmp_path, "fake.apk", LOGIN_PAGE)
    refusal = _refusal(path, "apk")
    assert str(refusal) == (
        "This file is a web page, not an Android app (apk). The site may need you to sign in first."
    )
    assert refusal.reason == "web_page"


@pytest.mark.parametrize(
    "page",
    [
        b"\xef\xbb\xbf\n\n  <!doctype HTML><html><body>Not found</body></html>",
        b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x"><html></html>',
        b"<html><head><title>403 Forbidden</title></head></html>",
        b"<!-- cached page -->\n<div>Please log in</div>",
    ],
)
def test_web_pages_are_recognised_however_they_start(tmp_path, page):
    assert looks_like_web_page(page)
    assert _refusal(_write(tmp_path, "x.ipa", page), "ipa").reason == "web_page"


def test_a_text_error_message_is_refused_as_text(tmp_path):
    path = _write(tmp_path, "app.apk", b'{"error": "rate limited", "retry_after": 30}\n')
    refusal = _refusal(path, "apk")
    assert refusal.reason == "text"
    assert str(refusal).startswith("This file is text, not an Android app (apk).")


def test_an_empty_file_is_refused(tmp_path):
    refusal = _refusal(_write(tmp_path, "app.apk", b""), "apk")
    assert refusal.reason == "empty"
    assert "empty" in str(refusal)


def test_a_truncated_apk_is_an_incomplete_download(tmp_path):
    data = build_package("apk", "org.example.notes", "Notes", "3.0", 30, size=64_000)
    refusal = _refusal(_write(tmp_path, "notes.apk", data[: len(data) // 2]), "apk")
    assert str(refusal) == "The download is incomplete: the APK archive is cut short. Try downloading it again."
    assert refusal.reason == "incomplete"


@pytest.mark.parametrize("fmt", ["ipa", "deb", "sisx", "xap"])
def test_truncated_packages_of_other_formats_are_incomplete(tmp_path, fmt):
    data = build_package(fmt, "org.example.notes", "Notes", "3.0", 30, size=64_000)
    refusal = _refusal(_write(tmp_path, f"notes.{fmt}", data[:40_000]), fmt)
    assert refusal.reason == "incomplete", str(refusal)
    assert str(refusal).startswith("The download is incomplete")


def test_a_zip_without_a_manifest_is_not_an_apk(tmp_path):
    path = _write(tmp_path, "photos.apk", _zip({"holiday.jpg": b"\xff\xd8\xff" + b"\0" * 100}))
    refusal = _refusal(path, "apk")
    assert refusal.reason == "missing_part"
    assert str(refusal).startswith("This file is not an Android app (apk): it has no AndroidManifest.xml.")


def test_a_source_archive_with_a_text_manifest_is_not_a_built_apk(tmp_path):
    text = b'<?xml version="1.0"?><manifest package="org.example.notes"/>'
    refusal = _refusal(_write(tmp_path, "src.apk", _zip({"AndroidManifest.xml": text})), "apk")
    assert refusal.reason == "wrong_kind"
    assert "plain text" in str(refusal)


def test_a_garbled_binary_manifest_is_damaged(tmp_path):
    manifest = android_manifest("org.example.notes", 30, "3.0", "Notes")
    garbled = manifest[:8] + bytes(range(256)) * 2
    refusal = _refusal(_write(tmp_path, "bad.apk", _zip({"AndroidManifest.xml": garbled})), "apk")
    assert refusal.reason == "damaged"
    assert str(refusal).startswith("The APK file is damaged")


def test_a_zip_whose_table_of_contents_points_past_its_contents_is_damaged(tmp_path):
    data = bytearray(build_package("apk", "org.example.notes", "Notes", "3.0", 30, size=20_000))
    directory = data.rindex(b"PK\x01\x02")  # the last entry's central directory record
    struct.pack_into("<I", data, directory + 42, len(data) - 100)  # its local header offset
    refusal = _refusal(_write(tmp_path, "bad.apk", bytes(data)), "apk")
    assert refusal.reason == "damaged"


def test_an_ipa_needs_a_payload_app_folder(tmp_path):
    path = _write(tmp_path, "x.ipa", _zip({"Info.plist": b"<plist/>"}))
    refusal = _refusal(path, "ipa")
    assert refusal.reason == "missing_part"
    assert "Payload/" in str(refusal)


def test_a_deb_needs_debian_binary_first(tmp_path):
    member = b"control.tar     0           0     0     100644  4         `\n2.0\n"
    refusal = _refusal(_write(tmp_path, "x.deb", b"!<arch>\n" + member), "deb")
    assert refusal.reason == "missing_part"
    assert "debian-binary" in str(refusal)


def test_a_sis_with_a_wrong_uid_checksum_is_damaged(tmp_path):
    data = bytearray(build_package("sisx", "org.example.notes", "Notes", "3.0", 30))
    data[12] ^= 0xFF
    refusal = _refusal(_write(tmp_path, "x.sisx", bytes(data)), "sisx")
    assert refusal.reason == "damaged"
    assert "checksum" in str(refusal)


def test_a_file_of_another_kind_says_what_it_is(tmp_path):
    refusal = _refusal(_write(tmp_path, "manual.apk", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), "apk")
    assert str(refusal) == "This file is a PDF document, not an Android app (apk)."
    refusal = _refusal(_write(tmp_path, "app.deb", build_package("apk", "a.b", "A", "1", 1)), "deb")
    assert str(refusal) == "This file is a ZIP archive, not a Debian package (deb)."


def test_unknown_binary_bytes_do_not_start_like_the_format(tmp_path):
    refusal = _refusal(_write(tmp_path, "x.apk", bytes(range(1, 256)) * 4), "apk")
    assert refusal.reason == "wrong_kind"
    assert "does not start the way an APK does" in str(refusal)


def test_desktop_formats_are_checked_by_their_magic_numbers(tmp_path):
    assert inspect_package(_write(tmp_path, "a.AppImage", b"\x7fELF\x02\x01\x01" + b"\0" * 100), "appimage")
    assert inspect_package(_write(tmp_path, "a.exe", b"MZ\x90\0" + b"\0" * 100), "exe")
    assert _refusal(_write(tmp_path, "b.exe", LOGIN_PAGE), "exe").reason == "web_page"
    # No magic number to check (flatpak bundles): only a web page or text is refused.
    assert inspect_package(_write(tmp_path, "a.flatpak", b"\x00\x01binary" * 20), "flatpak").format == "flatpak"
    assert _refusal(_write(tmp_path, "b.flatpak", LOGIN_PAGE), "flatpak").reason == "web_page"


# --------------------------------------------------------------------------- the pieces


def test_uid_checksum_matches_symbians_checked_uid():
    """Values of single UID bits from a long-standing EPOC file converter's checksum table."""
    assert uid_checksum(1, 0, 0) == 0x000045A0
    assert uid_checksum(1 << 8, 0, 0) == 0x45A00000
    assert uid_checksum(0, 1 << 31, 0) == 0x3B5A0000
    assert uid_checksum(0, 0, 1 << 16) == 0x00001021
    assert uid_checksum(1, 0, 1 << 16) == 0x000045A0 ^ 0x00001021  # a CRC is linear


def test_importing_the_manifest_reader_leaves_logging_alone():
    """apkInspector calls logging.basicConfig(DEBUG) when imported; the sender and receiver keep
    their own logging."""
    code = (
        "import logging, tempfile, pathlib\n"
        "from relay_server.demo_catalog import build_package\n"
        "from shared.package_check import inspect_package\n"
        "p = pathlib.Path(tempfile.mkdtemp()) / 'a.apk'\n"
        "p.write_bytes(build_package('apk', 'a.b', 'A', '1', 1))\n"
        "inspect_package(p, 'apk')\n"
        "root = logging.getLogger()\n"
        "print(root.level, len(root.handlers))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(logging.WARNING), "0"]


# --------------------------------------------------------------------------- a tiny resources.arsc


def _pool(strings: list[str], utf8: bool = False) -> bytes:
    data, offsets = b"", []
    for text in strings:
        offsets.append(len(data))
        if utf8:  # character count, byte count (one byte each here: short strings), bytes, NUL
            encoded = text.encode("utf-8")
            data += bytes([len(text), len(encoded)]) + encoded + b"\0"
        else:
            encoded = text.encode("utf-16-le")
            data += struct.pack("<H", len(encoded) // 2) + encoded + b"\0\0"
    data += b"\0" * (-len(data) % 4)
    body = struct.pack(f"<{len(strings)}I", *offsets) + data
    flags = 0x100 if utf8 else 0
    return struct.pack("<HHIIIIII", 0x0001, 28, 28 + len(body), len(strings), 0, flags, 28 + 4 * len(strings), 0) + body


def _arsc(type_id: int, values: list[str], utf8: bool = False) -> bytes:
    """A resource table with one package (0x7f) whose type ``type_id`` has one string entry per value,
    in the default configuration."""
    type_strings, key_strings = _pool(["string"]), _pool([f"s{i}" for i in range(len(values))])
    config = struct.pack("<I", 64) + b"\0" * 60
    entries = b"".join(struct.pack("<HHIHBBI", 8, 0, i, 8, 0, 0x03, i) for i in range(len(values)))
    offsets = struct.pack(f"<{len(values)}I", *(16 * i for i in range(len(values))))
    header_size = 20 + len(config)
    type_chunk = (
        struct.pack(
            "<HHIBBHII",
            0x0201,
            header_size,
            header_size + len(offsets) + len(entries),
            type_id,
            0,
            0,
            len(values),
            header_size + len(offsets),
        )
        + config
        + offsets
        + entries
    )
    spec = struct.pack("<HHIBBHI", 0x0202, 16, 16 + 4 * len(values), type_id, 0, 0, len(values)) + b"\0" * 4 * len(
        values
    )
    name = "org.example.notes".encode("utf-16-le").ljust(256, b"\0")
    header = struct.pack("<I", 0x7F) + name + struct.pack("<IIIII", 288, 0, 288 + len(type_strings), 0, 0)
    body = type_strings + key_strings + spec + type_chunk
    package = struct.pack("<HHI", 0x0200, 288, 288 + len(body)) + header + body
    table = _pool(values, utf8) + package
    return struct.pack("<HHII", 0x0002, 12, 12 + len(table), 1) + table


# --------------------------------------------------------------------------- the sender checks before it pushes
# The scriptable server (tests/shared/conftest.py) plays both the package host and the relay.


def _serve(server, files: dict[str, bytes]) -> None:
    def app(handler):
        if handler.path in files:
            handler.reply(200, files[handler.path], content_type="application/vnd.android.package-archive")
        elif handler.path == "/api/v1/pushes":
            handler.reply(201, {"pushes": [push_json("p_1", device_id="phone-1")]})
        else:
            handler.error(404, "not_found", "nothing here")

    server.app = app


def _push_link(server, client, path: str, **app_fields):
    from shared.signing import DeviceKey

    client.key = DeviceKey.generate()
    name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    app = {
        "id": name.split("-")[0],
        "name": name,
        "version": None,
        "packages": [{"format": "apk", "url": server.url + path}],
        **app_fields,
    }
    return client.push(app, "install_now", ["phone-1"], platforms={"phone-1": "android"})


def test_the_sender_refuses_a_web_page_called_apk_and_pushes_nothing(server, client):
    from shared.relay_errors import PackageRefused

    _serve(server, {"/dl/fake.apk": LOGIN_PAGE})
    with pytest.raises(PackageRefused) as info:
        _push_link(server, client, "/dl/fake.apk")
    assert info.value.message == (
        "This file is a web page, not an Android app (apk). The site may need you to sign in first."
    )
    assert info.value.status is not None and not info.value.transient  # shown as is, not "relay down"
    assert server.requests_to("/api/v1/pushes") == []


def test_the_sender_refuses_a_download_cut_short(server, client):
    from shared.explain import explain
    from shared.relay_errors import PackageRefused

    data = build_package("apk", "org.example.notes", "Notes", "3.0", 30, size=50_000)
    _serve(server, {"/dl/notes.apk": data[:30_000]})
    with pytest.raises(PackageRefused) as info:
        _push_link(server, client, "/dl/notes.apk")
    assert (
        explain(info.value).text
        == "The download is incomplete: the APK archive is cut short. Try downloading it again."
    )
    assert server.requests_to("/api/v1/pushes") == []


def test_a_bare_link_to_a_real_apk_is_pushed_with_the_apps_own_identity(server, client):
    """No install information on the page: the name, version and id come from the manifest
    (never 'Version ?' on the phone), and the signature covers them."""
    data = build_package("apk", "org.example.notes", "Notes", "3.0", 30, size=50_000)
    _serve(server, {"/dl/notesapp-3.0.apk": data})
    _push_link(server, client, "/dl/notesapp-3.0.apk")
    (request,) = server.requests_to("/api/v1/pushes")
    app = request.json["app"]
    assert (app["id"], app["name"], app["version"], app["version_code"]) == ("org.example.notes", "Notes", "3.0", 30)
    (package,) = app["packages"]
    assert package["size"] == len(data)
    signature = request.json["signatures"]["phone-1"]
    assert signature["sha256"] == package["sha256"]


def test_what_the_page_said_stays_and_the_package_fills_in_the_rest(server, client):
    data = build_package("apk", "org.example.notes", "Notes", "3.0", 30, size=50_000)
    _serve(server, {"/dl/notes.apk": data})
    _push_link(server, client, "/dl/notes.apk", id="org.example.notes", name="Notes for Android", version="3.0")
    (request,) = server.requests_to("/api/v1/pushes")
    app = request.json["app"]
    assert (app["name"], app["version"], app["version_code"]) == ("Notes for Android", "3.0", 30)
