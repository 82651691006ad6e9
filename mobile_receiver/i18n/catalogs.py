"""``python -m mobile_receiver.i18n.catalogs update|compile|check``: the receiver's catalogs.

- ``update``: Babel reads every ``.py`` and ``.kv`` of ``mobile_receiver/`` (``_()``, ``N_()``,
  ``ngettext()``; ``tr._()`` and ``tr.ngettext()`` in the ``.kv`` rules) into ``receiver.pot`` and
  brings each ``<lang>/LC_MESSAGES/receiver.po`` up to date (new sentences arrive empty, gone ones
  are dropped). Then a translator fills them in: Poedit, or any editor.
- ``compile``: each ``.po`` into its ``.mo`` beside it (not committed; the receiver compiles a
  missing or stale one in memory at start-up).
- ``check`` (``make check``): every entry translated (none empty, none fuzzy, every plural form,
  the same ``{placeholders}`` as the English), extraction finds nothing new or gone, and no
  ``.kv`` rule shows a bare literal (``text: 'Refresh'`` instead of ``text: tr._('Refresh')``).
  Exit status 1, with each problem on a line, otherwise.

Catalogs are written without source locations, so a change elsewhere in a file never touches
them. English is the source language: it needs no catalog.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.mofile import write_mo

from mobile_receiver.i18n import DOMAIN, HERE, mo_file, po_file
from shared.i18n import catalogs

PACKAGE = HERE.parent
POT = HERE / f"{DOMAIN}.pot"
#: The languages with a catalog (English is the source).
TRANSLATED = ("zh_CN",)
#: Literals a .kv rule may show as they are: the product's name, examples of what to type, and
#: each language's name in that language (Settings' choice: whoever cannot read one finds theirs).
NOT_FOR_TRANSLATION = {"Appbeam", "http://192.168.1.10:8765", "ABCD-EFGH", " ", "English", "简体中文"}
_KV_RULE = re.compile(r"^\s*[a-z_]+:\s")
_KV_CALL = re.compile(r"\btr\.(?=(_|ngettext)\()")
_KV_LITERAL = re.compile(r"^\s*(text|hint_text|title|hint|message|action):\s*(['\"])(.*)\2\s*$")
#: Modules that load Kivy rules from a string: checked for bare literals like the .kv files.
KV_IN_PYTHON = ("ui/image_chooser.py",)
_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
#: What a Babel extractor yields: line, function name, message(s), translator comments.
Extracted = tuple[int, Any, Any, Any]


def extract_kv(
    fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str], options: Any
) -> Iterator[Extracted]:
    """Babel extractor for Kivy rules: each ``tr._(...)`` / ``tr.ngettext(...)`` of a line, read
    by Babel's own Python extractor (a rule's value is a Python expression)."""
    for lineno, line in enumerate(fileobj.read().decode("utf-8").splitlines(), start=1):
        if not _KV_RULE.match(line):
            continue  # not a rule's value (a comment, a docstring that mentions tr._)
        for match in _KV_CALL.finditer(line):
            fragment = io.BytesIO(line[match.end() :].encode("utf-8"))
            try:
                found = list(extract_python(fragment, keywords, comment_tags, options))
            except tokenize.TokenError:
                continue  # the rest of the line is not an expression on its own
            for _lineno, funcname, message, comments in found:
                yield lineno, funcname, message, comments


def extract_py(
    fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str], options: Any
) -> Iterator[Extracted]:
    """Babel's Python extractor, and the Kivy rules a module loads from a string of its own."""
    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)
    yield from extract_kv(io.BytesIO(source), keywords, comment_tags, options)


def _method_map() -> list[tuple[str, Any]]:
    """Babel's method map: a pattern and a method's name, or (as here) the extractor itself."""
    return [("i18n/**", "ignore"), ("**.py", extract_py), ("**.kv", extract_kv)]


