"""Accounts, login and logout [0049, 0058]."""

from __future__ import annotations

import re
from typing import Any

from flask import g, jsonify
from flask.typing import ResponseReturnValue
from peewee import IntegrityError

from relay_server import events
from relay_server.api import api
from relay_server.api.body import json_body, text_field
from relay_server.api.devices import device_dict
from relay_server.auth import (
    check_password,
    device_required,
    hash_password,
    issue_token,
)
from relay_server.context import current_relay
from relay_server.db import database, utcnow
from relay_server.errors import ApiError, bad_request
from relay_server.limits import client_address
from relay_server.models import Account, Device, Token
from shared.messages import DeviceKeyChanged
from shared.protocol import Platform, StreamEvent, parse_device_id
from shared.signing import parse_public_key

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")


def _username(data: dict[str, Any]) -> str:
    username = data.get("username")
    if not isinstance(username, str) or not _USERNAME.fullmatch(username.strip().lower()):
        raise bad_request("username: 3-32 characters of a-z, 0-9, '.', '_' or '-'", "invalid_field")
    return username.strip().lower()


@api.post("/accounts")
def create_account() -> ResponseReturnValue:
    data = json_body()
    username = _username(data)
    password = text_field(data, "password", min_len=8, max_len=256)
    current_relay().limits.check("new_account", client_address())
    try:
        with database.atomic():
            Account.create(username=username, password_hash=hash_password(password))
    except IntegrityError:
        raise ApiError(409, "username_taken", f"the username {username!r} is taken") from None
    return jsonify({"username": username}), 201


def device_fields(data: dict[str, Any]) -> dict[str, Any]:
    device = data.get("device")
    if not isinstance(device, dict):
        raise bad_request("device: give {id, name, model, platform}", "invalid_field")
    platform: Any = device.get("platform")
    try:
        platform = Platform(platform).value
    except ValueError:
        known = ", ".join(p.value for p in Platform)
        raise bad_request(f"device.platform: one of {known}", "invalid_field") from None
    fields = {"id": parse_device_id(device.get("id"))}
    for key in ("name", "model"):
        value = device.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise bad_request(f"device.{key}: 1-100 characters", "invalid_field")
        fields[key] = value.strip()
    fields["platform"] = platform
    if device.get("public_key") is not None:
        fields["public_key"] = parse_public_key(device.get("public_key"), "device.public_key")
    return fields


@api.post("/login")
def login() -> ResponseReturnValue:
    """Log a device in: it joins (or updates its entry in) the account's device list."""
    data = json_body()
    given = data.get("username")
    username = given if isinstance(given, str) else ""
    password = text_field(data, "password", min_len=1, max_len=256)
    fields = device_fields(data)
    limits = current_relay().limits
    username = username.strip().lower()
    pair = f"{client_address()} {username}"
    limits.check("login_address", client_address())
    limits.check_failures("login_failures", pair)
    account = Account.get_or_none(Account.username == username)
    known = (
        account is not None
        and Device.select().where((Device.id == fields["id"]) & (Device.account == account.id)).exists()
    )
    if not known:  # the account's own devices are never held up by guesses from elsewhere
        limits.check_failures("login_failures_account", username)
    if not check_password(account.password_hash if account else None, password):
        limits.failed("login_failures", pair)
        limits.failed("login_failures_account", username)
        raise ApiError(401, "bad_credentials", "wrong username or password")
    assert account is not None, "check_password is never true without an account"
    with database.atomic():
        device, token, told = enrol_device(account, fields)
    current_relay().hub.notify(told)
    return jsonify(
        {
            "token": token,
            "account": {"username": account.username},
            "device": device_dict(device, "self", current_relay().hub),
        }
    )


def enrol_device(account: Account, fields: dict[str, Any]) -> tuple[Device, str, list[str]]:
    """Add the device to the account's list (or update its entry) and give it a token, inside
    the caller's transaction; returns it, the token, and the devices to wake after the commit
    (told about a new key). Used by password login and by pairing."""
    device = Device.get_or_none(Device.id == fields["id"])
    if device is not None and device.account_id != account.id:
        # Says no more than that this id cannot be used: whose it is stays private.
        raise ApiError(409, "device_id_unavailable", "this device id cannot be used; log in again with a new device id")
    old_key = device.public_key if device is not None else None
    if device is None:
        device = Device.create(account=account, last_seen=utcnow(), **fields)
    else:
        device.name, device.model, device.platform = fields["name"], fields["model"], fields["platform"]
        # A new key replaces the old (the app was reinstalled); the account's other devices
        # see the change and do not trust the new key until their user does.
        device.public_key = fields.get("public_key", device.public_key)
        device.last_seen = utcnow()
        device.save()
    return device, issue_token(device), _announce_key(device, old_key)


@api.post("/logout")
@device_required
def logout() -> ResponseReturnValue:
    with database.atomic():
        Token.update(revoked_at=utcnow()).where(Token.token_hash == g.token_hash).execute()
    current_relay().hub.disconnect(g.device.id, g.token_hash)
    return "", 204


@api.post("/password")
@device_required
def change_password() -> ResponseReturnValue:
    """Change the account's password: every token of the account stops working (all devices
    log in again); the calling device gets a fresh token at once."""
    data = json_body()
    current = text_field(data, "current_password", min_len=1, max_len=256)
    new = text_field(data, "new_password", min_len=8, max_len=256)
    account = g.account
    current_relay().limits.check("login_account", account.username)
    if not check_password(account.password_hash, current):
        raise ApiError(403, "bad_credentials", "the current password is wrong")
    with database.atomic():
        account.password_hash = hash_password(new)
        account.save()
        devices = [d.id for d in account.devices]
        (Token.update(revoked_at=utcnow()).where(Token.device.in_(devices) & Token.revoked_at.is_null()).execute())
        token = issue_token(g.device)
    hub = current_relay().hub
    for device_id in devices:
        hub.disconnect(device_id)
    return jsonify({"token": token})


@api.get("/me")
@device_required
def me() -> ResponseReturnValue:
    return jsonify(
        {"account": {"username": g.account.username}, "device": device_dict(g.device, "self", current_relay().hub)}
    )


@api.put("/me/key")
@device_required
def register_key() -> ResponseReturnValue:
    """Register (or replace) the calling device's public key: for a device that logged in
    before it had one. Phones treat a changed key as new until their user trusts it."""
    public_key = parse_public_key(json_body().get("public_key"), "public_key")
    old_key = g.device.public_key
    with database.atomic():
        Device.update(public_key=public_key).where(Device.id == g.device.id).execute()
        g.device.public_key = public_key
        told = _announce_key(g.device, old_key)
    current_relay().hub.notify(told)
    return jsonify({"device": device_dict(g.device, "self", current_relay().hub)})


def _announce_key(device: Device, old_key: str | None) -> list[str]:
    """Tell the account's other devices that ``device`` has a new key (inside the transaction);
    returns their ids, to wake after the commit. Phones then refresh and announce it."""
    if not device.public_key or device.public_key == old_key:
        return []
    others = [
        d.id for d in Device.select(Device.id).where((Device.account == device.account_id) & (Device.id != device.id))
    ]
    for other in others:
        events.append(other, StreamEvent.DEVICE_KEY, payload=DeviceKeyChanged(device.id, device.name))
    return others
