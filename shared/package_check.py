"""Is this file the app package it claims to be? Checked on the sender before it pushes and on
the receiver before it installs.

(Close to 900 lines: one small reader per package format, each only as long as its format
needs, plus the compiled Android manifest and resources.arsc; they share the ZIP and text
helpers and the sentences, and one list of formats is easier to keep true in one module.)

``inspect_package(path, fmt)`` reads only what it needs (the first bytes, a ZIP's table of
contents, a manifest, an ``ar`` member list, a SIS header) and either returns the
:class:`PackageFacts` it found (application id, name, version) or raises :class:`NotAPackage`,
whose ``str()`` is a sentence a person can act on:

    "This file is a web page, not an Android app (apk). The site may need you to sign in first."
    "The download is incomplete: the APK archive is cut short."

What each format must be:

- apk, ipa, pxl, xap (and msix): ZIP archives whose table of contents fits in the file (and in
  ``MAX_ZIP_ENTRIES`` and ``MAX_ZIP_DIRECTORY_BYTES``, measured before it is read), with the
  entry that makes them what they are: an APK has a compiled (binary XML) ``AndroidManifest.xml``,
  read with apkInspector for the application id, versionName and versionCode; an IPA has
  ``Payload/<name>.app/`` (its ``Info.plist`` gives id, name and version); a PXL has
  ``PxlPkg.plist`` at its root; a XAP has ``WMAppManifest.xml`` or ``AppManifest.xaml``.
- deb: an ``ar`` archive whose first member is ``debian-binary`` (``2.x``), with
  ``control.tar*`` and ``data.tar*``; the control file gives Package, Name and Version.
- sis and sisx: a Symbian installation file. Symbian 9 and later (SISX, also often named .sis):
  UID1 0x10201A7A, UID2 0, UID3 the package UID, UID4 the checksum of the three; then one
  SISContents field, whose controller gives the names and version. Before Symbian 9: UID1 the
  app's UID, UID2 0x1000006D (EPOC release 3/5) or 0x10003A12 (release 6), UID3 0x10000419,
  UID4 the checksum. UID4 is Symbian's checked-UID CRC: CRC-CCITT of the 12 UID bytes' odd
  bytes (high half) and even bytes (low half). A SISX is not a ZIP archive.
- appimage (ELF), exe (MZ), msi (OLE compound file), pkg (xar): their magic numbers.

Every format is first checked for the common failure: a web page or a text message (an error,
a sign-in page) saved under a package's name.
"""

from __future__ import annotations

import binascii
import io
import logging
import plistlib
import re
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree import ElementTree

from shared.i18n import N_, Number, Sentence, say

log = logging.getLogger(__name__)

#: What each format is, in words a person knows.
FORMAT_DESCRIPTIONS = {
    "apk": N_("an Android app (apk)"),
    "ipa": N_("an iPhone or iPad app (ipa)"),
    "pxl": N_("an iPhone app (pxl)"),
    "deb": N_("a Debian package (deb)"),
    "sis": N_("a Symbian app (sis)"),
    "sisx": N_("a Symbian app (sisx)"),
    "xap": N_("a Windows Phone app (xap)"),
    "appimage": N_("a Linux app (AppImage)"),
    "flatpak": N_("a Flatpak bundle"),
    "msix": N_("a Windows app (msix)"),
    "exe": N_("a Windows program (exe)"),
    "msi": N_("a Windows installer (msi)"),
    "dmg": N_("a macOS disk image (dmg)"),
    "pkg": N_("a macOS installer (pkg)"),
}

ZIP_FORMATS = frozenset({"apk", "ipa", "pxl", "xap", "msix"})

#: Manifests, plists and control files larger than this are not read (a damaged or hostile file).
MAX_METADATA_BYTES = 8 * 1024 * 1024
#: A ZIP package's table of contents (central directory) is refused, before it is read, when it
#: lists more entries or takes more bytes than these. ``zipfile`` builds an object per entry
#: (about 0.5 KB and 10 µs each): 300,000 empty entries in a 28 MB file took 150 MB and 2.7 s.
#: Real apps stay far below: an APK cannot have more than 65,535 (Android reads no ZIP64), big
#: ones have 5,000-30,000; the largest IPAs a few tens of thousands. An entry of the table takes
#: 46 bytes plus its path (IPA paths run to 100-200 characters): 100,000 entries of 120-byte
#: paths are 16 MiB.
MAX_ZIP_ENTRIES = 100_000
MAX_ZIP_DIRECTORY_BYTES = 16 * 1024 * 1024
_HEAD_BYTES = 4096

SISX_UID1 = 0x10201A7A
SIS_UID2_EPOC = 0x1000006D  # EPOC release 3 and 5
SIS_UID2_ER6 = 0x10003A12  # EPOC release 6 (Symbian 6-8)
SIS_UID3 = 0x10000419


class NotAPackage(ValueError):
    """The file is not the package it claims to be. ``str()`` is a sentence for a person (in the
    process's language, shared/i18n); ``said`` the same sentence in any language (the relay
    answers each upload in its sender's); ``reason`` a short code for programs: web_page, text,
    empty, incomplete, damaged, wrong_kind, missing_part."""

    def __init__(self, sentence: Sentence | str, reason: str):
        self.said = sentence if isinstance(sentence, Sentence) else Sentence(sentence)
        self.sentence = str(self.said)
        super().__init__(self.sentence)
        self.reason = reason


