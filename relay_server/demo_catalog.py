"""The demo store: a dozen real open-source apps and deterministic stand-in packages.

The relay seeds its own store with these apps so that the whole product (store page,
download by app id, pushes, large-download pauses, incompatible devices) can be shown
without the internet. Names, ids, developers, licenses, homepages and versions are the
real ones as of late 2024, to the best of our knowledge; version codes in particular are
approximate. The descriptions are our own words.

The package files are *not* the real apps: :func:`generate_demo_packages` writes real
containers of each format (an APK with a compiled binary AndroidManifest.xml, an IPA with
Payload/<name>.app/Info.plist, a deb ``ar`` archive, a SISX with its UID header and
controller, ...; see ``shared/package_check.py``, which every one of them passes) carrying
the real app's identity, of a realistic size, filled with deterministic pseudo-random bytes.
They will not install on a real phone, which is fine: the receivers in this project simulate
installation. :func:`build_package` makes one such package in memory, for tests.

Long because it is data: thirteen real apps' descriptions and one small writer per package format.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import plistlib
import re
import struct
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, BinaryIO

from shared.assets import real_path
from shared.protocol import FORMAT_MIME_TYPES

#: The demo apps' icons (served as /static/icons/<file>), packaged with the relay.
ICONS_DIR = real_path(files(__package__) / "static" / "icons")
#: Icon for apps that have none of their own (file name in :data:`ICONS_DIR`).
PLACEHOLDER_ICON = "placeholder.png"
#: The manifest generate_demo_packages keeps in its destination directory.
MANIFEST_NAME = "demo-packages.json"
#: Bump when the bytes generate_demo_packages writes change, so old files get rebuilt.
GENERATOR_VERSION = 2
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
    icon: str  # file name in ICONS_DIR
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


def _app(
    id: str,
    name: str,
    version: str,
    version_code: int,
    developer: str,
    license: str,
    homepage: str,
    category: str,
    description: str,
    *packages: DemoPackage,
) -> DemoApp:
    """Keeps the table below readable: the icon is always ``<id>.png``."""
    return DemoApp(
        id,
        name,
        version,
        version_code,
        developer,
        license,
        homepage,
        category,
        " ".join(description.split()),
        f"{id}.png",
        tuple(packages),
    )


P = DemoPackage

DEMO_APPS: tuple[DemoApp, ...] = (
    _app(
        "org.fdroid.fdroid",
        "F-Droid",
        "1.20.0",
        1020050,
        "F-Droid",
        "GPL-3.0-or-later",
        "https://f-droid.org",
        "System",
        """An app store for free and open-source Android apps. It installs and updates apps
         from the F-Droid repository or any other repository you add, and shows which
         apps track you or rely on non-free services.""",
        P("apk", 11_482_931, "Android 5.1+"),
    ),
    _app(
        "org.videolan.vlc",
        "VLC",
        "3.6.0",
        13060000,
        "VideoLAN",
        "GPL-2.0-or-later",
        "https://www.videolan.org/vlc/",
        "Multimedia",
        """The VideoLAN media player: plays nearly any video or audio file, disc image,
         network stream or share without extra codecs, with subtitles, equalizer and
         a media library.""",
        P("apk", 38_216_470, "Android 4.2+"),
        P("ipa", 47_630_118, "iOS 12+", native_id="org.videolan.vlc-ios"),
    ),
    _app(
        "de.danoeh.antennapod",
        "AntennaPod",
        "3.5.0",
        3050000,
        "AntennaPod contributors",
        "GPL-3.0-or-later",
        "https://antennapod.org",
        "Multimedia",
        """A podcast manager and player. Subscribe to any RSS feed or search podcast
         directories, download or stream episodes, and keep everything on your phone
         without an account.""",
        P("apk", 8_904_117, "Android 5.0+"),
    ),
    _app(
        "com.termux",
        "Termux",
        "0.118.0",
        118,
        "Fredrik Fornwall and Termux contributors",
        "GPL-3.0-only",
        "https://termux.dev",
        "Development",
        """A terminal emulator with a small Linux userland. Install a shell, compilers,
         editors, ssh and thousands of other command-line packages with pkg.""",
        P("apk", 24_905_336, "Android 7.0+"),
    ),
    _app(
        "org.wikipedia",
        "Wikipedia",
        "2.7.50497-r-2024-07-30",
        50497,
        "Wikimedia Foundation",
        "Apache-2.0",
        "https://www.wikimedia.org",
        "Reference",
        """The official Wikipedia reader: search and read the free encyclopedia in
         hundreds of languages, save articles for offline reading, and edit from your
         phone.""",
        P("apk", 17_319_604, "Android 5.0+"),
        P("ipa", 26_107_842, "iOS 16+", native_id="org.wikimedia.wikipedia"),
    ),
    _app(
        "net.osmand.plus",
        "OsmAnd~",
        "4.8.6",
        4860,
        "OsmAnd",
        "GPL-3.0-or-later",
        "https://osmand.net",
        "Navigation",
        """Offline maps and turn-by-turn navigation built on OpenStreetMap data, for
         driving, cycling and hiking, with downloadable maps per region.""",
        P("apk", 49_336_021, "Android 7.0+"),
    ),
    _app(
        "org.thoughtcrime.securesms",
        "Signal",
        "7.20.3",
        1472,
        "Signal Messenger",
        "AGPL-3.0-only",
        "https://signal.org",
        "Internet",
        """A messenger with end-to-end encryption for every message, call and
         attachment, developed by a non-profit and built on the Signal Protocol.""",
        P("apk", 22_418_905, "Android 5.0+"),
        P("ipa", 26_744_380, "iOS 15+", native_id="org.whispersystems.signal"),
    ),
    _app(
        "com.nextcloud.client",
        "Nextcloud",
        "3.30.1",
        30300190,
        "Nextcloud",
        "GPL-2.0-or-later",
        "https://nextcloud.com/install/",
        "Internet",
        """The client for your own Nextcloud server: browse and share files, upload
         photos automatically, and keep chosen folders available offline.""",
        P("apk", 19_760_388, "Android 7.0+"),
        P("ipa", 14_209_663, "iOS 15+", native_id="it.twsweb.Nextcloud"),
    ),
    _app(
        "org.kde.kdeconnect_tp",
        "KDE Connect",
        "1.32.11",
        13211,
        "KDE Community",
        "GPL-2.0-or-later",
        "https://kdeconnect.kde.org",
        "Connectivity",
        """Links your phone and your computer over the local network: shared clipboard,
         notifications on the desktop, file transfer, and a remote for media and the
         mouse pointer.""",
        P("apk", 6_118_473, "Android 5.0+"),
    ),
    _app(
        "im.vector.app",
        "Element",
        "1.6.24",
        40106240,
        "Element",
        "AGPL-3.0-only",
        "https://element.io",
        "Internet",
        """A Matrix client for encrypted chat, voice and video. Join rooms on any
         Matrix server, or run your own, and talk to people on other servers.""",
        P("apk", 24_630_517, "Android 5.0+"),
        P("ipa", 21_296_054, "iOS 16+", native_id="im.vector.app"),
    ),
    _app(
        "org.schabi.newpipe",
        "NewPipe",
        "0.27.2",
        999,
        "Team NewPipe",
        "GPL-3.0-or-later",
        "https://newpipe.net",
        "Multimedia",
        """A lightweight front end for YouTube, PeerTube, SoundCloud and Bandcamp that
         plays videos in the background or a popup and downloads them, without an
         account or Google services.""",
        P("apk", 11_209_876, "Android 5.0+"),
    ),
    _app(
        "com.kunzisoft.keepass.libre",
        "KeePassDX",
        "4.1.0",
        135,
        "Kunzisoft",
        "GPL-3.0-or-later",
        "https://www.keepassdx.com",
        "Security",
        """A password manager for KeePass databases (.kdbx) that stay in a file you
         control, with biometric unlock, autofill and a password generator.""",
        P("apk", 8_052_660, "Android 5.0+"),
    ),
    _app(
        "net.sourceforge.s2putty",
        "PuTTY for Symbian",
        "1.5.2",
        152,
        "Petteri Kangaslampi",
        "MIT",
        "https://s2putty.sourceforge.net",
        "Internet",
        """A port of the PuTTY SSH client to Symbian S60 phones. Only Symbian phones can
         install it, so it shows what happens when a package does not fit a device.""",
        P("sisx", 1_304_417, "Symbian S60 3rd Edition+"),
    ),
)

DEMO_APPS_BY_ID: dict[str, DemoApp] = {app.id: app for app in DEMO_APPS}


def get_app(app_id: str) -> DemoApp | None:
    """The demo app with this id, or None."""
    return DEMO_APPS_BY_ID.get(app_id)


def app_icon_path(app: DemoApp) -> Path:
    """Where the app's icon is: ``relay_server/static/icons/<app.icon>``, wherever the package is installed."""
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


