"""The demo store: a dozen real open-source apps and deterministic stand-in packages.

The relay seeds its own store with these apps so that the whole product (store page,
download by app id, pushes, large-download pauses, incompatible devices) can be shown
without the internet. Names, ids, developers, licenses, homepages and versions are the
real ones as of late 2024, to the best of our knowledge; version codes in particular are
approximate. The descriptions are our own words.

The package files are *not* the real apps: :func:`generate_demo_packages` writes files of
the right format family (ZIP for apk/ipa, a short text header for the rest) and of a
realistic size, filled with deterministic pseudo-random bytes. They will not install on a
real phone, which is fine: the receivers in this project simulate installation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import plistlib
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from shared.protocol import FORMAT_MIME_TYPES

ICONS_DIR = Path(__file__).resolve().parents[1] / "assets" / "icons"
#: Icon for apps that have none of their own (file name in :data:`ICONS_DIR`).
PLACEHOLDER_ICON = "placeholder.png"
#: The manifest generate_demo_packages keeps in its destination directory.
MANIFEST_NAME = "demo-packages.json"
#: Bump when the bytes generate_demo_packages writes change, so old files get rebuilt.
GENERATOR_VERSION = 1
#: Smallest package written, whatever the scale (a ZIP needs room for its entries).
MIN_PACKAGE_SIZE = 16 * 1024

MB = 1_000_000


@dataclass(frozen=True)
class DemoPackage:
    """One downloadable form of a demo app."""

    format: str  # a key of shared.protocol.FORMAT_MIME_TYPES
    size: int  # bytes at scale 1.0
    runtime: str  # what it needs, in words: "Android 7.0+", "iOS 15+"
    #: The platform's own identifier when it differs from the catalog id (iOS bundle ids
    #: were chosen separately from Android package names); written into the package.
    native_id: str | None = None


@dataclass(frozen=True)
class DemoApp:
    """One app of the demo store. The same ``id`` covers every format it comes in."""

    id: str
    name: str
    version: str
    version_code: int
    developer: str
    license: str  # SPDX expression
    homepage: str
    category: str
    description: str
    icon: str  # file name in assets/icons
    packages: tuple[DemoPackage, ...]

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(p.format for p in self.packages)

    @property
    def runtime(self) -> str:
        """Every package's runtime, for one-line displays: ``Android 5.0+, iOS 12+``."""
        return ", ".join(p.runtime for p in self.packages)

    def package(self, fmt: str) -> DemoPackage | None:
        return next((p for p in self.packages if p.format == fmt), None)


def _app(id, name, version, version_code, developer, license, homepage, category, description, *packages):
    """Keeps the table below readable: the icon is always ``<id>.png``."""
    return DemoApp(id, name, version, version_code, developer, license, homepage, category,
                   " ".join(description.split()), f"{id}.png", tuple(packages))


P = DemoPackage

