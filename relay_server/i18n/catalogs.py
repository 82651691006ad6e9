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

Catalogs are written without source locations and sorted, so moving a string in a template
does not touch them. The ``errors`` domain goes through ``shared.i18n.catalogs`` (the same steps
and checks, for Python sources only), whose check also refuses an error sentence built with an
f-string, ``+`` or ``.format`` instead of a template with named placeholders.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

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


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, no_location=True, sort_output=True, ignore_obsolete=True, width=100)
    path.write_bytes(buffer.getvalue())


def _read(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=lang, domain=DOMAIN)


def update() -> None:
    template = extract()
    _write(template, pot_file())
    for lang in TRANSLATED:
        catalog = _read(po_file(lang), lang) if po_file(lang).exists() else Catalog(locale=lang, domain=DOMAIN)
        catalog.update(template)
        _write(catalog, po_file(lang))


def _ids(catalog: Catalog) -> set[tuple[str, str | None]]:
    found = set()
    for message in catalog:
        if message.id:
            found.add((message.id if isinstance(message.id, str) else message.id[0], message.context))
    return found


def problems(lang: str) -> list[str]:
    """Why lang's catalog is not complete, one sentence per entry."""
    name = f"{lang}/LC_MESSAGES/{DOMAIN}.po"
    catalog = _read(po_file(lang), lang)
    found = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.fuzzy:
            found.append(f"{name}: {msgid!r} is fuzzy")
        elif not all((s or "").strip() for s in strings):
            found.append(f"{name}: {msgid!r} is untranslated")
        elif isinstance(message.id, tuple) and len(strings) != catalog.num_plurals:
            found.append(f"{name}: {msgid!r} has {len(strings)} plural forms, {lang} has {catalog.num_plurals}")
    found += [f"{name}: {msgid!r} is obsolete" for msgid in catalog.obsolete]
    return found


def stale(lang: str | None) -> list[str]:
    """What extraction would change in a catalog (the .pot for None): strings new in the code, or gone."""
    path = pot_file() if lang is None else po_file(lang)
    name = path.name if lang is None else f"{lang}/LC_MESSAGES/{DOMAIN}.po"
    code, catalog = _ids(extract()), _ids(_read(path, lang))
    return [f"{name}: new in the code, not in the catalog: {k[0]!r}" for k in sorted(code - catalog, key=str)] + [
        f"{name}: in the catalog, gone from the code: {k[0]!r}" for k in sorted(catalog - code, key=str)
    ]


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
