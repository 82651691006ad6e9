"""The demo store's app table and its generated stand-in packages."""

from __future__ import annotations

import hashlib
import plistlib
import struct
import zipfile
from pathlib import Path

import pytest

from relay_server import demo_catalog
from relay_server.demo_catalog import DEMO_APPS, build_package, generate_demo_packages
from shared.assets import LOGO
from shared.package_check import inspect_package, read_android_manifest
from shared.protocol import FORMAT_MIME_TYPES, PLATFORM_FORMATS, Platform, parse_app_id

SCALE = 0.01  # about 3.8 MB for the whole catalog
MB = 1_000_000


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The catalog generated once at a small scale, shared by the read-only tests."""
    dest = tmp_path_factory.mktemp("demo")
    return dest, generate_demo_packages(dest, SCALE)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- the table


def test_app_ids_are_unique_and_valid():
    ids = [app.id for app in DEMO_APPS]
    assert len(ids) == len(set(ids))
    for app_id in ids:
        assert parse_app_id(app_id) == app_id
    assert 10 <= len(DEMO_APPS) <= 20


def test_every_package_has_a_known_format_and_a_realistic_size():
    for app in DEMO_APPS:
        assert app.packages, app.id
        assert len(set(app.formats)) == len(app.formats), f"{app.id}: one package per format"
        for package in app.packages:
            assert package.format in FORMAT_MIME_TYPES, (app.id, package.format)
            assert 1 * MB <= package.size <= 50 * MB, (app.id, package.format)
            assert package.runtime, (app.id, package.format)


def test_catalog_has_what_the_demos_need():
    sizes = [p.size for app in DEMO_APPS for p in app.packages]
    assert max(sizes) >= 45 * MB, "a large download to pause"
    assert any({"apk", "ipa"} <= set(app.formats) for app in DEMO_APPS), "an app for Android and iOS"
    android = set(PLATFORM_FORMATS[Platform.ANDROID])
    assert any(not android & set(app.formats) for app in DEMO_APPS), "an app Android cannot take"


def test_apps_have_the_fields_the_store_shows():
    for app in DEMO_APPS:
        for text in (app.name, app.version, app.developer, app.license, app.category, app.description):
            assert text and text == text.strip(), app.id
        assert app.homepage.startswith("https://"), app.id
        assert app.version_code > 0, app.id
        assert demo_catalog.get_app(app.id) is app


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_every_icon_exists_and_is_a_192_pixel_png():
    paths = [demo_catalog.app_icon_path(app) for app in DEMO_APPS]
    paths += [LOGO, demo_catalog.ICONS_DIR / demo_catalog.PLACEHOLDER_ICON]
    for path in paths:
        assert path.is_file(), path
        assert _png_size(path) == (192, 192), path


def test_icon_path_is_inside_the_relay_package():
    app = DEMO_APPS[0]
    package = Path(demo_catalog.__file__).resolve().parent
    assert demo_catalog.app_icon_path(app) == package / "static" / "icons" / f"{app.id}.png"


# --------------------------------------------------------------------------- generation


def test_generates_one_file_per_package_of_the_requested_size(generated):
    dest, packages = generated
    expected = [(app, p) for app in DEMO_APPS for p in app.packages]
    assert [(g.app_id, g.format) for g in packages] == [(a.id, p.format) for a, p in expected]
    for g, (app, package) in zip(packages, expected):
        assert g.filename == f"{app.id}-{app.version}.{package.format}"
        assert g.path == dest / g.filename
        assert g.mime_type == FORMAT_MIME_TYPES[g.format]
        assert g.size == g.path.stat().st_size
        target = max(demo_catalog.MIN_PACKAGE_SIZE, round(package.size * SCALE))
        assert abs(g.size - target) <= 4096, g.filename
        assert g.sha256 == _sha256(g.path)
    assert not list(dest.glob("*.tmp")), "no temporary files left behind"


def test_generation_is_deterministic(generated, tmp_path):
    _, first = generated
    second = generate_demo_packages(tmp_path, SCALE)
    assert [g.sha256 for g in second] == [g.sha256 for g in first]


def test_bytes_do_not_depend_on_the_machine(tmp_path):
    """Pinned hashes: a change here means every relay would serve different files."""
    by_name = {g.filename: g.sha256 for g in generate_demo_packages(tmp_path, 0.001)}
    assert by_name["net.sourceforge.s2putty-1.5.2.sisx"] == GOLDEN_SISX
    assert by_name["org.fdroid.fdroid-1.20.0.apk"] == GOLDEN_APK


GOLDEN_SISX = "6b07918c6708d18e48f971dc507f24a3f326c0ace9c1e1f40ccd92825cc59014"
GOLDEN_APK = "1299f8590dd49c5ec4aeec74efeb422f4f3b663f44059c304551f58ed81ae203"


def test_apk_is_a_zip_with_a_compiled_manifest_dex_and_signature_manifest(generated):
    _, packages = generated
    for g in (g for g in packages if g.format == "apk"):
        app = demo_catalog.get_app(g.app_id)
        with zipfile.ZipFile(g.path) as zf:
            assert zf.testzip() is None
            assert zf.namelist() == ["AndroidManifest.xml", "classes.dex", "META-INF/MANIFEST.MF"]
            assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
            raw = zf.read("AndroidManifest.xml")
            assert raw[:2] == b"\x03\x00", "binary XML, as a phone reads it, not text"
            manifest = read_android_manifest(raw)  # decoded by apkInspector
            assert zf.read("classes.dex").startswith(b"dex\n035\x00")
            assert "Name: classes.dex" in zf.read("META-INF/MANIFEST.MF").decode()
        assert manifest["package"] == app.id
        assert manifest["versionName"] == app.version
        assert manifest["versionCode"] == app.version_code
        assert manifest["label"] == app.name


def test_apk_manifest_reads_back_through_apkinspector_as_xml():
    """The compiled manifest, decoded by the library's own XML printer."""
    import io

    from shared.package_check import _apkinspector

    raw = demo_catalog.android_manifest("org.example.notes", 30, "3.0", "Notes & Co", min_sdk=24)
    xml = _apkinspector().get_manifest(io.BytesIO(raw))
    assert 'package="org.example.notes"' in xml
    assert 'android:versionCode="30"' in xml
    assert 'android:versionName="3.0"' in xml
    assert 'android:minSdkVersion="24"' in xml
    assert 'android:label="Notes &amp; Co"' in xml


