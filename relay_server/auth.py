"""Passwords (argon2) and per-device bearer tokens (random, stored as SHA-256)."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import g, request

from relay_server.errors import ApiError
from relay_server.models import Account, Device, Token
from relay_server.prepared import Prepared, slot

_P = ParamSpec("_P")
_R = TypeVar("_R")

_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps login timing the same.
_DUMMY_HASH = _hasher.hash("appbeam-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; takes the same time whether or not the account exists."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(device: Device) -> str:
    """A new random token for ``device``; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    Token.create(token_hash=token_digest(token), device=device)
    return token


#: Every authenticated request runs this: the token's device with its account, one query.
_DEVICE_FOR_TOKEN = Prepared(
    lambda: (
        Device.select(Device, Account)
        .join(Account)
        .switch(Device)
        .join(Token, on=(Token.device == Device.id))
        .where((Token.token_hash == slot("digest")) & Token.revoked_at.is_null())
    )
)


def device_for_digest(digest: str) -> Device | None:
    """The device of a valid (not revoked) token, with ``device.account`` loaded."""
    rows = _DEVICE_FOR_TOKEN.rows(digest=digest)
    return rows[0] if rows else None


def bearer_token(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate(authorization: str) -> tuple[Device, str]:
    """The device (with its account) whose token the ``Authorization`` header carries, and the
    token's digest; 401 when there is none or it is not valid. The Flask routes (``device_required``)
    and the hot routes (``relay_server.hot_routes``) both call this."""
    token = bearer_token(authorization)
    if token is None:
        raise ApiError(
            401,
            "unauthorized",
            "send 'Authorization: Bearer <token>' (log in first)",
            {"WWW-Authenticate": "Bearer"},
        )
    digest = token_digest(token)
    device = device_for_digest(digest)
    if device is None:
        raise ApiError(
            401,
            "unauthorized",
            "this token is not valid (revoked or unknown); log in again",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return device, digest


def device_required(view: Callable[_P, _R]) -> Callable[_P, _R]:
    """Route decorator: the caller must present a valid device token; sets ``g.device``."""

    @functools.wraps(view)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        device, digest = authenticate(request.headers.get("Authorization", ""))
        g.device = device
        g.account = device.account
        g.token_hash = digest
        return view(*args, **kwargs)

    return wrapper
