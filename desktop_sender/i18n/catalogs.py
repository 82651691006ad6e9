"""``python -m desktop_sender.i18n.catalogs update|compile|check``: the sender's catalogs.

- ``update``: ``pyside6-lupdate`` reads every ``.py`` of ``desktop_sender/`` and brings the
  ``.ts`` files up to date (new strings arrive as ``unfinished``, gone ones are dropped). Then a
  translator fills them in: Qt Linguist (``pyside6-linguist``) or any editor.
- ``compile``: ``pyside6-lrelease`` writes each ``.qm`` beside its ``.ts`` (``make translations``).
- ``check`` (``make check``): every entry translated (nothing ``unfinished``, ``obsolete`` or
  ``vanished``, no empty plural form), and extraction finds nothing new: lupdate run again into
  a copy must give the same messages. Exit status 1, with each problem on a line, otherwise.

Catalogs are written without source locations, so a change elsewhere in a file never touches
them; the context (the class, or the name given to ``translate``) tells a translator where.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from desktop_sender.i18n import HERE, LANGUAGES, SOURCE_LANGUAGE, compile_catalog, ts_file

PACKAGE = HERE.parent
MessageKey = tuple[str, str, str, bool]


def sources() -> list[str]:
    """Every Python file of the sender, in a stable order."""
    return sorted(str(p) for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is missing: it comes with PySide6 (pip install -e '.[test]').")
    return found


def run_lupdate(lang: str, target: Path) -> None:
    """Bring target (a .ts for lang) up to date with the code."""
    options = ["-locations", "none", "-no-obsolete", "-source-language", SOURCE_LANGUAGE, "-target-language", lang]
    if lang == SOURCE_LANGUAGE:
        options.append("-pluralonly")  # English needs only its plural forms: the source is English
    subprocess.run([_tool("pyside6-lupdate"), "-silent", *sources(), *options, "-ts", str(target)], check=True)


def messages(path: Path) -> dict[MessageKey, ET.Element]:
    """Each message of a .ts by (context, source, comment, plural)."""
    found = {}
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            key = (
                name,
                message.findtext("source") or "",
                message.findtext("comment") or "",
                bool(message.get("numerus")),
            )
            found[key] = message
    return found


def problems(path: Path) -> list[str]:
    """Why a .ts is not complete, one sentence per entry."""
    found = []
    for (context, source, _comment, plural), message in messages(path).items():
        translation = message.find("translation")
        kind = translation.get("type") if translation is not None else "missing"
        if kind in ("unfinished", "obsolete", "vanished", "missing"):
            found.append(f"{path.name}: {context}: {source!r} is {kind}")
        elif translation is None:
            continue  # "missing" above: reported already
        elif plural and not all((f.text or "").strip() for f in translation.iter("numerusform")):
            found.append(f"{path.name}: {context}: {source!r} has an empty plural form")
        elif not plural and not (translation.text or "").strip():
            found.append(f"{path.name}: {context}: {source!r} has an empty translation")
    return found


def stale(lang: str) -> list[str]:
    """What lupdate would change in lang's catalog: strings new in the code, or gone from it."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / ts_file(lang).name
        shutil.copyfile(ts_file(lang), copy)
        run_lupdate(lang, copy)
        before, after = set(messages(ts_file(lang))), set(messages(copy))
    name = ts_file(lang).name
    return [f"{name}: new in the code, not in the catalog: {k[0]}: {k[1]!r}" for k in sorted(after - before)] + [
        f"{name}: in the catalog, gone from the code: {k[0]}: {k[1]!r}" for k in sorted(before - after)
    ]


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:] or ["check"])[0]
    if command == "update":
        for lang in LANGUAGES:
            run_lupdate(lang, ts_file(lang))
        return 0
    if command == "compile":
        failed = [lang for lang in LANGUAGES if compile_catalog(lang, HERE) is None]
        for lang in failed:
            print(f"could not compile {ts_file(lang).name}", file=sys.stderr)
        return 1 if failed else 0
    if command == "check":
        found = [p for lang in LANGUAGES for p in (*problems(ts_file(lang)), *stale(lang))]
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print("Run `make translations-update`, translate what is new, then `make check` again.", file=sys.stderr)
            return 1
        print(f"translations: {', '.join(LANGUAGES)} complete and up to date")
        return 0
    print("usage: python -m desktop_sender.i18n.catalogs update|compile|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
