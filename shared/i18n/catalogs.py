"""``python -m shared.i18n.catalogs update|compile|check``: the shared sentences' catalogs.

- ``update``: Babel extracts every marked string of the modules that speak (``explain.py``,
  ``package_check.py``, the protocol's types, the relay client: ``shared.i18n._SAYING``) into
  ``shared.pot`` and brings each ``.po`` up to date (new strings arrive untranslated, gone ones
  are dropped); a translator then fills them in with any ``.po`` editor.
- ``compile``: each ``.po`` into the ``.mo`` beside it (not committed; a process started
  without it compiles the ``.po`` in memory).
- ``check`` (CI): every entry translated (no empty string, nothing fuzzy or obsolete), extraction
  finds nothing new (the marked strings in the code are exactly those of the ``.pot`` and each
  ``.po``), and no sentence bypasses the marking: an ``Explanation``'s, ``NotAPackage``'s,
  ``ProtocolError``'s or ``RelayError``'s sentence is never an f-string, a ``+`` or a
  ``.format``, but a marked call (or a template). Exit status 1, with each problem on a line,
  otherwise.

The functions take a :class:`shared.i18n.Domain`, so the relay's API errors
(``relay_server/i18n/errors.py``) are checked by the same code. Catalogs are written without
source locations and sorted, so moving a string does not touch them.
"""

from __future__ import annotations

import ast
import io
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from shared.i18n import LANGUAGES, SHARED, SOURCE_LANGUAGE, Domain

TRANSLATED = tuple(lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE)

#: Calls whose argument (by position) is a sentence a person reads: it must be marked.
SHARED_SENTENCES = {"Explanation": 0, "NotAPackage": 0, "RelayError": 2, "RelayUnavailable": 0, "PackageRefused": 0}


def extract(domain: Domain) -> Catalog:
    """Every marked string of the domain's sources, as a template catalog."""
    template = Catalog(project=domain.project, domain=domain.name, fuzzy=False)
    for path in domain.sources():
        for lineno, message, comments, context in extract_from_file("python", str(path), domain.keywords):
            template.add(message, None, [(path.name, lineno)], auto_comments=comments, context=context)
    return template


# ---------------------------------------------------------------- the steps every part's catalogs share
# (relay_server/i18n/catalogs.py and mobile_receiver/i18n/catalogs.py extract their own way and
# use these for the rest, so a catalog is written, read and judged the same everywhere)


def write_catalog(catalog: Catalog, path: Path, tidy: Callable[[bytes], bytes] | None = None) -> None:
    """A catalog as a committed file: no source locations, sorted, wrapped at 100 columns, and
    rewritten only when its messages changed (not for a new date in its header). ``tidy``: a
    part's own touch to the header."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, no_location=True, sort_output=True, ignore_obsolete=True, width=100)
    text = tidy(buffer.getvalue()) if tidy is not None else buffer.getvalue()
    if path.exists() and _without_dates(path.read_bytes()) == _without_dates(text):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)


def _without_dates(po: bytes) -> bytes:
    return re.sub(rb'"(POT-Creation-Date|PO-Revision-Date): [^"]*"\n', b"", po)


def read_catalog(path: Path, lang: str | None, domain: str) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=lang, domain=domain)


def message_ids(catalog: Catalog) -> set[tuple[str, str | None]]:
    """Each entry's (msgid, context); a plural entry by its singular."""
    return {
        (message.id if isinstance(message.id, str) else message.id[0], message.context)
        for message in catalog
        if message.id
    }


def incomplete(catalog: Catalog, name: str, lang: str) -> list[str]:
    """Why a translated catalog is not complete, one sentence per entry: fuzzy, untranslated, a
    plural form missing, placeholders (``%(name)s`` or ``{name}``) not those of the English, obsolete."""
    found = []
    for message in catalog:
        if not message.id:
            continue  # the header
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.fuzzy:
            found.append(f"{name}: {msgid!r} is fuzzy")
        elif not all((s or "").strip() for s in strings):
            found.append(f"{name}: {msgid!r} is untranslated")
        elif isinstance(message.id, tuple) and len(strings) != catalog.num_plurals:
            found.append(f"{name}: {msgid!r} has {len(strings)} plural forms, {lang} has {catalog.num_plurals}")
        elif any(_placeholders(s or "") != _placeholders(msgid) for s in strings):
            found.append(f"{name}: {msgid!r} and its translation have different placeholders")
    found += [f"{name}: {msgid!r} is obsolete" for msgid in catalog.obsolete]
    return found


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)", text)) | {f"{{{n}}}" for n in re.findall(r"\{(\w*)[^{}]*\}", text)}


