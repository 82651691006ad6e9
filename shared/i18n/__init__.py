"""The shared sentences' languages: English (the source) and Simplified Chinese, gettext's way.

``shared/`` says things to people on behalf of both apps: ``explain.py`` (what went wrong:
the relay is down, a certificate is not trusted), ``package_check.py`` (why a file is not
the package it claims to be), the protocol's field checks (``ProtocolError``'s template, in
``protocol.py``, ``messages.py``, ``api_messages.py``: the relay's 400 ``invalid_field``, the
sender's and the phone's checks) and the relay client's own sentences (``relay_client.py``,
``relay_errors.py``, ``package_upload.py``, ``event_stream.py``). Those sentences are marked
with ``_()`` (translated now, in the process's language) or ``say()`` (a :class:`Sentence` kept
as its template and values, written in a language only when someone reads it: the relay
answers each request in its own language).
Values are filled in *after* translation, as named placeholders (``%(place)s``), so a
translator moves them where the language wants them; sizes and counts go in as :class:`Size`
and :class:`Number` and come out in the reader's digits and units (Babel's CLDR data).

The same gettext layout as the relay's store page (``relay_server/i18n``): Babel extracts the
marked strings into ``shared.pot`` beside this file, ``zh_CN/LC_MESSAGES/shared.po`` is the
catalog a translator edits (both committed), ``python -m shared.i18n.catalogs compile`` writes
the ``.mo`` (not committed), and a process started without it (or with one older than its
``.po``) compiles the ``.po`` in memory once.

The language: the sender and the phone call :func:`use_language` with their user's choice (the
sender's ``--lang``, the phone's Settings switch); until they do, the system's (``LANGUAGE``,
``LC_ALL``, ``LC_MESSAGES``, ``LANG``). Any Simplified Chinese (``zh_CN``, ``zh-Hans``, ``zh``)
is ``zh_CN``; everything else, Traditional Chinese included, is English.
"""

from __future__ import annotations

import gettext
import io
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "zh_CN")
_TRADITIONAL = ("zh_tw", "zh_hk", "zh_mo", "zh_hant")


def language_of(tag: str | None) -> str | None:
    """One of LANGUAGES for a language tag or locale name (``zh-CN``, ``zh_Hans_CN``,
    ``zh_CN.UTF-8``, ``en_GB``), or None for a language we do not speak."""
    if not tag:
        return None
    code = tag.strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    if code == "zh" or code.startswith("zh_"):
        return None if code.startswith(_TRADITIONAL) else "zh_CN"
    if code in ("en", "c", "posix") or code.startswith("en_"):
        return "en"
    return None


