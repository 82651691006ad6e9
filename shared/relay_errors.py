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
from shared.messages import read
from shared.protocol import ProtocolError


class RelayError(Exception):
    """The relay refused a request, or could not be reached (``status`` is None then)."""

    def __init__(self, status: int | None, code: str, message: str, retry_after: float | None = None):
        super().__init__(f"{message} ({code}{'' if status is None else f', HTTP {status}'})")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """True when trying again later may work (relay down, overloaded, rate limited)."""
        return self.status is None or self.status == 429 or self.status >= 500


class RelayUnavailable(RelayError):
    """The relay could not be reached at all (connection refused, timeout, DNS)."""

    def __init__(self, message: str):
        super().__init__(None, "unavailable", message)


class PackageRefused(RelayError):
    """The sender checked a package before pushing it and it is not what it claims to be (a web
    page saved as .apk, a download cut short: ``shared.package_check``). Nothing was pushed;
    ``message`` is the sentence to show, ``url`` the package's address."""

    def __init__(self, message: str, url: str = "", reason: str = "not_a_package"):
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
        code, message = "http_error", (resp.text or resp.reason or "request failed").strip()[:300]
    retry_after = resp.headers.get("Retry-After")
    try:
        retry = float(retry_after) if retry_after else None
    except ValueError:
        retry = None
    return RelayError(resp.status_code, code, message, retry)


def unreadable(path: Path, exc: OSError) -> PackageRefused:
    """A package file on this computer that cannot be read, as a sentence to act on."""
    return PackageRefused(
        f"Appbeam can't read {path.name} ({(exc.strerror or str(exc)).lower()}). Check that it "
        "is still there and that you may open it.",
        path.as_uri(),
        "unreadable",
    )
