"""What went wrong, in a sentence a person can act on: the one place that turns exceptions
into words for the sender's and the receiver's windows.

``explain(exc)`` reads an exception (the relay client's ``RelayError``, requests/urllib3
network and TLS errors, HTTP answers from package servers, ``OSError``) and returns an
``Explanation``: a short sentence that says what happened and what to do, and whether the
cause is passing (worth retrying by itself) or permanent. No exception text, class name or
URL internals ever reach the sentence; callers log the exception itself for the details.

    >>> explain(RelayUnavailable(...), retry_in=8).text
    "Can't reach the relay at relay.example. Retrying in 8 s."
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from shared.relay_errors import RelayError

#: What the relay's error codes mean to a person (the relay's own message is used otherwise).
RELAY_CODES = {
    "bad_credentials": "Wrong username or password.",
    "unauthorized": "You are signed out of the relay. Sign in again.",
    "username_taken": "That username is taken. Choose another one.",
    "too_many_requests": "Too many attempts.",
    "busy": "The relay is busy.",
    "storage_full": "The relay's disk is full. Its operator has to free some space.",
    "storage_unavailable": "The relay cannot save anything right now. Its operator has to fix its storage.",
    "not_associated": "That device is not one of yours or a friend's.",
    "not_entitled": "That package on the relay is not yours to send.",
    "device_id_unavailable": "This device cannot sign in with its current id.",
    "request_timeout": "The connection to the relay was too slow.",
    "unknown_push": "The relay no longer knows this push.",
}


@dataclass(frozen=True)
class Explanation:
    """A sentence for a person, and whether trying again later may work by itself."""

    text: str
    transient: bool

    def __str__(self) -> str:
        return self.text


def host_of(url: str | None) -> str:
    """``https://relay.example:8765/api`` -> ``relay.example:8765`` (what a person recognises)."""
    if not url:
        return ""
    parts = urlsplit(url if "//" in url else f"//{url}")
    return parts.netloc or url


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _network(exc: BaseException, place: str) -> Explanation | None:
    """A network failure anywhere in the chain of causes, as a sentence; None if there is none.
    The most telling cause wins (a DNS failure wrapped in a generic connection error)."""
    causes = list(_causes(exc))
    texts = [str(c).lower() for c in causes]
    subject = place[:1].upper() + place[1:]
    if any(isinstance(c, (ssl.SSLError, requests.exceptions.SSLError)) for c in causes):
        if any("certificate" in t or "verify" in t for t in texts):
            return Explanation(
                f"Can't make a secure connection to {place}: its certificate is not "
                "trusted or has expired. Check the address, or ask its operator.",
                False,
            )
        return Explanation(f"Can't make a secure connection to {place}. Check the address (http or https?).", False)
    if any(isinstance(c, socket.gaierror) for c in causes) or any(
        "name or service not known" in t or "failed to resolve" in t for t in texts
    ):
        return Explanation(f"Can't find {place}. Check the address and this device's connection.", True)
    if any(isinstance(c, (requests.Timeout, socket.timeout, TimeoutError)) for c in causes):
        return Explanation(f"{subject} is not answering.", True)
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or any("connection refused" in t for t in texts):
        return Explanation(f"Can't reach {place}: nothing answers there. Is it running?", True)
    if any(isinstance(c, (requests.ConnectionError, ConnectionError)) for c in causes):
        return Explanation(f"Can't reach {place}.", True)
    return None


def _relay(exc: RelayError, place: str) -> Explanation:
    if exc.status is None:  # RelayUnavailable: the request never got an answer
        return _network(exc, place) or Explanation(f"Can't reach {place}.", True)
    text = RELAY_CODES.get(exc.code)
    if text is None:
        text = _sentence(exc.message) if exc.message else f"The relay refused this (HTTP {exc.status})."
    if exc.code == "too_many_requests" and exc.retry_after:
        text = f"Too many attempts. Try again in {int(exc.retry_after)} s."
    return Explanation(text, exc.transient)


def _http(resp: requests.Response, place: str) -> Explanation:
    status = resp.status_code
    if status in (404, 410):
        return Explanation(f"The package is no longer on {place} (HTTP {status}).", False)
    subject = place[:1].upper() + place[1:]
    if status in (401, 403):
        return Explanation(f"{subject} refused the download (HTTP {status}).", False)
    if status == 429 or status >= 500:
        return Explanation(f"{subject} has a problem right now (HTTP {status}).", True)
    return Explanation(f"{subject} answered HTTP {status}.", False)


def _os(exc: OSError) -> Explanation | None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Explanation("This device is out of storage space. Free some space, then try again.", False)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return Explanation("Appbeam can't write its files here. Check the storage permissions.", False)
    return None


def _sentence(text: str) -> str:
    """The relay's messages are lower-case clauses; a person reads a sentence."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def explain(exc: BaseException, *, place: str | None = None, retry_in: float | None = None) -> Explanation:
    """``exc`` as a sentence. ``place`` names where it happened ("the relay at relay.example",
    "downloads.example.com"); ``retry_in`` adds "Retrying in N s." to a passing cause."""
    where = place or "the server"
    found: Explanation | None
    if isinstance(exc, RelayError):
        found = _relay(exc, place or "the relay")
    elif isinstance(exc, requests.HTTPError) and exc.response is not None:
        found = _http(exc.response, where)
    elif (found := _network(exc, where)) is not None or isinstance(exc, OSError) and (found := _os(exc)) is not None:
        pass
    else:
        found = Explanation("Something unexpected went wrong. The details are in the log.", False)
    assert found is not None
    if retry_in is not None and found.transient:
        found = Explanation(f"{found.text} Retrying in {max(1, round(retry_in))} s.", True)
    return found


def relay_place(base_url: str | None) -> str:
    """ "the relay at relay.example:8765", for ``explain(place=...)``."""
    host = host_of(base_url)
    return f"the relay at {host}" if host else "the relay"