@dataclass(frozen=True)
class PackageFacts:
    """What a package says about itself. Anything it does not say is None."""

    format: str
    app_id: str | None = None
    name: str | None = None
    version: str | None = None
    version_code: int | None = None


def describe(fmt: str) -> str:
    """``apk`` -> ``an Android app (apk)``, in the current language."""
    return str(_described(fmt))


def _described(fmt: str) -> Sentence:
    known = FORMAT_DESCRIPTIONS.get(fmt)
    return say(known) if known else say("a %(format)s package", format=fmt)


def inspect_package(path: str | Path | BinaryIO, fmt: str) -> PackageFacts:
    """Check that the file at ``path`` (or an open binary file) is a package of format ``fmt``;
    return what it says about itself, or raise :class:`NotAPackage` with a sentence saying what
    it is instead."""
    if hasattr(path, "read"):
        return _inspect(path, fmt.lower())  # type: ignore[arg-type]
    with open(path, "rb") as f:
        return _inspect(f, fmt.lower())


def _inspect(f: BinaryIO, fmt: str) -> PackageFacts:
    f.seek(0, io.SEEK_END)
    size = f.tell()
    f.seek(0)
    head = f.read(_HEAD_BYTES)
    if size == 0:
        raise NotAPackage(
            say("The download is empty: there is no %(label)s in it. Try downloading it again.", label=fmt.upper()),
            "empty",
        )
    checker = _CHECKERS.get(fmt)
    if checker is not None and _MAGIC_OK[fmt](head):
        f.seek(0)
        return checker(f, size, fmt)
    if checker is None and fmt in _MAGIC_OK and _MAGIC_OK[fmt](head):
        return PackageFacts(fmt)
    _refuse_by_content(head, fmt)
    if checker is None and fmt not in _MAGIC_OK:
        return PackageFacts(fmt)  # a format with no magic number we can check: not a web page, at least
    raise NotAPackage(
        say(
            "This file is not %(what)s: it does not start the way %(a_format)s does. It may "
            "be damaged, or something else under that name.",
            what=_described(fmt),
            a_format=_a(fmt),
        ),
        "wrong_kind",
    )


# --------------------------------------------------------------------------- what a file is instead