def template() -> Catalog:
    """Every sentence marked in the receiver's code, as Babel extracts it."""
    catalog = Catalog(
        project="Appbeam",
        domain=DOMAIN,
        fuzzy=False,
        header_comment="# The Appbeam phone app's sentences (mobile_receiver), extracted by Babel.",
        copyright_holder="Appbeam",
        msgid_bugs_address="",
        version="",
    )
    options = {"**.py": {"encoding": "utf-8"}}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE), _method_map(), options, DEFAULT_KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    catalogs.write_catalog(catalog, path, tidy=_tidy_header)


def _tidy_header(po: bytes) -> bytes:
    """The header says what is known: the project, no placeholder address for bug reports."""
    header = b'"Project-Id-Version: Appbeam\\n"\n'
    po = re.sub(rb'"Project-Id-Version: [^"]*"\n', lambda _match: header, po, count=1)
    return re.sub(rb'"Report-Msgid-Bugs-To: [^"]*"\n', b"", po, count=1)


def read(path: Path, lang: str | None = None) -> Catalog:
    return catalogs.read_catalog(path, lang, DOMAIN)


def update() -> None:
    """receiver.pot from the code; each .po brought up to date with it."""
    pot = template()
    _write(pot, POT)
    for lang in TRANSLATED:
        path = po_file(lang)
        catalog = read(path, lang) if path.exists() else Catalog(locale=lang, domain=DOMAIN, fuzzy=False)
        catalog.update(pot, no_fuzzy_matching=True)
        _write(catalog, path)


def compile_all() -> list[str]:
    """Each .po into its .mo; returns the problems (an incomplete catalog still compiles)."""
    failed = []
    for lang in TRANSLATED:
        try:
            catalog = read(po_file(lang), lang)
            with mo_file(lang).open("wb") as f:
                write_mo(f, catalog)
        except Exception as exc:  # noqa: BLE001 - said per catalog, the others still compile
            failed.append(f"could not compile {po_file(lang)}: {exc}")
    return failed


def problems(lang: str, catalog: Catalog | None = None) -> list[str]:
    """Why lang's catalog is not complete, one sentence per entry (``shared.i18n.catalogs``' rules)."""
    catalog = catalog if catalog is not None else read(po_file(lang), lang)
    return catalogs.incomplete(catalog, f"{lang}/{po_file(lang).name}", lang)


def stale(lang: str, pot: Catalog, catalog: Catalog | None = None) -> list[str]:
    """What extraction would change in lang's catalog: sentences new in the code, or gone."""
    catalog = catalog if catalog is not None else read(po_file(lang), lang)
    return catalogs.differences(pot, catalog, f"{lang}/{po_file(lang).name}")


def bare_literals() -> list[str]:
    """``.kv`` rules that show a literal without ``tr._()``: a sentence the catalog never sees."""
    found = []
    for path in [*sorted(PACKAGE.rglob("*.kv")), *(PACKAGE / name for name in KV_IN_PYTHON)]:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _KV_LITERAL.match(line)
            if match and match.group(3) not in NOT_FOR_TRANSLATION and re.search(r"[A-Za-z]", match.group(3)):
                found.append(
                    f"{path.relative_to(PACKAGE.parent)}:{lineno}: {match.group(3)!r} is not marked with tr._()"
                )
    return found


def check() -> list[str]:
    pot = template()
    found = bare_literals()
    for lang in TRANSLATED:
        found += problems(lang) + stale(lang, pot)
    return found


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:] or ["check"])[0]
    if command == "update":
        update()
        return 0
    if command == "compile":
        failed = compile_all()
        for line in failed:
            print(line, file=sys.stderr)
        return 1 if failed else 0
    if command == "check":
        found = check()
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print(
                "Mark the sentence with _() / tr._(), run `python -m mobile_receiver.i18n.catalogs update`, "
                "translate what is new, then check again.",
                file=sys.stderr,
            )
            return 1
        print(f"receiver translations: {', '.join(TRANSLATED)} complete and up to date")
        return 0
    print("usage: python -m mobile_receiver.i18n.catalogs update|compile|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