DEMO_APPS: tuple[DemoApp, ...] = (
    _app("org.fdroid.fdroid", "F-Droid", "1.20.0", 1020050, "F-Droid", "GPL-3.0-or-later",
         "https://f-droid.org", "System",
         """An app store for free and open-source Android apps. It installs and updates apps
         from the F-Droid repository or any other repository you add, and shows which
         apps track you or rely on non-free services.""",
         P("apk", 11_482_931, "Android 5.1+")),
    _app("org.videolan.vlc", "VLC", "3.6.0", 13060000, "VideoLAN", "GPL-2.0-or-later",
         "https://www.videolan.org/vlc/", "Multimedia",
         """The VideoLAN media player: plays nearly any video or audio file, disc image,
         network stream or share without extra codecs, with subtitles, equalizer and
         a media library.""",
         P("apk", 38_216_470, "Android 4.2+"),
         P("ipa", 47_630_118, "iOS 12+", native_id="org.videolan.vlc-ios")),
    _app("de.danoeh.antennapod", "AntennaPod", "3.5.0", 3050000, "AntennaPod contributors",
         "GPL-3.0-or-later", "https://antennapod.org", "Multimedia",
         """A podcast manager and player. Subscribe to any RSS feed or search podcast
         directories, download or stream episodes, and keep everything on your phone
         without an account.""",
         P("apk", 8_904_117, "Android 5.0+")),
    _app("com.termux", "Termux", "0.118.0", 118, "Fredrik Fornwall and Termux contributors",
         "GPL-3.0-only", "https://termux.dev", "Development",
         """A terminal emulator with a small Linux userland. Install a shell, compilers,
         editors, ssh and thousands of other command-line packages with pkg.""",
         P("apk", 24_905_336, "Android 7.0+")),
    _app("org.wikipedia", "Wikipedia", "2.7.50497-r-2024-07-30", 50497, "Wikimedia Foundation",
         "Apache-2.0", "https://www.wikimedia.org", "Reference",
         """The official Wikipedia reader: search and read the free encyclopedia in
         hundreds of languages, save articles for offline reading, and edit from your
         phone.""",
         P("apk", 17_319_604, "Android 5.0+"),
         P("ipa", 26_107_842, "iOS 16+", native_id="org.wikimedia.wikipedia")),
    _app("net.osmand.plus", "OsmAnd~", "4.8.6", 4860, "OsmAnd", "GPL-3.0-or-later",
         "https://osmand.net", "Navigation",
         """Offline maps and turn-by-turn navigation built on OpenStreetMap data, for
         driving, cycling and hiking, with downloadable maps per region.""",
         P("apk", 49_336_021, "Android 7.0+")),
    _app("org.thoughtcrime.securesms", "Signal", "7.20.3", 1472, "Signal Messenger",
         "AGPL-3.0-only", "https://signal.org", "Internet",
         """A messenger with end-to-end encryption for every message, call and
         attachment, developed by a non-profit and built on the Signal Protocol.""",
         P("apk", 22_418_905, "Android 5.0+"),
         P("ipa", 26_744_380, "iOS 15+", native_id="org.whispersystems.signal")),
    _app("com.nextcloud.client", "Nextcloud", "3.30.1", 30300190, "Nextcloud", "GPL-2.0-or-later",
         "https://nextcloud.com/install/", "Internet",
         """The client for your own Nextcloud server: browse and share files, upload
         photos automatically, and keep chosen folders available offline.""",
         P("apk", 19_760_388, "Android 7.0+"),
         P("ipa", 14_209_663, "iOS 15+", native_id="it.twsweb.Nextcloud")),
    _app("org.kde.kdeconnect_tp", "KDE Connect", "1.32.11", 13211, "KDE Community",
         "GPL-2.0-or-later", "https://kdeconnect.kde.org", "Connectivity",
         """Links your phone and your computer over the local network: shared clipboard,
         notifications on the desktop, file transfer, and a remote for media and the
         mouse pointer.""",
         P("apk", 6_118_473, "Android 5.0+")),
    _app("im.vector.app", "Element", "1.6.24", 40106240, "Element", "AGPL-3.0-only",
         "https://element.io", "Internet",
         """A Matrix client for encrypted chat, voice and video. Join rooms on any
         Matrix server, or run your own, and talk to people on other servers.""",
         P("apk", 24_630_517, "Android 5.0+"),
         P("ipa", 21_296_054, "iOS 16+", native_id="im.vector.app")),
    _app("org.schabi.newpipe", "NewPipe", "0.27.2", 999, "Team NewPipe", "GPL-3.0-or-later",
         "https://newpipe.net", "Multimedia",
         """A lightweight front end for YouTube, PeerTube, SoundCloud and Bandcamp that
         plays videos in the background or a popup and downloads them, without an
         account or Google services.""",
         P("apk", 11_209_876, "Android 5.0+")),
    _app("com.kunzisoft.keepass.libre", "KeePassDX", "4.1.0", 135, "Kunzisoft", "GPL-3.0-or-later",
         "https://www.keepassdx.com", "Security",
         """A password manager for KeePass databases (.kdbx) that stay in a file you
         control, with biometric unlock, autofill and a password generator.""",
         P("apk", 8_052_660, "Android 5.0+")),
    _app("net.sourceforge.s2putty", "PuTTY for Symbian", "1.5.2", 152, "Petteri Kangaslampi",
         "MIT", "https://s2putty.sourceforge.net", "Internet",
         """A port of the PuTTY SSH client to Symbian S60 phones. Only Symbian phones can
         install it, so it shows what happens when a package does not fit a device.""",
         P("sisx", 1_304_417, "Symbian S60 3rd Edition+")),
)

DEMO_APPS_BY_ID: dict[str, DemoApp] = {app.id: app for app in DEMO_APPS}


def get_app(app_id: str) -> DemoApp | None:
    """The demo app with this id, or None."""
    return DEMO_APPS_BY_ID.get(app_id)


