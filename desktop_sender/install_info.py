"""Install information for a clicked package, from the page's JSON-LD or from the link itself.

Pure Python, no Qt: the browser hands in what it read (the clicked URL, the HTTP response's
MIME type, file name and size, and the page's ``application/ld+json`` objects) and gets an
:class:`~shared.protocol.InstallInfo` back [0053, 0059]. The store pages' contract is at the
end of ``docs/api.md``: a schema.org ``SoftwareApplication`` whose ``downloadUrl`` or
``appbeam:packages`` contains the clicked URL describes the app.

Just over 400 lines: the link, JSON-LD and local-file rules decide one thing together.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

from shared.formatting import human_size  # noqa: F401 - re-exported: the picker shows sizes through it
from shared.messages import InstallInfo, PackageRef
from shared.package_check import NotAPackage, PackageFacts, inspect_package
from shared.protocol import (
    ProtocolError,
    format_from_filename,
    format_from_mime,
    parse_app_id,
)

log = logging.getLogger(__name__)

#: schema.org types that describe an installable app.
APP_TYPES = frozenset({"SoftwareApplication", "MobileApplication", "WebApplication", "VideoGame"})

_VERSION_SUFFIX = re.compile(r"[-_ ]v?(\d+(?:[.\-_]\d+)*[A-Za-z0-9.\-]*)$")
_NOT_ID_CHARS = re.compile(r"[^A-Za-z0-9._\-]+")
_SIZE = re.compile(r"^\s*([\d.,]+)\s*([kmgt]?i?b(?:ytes?)?)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class PackageLink:
    """What the browser knew about one clicked package before any page lookup.

    A plain value, copied out of Qt's short-lived download request (or a link in a context
    menu, or a page's JavaScript call) so nothing else ever touches that request.
    """

    url: str
    file_name: str = ""
    mime_type: str = ""
    total_bytes: int | None = None
    page_url: str = ""

    @property
    def format(self) -> str | None:
        """The package format, from the MIME type when it is specific, else from the name."""
        return (
            format_from_mime(self.mime_type) or format_from_filename(self.file_name) or format_from_filename(self.url)
        )

    @property
    def display_name(self) -> str:
        """The file name the link points at."""
        if self.file_name:
            return self.file_name
        return unquote(urlsplit(self.url).path.rsplit("/", 1)[-1]) or self.url


def is_package(mime_type: str, file_name: str, url: str = "") -> bool:
    """True when a download is an installable package to push rather than a file to save."""
    return bool(format_from_mime(mime_type) or format_from_filename(file_name) or (url and format_from_filename(url)))


# --------------------------------------------------------------------------- from the link


def app_id_from_file_name(file_name: str) -> tuple[str, str | None]:
    """Guess (app id, version) from a package file name: ``org.videolan.vlc-3.6.0.apk``."""
    stem = file_name.rsplit("/", 1)[-1]
    if format_from_filename(stem):
        stem = stem.rsplit(".", 1)[0]
    version = None
    match = _VERSION_SUFFIX.search(stem)
    if match and match.start() > 0:
        version = match.group(1)
        stem = stem[: match.start()]
    app_id = _NOT_ID_CHARS.sub("-", stem).strip("-._") or "app"
    if not app_id[0].isalnum():
        app_id = "app-" + app_id
    return app_id[:200], version


def info_from_link(link: PackageLink) -> InstallInfo:
    """Install information from the link and the HTTP response alone (no JSON-LD) [0053].

    A package on this computer (``file://``) is read: its own id, name and version (an APK's
    manifest, an IPA's Info.plist...) replace what the file name suggests. It has no package
    URL a phone could fetch: the sender uploads the file to the relay when it pushes
    (``RelayClient.push_file``).
    """
    fmt = link.format
    app_id, version = app_id_from_file_name(link.display_name)
    packages: tuple[PackageRef, ...] = ()
    if fmt and _is_http(link.url):
        packages = (PackageRef(format=fmt, url=link.url, size=_positive(link.total_bytes)),)
    name = link.display_name
    if format_from_filename(name):
        name = name.rsplit(".", 1)[0]
    info = InstallInfo(id=app_id, name=name, version=version, size=_positive(link.total_bytes), packages=packages)
    path = local_path(link.url)
    if fmt and path is not None:
        facts = _local_facts(path, fmt)
        if facts is not None:
            info = _with_facts(info.replace(size=_file_size(path) or info.size), facts)
    return info


def local_path(url: str) -> Path | None:
    """The file a ``file://`` URL names on this computer, or None for any other URL."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    return Path(url2pathname(parts.path))


def is_local(url: str) -> bool:
    """True for a ``file://`` URL: a file on this computer, not from any web site."""
    return local_path(url) is not None


def local_package_problem(link: PackageLink) -> str | None:
    """Why a package on this computer (``file://``) cannot be sent, as a sentence; None when it is
    a package of the format its name says (or not a local file at all)."""
    path, fmt = local_path(link.url), link.format
    if path is None or not fmt:
        return None
    if not path.is_file():
        return _qt().translate("PackageLink", "{file} is no longer on this computer.").format(file=link.display_name)
    try:
        inspect_package(path, fmt)
    except NotAPackage as exc:
        return str(exc)
    except OSError:
        return (
            _qt()
            .translate("PackageLink", "Appbeam can't read {file}. Check that you may open it.")
            .format(file=link.display_name)
        )
    return None


class _Untranslated:
    """Sentences as written (English), where Qt is not loaded: ``appbeam push`` never loads it."""

    @staticmethod
    def translate(context: str, text: str, disambiguation: str | None = None, n: int = -1) -> str:
        return text


class _Translates(Protocol):
    def translate(self, context: str, text: str, disambiguation: str | None = None, n: int = -1) -> str: ...


def _qt() -> _Translates:
    """Qt's translate once the window has loaded Qt, so the picker says these in its language;
    this module itself stays free of Qt."""
    core = sys.modules.get("PySide6.QtCore")
    if core is None:
        return _Untranslated()
    translates: _Translates = core.QCoreApplication
    return translates


def _local_facts(path: Path, fmt: str) -> PackageFacts | None:
    try:
        return inspect_package(path, fmt)
    except (NotAPackage, OSError) as exc:
        log.info("%s is not a %s package: %s", path, fmt, exc)
        return None


def _file_size(path: Path) -> int | None:
    try:
        return _positive(path.stat().st_size)
    except OSError:
        return None


def _with_facts(info: InstallInfo, facts: PackageFacts) -> InstallInfo:
    """``info`` guessed from a file name, with what the package itself says instead."""
    changes: dict[str, Any] = {}
    if facts.app_id:
        try:
            changes["id"] = parse_app_id(facts.app_id)
        except ProtocolError:
            pass  # not an id the protocol carries: keep the one from the file name
    if facts.name:
        changes["name"] = _clip(facts.name, 200)
    if facts.version:
        changes["version"] = _clip(facts.version, 64)
    if facts.version_code is not None and 0 <= facts.version_code <= 2**53 - 1:
        changes["version_code"] = facts.version_code
    return info.replace(**changes)


# --------------------------------------------------------------------------- from JSON-LD


def iter_app_objects(json_ld: Iterable[Any]) -> Iterator[Mapping[str, Any]]:
    """Every schema.org app object in a page's JSON-LD blocks (lists and ``@graph`` flattened)."""
    stack = list(json_ld)[::-1]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, Mapping):
            if isinstance(item.get("@graph"), list):
                stack.extend(reversed(item["@graph"]))
            types = item.get("@type")
            types = types if isinstance(types, list) else [types]
            if any(isinstance(t, str) and t.rsplit("/", 1)[-1] in APP_TYPES for t in types):
                yield item


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _as_text(value: Any) -> str | None:
    """A schema.org text value: a string, a number, or an object with ``value``/``name``/``url``."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, Mapping):
        value = value.get("value") or value.get("name") or value.get("url") or value.get("contentUrl")
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    return text or None


def _normal_url(url: str, base: str) -> str:
    return urldefrag(urljoin(base, url.strip()))[0]


def _file_name(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _package_urls(obj: Mapping[str, Any], base: str) -> list[str]:
    urls = [u for u in _as_list(obj.get("downloadUrl")) if isinstance(u, str)]
    urls += [
        p["url"]
        for p in _as_list(obj.get("appbeam:packages"))
        if isinstance(p, Mapping) and isinstance(p.get("url"), str)
    ]
    return [_normal_url(u, base) for u in urls]


def find_app_object(json_ld: Iterable[Any], clicked_url: str, page_url: str = "") -> Mapping[str, Any] | None:
    """The app object whose download URLs contain ``clicked_url``.

    Exact URL first; then the same path (a mirror or another host name for the same relay);
    then the same file name. With no match there is no install information from the page:
    a page about one app may link to another app's package.
    """
    apps = list(iter_app_objects(json_ld))
    clicked = _normal_url(clicked_url, page_url)
    clicked_path = urlsplit(clicked).path
    clicked_name = _file_name(clicked)
    matchers = (
        lambda u: u == clicked,
        lambda u: clicked_path not in ("", "/") and urlsplit(u).path == clicked_path,
        lambda u: bool(clicked_name) and _file_name(u) == clicked_name,
    )
    for matches in matchers:
        for obj in apps:
            if any(matches(u) for u in _package_urls(obj, page_url)):
                return obj
    return None


def parse_file_size(value: Any) -> int | None:
    """schema.org ``fileSize`` as bytes: ``41234567``, ``"41234567"``, ``"41 MB"``, ``"3.5MiB"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if value > 0 else None
    if not isinstance(value, str):
        return None
    match = _SIZE.match(value)
    if not match:
        return None
    try:
        number = float(match.group(1).replace(",", ""))
    except ValueError:
        return None
    unit = (match.group(2) or "").lower()
    power = "kmgt".find(unit[:1]) + 1 if unit[:1] in ("k", "m", "g", "t") else 0
    size = int(number * (1024 if "i" in unit else 1000) ** power)
    return size if size > 0 else None


