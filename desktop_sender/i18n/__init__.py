"""The sender's languages: English (the source) and Simplified Chinese, the way Qt does it.

Strings are marked in the code with ``self.tr()`` / ``QCoreApplication.translate()``;
``pyside6-lupdate`` collects them into ``appbeam_<lang>.ts`` beside this file (the XML a
translator edits, committed); ``pyside6-lrelease`` compiles each into a ``.qm`` (binary, not
committed: ``make translations`` writes it here, and a sender started without it compiles
into the user's cache instead). ``install_translators`` loads the chosen language's ``.qm``
and Qt's own (``qtbase_zh_CN.qm``, shipped with PySide6) so Qt's dialogs speak it too, and
hands the language to ``shared.i18n`` (the sentences of ``shared/explain.py``, the
``Accept-Language`` the relay's store page and API errors follow): one language everywhere.

The language is ``--lang`` when given, else the system's (``LC_ALL``/``LANG`` through
``QLocale.system()``). English needs a ``.qm`` too: ``appbeam_en.ts`` holds only the plural
forms (``%n minute(s)`` as "1 minute" / "5 minutes").
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from shared.i18n import use_language

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication, QTranslator

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SOURCE_LANGUAGE = "en"
_LANGUAGE_PROPERTY = "appbeamLanguage"  # on the QApplication: the language its translators speak
LANGUAGES = ("en", "zh_CN")


def QT_TRANSLATE_NOOP(context: str, source: str) -> str:  # noqa: N802 - Qt's name, which lupdate looks for
    """Marks ``source`` for ``pyside6-lupdate`` in ``context`` and returns it untranslated, as
    Qt's own does; typed as the ``str`` it is (PySide6's stubs say ``object``), so a table of
    marked strings can be given to ``tr()`` without a cast."""
    return source


def ts_file(lang: str) -> Path:
    """``appbeam_zh_CN.ts``: the catalog a translator edits."""
    return HERE / f"appbeam_{lang}.ts"


def choose_language(requested: str | None = None, system: str | None = None) -> str:
    """One of LANGUAGES: the requested one (``zh_CN``, ``zh-CN``, ``zh``), else the system's,
    else English. Any Chinese other than the Traditional regions gets Simplified Chinese."""
    for name in (requested, system if system is not None else _system_locale_name()):
        if not name:
            continue
        code = name.replace("-", "_").split(".")[0].split("@")[0]
        if code.lower().startswith("zh"):
            if code.lower() in ("zh_tw", "zh_hk", "zh_mo", "zh_hant"):
                return SOURCE_LANGUAGE  # Traditional Chinese: not translated yet
            return "zh_CN"
        if code.lower().startswith("en") or code in ("C", "POSIX"):
            return SOURCE_LANGUAGE
        if requested and name == requested:
            return SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def _system_locale_name() -> str:
    # LC_ALL wins over LANG as in every POSIX program; QLocale.system() reads them the same way
    # but is only there once Qt is imported.
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        from PySide6.QtCore import QLocale

        return QLocale.system().name()
    except ImportError:  # pragma: no cover - the sender always has Qt
        return ""


def lrelease_program() -> str | None:
    """``pyside6-lrelease`` of this environment (next to python), or on PATH."""
    beside = Path(sys.executable).with_name("pyside6-lrelease")
    if beside.exists():
        return str(beside)
    return shutil.which("pyside6-lrelease")


def compile_catalog(lang: str, out_dir: Path) -> Path | None:
    """``appbeam_<lang>.qm`` in out_dir, compiled from the ``.ts`` (None if it cannot be)."""
    program = lrelease_program()
    if program is None:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"appbeam_{lang}.qm"
    result = subprocess.run(
        [program, "-silent", str(ts_file(lang)), "-qm", str(target)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not target.exists():
        log.warning("could not compile %s: %s", ts_file(lang).name, result.stderr.strip())
        return None
    return target


def catalog(lang: str) -> Path | None:
    """The compiled catalog for lang: the one ``make translations`` built, else one compiled
    now into the cache (either only when it is newer than its ``.ts``)."""
    source = ts_file(lang)
    if not source.exists():
        return None
    for folder in (HERE, _cache_dir()):
        qm = folder / f"appbeam_{lang}.qm"
        if qm.exists() and qm.stat().st_mtime >= source.stat().st_mtime:
            return qm
    return compile_catalog(lang, _cache_dir())


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "appbeam" / "i18n"


def install_translators(app: QCoreApplication, lang: str) -> list[QTranslator]:
    """Load lang's catalogs into the application (ours and Qt's own) and make it the default
    locale, so numbers, sizes and dates follow it too; the shared sentences (``shared.explain``:
    the relay is down, a sign-in failed) and what the relay is asked for (``Accept-Language``)
    follow through ``shared.i18n``, so no English sentence turns up in a Chinese window. Returns
    the translators installed (a test removes them again with ``app.removeTranslator``)."""
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    use_language(lang)
    QLocale.setDefault(QLocale(lang))
    translators: list[QTranslator] = []
    ours = catalog(lang)
    if ours is not None:
        translator = QTranslator(app)
        if translator.load(str(ours)):
            translators.append(translator)
        else:
            log.warning("could not load %s", ours)
    elif lang != SOURCE_LANGUAGE:
        log.warning("no catalog for %s: the sender stays in English", lang)
    if lang != SOURCE_LANGUAGE:
        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        qtbase = QTranslator(app)
        if qtbase.load(f"qtbase_{lang}", qt_dir):
            translators.append(qtbase)
    for translator in translators:
        app.installTranslator(translator)
    app.setProperty(_LANGUAGE_PROPERTY, lang)
    return translators


def ensure_translators(app: QCoreApplication | None) -> None:
    """A window made without ``appbeam sender`` (tests, scripts) speaks English with its
    plural forms ("5 minutes", not "5 minute(s)"); once a language is set, nothing changes."""
    if app is not None and not app.property(_LANGUAGE_PROPERTY):
        install_translators(app, SOURCE_LANGUAGE)


def forget_language(app: QCoreApplication) -> None:
    """After ``removeTranslator``: the next window sets its language up again, and the shared
    sentences speak the system's language until it does (tests)."""
    app.setProperty(_LANGUAGE_PROPERTY, None)
    use_language(None)