def differences(code: Catalog, catalog: Catalog, name: str) -> list[str]:
    """What extraction would change in a catalog: strings new in the code, or gone from it."""
    wanted, have = message_ids(code), message_ids(catalog)
    return [f"{name}: new in the code, not in the catalog: {k[0]!r}" for k in sorted(wanted - have, key=str)] + [
        f"{name}: in the catalog, gone from the code: {k[0]!r}" for k in sorted(have - wanted, key=str)
    ]


# ---------------------------------------------------------------- the shared domain (and the relay's errors)


def _read(domain: Domain, path: Path, lang: str | None = None) -> Catalog:
    return read_catalog(path, lang, domain.name)


def update(domain: Domain) -> None:
    template = extract(domain)
    write_catalog(template, domain.pot_file())
    for lang in TRANSLATED:
        path = domain.po_file(lang)
        catalog = (
            _read(domain, path, lang)
            if path.exists()
            else Catalog(locale=lang, domain=domain.name, project=domain.project, fuzzy=False)
        )
        catalog.update(template)
        write_catalog(catalog, path)


def compile_all(domain: Domain) -> None:
    for lang in TRANSLATED:
        domain.compile(lang, domain.mo_file(lang))
    domain.forget()


def _name(domain: Domain, lang: str) -> str:
    return f"{lang}/LC_MESSAGES/{domain.name}.po"


def problems(domain: Domain, lang: str) -> list[str]:
    """Why lang's catalog is not complete, one sentence per entry."""
    return incomplete(_read(domain, domain.po_file(lang), lang), _name(domain, lang), lang)


def stale(domain: Domain, lang: str | None) -> list[str]:
    """What extraction would change in a catalog (the .pot for None): strings new in the code, or gone."""
    path = domain.pot_file() if lang is None else domain.po_file(lang)
    name = path.name if lang is None else _name(domain, lang)
    if not path.exists():
        return [f"{name}: missing"]
    return differences(extract(domain), _read(domain, path, lang), name)


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def unmarked(domain: Domain, sentences: Mapping[str, int]) -> list[str]:
    """Sentences built past the catalog: a call in ``sentences`` (or a marking function itself)
    given an f-string, a ``+``, a ``%`` or a ``.format`` where a literal or a marked call belongs."""
    marking = set(domain.keywords)
    found = []
    for path in domain.sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            callee = _callee(node)
            index = sentences.get(callee)
            if index is None and callee in marking:
                spec = domain.keywords[callee]
                index = 0 if spec is None else spec[0] - 1  # Babel counts arguments from 1
            if index is None or index >= len(node.args):
                continue
            arg = node.args[index]
            if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mod) and isinstance(arg.left, ast.Call):
                arg = arg.left  # _("... %(name)s ...") % {...}: the template is what counts
            built = isinstance(arg, ast.JoinedStr | ast.BinOp) or (
                isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format"
            )
            plain = isinstance(arg, ast.Constant) and isinstance(arg.value, str) and callee not in marking
            if built or plain:
                found.append(
                    f"{path.name}:{arg.lineno}: {callee}() is given a sentence that is not marked for "
                    f"translation (use a template with %(name)s placeholders)"
                )
    return found


def check(domain: Domain, sentences: Mapping[str, int]) -> list[str]:
    """Every problem with the domain's catalogs, one line each (none: complete and up to date)."""
    return [
        *stale(domain, None),
        *[p for lang in TRANSLATED for p in (*problems(domain, lang), *stale(domain, lang))],
        *unmarked(domain, sentences),
    ]


def main(argv: list[str] | None = None, domain: Domain = SHARED, sentences: Mapping[str, int] | None = None) -> int:
    sentences = SHARED_SENTENCES if sentences is None else sentences
    module = "relay_server.i18n.catalogs" if domain is not SHARED else "shared.i18n.catalogs"
    command = (argv if argv is not None else sys.argv[1:] or ["check"])[0]
    if command == "update":
        update(domain)
        return 0
    if command == "compile":
        compile_all(domain)
        return 0
    if command == "check":
        found = check(domain, sentences)
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print(f"Run `python -m {module} update`, translate what is new, then check again.", file=sys.stderr)
            return 1
        print(f"{domain.name} translations: {', '.join(LANGUAGES)} complete and up to date")
        return 0
    print(f"usage: python -m {module} update|compile|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