_HTML_STARTS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<meta",
    b"<title",
    b"<link",
    b"<div",
    b"<form",
    b"<p>",
    b"<p ",
    b"<!--",
    b"<style",
    b"<iframe",
    b"<center",
    b"<h1",
)
_OTHER_KINDS = (
    (b"%PDF-", N_("a PDF document")),
    (b"\x89PNG\r\n\x1a\n", N_("an image")),
    (b"\xff\xd8\xff", N_("an image")),
    (b"GIF8", N_("an image")),
    (b"\x1f\x8b", N_("a compressed archive (gzip)")),
    (b"PK\x03\x04", N_("a ZIP archive")),
    (b"PK\x05\x06", N_("an empty ZIP archive")),
    (b"!<arch>\n", N_("a Debian package or another ar archive")),
    (b"\x7fELF", N_("a Linux program")),
    (b"MZ", N_("a Windows program")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", N_("a Windows installer or Office document")),
    (b"xar!", N_("a macOS installer")),
    (b"Rar!", N_("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", N_("a 7-Zip archive")),
)


def _a(fmt: str) -> Sentence:
    """``apk`` -> ``an APK``, ``deb`` -> ``a DEB`` (as the letters are spoken)."""
    if fmt in _SPOKEN_WITH_AN:
        return say("an %(format)s", format=fmt.upper())
    return say("a %(format)s", format=fmt.upper())


_SPOKEN_WITH_AN = frozenset({"apk", "ipa", "sis", "sisx", "msi", "msix", "exe", "appimage"})


def _as_text(head: bytes) -> str | None:
    """The start of the file as text, or None when it is binary."""
    if b"\0" in head:
        return None
    sample = head.removeprefix(b"\xef\xbb\xbf")
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the end of the sample
            return None
        text = sample[: exc.start].decode("utf-8")
    printable = sum(1 for c in text if c.isprintable() or c in "\r\n\t")
    return text if text and printable >= 0.95 * len(text) else None


def looks_like_web_page(head: bytes) -> bool:
    """True when these first bytes of a file are an HTML page."""
    text = _as_text(head)
    if text is None:
        return False
    start = text.lstrip().lower().encode()
    if start.startswith(_HTML_STARTS):
        return True
    return start.startswith(b"<?xml") and (b"<html" in start or b"<!doctype html" in start)


def _refuse_by_content(head: bytes, fmt: str) -> None:
    """Raise the sentence for a file that is plainly something else; return if it is not plain."""
    what = _described(fmt)
    if looks_like_web_page(head):
        raise NotAPackage(
            say("This file is a web page, not %(what)s. The site may need you to sign in first.", what=what), "web_page"
        )
    text = _as_text(head)
    if text is not None:
        raise NotAPackage(
            say(
                "This file is text, not %(what)s. The link may lead to an error message instead of the app.", what=what
            ),
            "text",
        )
    for magic, kind in _OTHER_KINDS:
        if head.startswith(magic):
            raise NotAPackage(say("This file is %(kind)s, not %(what)s.", kind=say(kind), what=what), "wrong_kind")


# --------------------------------------------------------------------------- ZIP formats


def _zip_magic(head: bytes) -> bool:
    # A ZIP starts with a local file header; an APK may also start with its signing block's
    # zero-padded preamble in odd cases, which zipfile still reads (it finds the end record).
    return head.startswith(b"PK\x03\x04")


_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL_ENTRY = struct.Struct("<4s4B4HL2L5H2L")


def _table_of_contents_size(f: BinaryIO, size: int) -> tuple[int, int, int] | None:
    """(entries announced, bytes, where it starts) of a ZIP's central directory, read from its
    end records as ``zipfile`` finds them (a ZIP64 record, when there is one, counts); None
    when there is no end record (``zipfile`` then says the archive is cut short)."""
    tail_start = max(0, size - _EOCD.size - 0xFFFF)
    f.seek(tail_start)
    tail = f.read(size - tail_start)
    if tail[-_EOCD.size :].startswith(b"PK\x05\x06"):
        at = len(tail) - _EOCD.size
    else:
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD.size > len(tail):
            return None
    record = _EOCD.unpack_from(tail, at)
    entries, directory_bytes = record[4], record[5]
    eocd_at = tail_start + at
    start = eocd_at - directory_bytes
    locator_at = eocd_at - _EOCD64_LOCATOR.size
    if locator_at >= _EOCD64.size:
        f.seek(locator_at)
        locator = f.read(_EOCD64_LOCATOR.size)
        if locator.startswith(b"PK\x06\x07"):
            f.seek(locator_at - _EOCD64.size)
            raw = f.read(_EOCD64.size)
            if raw.startswith(b"PK\x06\x06"):
                zip64 = _EOCD64.unpack(raw)
                entries, directory_bytes = zip64[7], zip64[8]
                start = locator_at - _EOCD64.size - directory_bytes
    return entries, directory_bytes, start


def _refuse_huge_table_of_contents(f: BinaryIO, size: int, fmt: str) -> None:
    """NotAPackage for a ZIP whose table of contents is beyond any real app's (``MAX_ZIP_ENTRIES``,
    ``MAX_ZIP_DIRECTORY_BYTES``), found before ``zipfile`` reads it all into memory. Its
    entries are counted as ``zipfile`` would walk them: the count in the end record may lie."""
    found = _table_of_contents_size(f, size)
    if found is None:
        return
    entries, directory_bytes, start = found
    too_big = NotAPackage(
        say(
            "This file is not %(what)s a phone would install: its table of contents is far "
            "larger than any app's (over %(files)s files or %(megabytes)s MB). "
            "It may be damaged, or made to overload whoever opens it.",
            what=_described(fmt),
            files=Number(MAX_ZIP_ENTRIES),
            megabytes=Number(MAX_ZIP_DIRECTORY_BYTES // 2**20),
        ),
        "damaged",
    )
    if entries > MAX_ZIP_ENTRIES or directory_bytes > MAX_ZIP_DIRECTORY_BYTES:
        raise too_big
    if start < 0:
        return  # zipfile says it is damaged
    f.seek(start)
    table = f.read(directory_bytes)
    at = counted = 0
    while at + _CENTRAL_ENTRY.size <= len(table) and table.startswith(b"PK\x01\x02", at):
        counted += 1
        if counted > MAX_ZIP_ENTRIES:
            raise too_big
        name, extra, comment = struct.unpack_from("<3H", table, at + 28)
        at += _CENTRAL_ENTRY.size + name + extra + comment


def _open_zip(f: BinaryIO, size: int, fmt: str) -> zipfile.ZipFile:
    label = fmt.upper()
    _refuse_huge_table_of_contents(f, size, fmt)
    f.seek(0)
    try:
        zf = zipfile.ZipFile(f)
    except zipfile.BadZipFile:
        # It starts like a ZIP but its table of contents (at the end) is missing: cut short.
        raise NotAPackage(
            say(
                "The download is incomplete: the %(label)s archive is cut short. Try downloading it again.", label=label
            ),
            "incomplete",
        ) from None
    except (OSError, ValueError, EOFError, struct.error, NotImplementedError):
        raise NotAPackage(
            say(
                "The %(label)s file is damaged: its table of contents cannot be read. Try downloading it again.",
                label=label,
            ),
            "damaged",
        ) from None
    start_dir = getattr(zf, "start_dir", size)
    for info in zf.infolist():
        # Each entry (its local header and data) must lie before the table of contents.
        end = info.header_offset + 30 + len(info.orig_filename.encode("utf-8", "replace")) + info.compress_size
        if info.header_offset < 0 or end > start_dir:
            zf.close()
            raise NotAPackage(
                say(
                    "The %(label)s file is damaged: its table of contents points past its contents. Try "
                    "downloading it again.",
                    label=label,
                ),
                "damaged",
            )
    return zf


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, fmt: str) -> bytes:
    label = fmt.upper()
    if info.file_size > MAX_METADATA_BYTES:
        raise NotAPackage(
            say("The %(label)s file is damaged: its %(entry)s is implausibly large.", label=label, entry=info.filename),
            "damaged",
        )
    try:
        with zf.open(info) as entry:
            return entry.read(MAX_METADATA_BYTES + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error, NotImplementedError, struct.error):
        raise NotAPackage(
            say(
                "The %(label)s file is damaged: its %(entry)s cannot be read. Try downloading it again.",
                label=label,
                entry=info.filename,
            ),
            "damaged",
        ) from None


def _check_apk(f: BinaryIO, size: int, fmt: str) -> PackageFacts:
    with _open_zip(f, size, fmt) as zf:
        try:
            info = zf.getinfo("AndroidManifest.xml")
        except KeyError:
            raise NotAPackage(
                say(
                    "This file is not an Android app (apk): it has no AndroidManifest.xml. It may be "
                    "another kind of ZIP archive under an app's name."
                ),
                "missing_part",
            ) from None
        raw = _read_entry(zf, info, fmt)
        manifest = read_android_manifest(raw)
        resources = None
        refs = manifest.get("label_ref") is not None or manifest.get("versionName_ref") is not None
        if refs and "resources.arsc" in zf.NameToInfo:
            try:
                resources = _read_entry(zf, zf.getinfo("resources.arsc"), fmt)
            except NotAPackage:
                resources = None
    app_id = manifest.get("package")
    if not app_id:
        raise NotAPackage(
            say("This file is not an installable Android app (apk): its manifest names no application id."), "damaged"
        )
    name, version = manifest.get("label"), manifest.get("versionName")
    if resources is not None:
        if name is None and manifest.get("label_ref") is not None:
            name = resolve_string_resource(resources, manifest["label_ref"])
        if version is None and manifest.get("versionName_ref") is not None:
            version = resolve_string_resource(resources, manifest["versionName_ref"])
    return PackageFacts(fmt, app_id=app_id, name=name, version=version, version_code=manifest.get("versionCode"))


def _app_bundles(names: list[str]) -> list[str]:
    """``Payload/Name.app/`` folders of an IPA, from its entry names."""
    found = []
    for name in names:
        match = re.match(r"Payload/([^/]+\.app)/", name)
        if match and match.group(0) not in found:
            found.append(match.group(0))
    return found


def _plist(raw: bytes, fmt: str, what: str) -> dict[str, Any]:
    try:
        data = plistlib.loads(raw)
    except Exception:  # plistlib raises several kinds (InvalidFileException, ExpatError, ValueError...)
        raise NotAPackage(
            say("The %(label)s file is damaged: its %(what)s cannot be read.", label=fmt.upper(), what=what), "damaged"
        ) from None
    return data if isinstance(data, dict) else {}


def _facts_from_plist(fmt: str, plist: dict[str, Any]) -> PackageFacts:
    def text(*keys: str) -> str | None:
        for key in keys:
            value = plist.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    code = text("CFBundleVersion")
    return PackageFacts(
        fmt,
        app_id=text("CFBundleIdentifier"),
        name=text("CFBundleDisplayName", "CFBundleName"),
        version=text("CFBundleShortVersionString", "CFBundleVersion"),
        version_code=int(code) if code and code.isdigit() and len(code) < 16 else None,
    )


def _check_ipa(f: BinaryIO, size: int, fmt: str) -> PackageFacts:
    with _open_zip(f, size, fmt) as zf:
        bundles = _app_bundles(zf.namelist())
        if not bundles:
            raise NotAPackage(
                say(
                    "This file is not an iPhone or iPad app (ipa): it has no Payload/….app folder. It "
                    "may be another kind of ZIP archive under an app's name."
                ),
                "missing_part",
            )
        info = zf.NameToInfo.get(bundles[0] + "Info.plist")
        if info is None:
            return PackageFacts(fmt)
        return _facts_from_plist(fmt, _plist(_read_entry(zf, info, fmt), fmt, "Info.plist"))


def _check_pxl(f: BinaryIO, size: int, fmt: str) -> PackageFacts:
    with _open_zip(f, size, fmt) as zf:
        info = next((i for i in zf.infolist() if i.filename.lower() == "pxlpkg.plist"), None)
        if info is None:
            raise NotAPackage(
                say(
                    "This file is not an iPhone app (pxl): it has no PxlPkg.plist. It may be another "
                    "kind of ZIP archive under an app's name."
                ),
                "missing_part",
            )
        return _facts_from_plist(fmt, _plist(_read_entry(zf, info, fmt), fmt, "PxlPkg.plist"))


def _check_xap(f: BinaryIO, size: int, fmt: str) -> PackageFacts:
    with _open_zip(f, size, fmt) as zf:
        by_name = {i.filename.lower(): i for i in zf.infolist()}
        info = by_name.get("wmappmanifest.xml")
        if info is None and "appmanifest.xaml" not in by_name:
            raise NotAPackage(
                say(
                    "This file is not a Windows Phone app (xap): it has no WMAppManifest.xml or "
                    "AppManifest.xaml. It may be another kind of ZIP archive under an app's name."
                ),
                "missing_part",
            )
        if info is None:
            return PackageFacts(fmt)
        raw = _read_entry(zf, info, fmt)
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        raise NotAPackage(say("The XAP file is damaged: its WMAppManifest.xml cannot be read."), "damaged") from None
    app = next((e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "App"), None)
    if app is None:
        return PackageFacts(fmt)
    product = (app.get("ProductID") or "").strip("{} ") or None
    return PackageFacts(fmt, app_id=product, name=app.get("Title") or None, version=app.get("Version") or None)


def _check_msix(f: BinaryIO, size: int, fmt: str) -> PackageFacts:
    with _open_zip(f, size, fmt) as zf:
        names = {n.lower() for n in zf.namelist()}
        if "appxmanifest.xml" not in names and "appxmetadata/appxbundlemanifest.xml" not in names:
            raise NotAPackage(say("This file is not a Windows app (msix): it has no AppxManifest.xml."), "missing_part")
    return PackageFacts(fmt)


# --------------------------------------------------------------------------- the APK manifest

#: android: attribute resource ids, for manifests whose attribute names are blanked (obfuscated).
_ANDROID_ATTRS = {0x01010001: "label", 0x0101021B: "versionCode", 0x0101021C: "versionName"}
_TYPE_REFERENCE, _TYPE_STRING, _TYPE_INT_DEC, _TYPE_INT_HEX = 0x01, 0x03, 0x10, 0x11
_NO_INDEX = 0xFFFFFFFF


def _apkinspector() -> Any:
    """apkInspector's AXML module. Its import calls ``logging.basicConfig(level=DEBUG)``; a
    handler on the root logger for the moment of the import makes that a no-op, so importing
    it never changes how the sender or the receiver log."""
    import sys

    if "apkInspector.axml" not in sys.modules:
        root = logging.getLogger()
        guard = logging.NullHandler()
        root.addHandler(guard)
        try:
            import apkInspector.axml  # noqa: F401
        finally:
            root.removeHandler(guard)
    return sys.modules["apkInspector.axml"]


def read_android_manifest(raw: bytes) -> dict[str, Any]:
    """The application id, versionName, versionCode and label of a compiled AndroidManifest.xml,
    as ``{"package", "versionName", "versionCode", "label", "label_ref", "versionName_ref"}``
    (absent ones None); the ``_ref`` entries are resource ids, when the label or the version
    name is a reference into resources.arsc (``@string/app_name``).
    Raises NotAPackage when the manifest is plain text or cannot be decoded."""
    _require_compiled(raw)
    axml = _apkinspector()
    try:
        parsed = axml.ManifestStruct.parse(io.BytesIO(raw))
        strings = parsed.string_pool.string_list
        resids = list(getattr(parsed.resource_map, "resids", []) or [])
        found: dict[str, Any] = {
            "package": None,
            "versionName": None,
            "versionCode": None,
            "label": None,
            "label_ref": None,
            "versionName_ref": None,
        }
        for element in parsed.elements:
            if not isinstance(element, axml.XmlStartElement):
                continue
            tag = _string(strings, element.attrext[1])
            if tag not in ("manifest", "application"):
                continue
            for attr in element.attributes:
                name = _string(strings, attr.name_index)
                if not name and attr.name_index < len(resids):
                    name = _ANDROID_ATTRS.get(resids[attr.name_index], "")
                _note_attribute(found, tag, name, _attribute_value(attr, strings))
    except NotAPackage:
        raise
    except Exception as exc:  # apkInspector raises whatever a damaged manifest leads it to
        log.info("could not decode an AndroidManifest.xml: %r", exc)
        raise NotAPackage(
            say("The APK file is damaged: its AndroidManifest.xml cannot be decoded."), "damaged"
        ) from None
    return found


def _require_compiled(raw: bytes) -> None:
    """NotAPackage unless ``raw`` starts as a compiled (binary XML) manifest."""
    text = _as_text(raw[:_HEAD_BYTES])
    if text is not None and text.lstrip().startswith("<"):
        raise NotAPackage(
            say(
                "This file is not a built Android app (apk): its AndroidManifest.xml is plain text, as in "
                "source code, not the compiled form a phone installs."
            ),
            "wrong_kind",
        )
    if len(raw) < 8 or struct.unpack_from("<H", raw)[0] != 0x0003:
        raise NotAPackage(
            say("The APK file is damaged: its AndroidManifest.xml is not a compiled Android manifest."), "damaged"
        )


def _note_attribute(found: dict[str, Any], tag: str, name: str, value: str | int | tuple[str, int] | None) -> None:
    """Keep one attribute of ``<manifest>`` or ``<application>`` that ``read_android_manifest`` reports."""
    if tag == "manifest":
        if name == "package" and isinstance(value, str):
            found["package"] = value.strip() or None
        elif name == "versionName" and isinstance(value, tuple):
            found["versionName_ref"] = value[1]
        elif name == "versionName" and isinstance(value, (str, int)):
            found["versionName"] = str(value).strip() or None
        elif name == "versionCode" and isinstance(value, int):
            found["versionCode"] = value if value >= 0 else value & 0xFFFFFFFF
    elif tag == "application" and name == "label":
        if isinstance(value, tuple):
            found["label_ref"] = value[1]
        elif isinstance(value, str) and value.strip():
            found["label"] = value.strip()


def _string(strings: list[Any], index: int) -> str:
    return (
        strings[index]
        if isinstance(index, int) and 0 <= index < len(strings) and isinstance(strings[index], str)
        else ""
    )


def _attribute_value(attr: Any, strings: list[Any]) -> str | int | tuple[str, int] | None:
    kind, data = attr.typed_value_datatype, attr.typed_value_data
    if kind == _TYPE_STRING:
        return _string(strings, data)
    if kind in (_TYPE_INT_DEC, _TYPE_INT_HEX):
        return int(data)
    if kind == _TYPE_REFERENCE:
        return ("ref", int(data) & 0xFFFFFFFF)
    if attr.raw_value_index != _NO_INDEX:
        return _string(strings, attr.raw_value_index)
    return None


# --------------------------------------------------------------------------- resources.arsc

_RES_TABLE, _RES_STRING_POOL, _RES_TABLE_PACKAGE, _RES_TABLE_TYPE = 0x0002, 0x0001, 0x0200, 0x0201


def _string_pool(data: bytes, at: int) -> list[str]:
    """The strings of a ResStringPool chunk at ``at``."""
    _kind, header_size, _size = struct.unpack_from("<HHI", data, at)
    count, _styles, flags, strings_start, _styles_start = struct.unpack_from("<IIIII", data, at + 8)
    offsets = struct.unpack_from(f"<{count}I", data, at + header_size)
    base, utf8, out = at + strings_start, bool(flags & 0x100), []
    for offset in offsets:
        pos = base + offset
        if utf8:
            pos += 2 if data[pos] & 0x80 else 1  # length in characters
            length = data[pos]
            if length & 0x80:
                length = ((length & 0x7F) << 8) | data[pos + 1]
                pos += 1
            pos += 1
            out.append(data[pos : pos + length].decode("utf-8", "replace"))
        else:
            length = struct.unpack_from("<H", data, pos)[0]
            pos += 2
            if length & 0x8000:
                length = ((length & 0x7FFF) << 16) | struct.unpack_from("<H", data, pos)[0]
                pos += 2
            out.append(data[pos : pos + 2 * length].decode("utf-16-le", "replace"))
    return out


def resolve_string_resource(arsc: bytes, res_id: int) -> str | None:
    """The string a resource id (``0x7f0b0021``, from ``@string/app_name``) names in an APK's
    resources.arsc, in the first configuration that has it (normally the default); None when it
    is not a plain string or cannot be found."""
    try:
        return _resolve_string(arsc, res_id)
    except (struct.error, IndexError, ValueError, UnicodeError):
        return None


def _resolve_string(arsc: bytes, res_id: int) -> str | None:
    package_id, type_id, entry_id = res_id >> 24, (res_id >> 16) & 0xFF, res_id & 0xFFFF
    kind, header_size, size = struct.unpack_from("<HHI", arsc, 0)
    if kind != _RES_TABLE:
        return None
    values: list[str] = []
    at = header_size
    while at + 8 <= min(size, len(arsc)):
        kind, chunk_header, chunk_size = struct.unpack_from("<HHI", arsc, at)
        if chunk_size < 8:
            return None
        if kind == _RES_STRING_POOL and not values:
            values = _string_pool(arsc, at)
        elif kind == _RES_TABLE_PACKAGE and struct.unpack_from("<I", arsc, at + 8)[0] == package_id:
            found = _find_in_package(arsc, at, chunk_header, chunk_size, type_id, entry_id)
            if found is not None and 0 <= found < len(values):
                return values[found]
            return None
        at += chunk_size
    return None


def _find_in_package(arsc: bytes, at: int, header_size: int, size: int, type_id: int, entry_id: int) -> int | None:
    """Index in the table's value string pool of entry ``entry_id`` of type ``type_id``."""
    pos, end = at + header_size, at + size
    while pos + 8 <= end:
        kind, chunk_header, chunk_size = struct.unpack_from("<HHI", arsc, pos)
        if chunk_size < 8:
            return None
        if kind == _RES_TABLE_TYPE and arsc[pos + 8] == type_id:
            flags = arsc[pos + 9]
            count, entries_start = struct.unpack_from("<II", arsc, pos + 12)
            offsets_at = pos + chunk_header
            offset = None
            if flags & 0x01:  # FLAG_SPARSE: (entry index u16, offset / 4 u16) pairs
                for i in range(count):
                    index, quarter = struct.unpack_from("<HH", arsc, offsets_at + 4 * i)
                    if index == entry_id:
                        offset = quarter * 4
                        break
            elif entry_id < count and flags & 0x02:  # FLAG_OFFSET16: offset / 4 as u16
                quarter = struct.unpack_from("<H", arsc, offsets_at + 2 * entry_id)[0]
                offset = None if quarter == 0xFFFF else quarter * 4
            elif entry_id < count:
                offset = struct.unpack_from("<I", arsc, offsets_at + 4 * entry_id)[0]
                offset = None if offset == _NO_INDEX else offset
            if offset is not None:
                entry = pos + entries_start + offset
                entry_size, entry_flags = struct.unpack_from("<HH", arsc, entry)
                if not entry_flags & 0x0001:  # not a complex (bag) entry
                    value_at = entry + entry_size
                    data_type, data = arsc[value_at + 3], struct.unpack_from("<I", arsc, value_at + 4)[0]
                    return data if data_type == _TYPE_STRING else None
        pos += chunk_size
    return None


# --------------------------------------------------------------------------- deb


def _check_deb(f: BinaryIO, size: int, fmt: str) -> PackageFacts:
    members = []  # (name, data offset, length)
    pos = 8
    while pos < size:
        f.seek(pos)
        header = f.read(60)
        if len(header) < 60 or header[58:60] != b"`\n":
            if len(header) < 60 and not header.strip(b"\n"):
                break  # trailing newline padding
            if len(header) < 60:
                raise NotAPackage(
                    say("The download is incomplete: the DEB archive is cut short. Try downloading it again."),
                    "incomplete",
                )
            raise NotAPackage(
                say("The DEB file is damaged: a member of the archive has a broken header. Try downloading it again."),
                "damaged",
            )
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            length = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise NotAPackage(
                say("The DEB file is damaged: a member of the archive has a broken header."), "damaged"
            ) from None
        start = pos + 60
        if start + length > size:
            raise NotAPackage(
                say("The download is incomplete: the DEB archive is cut short. Try downloading it again."), "incomplete"
            )
        members.append((name, start, length))
        pos = start + length + (length & 1)
    names = [m[0] for m in members]
    if not names or names[0] != "debian-binary":
        raise NotAPackage(
            say("This file is not a Debian package (deb): it is an ar archive without debian-binary first."),
            "missing_part",
        )
    f.seek(members[0][1])
    if not f.read(min(members[0][2], 16)).startswith(b"2."):
        raise NotAPackage(
            say("This file is not a Debian package (deb) this device can read: its format version is not 2.x."),
            "wrong_kind",
        )
    control = next((m for m in members if m[0].startswith("control.tar")), None)
    if control is None or not any(n.startswith("data.tar") for n in names):
        missing = "control.tar" if control is None else "data.tar"
        raise NotAPackage(
            say("This file is not a complete Debian package (deb): it has no %(member)s member.", member=missing),
            "missing_part",
        )
    return _deb_facts(f, control, fmt)


def _deb_facts(f: BinaryIO, control: tuple[str, int, int], fmt: str) -> PackageFacts:
    name, start, length = control
    if length > MAX_METADATA_BYTES:
        return PackageFacts(fmt)
    f.seek(start)
    data = f.read(length)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            member = next((m for m in tar.getmembers() if m.name.lstrip("./") == "control" and m.isfile()), None)
            extracted = tar.extractfile(member) if member is not None else None
            raw = extracted.read(MAX_METADATA_BYTES) if extracted is not None else b""
    except tarfile.CompressionError:
        return PackageFacts(fmt)  # e.g. control.tar.zst, which this Python cannot open: the checks above hold
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError):
        raise NotAPackage(say("The DEB file is damaged: its control archive cannot be read."), "damaged") from None
    fields: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").splitlines():
        if line[:1].isspace() or ":" not in line:
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    return PackageFacts(
        fmt,
        app_id=fields.get("package") or None,
        name=fields.get("name") or None,
        version=fields.get("version") or None,
    )


# --------------------------------------------------------------------------- Symbian


def uid_checksum(uid1: int, uid2: int, uid3: int) -> int:
    """Symbian's checked-UID checksum (UID4) of three UIDs."""
    raw = struct.pack("<III", uid1, uid2, uid3)
    return (binascii.crc_hqx(raw[1::2], 0) << 16) | binascii.crc_hqx(raw[0::2], 0)


def _sis_magic(head: bytes) -> bool:
    if len(head) < 16:
        return False
    uid1, uid2, uid3 = struct.unpack_from("<III", head)
    return uid1 == SISX_UID1 or (uid3 == SIS_UID3 and uid2 in (SIS_UID2_EPOC, SIS_UID2_ER6))


def _check_sis(f: BinaryIO, size: int, fmt: str) -> PackageFacts:
    label = fmt.upper()
    head = f.read(16)
    uid1, uid2, uid3, uid4 = struct.unpack("<IIII", head)
    if uid4 != uid_checksum(uid1, uid2, uid3):
        raise NotAPackage(
            say(
                "The %(label)s file is damaged: the checksum of its header is wrong. Try downloading it again.",
                label=label,
            ),
            "damaged",
        )
    if uid1 == SISX_UID1:
        return _sisx_facts(f, size, fmt)
    return _old_sis_facts(f, size, fmt)


def _read_field_header(data: bytes, pos: int) -> tuple[int, int, int]:
    """(type, length, data start) of a SIS field at ``pos``."""
    kind, length = struct.unpack_from("<II", data, pos)
    pos += 8
    if length & 0x80000000:
        high = struct.unpack_from("<I", data, pos)[0]
        length = (length & 0x7FFFFFFF) | (high << 31)
        pos += 4
    return kind, length, pos


def _padded(n: int) -> int:
    return n + (-n % 4)


def _sisx_facts(f: BinaryIO, size: int, fmt: str) -> PackageFacts:
    label = fmt.upper()
    f.seek(16)
    top = f.read(12)
    if len(top) < 8:
        raise NotAPackage(
            say("The download is incomplete: the %(label)s file is cut short.", label=label), "incomplete"
        )
    kind, length, data_at = _read_field_header(top, 0)
    if kind != 12:  # SISContents
        raise NotAPackage(
            say(
                "The %(label)s file is damaged: its contents do not start where a Symbian installer expects them.",
                label=label,
            ),
            "damaged",
        )
    if 16 + data_at + length > size:
        raise NotAPackage(
            say("The download is incomplete: the %(label)s file is cut short. Try downloading it again.", label=label),
            "incomplete",
        )
    # The controller (names, version) comes before the data: read far enough to reach it.
    f.seek(16 + data_at)
    contents = f.read(min(length, MAX_METADATA_BYTES))
    try:
        controller = _sisx_controller(contents)
        return _sisx_info(controller, fmt) if controller is not None else PackageFacts(fmt)
    except (struct.error, IndexError, zlib.error, UnicodeError, ValueError):
        raise NotAPackage(
            say("The %(label)s file is damaged: its description of the app cannot be read.", label=label), "damaged"
        ) from None


def _sisx_controller(contents: bytes) -> bytes | None:
    pos = 0
    while pos + 8 <= len(contents):
        kind, length, at = _read_field_header(contents, pos)
        if kind == 3:  # SISCompressed: algorithm, uncompressed size, data
            algorithm, uncompressed = struct.unpack_from("<IQ", contents, at)
            body = contents[at + 12 : at + length]
            if uncompressed > MAX_METADATA_BYTES:
                return None
            if algorithm == 1:
                body = zlib.decompressobj().decompress(body, MAX_METADATA_BYTES)
            elif algorithm != 0:
                return None
            return body
        pos = at + _padded(length)
    return None


def _sisx_info(controller: bytes, fmt: str) -> PackageFacts:
    kind, length, at = _read_field_header(controller, 0)
    if kind != 13:  # SISController
        raise ValueError("not a controller")
    kind, length, at = _read_field_header(controller, at)
    if kind != 14:  # SISInfo
        return PackageFacts(fmt)
    info_end = at + length
    fields: list[tuple[int, bytes]] = []
    pos = at
    while pos + 8 <= info_end and len(fields) < 5:
        kind, length, data_at = _read_field_header(controller, pos)
        fields.append((kind, controller[data_at : data_at + length]))
        pos = data_at + _padded(length)
    uid = struct.unpack_from("<I", fields[0][1])[0] if fields and fields[0][0] == 9 else None
    names = _sis_string_array(fields[2][1]) if len(fields) > 2 and fields[2][0] == 2 else []
    version = None
    if len(fields) > 4 and fields[4][0] == 4:
        major, minor, build = struct.unpack_from("<iii", fields[4][1])
        version = f"{major}.{minor}.{build}"
    return PackageFacts(
        fmt, app_id=f"0x{uid:08x}" if uid is not None else None, name=names[0] if names else None, version=version
    )


def _sis_string_array(data: bytes) -> list[str]:
    element_type = struct.unpack_from("<I", data)[0]
    out, pos = [], 4
    while pos + 4 <= len(data) and element_type == 1:
        length = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        if length & 0x80000000:
            length = (length & 0x7FFFFFFF) | (struct.unpack_from("<I", data, pos)[0] << 31)
            pos += 4
        out.append(data[pos : pos + length].decode("utf-16-le", "replace"))
        pos += _padded(length)
    return out


def _old_sis_facts(f: BinaryIO, size: int, fmt: str) -> PackageFacts:
    label = fmt.upper()
    f.seek(0)
    header = f.read(68)
    if len(header) < 68:
        raise NotAPackage(
            say("The download is incomplete: the %(label)s file is cut short.", label=label), "incomplete"
        )
    uid1 = struct.unpack_from("<I", header)[0]
    languages, files = struct.unpack_from("<HH", header, 18)
    (options,) = struct.unpack_from("<H", header, 36)
    major, minor = struct.unpack_from("<HH", header, 40)
    files_at, name_at = struct.unpack_from("<I", header, 52)[0], struct.unpack_from("<I", header, 64)[0]
    if files_at > size or name_at > size:
        raise NotAPackage(
            say("The download is incomplete: the %(label)s file is cut short. Try downloading it again.", label=label),
            "incomplete",
        )
    name = None
    if languages:
        f.seek(name_at)
        record = f.read(8)
        if len(record) == 8:
            length, pointer = struct.unpack("<II", record)
            if pointer + length > size:
                raise NotAPackage(
                    say("The download is incomplete: the %(label)s file is cut short.", label=label), "incomplete"
                )
            if length <= 1024:
                f.seek(pointer)
                raw = f.read(length)
                name = (raw.decode("utf-16-le", "replace") if options & 0x0001 else raw.decode("latin-1")).strip("\0 ")
    return PackageFacts(fmt, app_id=f"0x{uid1:08x}", name=name or None, version=f"{major}.{minor}")


# --------------------------------------------------------------------------- dispatch

_CHECKERS: dict[str, Callable[[BinaryIO, int, str], PackageFacts]] = {
    "apk": _check_apk,
    "ipa": _check_ipa,
    "pxl": _check_pxl,
    "xap": _check_xap,
    "msix": _check_msix,
    "deb": _check_deb,
    "sis": _check_sis,
    "sisx": _check_sis,
}

_MAGIC_OK: dict[str, Callable[[bytes], bool]] = {
    "apk": _zip_magic,
    "ipa": _zip_magic,
    "pxl": _zip_magic,
    "xap": _zip_magic,
    "msix": _zip_magic,
    "deb": lambda head: head.startswith(b"!<arch>\n"),
    "sis": _sis_magic,
    "sisx": _sis_magic,
    "appimage": lambda head: head.startswith(b"\x7fELF"),
    "exe": lambda head: head.startswith(b"MZ"),
    "msi": lambda head: head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
    "pkg": lambda head: head.startswith(b"xar!"),
}