def _write_zip(
    out: BinaryIO,
    size: int,
    small: dict[str, bytes],
    big_name: str,
    big_magic: bytes,
    seed: bytes,
    signature_manifest: str | None = None,
) -> None:
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


# --------------------------------------------------------------------------- Android binary XML

#: The android: namespace of manifest attributes.
ANDROID_NS = "http://schemas.android.com/apk/res/android"
#: android: attributes a manifest here uses, with their framework resource ids (android.R.attr),
#: which the resource map chunk lists in the order of the first strings of the pool.
_ANDROID_ATTRS = {
    "label": 0x01010001,
    "minSdkVersion": 0x0101020C,
    "versionCode": 0x0101021B,
    "versionName": 0x0101021C,
}
_AXML_FILE, _AXML_STRINGS, _AXML_RESOURCE_MAP = 0x0003, 0x0001, 0x0180
_AXML_START_NS, _AXML_END_NS, _AXML_START_ELEMENT, _AXML_END_ELEMENT = 0x0100, 0x0101, 0x0102, 0x0103
_VALUE_REFERENCE, _VALUE_STRING, _VALUE_INT = 0x01, 0x03, 0x10
_NO_STRING = 0xFFFFFFFF


def _axml_chunk(kind: int, header: bytes, body: bytes) -> bytes:
    """A resource chunk: type, header size, total size, the rest of the header, the body."""
    header_size = 8 + len(header)
    return struct.pack("<HHI", kind, header_size, header_size + len(body)) + header + body