def _packages_from(obj: Mapping[str, Any], base: str) -> list[PackageRef]:
    packages: dict[str, PackageRef] = {}
    for i, raw in enumerate(_as_list(obj.get("appbeam:packages"))):
        if not isinstance(raw, Mapping):
            continue
        data = dict(raw)
        if isinstance(data.get("url"), str):
            data["url"] = _normal_url(data["url"], base)
        if isinstance(data.get("size"), str) and data["size"].isdigit():
            data["size"] = int(data["size"])
        try:
            ref = PackageRef.from_dict(data, f"appbeam:packages[{i}].")
        except ProtocolError as exc:
            log.info("ignoring a package in the page's JSON-LD: %s", exc)
            continue
        packages.setdefault(ref.format, ref)
    for url in _as_list(obj.get("downloadUrl")):
        if not isinstance(url, str):
            continue
        url = _normal_url(url, base)
        fmt = format_from_filename(url)
        if fmt and fmt not in packages and _is_http(url):
            packages[fmt] = PackageRef(format=fmt, url=url)
    return list(packages.values())


def info_from_json_ld(obj: Mapping[str, Any], link: PackageLink | None = None) -> InstallInfo:
    """Install information from one schema.org app object, completed by the clicked link."""
    base = (link.page_url if link else "") or ""
    fallback = info_from_link(link) if link else None
    packages = _packages_from(obj, base)
    if link and link.format and _is_http(link.url):
        # The clicked package must be part of the push even when the page forgot to list it.
        clicked = _normal_url(link.url, base)
        if not any(p.url == clicked for p in packages) and all(p.format != link.format for p in packages):
            packages.append(PackageRef(format=link.format, url=clicked, size=_positive(link.total_bytes)))
    app_id = _as_text(obj.get("identifier")) or _as_text(obj.get("@id"))
    if not app_id or _NOT_ID_CHARS.search(app_id) or len(app_id) > 200:
        app_id = fallback.id if fallback else _NOT_ID_CHARS.sub("-", app_id or "app").strip("-._")[:200] or "app"
    icon = _as_text(obj.get("image")) or _as_text(obj.get("thumbnailUrl"))
    icon_url = _normal_url(icon, base) if icon else None
    if icon_url and not _is_http(icon_url):
        icon_url = None
    version_code = obj.get("appbeam:versionCode")
    size = parse_file_size(obj.get("fileSize"))
    if size is None and link and link.format:
        size = next((p.size for p in packages if p.format == link.format and p.size), None) or _positive(
            link.total_bytes
        )
    data = {
        "id": app_id,
        "name": _clip(_as_text(obj.get("name")), 200) or (fallback.name if fallback else None),
        "version": _clip(_as_text(obj.get("softwareVersion")), 64) or (fallback.version if fallback else None),
        "version_code": version_code
        if isinstance(version_code, int) and not isinstance(version_code, bool) and version_code >= 0
        else None,
        "size": size,
        "icon_url": icon_url,
        "runtime": _clip(_runtime(obj), 200),
        "description": _clip(_as_text(obj.get("description")), 2000),
        "packages": [p.to_dict() for p in packages[:16]],
    }
    return InstallInfo.from_dict(data)