def app_icon_path(app: DemoApp) -> Path:
    """Where the app's icon is: ``assets/icons/<app.icon>`` in the repository."""
    return ICONS_DIR / app.icon


def package_filename(app: DemoApp, fmt: str) -> str:
    """The file name of one package: ``<app_id>-<version>.<format>``."""
    return f"{app.id}-{app.version}.{fmt}"


# --------------------------------------------------------------------------- generation


@dataclass(frozen=True)
class GeneratedPackage:
    """A package file written by :func:`generate_demo_packages`."""

    app_id: str
    format: str
    filename: str
    path: Path
    sha256: str
    size: int
    mime_type: str


#: ZIP entries get this timestamp, so that the bytes do not depend on when they are written.
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)
_CHUNK = 1 << 20


def _filler(seed: bytes, size: int) -> Iterator[bytes]:
    """``size`` pseudo-random bytes in chunks: SHAKE-128 of seed + chunk number.

    A standard hash rather than ``random`` so the bytes are the same on every machine and
    Python version; random (not zero) bytes so that transport compression cannot shrink
    a "large download" into a small one.
    """
    for index, start in enumerate(range(0, size, _CHUNK)):
        yield hashlib.shake_128(seed + index.to_bytes(8, "big")).digest(min(_CHUNK, size - start))


def _target_size(package: DemoPackage, scale: float) -> int:
    return max(MIN_PACKAGE_SIZE, round(package.size * scale))


def _recipe(app: DemoApp, package: DemoPackage, size: int) -> str:
    """Everything the bytes of a package depend on; a manifest entry is valid for it only."""
    return f"v{GENERATOR_VERSION}|{app.id}|{app.version}|{app.version_code}|{package.format}|{package.native_id}|{size}"


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_STORED  # stored: the file size is exactly predictable
    info.create_system = 3  # ZipInfo would say 0 on Windows, 3 elsewhere: fix it
    info.external_attr = 0o100644 << 16
    return info


def _zip_overhead(names: list[str]) -> int:
    """Bytes a stored ZIP adds around its entries: local headers, central directory, end record."""
    return sum(30 + 46 + 2 * len(n.encode()) for n in names) + 22


def _write_zip(out: BinaryIO, size: int, small: dict[str, bytes], big_name: str, big_magic: bytes,
               seed: bytes, signature_manifest: str | None = None) -> None:
    """A stored ZIP of exactly ``size`` bytes: the small entries, one big filler entry and,
    for APKs, a JAR manifest listing every entry's SHA-256 (as real signed APKs carry).
    """
    manifest_len = 0
    if signature_manifest:
        # Every digest is 44 base64 characters, so the manifest's length is known up front.
        manifest_len = len(_jar_manifest({name: "=" * 44 for name in [*small, big_name]}).encode())
    names = [*small, big_name] + ([signature_manifest] if signature_manifest else [])
    fixed = _zip_overhead(names) + sum(len(d) for d in small.values()) + len(big_magic) + manifest_len
    big_size = max(0, size - fixed)

    digests = {}
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in small.items():
            zf.writestr(_zip_info(name), data)
            digests[name] = base64.b64encode(hashlib.sha256(data).digest()).decode()
        info = _zip_info(big_name)
        info.file_size = len(big_magic) + big_size
        digest = hashlib.sha256(big_magic)
        with zf.open(info, "w") as entry:
            entry.write(big_magic)
            for chunk in _filler(seed, big_size):
                entry.write(chunk)
                digest.update(chunk)
        digests[big_name] = base64.b64encode(digest.digest()).decode()
        if signature_manifest:
            zf.writestr(_zip_info(signature_manifest), _jar_manifest(digests))


def _jar_manifest(digests: dict[str, str]) -> str:
    lines = ["Manifest-Version: 1.0", "Created-By: Appbeam demo catalog (unsigned)", ""]
    for name, digest in digests.items():
        lines += [f"Name: {name}", f"SHA-256-Digest: {digest}", ""]
    return "\r\n".join(lines) + "\r\n"