def _axml_string_pool(strings: list[str]) -> bytes:
    """A UTF-16 string pool: offsets, then each string as length, characters, NUL."""
    offsets, data = [], b""
    for text in strings:
        encoded = text.encode("utf-16-le")
        offsets.append(len(data))
        data += struct.pack("<H", len(encoded) // 2) + encoded + b"\0\0"
    data += b"\0" * (-len(data) % 4)
    index = struct.pack(f"<{len(strings)}I", *offsets)
    # string count, style count, flags (0: UTF-16), where the strings start, where styles start
    header = struct.pack("<IIIII", len(strings), 0, 0, 28 + len(index), 0)
    return _axml_chunk(_AXML_STRINGS, header, index + data)


def android_manifest(
    package: str, version_code: int, version_name: str | int, label: str | int, min_sdk: int | None = None
) -> bytes:
    """A compiled (binary XML, "AXML") AndroidManifest.xml, as ``aapt`` would write:

        <manifest xmlns:android="..." android:versionCode=".." android:versionName=".." package="..">
          <uses-sdk android:minSdkVersion=".."/>
          <application android:label=".."/>
        </manifest>

    A ``label`` or ``version_name`` given as a number is a resource reference (``@string/app_name``
    is 0x7f......), as most real apps' labels are, to be looked up in resources.arsc.

    Chunks: the file header, a string pool (android: attribute names first, in the order of the
    resource map that follows), the start of the android namespace, the elements, its end.
    """
    strings = list(_ANDROID_ATTRS)  # index i has resource id _ANDROID_ATTRS[strings[i]]

    def ref(text: str) -> int:
        if text not in strings:
            strings.append(text)
        return strings.index(text)

    def attribute(name: str, value: str | int, namespaced: bool = True, kind: int = _VALUE_INT) -> bytes:
        ns = ref(ANDROID_NS) if namespaced else _NO_STRING
        if isinstance(value, int):
            raw, data = _NO_STRING, value & 0xFFFFFFFF
        else:
            raw = data = ref(value)
            kind = _VALUE_STRING
        # namespace, name, raw value, then Res_value: size 8, res0, data type, data
        return struct.pack("<IIIHBBI", ns, ref(name), raw, 8, 0, kind, data)

    def start(tag: str, attributes: list[bytes], line: int) -> bytes:
        # line number, comment; then namespace, name, attributeStart 20, attributeSize 20,
        # count, id/class/style indexes (none)
        ext = struct.pack("<IIHHHHHH", _NO_STRING, ref(tag), 20, 20, len(attributes), 0, 0, 0)
        return _axml_chunk(_AXML_START_ELEMENT, struct.pack("<II", line, _NO_STRING), ext + b"".join(attributes))

    def end(tag: str, line: int) -> bytes:
        return _axml_chunk(
            _AXML_END_ELEMENT, struct.pack("<II", line, _NO_STRING), struct.pack("<II", _NO_STRING, ref(tag))
        )

    namespace = struct.pack("<II", ref("android"), ref(ANDROID_NS))
    body = [_axml_chunk(_AXML_START_NS, struct.pack("<II", 1, _NO_STRING), namespace)]
    name_kind = _VALUE_REFERENCE if isinstance(version_name, int) else _VALUE_STRING
    body.append(
        start(
            "manifest",
            [
                attribute("versionCode", version_code),
                attribute("versionName", version_name, kind=name_kind),
                attribute("package", package, namespaced=False),
            ],
            2,
        )
    )
    if min_sdk is not None:
        body += [start("uses-sdk", [attribute("minSdkVersion", min_sdk)], 3), end("uses-sdk", 3)]
    label_kind = _VALUE_REFERENCE if isinstance(label, int) else _VALUE_STRING
    body += [
        start("application", [attribute("label", label, kind=label_kind)], 4),
        end("application", 4),
        end("manifest", 5),
    ]
    body.append(_axml_chunk(_AXML_END_NS, struct.pack("<II", 5, _NO_STRING), namespace))
    resource_map = _axml_chunk(_AXML_RESOURCE_MAP, b"", struct.pack("<4I", *_ANDROID_ATTRS.values()))
    return _axml_chunk(_AXML_FILE, b"", _axml_string_pool(strings) + resource_map + b"".join(body))


#: Android version -> API level, for a manifest's minSdkVersion from a runtime like "Android 5.1+".
_API_LEVELS = {
    "4.1": 16,
    "4.2": 17,
    "4.3": 18,
    "4.4": 19,
    "5.0": 21,
    "5.1": 22,
    "6.0": 23,
    "7.0": 24,
    "7.1": 25,
    "8.0": 26,
    "8.1": 27,
    "9": 28,
    "10": 29,
    "11": 30,
    "12": 31,
    "13": 33,
    "14": 34,
}


def _min_sdk(runtime: str) -> int | None:
    match = re.search(r"Android (\d+(?:\.\d+)?)", runtime)
    if not match:
        return None
    version = match.group(1)
    return _API_LEVELS.get(version) or _API_LEVELS.get(version.removesuffix(".0"))


# --------------------------------------------------------------------------- the writers


def _write_apk(out: BinaryIO, app: DemoApp, package: DemoPackage, size: int, seed: bytes) -> None:
    manifest = android_manifest(
        package.native_id or app.id, app.version_code, app.version, app.name, _min_sdk(package.runtime)
    )
    _write_zip(
        out,
        size,
        {"AndroidManifest.xml": manifest},
        "classes.dex",
        b"dex\n035\x00",
        seed,
        signature_manifest="META-INF/MANIFEST.MF",
    )


def _bundle_name(app: DemoApp) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", app.name) or "App"


def _ios_plist(app: DemoApp, package: DemoPackage) -> dict[str, Any]:
    minimum_os = re.search(r"(\d+)(\.\d+)?", package.runtime)  # "iOS 15+" -> "15.0"
    return {
        "CFBundleIdentifier": package.native_id or app.id,
        "CFBundleName": app.name,
        "CFBundleDisplayName": app.name,
        "CFBundleExecutable": _bundle_name(app),
        "CFBundlePackageType": "APPL",
        "CFBundleShortVersionString": app.version,
        "CFBundleVersion": str(app.version_code),
        "MinimumOSVersion": minimum_os.group(1) + (minimum_os.group(2) or ".0") if minimum_os else "12.0",
        "AppbeamDemoPackage": True,  # says plainly that this is not the real app
    }


def _write_ipa(out: BinaryIO, app: DemoApp, package: DemoPackage, size: int, seed: bytes) -> None:
    bundle = _bundle_name(app)
    plist = plistlib.dumps(_ios_plist(app, package), fmt=plistlib.FMT_XML, sort_keys=True)
    # 64-bit Mach-O magic, as the bundle's executable would start.
    _write_zip(
        out,
        size,
        {f"Payload/{bundle}.app/Info.plist": plist},
        f"Payload/{bundle}.app/{bundle}",
        b"\xcf\xfa\xed\xfe",
        seed,
    )


def _write_pxl(out: BinaryIO, app: DemoApp, package: DemoPackage, size: int, seed: bytes) -> None:
    """A PXL (the PXL installer's package for early iPhones): a ZIP with PxlPkg.plist at its root."""
    bundle = _bundle_name(app)
    plist = plistlib.dumps(_ios_plist(app, package), fmt=plistlib.FMT_XML, sort_keys=True)
    _write_zip(out, size, {"PxlPkg.plist": plist}, f"{bundle}.app/{bundle}", b"\xce\xfa\xed\xfe", seed)


def _write_xap(out: BinaryIO, app: DemoApp, package: DemoPackage, size: int, seed: bytes) -> None:
    """A Windows Phone XAP: a ZIP with WMAppManifest.xml and AppManifest.xaml."""
    bundle = _bundle_name(app)
    product = hashlib.sha256(f"xap|{app.id}".encode()).hexdigest()
    product_id = f"{{{product[:8]}-{product[8:12]}-{product[12:16]}-{product[16:20]}-{product[20:32]}}}"
    wm = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Deployment xmlns="http://schemas.microsoft.com/windowsphone/2012/deployment" AppPlatformVersion="8.0">\n'
        f'  <App xmlns="" ProductID="{product_id}" Title="{_xml_escape(app.name)}" '
        f'Version="{_xml_escape(app.version)}" '
        f'Genre="apps.normal" Author="{_xml_escape(app.developer)}" Publisher="{_xml_escape(app.developer)}"/>\n'
        "</Deployment>\n"
    ).encode()
    xaml = (
        '<Deployment xmlns="http://schemas.microsoft.com/client/2007/deployment" '
        f'EntryPointAssembly="{bundle}" EntryPointType="{bundle}.App" RuntimeVersion="4.7.50308.0"/>\n'
    ).encode()
    # A .NET assembly starts as any Windows executable: "MZ".
    _write_zip(out, size, {"WMAppManifest.xml": wm, "AppManifest.xaml": xaml}, f"{bundle}.dll", b"MZ\x90\x00", seed)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _tar_header(name: str, size: int, mode: int = 0o644) -> bytes:
    """A ustar header with fixed owner and time, so the bytes never depend on the machine."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, mode, 1704067200  # 2024-01-01
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _tar_file(name: str, data: bytes) -> bytes:
    """A one-file tar archive (uncompressed: compressed bytes may differ between zlib builds)."""
    return _tar_header(name, len(data)) + data + b"\0" * (-len(data) % 512) + b"\0" * 1024


def _ar_member(name: str, length: int) -> bytes:
    """An ``ar`` member header (name, mtime, owner, group, mode, size, magic)."""
    return f"{name:<16}{1704067200:<12}{0:<6}{0:<6}{'100644':<8}{length:<10}`\n".encode()


def _write_deb(out: BinaryIO, app: DemoApp, package: DemoPackage, size: int, seed: bytes) -> None:
    """A Debian package (``ar``: debian-binary, control.tar, data.tar), as Cydia installs on iOS too."""
    name = package.native_id or app.id
    control = (
        f"Package: {name.lower()}\nName: {app.name}\nVersion: {app.version}\nArchitecture: all\n"
        f"Maintainer: {app.developer}\nDescription: {app.name} (Appbeam demo package, not the real app)\n"
    ).encode()
    control_tar = _tar_file("./control", control)
    head = b"!<arch>\n" + _ar_member("debian-binary", 4) + b"2.0\n"
    head += _ar_member("control.tar", len(control_tar)) + control_tar  # 512-byte blocks: even length
    data_len = max(3 * 512, size - len(head) - 60)
    data_len -= data_len & 1  # ar pads an odd member to an even length: keep the size exact
    # data.tar: one file of filler, then zeros to the member's length (end-of-archive and padding).
    filler_len = (data_len - 512 - 1024) // 512 * 512
    out.write(head + _ar_member("data.tar", data_len))
    out.write(_tar_header(f"./opt/{name}/{_bundle_name(app)}.bin", filler_len))
    for chunk in _filler(seed, filler_len):
        out.write(chunk)
    out.write(b"\0" * (data_len - 512 - filler_len))


def _sis_field(kind: int, body: bytes) -> bytes:
    """A SIS (Symbian 9) field: type, length, data, zero padding to four bytes."""
    return struct.pack("<II", kind, len(body)) + body + b"\0" * (-len(body) % 4)


def _sis_array(element_type: int, elements: list[bytes]) -> bytes:
    """A SISArray: the elements' type once, then each element without its type."""
    body = struct.pack("<I", element_type)
    for element in elements:
        body += struct.pack("<I", len(element)) + element + b"\0" * (-len(element) % 4)
    return _sis_field(_SIS_ARRAY, body)