def _runtime(obj: Mapping[str, Any]) -> str | None:
    systems = [s for s in (_as_text(v) for v in _as_list(obj.get("operatingSystem"))) if s]
    return ", ".join(systems) or None


def resolve_install_info(link: PackageLink, json_ld: Iterable[Any] | None) -> tuple[InstallInfo, bool]:
    """Install information for ``link``: from the matching JSON-LD object if the page has one.

    Returns ``(info, from_page)``; ``from_page`` is False when only the link was used.
    """
    if json_ld:
        obj = find_app_object(json_ld, link.url, link.page_url)
        if obj is not None:
            try:
                return info_from_json_ld(obj, link), True
            except ProtocolError as exc:
                log.warning("the page's JSON-LD for %s is unusable (%s); using the link", link.url, exc)
    return info_from_link(link), False


def info_from_page_call(value: Any, page_url: str = "") -> InstallInfo:
    """Install information a page passed to ``appbeam.push(...)``: InstallInfo or JSON-LD shape."""
    if isinstance(value, Mapping) and ("@type" in value or "identifier" in value):
        return info_from_json_ld(value, PackageLink(url="", page_url=page_url))
    if not isinstance(value, Mapping):
        raise ProtocolError("app", "must be an object")
    data = dict(value)
    packages = []
    for pkg in _as_list(data.get("packages")):
        if isinstance(pkg, Mapping) and isinstance(pkg.get("url"), str):
            pkg = {**pkg, "url": _normal_url(pkg["url"], page_url)}
        packages.append(pkg)
    data["packages"] = packages
    if isinstance(data.get("icon_url"), str):
        data["icon_url"] = _normal_url(data["icon_url"], page_url)
    return InstallInfo.from_dict(data)


def with_clicked_first(info: InstallInfo, clicked_format: str | None) -> InstallInfo:
    """The same info with the clicked format's package listed first (what the user chose)."""
    if not clicked_format:
        return info
    first = [p for p in info.packages if p.format == clicked_format]
    rest = [p for p in info.packages if p.format != clicked_format]
    return info.replace(packages=tuple(first + rest))


def _clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _positive(value: int | None) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _is_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


__all__ = [
    "PackageLink",
    "app_id_from_file_name",
    "find_app_object",
    "human_size",
    "info_from_json_ld",
    "info_from_link",
    "info_from_page_call",
    "is_local",
    "is_package",
    "iter_app_objects",
    "local_package_problem",
    "local_path",
    "parse_file_size",
    "resolve_install_info",
    "with_clicked_first",
]
