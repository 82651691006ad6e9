"""Pairing codes, shared by the relay, the sender and the receiver: a phone joins an account by a
code (or the QR code that carries it) that a signed-in device of the account made, instead of its
password (issue 14).

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L, no U), shown as
``ABCD-EFGH``; about 40 bits, good for ten minutes and once, and claims are rate-limited per
address like logins, so guessing one in time is hopeless. The QR code carries the same code,
the relay's address and the pairing computer's key fingerprint:
``appbeam://pair?relay=<url>&code=<code>&fp=<fingerprint>``. Only the code's SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

#: Letters and digits a person cannot mistake for one another.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
#: Seconds a code stays good.
PAIRING_TTL = 600
QR_SCHEME = "appbeam"


class BadCode(ValueError):
    """Not something that could be a pairing code (wrong length or characters)."""


def new_code() -> str:
    """A fresh random code, as people see it: ``ABCD-EFGH``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise(code: str) -> str:
    """What a person typed, as the code it means (case, spaces and dashes do not matter);
    raises ``BadCode`` when it cannot be a code."""
    cleaned = "".join(ch for ch in str(code).upper() if ch not in " -_\t")
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        raise BadCode(f"a pairing code is {CODE_LENGTH} letters and digits, like ABCD-EFGH")
    return cleaned


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def expiry(now: datetime) -> datetime:
    return now + timedelta(seconds=PAIRING_TTL)


def qr_payload(relay_url: str, code: str, fingerprint: str | None) -> str:
    """What the QR code says: everything a phone needs to pair, and nothing secret beyond the code."""
    query = {"relay": relay_url.rstrip("/"), "code": code}
    if fingerprint:
        query["fp"] = fingerprint
    return f"{QR_SCHEME}://pair?{urlencode(query)}"


def parse_qr_payload(text: str) -> dict[str, str]:
    """The relay address, code and fingerprint from a QR payload; ValueError if it is not one."""
    parts = urlsplit(text.strip())
    if parts.scheme != QR_SCHEME or parts.netloc != "pair":
        raise ValueError("this is not an Appbeam pairing code")
    values = {k: v[0] for k, v in parse_qs(parts.query).items() if v}
    if "relay" not in values or "code" not in values:
        raise ValueError("this pairing code is incomplete")
    normalise(values["code"])
    return values


def is_past(moment: datetime, now: datetime) -> bool:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment <= now