def _sis_string(text: str) -> bytes:
    return _sis_field(_SIS_STRING, text.encode("utf-16-le"))


(
    _SIS_STRING,
    _SIS_ARRAY,
    _SIS_COMPRESSED,
    _SIS_VERSION,
    _SIS_DATE,
    _SIS_TIME,
    _SIS_DATETIME,
    _SIS_UID,
    _SIS_LANGUAGE,
    _SIS_CONTENTS,
    _SIS_CONTROLLER,
    _SIS_INFO,
    _SIS_LANGUAGES,
    _SIS_OPTIONS,
    _SIS_PREREQUISITES,
    _SIS_DEPENDENCY,
    _SIS_PROPERTIES,
    _SIS_PROPERTY,
    _SIS_FILE_DESCRIPTION,
    _SIS_HASH,
    _SIS_IF,
    _SIS_INSTALL_BLOCK,
    _SIS_DATA,
    _SIS_DATA_UNIT,
    _SIS_FILE_DATA,
    _SIS_OPTION,
    _SIS_CONTROLLER_CHECKSUM,
    _SIS_DATA_CHECKSUM,
    _SIS_BLOB,
    _SIS_DATA_INDEX,
) = (1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 24, 25, 26, 28, 30, 31, 32, 33, 34, 35, 37, 40)
SISX_UID1 = 0x10201A7A  # Symbian 9 installation file; UID2 is 0, UID3 the package UID


