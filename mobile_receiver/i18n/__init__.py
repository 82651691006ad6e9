"""The receiver's languages: English (the source) and Simplified Chinese, the gettext way.

Every sentence a person reads on the phone is marked in the code with ``_()`` (or ``ngettext``
for a count, ``N_`` where a table is built before the language is known) and, in the ``.kv``
files, with ``tr._()`` (``mobile_receiver.ui.language``: the same lookup, but Kivy re-evaluates
the rule when the language changes). ``python -m mobile_receiver.i18n.catalogs update`` collects
them with Babel into ``receiver.pot`` and each ``<lang>/LC_MESSAGES/receiver.po`` (committed: what
a translator edits); ``compile`` writes the ``.mo`` beside it (not committed). A phone or a checkout
without the ``.mo`` compiles the ``.po`` in memory at start-up, so a stale or missing ``.mo`` never
shows English to a Chinese user.

Kivy-free: ``cardview.py`` and the failure sentences translate here without a window. The
language is the Settings choice (``Profile.language``: ``""`` follows the system), else the
system's (``LC_ALL``/``LC_MESSAGES``/``LANG``; on Android the ``java.util.Locale`` default).
``set_language`` tells its listeners, so every screen redraws in the new language at once, and
hands the language to ``shared.i18n`` (the sentences of ``shared.explain`` and ``package_check``,
and the ``Accept-Language`` the relay client sends), so the phone speaks one language throughout.
"""

from __future__ import annotations

import gettext
import io
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from shared import i18n as shared_i18n

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
DOMAIN = "receiver"
SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "zh_CN")
#: Settings' "System" choice: follow the system's language.
SYSTEM = ""

_lock = threading.Lock()
_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = SOURCE_LANGUAGE
_listeners: list[Callable[[str], None]] = []


def po_file(lang: str) -> Path:
    """``zh_CN/LC_MESSAGES/receiver.po``: the catalog a translator edits."""
    return HERE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_file(lang: str) -> Path:
    return po_file(lang).with_suffix(".mo")


def normalize(name: str | None) -> str | None:
    """One of LANGUAGES for a locale name (``zh_CN.UTF-8``, ``zh-Hans-CN``, ``en_GB``), or None
    for a language not translated. Chinese other than the Traditional regions is Simplified."""
    if not name:
        return None
    code = name.replace("-", "_").split(".")[0].split("@")[0].lower()
    if code.startswith("zh"):
        if code in ("zh_tw", "zh_hk", "zh_mo") or "hant" in code:
            return None  # Traditional Chinese: not translated yet
        return "zh_CN"
    if code.startswith("en") or code in ("c", "posix"):
        return SOURCE_LANGUAGE
    return None


def system_locale_name() -> str:
    """The system's locale: Android's default ``Locale`` on a phone, else the POSIX variables."""
    if "ANDROID_ARGUMENT" in os.environ or "ANDROID_PRIVATE" in os.environ:
        try:
            from jnius import autoclass

            return str(autoclass("java.util.Locale").getDefault().toLanguageTag())
        except Exception:  # noqa: BLE001 - no Java here after all: fall back to the variables
            log.debug("no Android locale", exc_info=True)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(var):
            return os.environ[var]
    return ""


def choose_language(setting: str | None = SYSTEM, system: str | None = None) -> str:
    """The language to speak: Settings' choice when it names one of LANGUAGES, else the
    system's, else English."""
    chosen = normalize(setting) if setting else None
    if chosen is None:
        chosen = normalize(system if system is not None else system_locale_name())
    return chosen or SOURCE_LANGUAGE


def load_translations(lang: str) -> gettext.NullTranslations:
    """lang's compiled catalog: the ``.mo`` when it is newer than its ``.po``, else the ``.po``
    compiled now, in memory (Babel); English without a catalog falls back to the source."""
    po, mo = po_file(lang), mo_file(lang)
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    if not po.exists():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def set_language(setting: str | None = SYSTEM, system: str | None = None) -> str:
    """Speak Settings' choice (``""``: the system's language) from now on; every listener hears
    the language chosen. Returns it."""
    global _translations, _language
    lang = choose_language(setting, system)
    try:
        translations = load_translations(lang)
    except Exception:  # noqa: BLE001 - a broken catalog must not stop the phone: English instead
        log.exception("could not load the %s catalog; speaking English", lang)
        lang, translations = SOURCE_LANGUAGE, gettext.NullTranslations()
    shared_i18n.use_language(lang)  # shared.explain's sentences, and the relay's, in it too
    with _lock:
        _translations, _language = translations, lang
        listeners = list(_listeners)
    for listener in listeners:
        listener(lang)
    return lang


def language() -> str:
    """The language spoken now (one of LANGUAGES); also the Babel locale for numbers and dates."""
    return _language


def on_language(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call ``listener(lang)`` after each ``set_language``; returns what unsubscribes it."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def _(message: str) -> str:
    """``message`` (English, the catalog's key) in the language spoken now."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a counted sentence that the language's plural rules pick for ``n``."""
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog without translating it (a table built at import time
    translates each entry with ``_()`` when it is shown)."""
    return message
