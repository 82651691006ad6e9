"""Passwords (argon2) and per-device bearer tokens (random, stored as SHA-256)."""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import g, request

from relay_server.errors import ApiError
from relay_server.models import Device, Token

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


def device_for_token(token: str) -> Device | None:
    row = (
        Token.select(Token, Device)
        .join(Device)
        .where(Token.token_hash == token_digest(token), Token.revoked_at.is_null())
        .first()
    )
    return row.device if row else None


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def device_required(view):
    """Route decorator: the caller must present a valid device token; sets ``g.device``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        if token is None:
            raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <token>' (log in first)",
                           {"WWW-Authenticate": "Bearer"})
        device = device_for_token(token)
        if device is None:
            raise ApiError(401, "unauthorized", "this token is not valid (revoked or unknown); log in again",
                           {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        g.device = device
        g.account = device.account
        g.token_hash = token_digest(token)
        return view(*args, **kwargs)

    return wrapper