def symbian_uid(app_id: str) -> int:
    """A package UID for a demo app: in the range Symbian leaves for testing (0xExxxxxxx)."""
    return 0xE0000000 | int.from_bytes(hashlib.sha256(app_id.encode()).digest()[:4], "big") & 0x0FFFFFFF


def uid_header(uid1: int, uid2: int, uid3: int) -> bytes:
    """The 16-byte UID header of a Symbian file: three UIDs and their checked-UID CRC (UID4:
    CRC-CCITT of the odd bytes in the high half, of the even bytes in the low half)."""
    raw = struct.pack("<III", uid1, uid2, uid3)
    return raw + struct.pack("<I", (binascii.crc_hqx(raw[1::2], 0) << 16) | binascii.crc_hqx(raw[0::2], 0))


def _version_numbers(version: str) -> tuple[int, int, int]:
    numbers = [int(n) for n in re.findall(r"\d+", version)[:3]]
    return tuple(numbers + [0] * (3 - len(numbers)))  # type: ignore[return-value]


def _write_sisx(out: BinaryIO, app: DemoApp, package: DemoPackage, size: int, seed: bytes) -> None:
    """A Symbian 9 installation file: UID header, then SISContents: the two checksums, the
    controller (SISInfo with UID, vendor, names and version; languages; one file to install)
    stored uncompressed, and SISData with that file's bytes."""
    uid = symbian_uid(app.id)
    # SISData holds one SISDataUnit holding one SISFileData: a stored SISCompressed of the file.
    # 60 bytes of headers come before the file's bytes; the head's size does not depend on the
    # file's length (lengths are fixed-width), so the file gets what is left, in whole words.
    filler_len = max(0, size - len(_sisx_head(app, uid, 0, b"\0" * 20, 0, 0)) - 60) // 4 * 4
    data_head = b"".join(
        [
            struct.pack("<II", _SIS_DATA, 52 + filler_len),
            struct.pack("<III", _SIS_ARRAY, 44 + filler_len, _SIS_DATA_UNIT),
            struct.pack("<I", 36 + filler_len),
            struct.pack("<III", _SIS_ARRAY, 28 + filler_len, _SIS_FILE_DATA),
            struct.pack("<I", 20 + filler_len),
            struct.pack("<IIIQ", _SIS_COMPRESSED, 12 + filler_len, 0, filler_len),
        ]
    )
    sha1, crc = hashlib.sha1(), binascii.crc_hqx(data_head, 0)
    for chunk in _filler(seed, filler_len):
        sha1.update(chunk)
        crc = binascii.crc_hqx(chunk, crc)
    out.write(_sisx_head(app, uid, filler_len, sha1.digest(), crc, len(data_head) + filler_len))
    out.write(data_head)
    for chunk in _filler(seed, filler_len):
        out.write(chunk)


