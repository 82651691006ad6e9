"""Pairing a phone without its password (issue 14): a signed-in device makes a one-time code;
a new device claims it and joins the account (``shared/pairing.py`` has the code's rules).

``POST /pairings`` (a device's token) -> 201 ``{code, qr_payload, expires_at}``
``POST /pairings/claim`` ``{code, device}`` (no token) -> 200 ``{token, device, account,
paired_by: {device_id, name, public_key}}``; an unknown code is 404, a used or expired one 410.
"""

from __future__ import annotations

from flask import g, request
from flask.typing import ResponseReturnValue

from relay_server.api import api
from relay_server.api.accounts import enrol_device
from relay_server.api.body import answer, read_body
from relay_server.api.devices import device_view
from relay_server.auth import device_required
from relay_server.context import current_relay
from relay_server.db import database, iso, utcnow
from relay_server.errors import ApiError, bad_request
from relay_server.limits import client_address
from relay_server.models import Pairing
from shared.api_messages import Account, PairedBy, PairingClaim, PairingClaimed
from shared.api_messages import Pairing as PairingShown
from shared.pairing import CODE_LENGTH, BadCode, code_hash, expiry, is_past, new_code, qr_payload


@api.post("/pairings")
@device_required
def create_pairing() -> ResponseReturnValue:
    relay = current_relay()
    relay.limits.check("new_pairing", g.device.id)
    code, now = new_code(), utcnow()
    with database.atomic():
        Pairing.create(
            code_hash=code_hash(code), account=g.account, created_by=g.device, created_at=now, expires_at=expiry(now)
        )
    public_url = relay.config.public_url or request.host_url
    shown = PairingShown(code, qr_payload(public_url, code, _fingerprint(g.device.public_key)), iso(expiry(now)))
    return answer(shown, 201)


def _fingerprint(public_key: str | None) -> str | None:
    from shared.signing import fingerprint

    return fingerprint(public_key) if public_key else None


@api.post("/pairings/claim")
def claim_pairing() -> ResponseReturnValue:
    claim = read_body(PairingClaim)
    fields = claim.device
    limits = current_relay().limits
    key = f"{client_address()} pairing"
    limits.check("login_address", client_address())
    limits.check_failures("login_failures", key)
    try:
        digest = code_hash(claim.code)
    except BadCode:  # its one reason, as a whole sentence of the relay's catalog
        limits.failed("login_failures", key)
        raise bad_request(
            "code: a pairing code is %(length)s letters and digits, like ABCD-EFGH", "invalid_field", length=CODE_LENGTH
        ) from None
    now = utcnow()
    with database.atomic():
        pairing = Pairing.get_or_none(Pairing.code_hash == digest)
        if pairing is None:
            limits.failed("login_failures", key)
            raise ApiError(404, "unknown_code", "no such pairing code; check it, or make a new one on your computer")
        if pairing.used_at is not None:
            raise ApiError(410, "code_used", "this pairing code was used already; make a new one on your computer")
        if is_past(pairing.expires_at, now):
            raise ApiError(410, "code_expired", "this pairing code has expired; make a new one on your computer")
        # Used once: of two claims racing, only the one that marks it first goes on.
        taken = (
            Pairing.update(used_at=now, used_by=fields.id)
            .where((Pairing.code_hash == digest) & Pairing.used_at.is_null())
            .execute()
        )
        if taken != 1:
            raise ApiError(410, "code_used", "this pairing code was used already; make a new one on your computer")
        account, paired_by = pairing.account, pairing.created_by
        device, token, told = enrol_device(account, fields)
    current_relay().hub.notify(told)
    return answer(
        PairingClaimed(
            token,
            Account(account.username),
            device_view(device, "self", current_relay().hub),
            PairedBy(paired_by.id, paired_by.name, paired_by.public_key),
        )
    )
