"""The store page's languages: English (the source) and Simplified Chinese, gettext's way.

Strings are marked in ``store.py`` with ``gettext``/``ngettext`` and in the templates with
Jinja2's i18n extension (``_()``, ``{% trans %}``); Babel's extractor collects them into
``store.pot`` beside this file, and ``zh_CN/LC_MESSAGES/store.po`` is the catalog a translator
edits (both committed). The ``.mo`` is binary and not committed: ``python -m
relay_server.i18n.catalogs compile`` writes it beside the ``.po``; a relay started without it (or
with one older than its ``.po``) compiles the ``.po`` in memory instead. Either way each language
is loaded once per process, not per request.

The language is the visitor's choice (``?lang=``, kept in a cookie) or else the browser's
``Accept-Language``: any Simplified Chinese (``zh-CN``, ``zh-Hans``, ``zh``, ``zh-SG``) gets
``zh_CN``; Traditional Chinese and everything else get English, the one the page was written in.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
DOMAIN = "store"
SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "zh_CN")
#: Each language in its own words, for the switch on the page.
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}
#: ``<html lang>`` and ``Content-Language`` (BCP 47).
LANGUAGE_TAGS = {"en": "en", "zh_CN": "zh-CN"}
_TRADITIONAL = ("zh_tw", "zh_hk", "zh_mo", "zh_hant")


def po_file(lang: str) -> Path:
    """``zh_CN/LC_MESSAGES/store.po``: the catalog a translator edits."""
    return HERE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_file(lang: str) -> Path:
    return po_file(lang).with_suffix(".mo")


def pot_file() -> Path:
    return HERE / f"{DOMAIN}.pot"


def language_of(tag: str | None) -> str | None:
    """One of LANGUAGES for a language tag (``zh-CN``, ``zh_Hans_CN``, ``en-GB``), or None when
    the store does not speak it (Traditional Chinese included: not translated yet)."""
    if not tag:
        return None
    code = tag.strip().replace("-", "_").lower()
    if code == "zh" or code.startswith("zh_"):
        return None if code.startswith(_TRADITIONAL) else "zh_CN"
    if code == "en" or code.startswith("en_"):
        return "en"
    return None


def negotiate(chosen: str | None, accepted: list[str]) -> str:
    """The page's language: the visitor's own choice when it is one of ours, else the first of the
    browser's languages (best first) the store speaks, else English. A plain ``zh`` after a
    Traditional tag stands for that Traditional Chinese, which the store does not speak yet."""
    if chosen in LANGUAGES:
        return chosen
    traditional = False
    for tag in accepted:
        code = tag.strip().replace("-", "_").lower()
        traditional = traditional or code.startswith(_TRADITIONAL)
        if code == "zh" and traditional:
            continue  # "zh-TW,zh": Chrome's list for a Traditional reader, whose plain zh is not Simplified
        found = language_of(tag)
        if found:
            return found
    return SOURCE_LANGUAGE


def compile_catalog(lang: str, target: Path | io.BytesIO) -> None:
    """Write lang's ``.po`` as a ``.mo`` (a file, or a buffer)."""
    with po_file(lang).open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    if isinstance(target, Path):
        with target.open("wb") as mo:
            write_mo(mo, catalog, use_fuzzy=False)
    else:
        write_mo(target, catalog, use_fuzzy=False)


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """lang's catalog, loaded once per process. English is the source: its plurals follow
    gettext's own English rule, so it needs no catalog."""
    if lang == SOURCE_LANGUAGE or lang not in LANGUAGES:
        return gettext.NullTranslations()
    po, mo = po_file(lang), mo_file(lang)
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    buffer = io.BytesIO()
    try:
        compile_catalog(lang, buffer)  # no build step ran: the .po itself, compiled in memory
    except OSError as exc:
        log.warning("no %s catalog for the store page (%s): it stays in English", lang, exc)
        return gettext.NullTranslations()
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)