def _sisx_head(app: DemoApp, uid: int, filler_len: int, sha1: bytes, data_crc: int, data_len: int) -> bytes:
    """A SISX up to its SISData: UID header, SISContents header, the two checksums (CRC-CCITT of
    the whole controller field and of the whole SISData field) and the controller, stored."""
    major, minor, build = _version_numbers(app.version)
    info = _sis_field(
        _SIS_INFO,
        b"".join(
            [
                _sis_field(_SIS_UID, struct.pack("<I", uid)),
                _sis_string(app.developer),  # the vendor's unique name
                _sis_array(_SIS_STRING, [app.name.encode("utf-16-le")]),  # the app's name, per language
                _sis_array(_SIS_STRING, [app.developer.encode("utf-16-le")]),  # the vendor's name, per language
                _sis_field(_SIS_VERSION, struct.pack("<iii", major, minor, build)),
                _sis_field(
                    _SIS_DATETIME,
                    _sis_field(_SIS_DATE, struct.pack("<HBB", 2024, 0, 1))
                    + _sis_field(_SIS_TIME, struct.pack("<BBB", 0, 0, 0)),
                ),
                struct.pack("<BB", 0, 0),  # install type: standard application; flags: none
            ]
        ),
    )
    target = f"!:\\sys\\bin\\{_bundle_name(app)}.exe"
    description = b"".join(
        [  # a SISFileDescription, as an element of the install block's array
            _sis_string(target),
            _sis_string(""),  # where it goes, its MIME type
            _sis_field(_SIS_HASH, struct.pack("<I", 1) + _sis_field(_SIS_BLOB, sha1)),  # SHA-1 of the file
            struct.pack("<IIQQI", 1, 0, filler_len, filler_len, 0),  # install it; lengths; data unit file 0
        ]
    )
    controller = _sis_field(
        _SIS_CONTROLLER,
        b"".join(
            [
                info,
                _sis_field(_SIS_OPTIONS, _sis_array(_SIS_OPTION, [])),
                _sis_field(_SIS_LANGUAGES, _sis_array(_SIS_LANGUAGE, [struct.pack("<I", 1)])),  # English
                _sis_field(_SIS_PREREQUISITES, _sis_array(_SIS_DEPENDENCY, []) + _sis_array(_SIS_DEPENDENCY, [])),
                _sis_field(_SIS_PROPERTIES, _sis_array(_SIS_PROPERTY, [])),
                _sis_field(
                    _SIS_INSTALL_BLOCK,
                    _sis_array(_SIS_FILE_DESCRIPTION, [description])
                    + _sis_array(_SIS_CONTROLLER, [])
                    + _sis_array(_SIS_IF, []),
                ),
                _sis_field(_SIS_DATA_INDEX, struct.pack("<I", 0)),
            ]
        ),
    )
    compressed = _sis_field(_SIS_COMPRESSED, struct.pack("<IQ", 0, len(controller)) + controller)  # stored
    checksums = _sis_field(_SIS_CONTROLLER_CHECKSUM, struct.pack("<H", binascii.crc_hqx(compressed, 0))) + _sis_field(
        _SIS_DATA_CHECKSUM, struct.pack("<H", data_crc)
    )
    contents_len = len(checksums) + len(compressed) + data_len
    return uid_header(SISX_UID1, 0, uid) + struct.pack("<II", _SIS_CONTENTS, contents_len) + checksums + compressed


