"""What went wrong, in a sentence a person can act on: the one place that turns exceptions
into words for the sender's and the receiver's windows.

``explain(exc)`` reads an exception (the relay client's ``RelayError``, requests/urllib3
network and TLS errors, HTTP answers from package servers, ``OSError``) and returns an
``Explanation``: a short sentence that says what happened and what to do, and whether the
cause is passing (worth retrying by itself) or permanent. No exception text, class name or
URL internals ever reach the sentence; callers log the exception itself for the details.
The sentence is in the language the app chose (``shared.i18n.use_language``; English or
Simplified Chinese), its values (the place, a status, seconds) put in after translation.

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

from shared.i18n import N_, _
from shared.relay_errors import RelayError

#: What the relay's error codes mean to a person (the relay's own message is used otherwise).
#: In English here; ``_relay`` translates them when it reads them (shared/i18n).
RELAY_CODES = {
    "bad_credentials": N_("Wrong username or password."),
    "unauthorized": N_("You are signed out of the relay. Sign in again."),
    "username_taken": N_("That username is taken. Choose another one."),
    "too_many_requests": N_("Too many attempts."),
    "busy": N_("The relay is busy."),
    "storage_full": N_("The relay's disk is full. Its operator has to free some space."),
    "storage_unavailable": N_("The relay cannot save anything right now. Its operator has to fix its storage."),
    "not_associated": N_("That device is not one of yours or a friend's."),
    "not_entitled": N_("That package on the relay is not yours to send."),
    "device_id_unavailable": N_("This device cannot sign in with its current id."),
    "request_timeout": N_("The connection to the relay was too slow."),
    "unknown_push": N_("The relay no longer knows this push."),
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
                _(
                    "Can't make a secure connection to %(place)s: its certificate is not "
                    "trusted or has expired. Check the address, or ask its operator."
                )
                % {"place": place},
                False,
            )
        return Explanation(
            _("Can't make a secure connection to %(place)s. Check the address (http or https?).") % {"place": place},
            False,
        )
    if any(isinstance(c, socket.gaierror) for c in causes) or any(
        "name or service not known" in t or "failed to resolve" in t for t in texts
    ):
        return Explanation(
            _("Can't find %(place)s. Check the address and this device's connection.") % {"place": place}, True
        )
    if any(isinstance(c, (requests.Timeout, socket.timeout, TimeoutError)) for c in causes):
        return Explanation(_("%(subject)s is not answering.") % {"subject": subject}, True)
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or any("connection refused" in t for t in texts):
        return Explanation(_("Can't reach %(place)s: nothing answers there. Is it running?") % {"place": place}, True)
    if any(isinstance(c, (requests.ConnectionError, ConnectionError)) for c in causes):
        return Explanation(_("Can't reach %(place)s.") % {"place": place}, True)
    return None


def _relay(exc: RelayError, place: str) -> Explanation:
    if exc.status is None:  # RelayUnavailable: the request never got an answer
        return _network(exc, place) or Explanation(_("Can't reach %(place)s.") % {"place": place}, True)
    known = RELAY_CODES.get(exc.code)
    if known is not None:
        text = _(known)
    elif exc.message:
        text = _sentence(exc.message)
    else:
        text = _("The relay refused this (HTTP %(status)s).") % {"status": exc.status}
    if exc.code == "too_many_requests" and exc.retry_after:
        text = _("Too many attempts. Try again in %(seconds)s s.") % {"seconds": int(exc.retry_after)}
    return Explanation(text, exc.transient)


def _http(resp: requests.Response, place: str) -> Explanation:
    status = resp.status_code
    if status in (404, 410):
        return Explanation(
            _("The package is no longer on %(place)s (HTTP %(status)s).") % {"place": place, "status": status}, False
        )
    subject = place[:1].upper() + place[1:]
    if status in (401, 403):
        return Explanation(
            _("%(subject)s refused the download (HTTP %(status)s).") % {"subject": subject, "status": status}, False
        )
    if status == 429 or status >= 500:
        return Explanation(
            _("%(subject)s has a problem right now (HTTP %(status)s).") % {"subject": subject, "status": status}, True
        )
    return Explanation(_("%(subject)s answered HTTP %(status)s.") % {"subject": subject, "status": status}, False)


def _os(exc: OSError) -> Explanation | None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Explanation(_("This device is out of storage space. Free some space, then try again."), False)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return Explanation(_("Appbeam can't write its files here. Check the storage permissions."), False)
    return None


def _sentence(text: str) -> str:
    """The relay's messages are lower-case clauses; a person reads a sentence (ending with a
    full stop of its script: the relay answers in the language the client asked for)."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    if text.endswith((".", "!", "?", "\u3002", "\uff01", "\uff1f")):
        return text
    return text + ("\u3002" if _wide(text[-1]) else ".")


def _wide(char: str) -> bool:
    """A CJK character (or full-width punctuation), after which a sentence ends with 。"""
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\uff00" <= char <= "\uffef"


def explain(exc: BaseException, *, place: str | None = None, retry_in: float | None = None) -> Explanation:
    """``exc`` as a sentence. ``place`` names where it happened ("the relay at relay.example",
    "downloads.example.com"); ``retry_in`` adds "Retrying in N s." to a passing cause."""
    where = place or _("the server")
    found: Explanation | None
    if isinstance(exc, RelayError):
        found = _relay(exc, place or _("the relay"))
    elif isinstance(exc, requests.HTTPError) and exc.response is not None:
        found = _http(exc.response, where)
    elif (found := _network(exc, where)) is not None or isinstance(exc, OSError) and (found := _os(exc)) is not None:
        pass
    else:
        found = Explanation(_("Something unexpected went wrong. The details are in the log."), False)
    assert found is not None
    if retry_in is not None and found.transient:
        values = {"sentence": found.text, "seconds": max(1, round(retry_in))}
        found = Explanation(_("%(sentence)s Retrying in %(seconds)s s.") % values, True)
    return found


def relay_place(base_url: str | None) -> str:
    """ "the relay at relay.example:8765", for ``explain(place=...)``."""
    host = host_of(base_url)
    return _("the relay at %(host)s") % {"host": host} if host else _("the relay")