def test_ipa_is_a_zip_with_a_real_info_plist(generated):
    _, packages = generated
    ipas = [g for g in packages if g.format == "ipa"]
    assert ipas
    for g in ipas:
        app = demo_catalog.get_app(g.app_id)
        package = app.package("ipa")
        with zipfile.ZipFile(g.path) as zf:
            assert zf.testzip() is None
            plists = [n for n in zf.namelist() if n.endswith(".app/Info.plist")]
            assert len(plists) == 1 and plists[0].startswith("Payload/")
            info = plistlib.loads(zf.read(plists[0]))
        assert info["CFBundleIdentifier"] == (package.native_id or app.id)
        assert info["CFBundleShortVersionString"] == app.version
        assert info["CFBundleVersion"] == str(app.version_code)


def test_every_generated_package_passes_the_package_check(generated):
    """What the store serves is what the sender and the phones accept: a real container of its
    format carrying the app's identity."""
    _, packages = generated
    assert {g.format for g in packages} >= {"apk", "ipa", "sisx"}
    for g in packages:
        app = demo_catalog.get_app(g.app_id)
        package = app.package(g.format)
        facts = inspect_package(g.path, g.format)
        assert facts.format == g.format
        assert facts.name == app.name, g.filename
        assert facts.version == app.version, g.filename
        if g.format in ("apk", "ipa"):
            assert facts.app_id == (package.native_id or app.id)
            assert facts.version_code == app.version_code
        if g.format == "sisx":
            assert g.path.read_bytes()[:4] == (0x10201A7A).to_bytes(4, "little")


@pytest.mark.parametrize("fmt", ["apk", "ipa", "pxl", "xap", "deb", "sis", "sisx"])
def test_build_package_makes_every_mobile_format(tmp_path, fmt):
    data = build_package(fmt, "org.example.notes", "Notes", "3.0.1", 301, size=40_000)
    assert abs(len(data) - 40_000) < 4
    assert data == build_package(fmt, "org.example.notes", "Notes", "3.0.1", 301, size=40_000), "deterministic"
    path = tmp_path / f"notes.{fmt}"
    path.write_bytes(data)
    facts = inspect_package(path, fmt)
    assert facts.name == "Notes"
    assert facts.version == ("3.0" if fmt == "sis" else "3.0.1")  # an old SIS has major.minor only
    if fmt in ("apk", "ipa", "pxl", "deb"):
        assert facts.app_id == "org.example.notes"


def test_every_catalog_format_has_a_writer():
    assert {p.format for app in DEMO_APPS for p in app.packages} <= set(demo_catalog._WRITERS)


# --------------------------------------------------------------------------- reruns


def _forbid_writing(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("a package was regenerated or rehashed")

    monkeypatch.setattr(demo_catalog, "_filler", fail)
    monkeypatch.setattr(demo_catalog, "_sha256_file", fail)


def test_rerun_keeps_files_that_match_the_manifest(tmp_path, monkeypatch):
    first = generate_demo_packages(tmp_path, SCALE)
    mtimes = {g.filename: g.path.stat().st_mtime_ns for g in first}
    _forbid_writing(monkeypatch)
    second = generate_demo_packages(tmp_path, SCALE)
    assert second == first
    assert {g.filename: g.path.stat().st_mtime_ns for g in second} == mtimes


def test_truncated_file_is_regenerated(tmp_path, monkeypatch):
    first = {g.filename: g for g in generate_demo_packages(tmp_path, SCALE)}
    victim = first["net.osmand.plus-4.8.6.apk"]
    with open(victim.path, "r+b") as f:
        f.truncate(victim.size // 2)

    written = []
    real_write = demo_catalog._write_atomically
    monkeypatch.setattr(
        demo_catalog, "_write_atomically", lambda path, write: (written.append(path.name), real_write(path, write))
    )
    second = {g.filename: g for g in generate_demo_packages(tmp_path, SCALE)}
    assert written == [victim.filename]  # only the damaged file (the manifest did not change)
    assert second[victim.filename].sha256 == victim.sha256 == _sha256(victim.path)


def test_missing_or_damaged_manifest_regenerates_everything(tmp_path):
    first = generate_demo_packages(tmp_path, SCALE)
    (tmp_path / demo_catalog.MANIFEST_NAME).write_text("{not json")
    assert generate_demo_packages(tmp_path, SCALE) == first


def test_a_new_scale_rebuilds_the_files(tmp_path):
    small = {g.filename: g.size for g in generate_demo_packages(tmp_path, 0.001)}
    larger = {g.filename: g.size for g in generate_demo_packages(tmp_path, SCALE)}
    assert larger["org.videolan.vlc-3.6.0.ipa"] > small["org.videolan.vlc-3.6.0.ipa"]


def test_scale_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        generate_demo_packages(tmp_path, 0)
