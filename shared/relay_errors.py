"""What goes wrong talking to a relay, as exceptions every part catches: ``RelayError`` with the
relay's error code and message (``shared/explain.py`` turns it into a sentence), and the two
kinds the client makes itself (the relay cannot be reached; a package is not what it claims).

Its own module, below the client, the event stream and the package upload, so each of them can
raise these without importing the others.
"""

from __future__ import annotations

from pathlib import Path

import requests

from shared.api_messages import Error
from shared.i18n import Sentence, _, say
from shared.messages import read
from shared.protocol import ProtocolError


class RelayError(Exception):
    """The relay refused a request, or could not be reached (``status`` is None then).

    ``message`` is the relay's own sentence (already in the language the client asked for,
    ``shared.i18n.accept_language``) or one the client makes itself, a :class:`Sentence`
    written in this process's language when the error is made (``said`` keeps it)."""

    def __init__(self, status: int | None, code: str, message: str | Sentence, retry_after: float | None = None):
        text = str(message)
        super().__init__(f"{text} ({code}{'' if status is None else f', HTTP {status}'})")
        self.status = status
        self.code = code
        self.message = text
        self.said = message if isinstance(message, Sentence) else None
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """True when trying again later may work (relay down, overloaded, rate limited)."""
        return self.status is None or self.status == 429 or self.status >= 500


class RelayUnavailable(RelayError):
    """The relay could not be reached at all (connection refused, timeout, DNS)."""

    def __init__(self, message: str | Sentence):
        super().__init__(None, "unavailable", message)


class PackageRefused(RelayError):
    """The sender checked a package before pushing it and it is not what it claims to be (a web
    page saved as .apk, a download cut short: ``shared.package_check``). Nothing was pushed;
    ``message`` is the sentence to show, ``url`` the package's address."""

    def __init__(self, message: str | Sentence, url: str = "", reason: str = "not_a_package"):
        super().__init__(422, "not_a_package", message)
        self.url = url
        self.reason = reason


def error_from_response(resp: requests.Response) -> RelayError:
    """The relay's JSON error (``shared.api_messages.Error``) as a RelayError, with Retry-After;
    an answer that is not one (a proxy's page) keeps its status and the start of its text."""
    try:
        error = read(resp.json(), Error).error
        code, message = error.code, error.message
    except (ValueError, ProtocolError):  # not JSON, or not the relay's error shape
        code, message = "http_error", (resp.text or resp.reason or _("request failed")).strip()[:300]
    retry_after = resp.headers.get("Retry-After")
    try:
        retry = float(retry_after) if retry_after else None
    except ValueError:
        retry = None
    return RelayError(resp.status_code, code, message, retry)


def unreachable(relay_url: str, exc: BaseException) -> Sentence:
    """Why a request got no answer at all (the cause's own words, from the network library)."""
    return say("cannot reach the relay at %(relay)s: %(problem)s", relay=relay_url, problem=exc)


def unreadable(path: Path, exc: OSError) -> PackageRefused:
    """A package file on this computer that cannot be read, as a sentence to act on."""
    return PackageRefused(
        say(
            "Appbeam can't read %(file)s (%(reason)s). Check that it is still there and that you may open it.",
            file=path.name,
            reason=(exc.strerror or str(exc)).lower(),
        ),
        path.as_uri(),
        "unreadable",
    )
