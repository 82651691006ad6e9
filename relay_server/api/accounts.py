"""Accounts, login and logout [0049, 0058]."""

from __future__ import annotations

from flask import g
from flask.typing import ResponseReturnValue
from peewee import IntegrityError

from relay_server import events
from relay_server.api import api
from relay_server.api.body import answer, read_body
from relay_server.api.devices import device_view
from relay_server.auth import (
    check_password,
    device_required,
    hash_password,
    issue_token,
)
from relay_server.context import current_relay
from relay_server.db import database, utcnow
from relay_server.errors import ApiError
from relay_server.limits import client_address
from relay_server.models import Account, Device, Token
from shared.api_messages import Account as AccountShown
from shared.api_messages import (
    DeviceInfo,
    KeyRegistration,
    Login,
    Me,
    NewAccount,
    NewToken,
    OneDevice,
    PasswordChange,
    Session,
)
from shared.messages import DeviceKeyChanged
from shared.protocol import StreamEvent


@api.post("/accounts")
def create_account() -> ResponseReturnValue:
    body = read_body(NewAccount)
    username = body.username
    current_relay().limits.check("new_account", client_address())
    try:
        with database.atomic():
            Account.create(username=username, password_hash=hash_password(body.password))
    except IntegrityError:
        raise ApiError(409, "username_taken", "the username %(username)s is taken", username=repr(username)) from None
    return answer(AccountShown(username), 201)


@api.post("/login")
def login() -> ResponseReturnValue:
    """Log a device in: it joins (or updates its entry in) the account's device list."""
    body = read_body(Login)
    username, password, fields = body.username, body.password, body.device
    limits = current_relay().limits
    pair = f"{client_address()} {username}"
    limits.check("login_address", client_address())
    limits.check_failures("login_failures", pair)
    account = Account.get_or_none(Account.username == username)
    known = (
        account is not None
        and Device.select().where((Device.id == fields.id) & (Device.account == account.id)).exists()
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
    return answer(Session(token, AccountShown(account.username), device_view(device, "self", current_relay().hub)))


def enrol_device(account: Account, fields: DeviceInfo) -> tuple[Device, str, list[str]]:
    """Add the device to the account's list (or update its entry) and give it a token, inside
    the caller's transaction; returns it, the token, and the devices to wake after the commit
    (told about a new key). Used by password login and by pairing."""
    device = Device.get_or_none(Device.id == fields.id)
    if device is not None and device.account_id != account.id:
        # Says no more than that this id cannot be used: whose it is stays private.
        raise ApiError(409, "device_id_unavailable", "this device id cannot be used; log in again with a new device id")
    old_key = device.public_key if device is not None else None
    if device is None:
        device = Device.create(
            account=account,
            last_seen=utcnow(),
            id=fields.id,
            name=fields.name,
            model=fields.model,
            platform=fields.platform.value,
            public_key=fields.public_key,
        )
    else:
        device.name, device.model, device.platform = fields.name, fields.model, fields.platform.value
        # A new key replaces the old (the app was reinstalled); the account's other devices
        # see the change and do not trust the new key until their user does.
        device.public_key = fields.public_key or device.public_key
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
    change = read_body(PasswordChange)
    current, new = change.current_password, change.new_password
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
    return answer(NewToken(token))


@api.get("/me")
@device_required
def me() -> ResponseReturnValue:
    return answer(Me(AccountShown(g.account.username), device_view(g.device, "self", current_relay().hub)))


@api.put("/me/key")
@device_required
def register_key() -> ResponseReturnValue:
    """Register (or replace) the calling device's public key: for a device that logged in
    before it had one. Phones treat a changed key as new until their user trusts it."""
    public_key = read_body(KeyRegistration).public_key
    old_key = g.device.public_key
    with database.atomic():
        Device.update(public_key=public_key).where(Device.id == g.device.id).execute()
        g.device.public_key = public_key
        told = _announce_key(g.device, old_key)
    current_relay().hub.notify(told)
    return answer(OneDevice(device_view(g.device, "self", current_relay().hub)))


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
