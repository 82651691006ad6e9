"""The relay API's error sentences in the language each request asks for (``Accept-Language``).

A refused request's body keeps its stable ``code`` (what programs compare) and gives its
``message`` in English or Simplified Chinese, with the store page's matching rules
(``relay_server.i18n.negotiate``: ``zh-CN``, ``zh-Hans``, ``zh`` are Simplified Chinese;
Traditional Chinese and everything else English). English is the source, byte for byte what
older clients and the tests read.

A domain of its own, ``errors`` (``errors.pot`` beside ``store.pot``, ``zh_CN/LC_MESSAGES/errors.po``),
not more entries in ``store``: its readers are the apps' users (the sender, the phone, the
extension show the message), its sources are the API modules rather than the store's templates,
and a store page never loads the API's hundred sentences (nor the API the page's). The catalogs
are checked, updated and compiled with the store's by ``python -m relay_server.i18n.catalogs``.

Raise sites write the English template and its values as named placeholders::

    raise ApiError(404, "unknown_device", "you have no device %(device)s", device=repr(device_id))

``ApiError`` keeps them as a :class:`shared.i18n.Sentence` and ``relay_server.errors`` writes it
in the request's language when it answers; sizes and counts go in as ``Size``/``Number``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import has_request_context, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from relay_server.i18n import HERE, negotiate
from shared.i18n import Domain, Sentence

PACKAGE = HERE.parent

#: The functions whose argument (Babel counts from 1) is an error sentence.
KEYWORDS = {
    "ApiError": (3,),
    "bad_request": (1,),
    "not_found": (1,),
    "error_response": (3,),
    "raw_error": (3,),
    "N_": None,
    "said": None,
}
#: The same calls, by Python's index, for the check that no sentence is built past the catalog.
SENTENCES = {"ApiError": 2, "bad_request": 0, "not_found": 0, "error_response": 2, "raw_error": 2}


def sources() -> list[Path]:
    """Every module of the relay that can refuse a request (the store page has its own domain)."""
    return sorted((PACKAGE / "api").glob("*.py")) + sorted(PACKAGE.glob("*.py"))


ERRORS = Domain("errors", HERE, project="Appbeam relay API errors", sources=sources, keywords=KEYWORDS)


def N_(message: str) -> str:
    """Marks an error sentence kept in a table (written in a language when it is sent)."""
    return message


def said(message: str, **values: Any) -> Sentence:
    """An error sentence with its values, for an exception that ``ApiError`` passes on."""
    return Sentence(message, values, ERRORS)


def request_language() -> str:
    """The language the current request asks for (English outside a request)."""
    if not has_request_context():
        return "en"
    return negotiate(None, [tag for tag, _quality in request.accept_languages])


def header_language(accept_language: str | None) -> str:
    """The language an ``Accept-Language`` value asks for, by the same rules as
    :func:`request_language`: for the HTTP fronts, which answer some refusals (a malformed
    request, a body too slow or too large) before any Flask request exists."""
    if not accept_language:
        return "en"
    accepted = parse_accept_header(accept_language, LanguageAccept)
    return negotiate(None, [tag for tag, _quality in accepted])


#: ``Content-Language`` for each language an error is written in.
CONTENT_LANGUAGE = {"en": "en", "zh_CN": "zh-CN"}


def in_language(message: str | Sentence, lang: str) -> str:
    """message written in lang: a Sentence whole, a plain string through the catalog."""
    if isinstance(message, Sentence):
        return message.text(lang)
    return ERRORS.translations(lang).gettext(message) if message else message


def in_request_language(message: str | Sentence) -> str:
    """message written for the current request's reader."""
    return in_language(message, request_language())