def _write_sis(out: BinaryIO, app: DemoApp, package: DemoPackage, size: int, seed: bytes) -> None:
    """A SIS file from before Symbian 9 (EPOC release 6): UID header (UID1 the app, UID2
    0x10003A12, UID3 0x10000419), the 100-byte header, one language (English), one file record,
    the component name, then the file's bytes."""
    uid = symbian_uid(app.id)
    major, minor, _build = _version_numbers(app.version)
    name = app.name.encode("utf-16-le")
    source, target = b"demo.bin", f"!:\\system\\apps\\{_bundle_name(app)}\\{_bundle_name(app)}.app".encode("utf-16-le")
    languages_at, files_at = 100, 102
    name_record_at = files_at + 48
    strings_at = name_record_at + 8
    source_at = strings_at + len(name)
    target_at = source_at + len(source)
    data_at = target_at + len(target)
    filler_len = max(0, size - data_at)
    header = uid_header(uid, 0x10003A12, 0x10000419) + struct.pack(
        "<HHHHHHHHIHHHHIIIIIIIIII16x",
        0,  # header CRC: left 0, nothing here checks it
        1,
        1,
        0,  # languages, files, requisites
        0,
        0,
        0,
        0,  # installed language, files, drive (residual SIS only); capabilities
        200,  # installer version (EPOC release 6)
        0x0001 | 0x0008,  # options: Unicode names, files stored uncompressed
        0,  # type: application
        major,
        minor,
        0,  # version and variant
        languages_at,
        files_at,
        name_record_at,
        0,  # requisites (none: any place), certificates (none)
        name_record_at,
        0,
        name_record_at,  # component name; signature (none); capabilities (none)
        filler_len,
        filler_len,  # space needed when installed
    )
    files = struct.pack(
        "<IIIIIIIIIIII", 0, 0, 0, len(source), source_at, len(target), target_at, filler_len, data_at, filler_len, 0, 0
    )
    out.write(
        header + struct.pack("<H", 1) + files + struct.pack("<II", len(name), strings_at) + name + source + target
    )
    for chunk in _filler(seed, filler_len):
        out.write(chunk)