def _write_apk(out: BinaryIO, app: DemoApp, package: DemoPackage, size: int, seed: bytes) -> None:
    # Real APKs hold a binary XML manifest; readable text is enough to show what this is.
    manifest = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<!-- Appbeam demo package: a stand-in with the real app's identity, not the real app. -->\n"
        '<manifest xmlns:android="http://schemas.android.com/apk/res/android"\n'
        f'    package="{package.native_id or app.id}"\n'
        f'    android:versionCode="{app.version_code}"\n'
        f'    android:versionName="{app.version}">\n'
        f'  <application android:label="{app.name}" />\n'
        "</manifest>\n"
    ).encode()
    _write_zip(out, size, {"AndroidManifest.xml": manifest}, "classes.dex", b"dex\n035\x00", seed,
               signature_manifest="META-INF/MANIFEST.MF")


def _write_ipa(out: BinaryIO, app: DemoApp, package: DemoPackage, size: int, seed: bytes) -> None:
    bundle = re.sub(r"[^A-Za-z0-9]", "", app.name) or "App"
    minimum_os = re.search(r"(\d+)(\.\d+)?", package.runtime)  # "iOS 15+" -> "15.0"
    plist = {
        "CFBundleIdentifier": package.native_id or app.id,
        "CFBundleName": app.name,
        "CFBundleDisplayName": app.name,
        "CFBundleExecutable": bundle,
        "CFBundlePackageType": "APPL",
        "CFBundleShortVersionString": app.version,
        "CFBundleVersion": str(app.version_code),
        "MinimumOSVersion": minimum_os.group(1) + (minimum_os.group(2) or ".0") if minimum_os else "12.0",
        "AppbeamDemoPackage": True,  # says plainly that this is not the real app
    }
    small = {f"Payload/{bundle}.app/Info.plist": plistlib.dumps(plist, fmt=plistlib.FMT_XML, sort_keys=True)}
    # 64-bit Mach-O magic, as the bundle's executable would start.
    _write_zip(out, size, small, f"Payload/{bundle}.app/{bundle}", b"\xcf\xfa\xed\xfe", seed)


def _write_plain(out: BinaryIO, app: DemoApp, package: DemoPackage, size: int, seed: bytes) -> None:
    header = (
        f"APPBEAM DEMO PACKAGE\nformat: {package.format}\napp: {app.id}\nname: {app.name}\n"
        f"version: {app.version} ({app.version_code})\nruntime: {package.runtime}\n\n"
    ).encode()
    out.write(header)
    for chunk in _filler(seed, max(0, size - len(header))):
        out.write(chunk)


_WRITERS = {"apk": _write_apk, "ipa": _write_ipa}


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, write) -> None:
    """Write through a temporary file in the same directory, then rename over ``path``,
    so that a crash or a concurrent reader never sees half a file.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; these are public downloads
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_manifest(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # missing or damaged: everything gets checked by rebuilding


def generate_demo_packages(dest_dir: Path, scale: float = 1.0) -> list[GeneratedPackage]:
    """Write every demo package into ``dest_dir`` and describe them, in catalog order.

    Sizes are ``size * scale`` bytes (at least 16 KB). The same inputs give byte-identical
    files everywhere. A file already present with the size and recipe recorded in
    ``dest_dir/demo-packages.json`` is kept, so restarts do not rewrite or rehash hundreds
    of megabytes; a file of the wrong size (truncated) or from an older recipe is rebuilt.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = dest_dir / MANIFEST_NAME
    old = _load_manifest(manifest_path)
    new: dict[str, dict] = {}
    result = []
    for app in DEMO_APPS:
        for package in app.packages:
            filename = package_filename(app, package.format)
            path = dest_dir / filename
            size = _target_size(package, scale)
            recipe = _recipe(app, package, size)
            entry = old.get(filename)
            fresh = (
                isinstance(entry, dict)
                and entry.get("recipe") == recipe
                and path.is_file()
                and path.stat().st_size == entry.get("size")
            )
            if not fresh:
                seed = hashlib.sha256(recipe.encode()).digest()
                writer = _WRITERS.get(package.format, _write_plain)
                _write_atomically(path, lambda out: writer(out, app, package, size, seed))
                entry = {"recipe": recipe, "size": path.stat().st_size, "sha256": _sha256_file(path)}
            new[filename] = entry
            result.append(GeneratedPackage(
                app_id=app.id, format=package.format, filename=filename, path=path,
                sha256=entry["sha256"], size=entry["size"], mime_type=FORMAT_MIME_TYPES[package.format],
            ))
    if new != old:
        text = json.dumps(new, indent=1, sort_keys=True)
        _write_atomically(manifest_path, lambda out: out.write(text.encode()))
    return result