def system_language() -> str:
    """The system's language, as gettext reads it: the first of ``LANGUAGE`` (a list), ``LC_ALL``,
    ``LC_MESSAGES``, ``LANG`` that is set; English when it is none of ours."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            for tag in value.split(":"):
                found = language_of(tag)
                if found:
                    return found
            return SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


class Domain:
    """One gettext catalog family: ``<directory>/<name>.pot`` and ``<directory>/<lang>/LC_MESSAGES/<name>.po``.

    ``sources`` lists the files whose marked strings belong to it and ``keywords`` the functions
    that mark them (Babel's keyword specs), for ``shared.i18n.catalogs``.
    """

    def __init__(
        self,
        name: str,
        directory: Path,
        *,
        project: str,
        sources: Callable[[], list[Path]],
        keywords: Mapping[str, Any],
    ):
        self.name = name
        self.directory = directory
        self.project = project
        self.sources = sources
        self.keywords = dict(keywords)
        self._loaded: dict[str, gettext.NullTranslations] = {}
        self._lock = threading.Lock()

    def po_file(self, lang: str) -> Path:
        return self.directory / lang / "LC_MESSAGES" / f"{self.name}.po"

    def mo_file(self, lang: str) -> Path:
        return self.po_file(lang).with_suffix(".mo")

    def pot_file(self) -> Path:
        return self.directory / f"{self.name}.pot"

    def compile(self, lang: str, target: Path | io.BytesIO) -> None:
        """Write lang's ``.po`` as a ``.mo`` (a file, or a buffer); fuzzy entries stay out."""
        with self.po_file(lang).open("rb") as po:
            catalog = read_po(po, locale=lang, domain=self.name)
        if isinstance(target, Path):
            with target.open("wb") as mo:
                write_mo(mo, catalog, use_fuzzy=False)
        else:
            write_mo(target, catalog, use_fuzzy=False)

    def translations(self, lang: str) -> gettext.NullTranslations:
        """lang's catalog, loaded once per process (English, the source, needs none)."""
        if lang == SOURCE_LANGUAGE or lang not in LANGUAGES:
            return gettext.NullTranslations()
        with self._lock:
            found = self._loaded.get(lang)
            if found is None:
                found = self._load(lang)
                self._loaded[lang] = found
            return found

    def _load(self, lang: str) -> gettext.NullTranslations:
        po, mo = self.po_file(lang), self.mo_file(lang)
        try:
            if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                with mo.open("rb") as fp:
                    return Translations(fp, domain=self.name)
            buffer = io.BytesIO()
            self.compile(lang, buffer)  # no build step ran: the .po itself, compiled in memory
        except OSError as exc:
            log.warning("no %s catalog for %s (%s): its sentences stay in English", lang, self.name, exc)
            return gettext.NullTranslations()
        buffer.seek(0)
        return Translations(buffer, domain=self.name)

    def forget(self) -> None:
        """Load the catalogs again on next use (after ``catalogs compile`` in the same process)."""
        with self._lock:
            self._loaded.clear()


# ------------------------------------------------------------------------- values in sentences


@dataclass(frozen=True)
class Size:
    """A number of bytes, written as the reader writes sizes (``41.2 MB``)."""

    n: int

    def in_language(self, lang: str) -> str:
        from shared.formatting import local_size

        return local_size(self.n, lang)


@dataclass(frozen=True)
class Number:
    """A count or amount, in the reader's digits and separators (``100,000``)."""

    n: int | float

    def in_language(self, lang: str) -> str:
        from babel.numbers import format_decimal

        return format_decimal(self.n, locale=lang)


@dataclass(frozen=True)
class Sentence:
    """A message of a domain with its values, written in a language only when read.

    ``str()`` is the sentence in the process's language (:func:`use_language`); ``text(lang)``
    in any. A value may itself be a Sentence (a noun phrase such as "an Android app (apk)"), a
    :class:`Size`, a :class:`Number` or anything else (written with ``str()``, as is: names,
    ids, field names).
    """

    msgid: str
    values: Mapping[str, Any] = field(default_factory=dict)
    domain: Domain | None = None

    def text(self, lang: str | None = None) -> str:
        lang = lang or current_language()
        # gettext("") is the catalog's header, never a sentence.
        template = (self.domain or SHARED).translations(lang).gettext(self.msgid) if self.msgid else ""
        if not self.values:
            return template
        return template % {key: _written(value, lang) for key, value in self.values.items()}

    def __str__(self) -> str:
        return self.text()


def _written(value: Any, lang: str) -> str:
    if isinstance(value, Sentence):
        return value.text(lang)
    in_language = getattr(value, "in_language", None)
    if callable(in_language):
        return str(in_language(lang))
    return str(value)


# ------------------------------------------------------------------------- the shared domain


#: The modules of ``shared/`` that say things to people: what went wrong (``explain``), why a
#: file is not a package, why a message does not fit the protocol (``ProtocolError``, whose
#: second argument is its template), and what the relay client met.
_SAYING = (
    "explain.py",
    "package_check.py",
    "protocol.py",
    "messages.py",
    "api_messages.py",
    "relay_errors.py",
    "relay_client.py",
    "package_upload.py",
    "event_stream.py",
)


def _shared_sources() -> list[Path]:
    package = HERE.parent
    return [package / name for name in _SAYING]


SHARED = Domain(
    "shared",
    HERE,
    project="Appbeam shared sentences",
    sources=_shared_sources,
    keywords={"_": None, "N_": None, "say": None, "ProtocolError": (2,)},
)

_language: str | None = None


def use_language(lang: str | None = None) -> str:
    """Speak lang from now on in this process (``zh_CN``, ``zh-CN``, ``en``); None or a language
    we do not speak: the system's. Returns the language now used."""
    global _language
    _language = language_of(lang) if lang else None
    if _language is None:
        _language = system_language()
    return _language


def current_language() -> str:
    """The language shared sentences are written in now (the system's until use_language)."""
    return _language if _language is not None else system_language()


def accept_language(lang: str | None = None) -> str:
    """The ``Accept-Language`` header for lang (the current language when None): what the relay
    client sends, so the relay's refusals and the store page come in its user's language."""
    if (lang or current_language()) == "zh_CN":
        return "zh-CN,zh;q=0.9,en;q=0.8"
    return "en"


def _(message: str) -> str:
    """message in the current language."""
    return SHARED.translations(current_language()).gettext(message)


def N_(message: str) -> str:
    """Marks message for translation without translating it yet (a table built at import)."""
    return message


def say(message: str, **values: Any) -> Sentence:
    """message with its values, in whatever language it is read (``str()``: the current one)."""
    return Sentence(message, values, SHARED)