_WRITERS = {
    "apk": _write_apk,
    "ipa": _write_ipa,
    "pxl": _write_pxl,
    "xap": _write_xap,
    "deb": _write_deb,
    "sis": _write_sis,
    "sisx": _write_sisx,
}


def build_package(
    fmt: str,
    app_id: str,
    name: str,
    version: str,
    version_code: int,
    *,
    size: int = MIN_PACKAGE_SIZE,
    runtime: str = "",
    developer: str = "Appbeam tests",
    seed: bytes = b"",
) -> bytes:
    """One package of format ``fmt`` (apk, ipa, pxl, xap, deb, sis, sisx) in memory, carrying this
    identity, of about ``size`` bytes: what tests of the sender and the receiver push and install."""
    if fmt not in _WRITERS:
        raise ValueError(f"no writer for {fmt!r} packages")
    app = DemoApp(
        app_id,
        name,
        version,
        version_code,
        developer,
        "Apache-2.0",
        "https://example.org",
        "Test",
        name,
        f"{app_id}.png",
        (),
    )
    package = DemoPackage(fmt, size, runtime)
    out = io.BytesIO()
    _WRITERS[fmt](out, app, package, max(size, 4096), seed or hashlib.sha256(f"{app_id}|{fmt}".encode()).digest())
    return out.getvalue()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
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


def _load_manifest(path: Path) -> dict[str, Any]:
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
    new: dict[str, dict[str, Any]] = {}
    result = []
    for app in DEMO_APPS:
        for package in app.packages:
            filename = package_filename(app, package.format)
            path = dest_dir / filename
            size = _target_size(package, scale)
            recipe = _recipe(app, package, size)
            entry: Any = old.get(filename)  # checked below: the manifest may be damaged
            fresh = (
                isinstance(entry, dict)
                and entry.get("recipe") == recipe
                and path.is_file()
                and path.stat().st_size == entry.get("size")
            )
            if not fresh:
                seed = hashlib.sha256(recipe.encode()).digest()
                writer = _WRITERS[package.format]
                _write_atomically(path, lambda out: writer(out, app, package, size, seed))  # noqa: B023 (called at once)
                entry = {"recipe": recipe, "size": path.stat().st_size, "sha256": _sha256_file(path)}
            new[filename] = entry
            result.append(
                GeneratedPackage(
                    app_id=app.id,
                    format=package.format,
                    filename=filename,
                    path=path,
                    sha256=entry["sha256"],
                    size=entry["size"],
                    mime_type=FORMAT_MIME_TYPES[package.format],
                )
            )
    if new != old:
        text = json.dumps(new, indent=1, sort_keys=True)
        _write_atomically(manifest_path, lambda out: out.write(text.encode()))
    return result
