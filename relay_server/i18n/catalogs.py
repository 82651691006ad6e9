"""``python -m relay_server.i18n.catalogs update|compile|check``: the store page's catalogs, and
the API's error sentences (domain ``errors``, relay_server/i18n/errors.py) with them.

- ``update``: Babel extracts every marked string of the store (``store.py``, ``i18n/formats.py``
  and the templates, through Jinja2's own extractor) into ``store.pot`` and brings each ``.po``
  up to date (new strings arrive untranslated, gone ones are dropped). Then a translator fills
  them in with any ``.po`` editor (Poedit, Lokalize, a text editor).
- ``compile``: each ``.po`` into the ``.mo`` beside it (not committed; a relay started without
  it compiles the ``.po`` in memory).
- ``check`` (CI): every entry translated (no empty string or plural form, nothing fuzzy or
  obsolete), and extraction finds nothing new: the strings in the code are exactly the ones in
  ``store.pot`` and in each ``.po``. Exit status 1, with each problem on a line, otherwise.

Catalogs are written, read and judged by ``shared.i18n.catalogs`` (without source locations
and sorted, so moving a string in a template does not touch them). The ``errors`` domain goes
through it whole (the same steps and checks, for Python sources only), whose check also refuses
an error sentence built with an f-string, ``+`` or ``.format`` instead of a template with named
placeholders.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file

from relay_server.i18n import DOMAIN, HERE, LANGUAGES, SOURCE_LANGUAGE, compile_catalog, mo_file, po_file, pot_file
from relay_server.i18n.errors import ERRORS, SENTENCES
from shared.i18n import catalogs as domains

PACKAGE = HERE.parent
PROJECT = "Appbeam relay store"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "trimmed": "false"}
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE)


def sources() -> list[tuple[Path, str]]:
    """What the store shows, each with its extraction method, in a stable order."""
    python = [PACKAGE / "store.py", HERE / "formats.py"]
    templates = sorted((PACKAGE / "templates").glob("*.html"))
    return [(p, "python") for p in python] + [(p, "jinja2.ext:babel_extract") for p in templates]


def extract() -> Catalog:
    """Every marked string of the store, as a template catalog."""
    template = Catalog(project=PROJECT, domain=DOMAIN, fuzzy=False)
    for path, method in sources():
        options = JINJA_OPTIONS if method.startswith("jinja2") else {}
        for lineno, message, comments, context in extract_from_file(method, str(path), KEYWORDS, options=options):
            template.add(
                message,
                None,
                [(path.name, lineno)],  # written without locations: only for messages while extracting
                auto_comments=comments,
                context=context,
            )
    return template


def _read(path: Path, lang: str | None = None) -> Catalog:
    return domains.read_catalog(path, lang, DOMAIN)


def update() -> None:
    template = extract()
    domains.write_catalog(template, pot_file())
    for lang in TRANSLATED:
        catalog = _read(po_file(lang), lang) if po_file(lang).exists() else Catalog(locale=lang, domain=DOMAIN)
        catalog.update(template)
        domains.write_catalog(catalog, po_file(lang))


def problems(lang: str) -> list[str]:
    """Why lang's catalog is not complete, one sentence per entry."""
    return domains.incomplete(_read(po_file(lang), lang), f"{lang}/LC_MESSAGES/{DOMAIN}.po", lang)


def stale(lang: str | None) -> list[str]:
    """What extraction would change in a catalog (the .pot for None): strings new in the code, or gone."""
    path = pot_file() if lang is None else po_file(lang)
    name = path.name if lang is None else f"{lang}/LC_MESSAGES/{DOMAIN}.po"
    return domains.differences(extract(), _read(path, lang), name)


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:] or ["check"])[0]
    if command == "update":
        update()
        domains.update(ERRORS)
        return 0
    if command == "compile":
        for lang in TRANSLATED:
            compile_catalog(lang, mo_file(lang))
        domains.compile_all(ERRORS)
        return 0
    if command == "check":
        found = [*stale(None)] + [p for lang in TRANSLATED for p in (*problems(lang), *stale(lang))]
        found += domains.check(ERRORS, SENTENCES)
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print(
                "Run `python -m relay_server.i18n.catalogs update`, translate what is new, then check again.",
                file=sys.stderr,
            )
            return 1
        print(f"store and API error translations: {', '.join(LANGUAGES)} complete and up to date")
        return 0
    print("usage: python -m relay_server.i18n.catalogs update|compile|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
