"""Friends: the user relations that make another account's devices associated [13, 0049]."""

from __future__ import annotations

from flask import g
from flask.typing import ResponseReturnValue

from relay_server.api import api
from relay_server.api.body import answer, read_body
from relay_server.auth import device_required
from relay_server.db import database
from relay_server.errors import ApiError, bad_request
from relay_server.models import Account, Friendship
from shared.api_messages import Friend, FriendList, FriendRequest, FriendStatus


def _between(a: Account, b: Account) -> Friendship | None:
    return Friendship.get_or_none(
        ((Friendship.requester == a) & (Friendship.addressee == b))
        | ((Friendship.requester == b) & (Friendship.addressee == a))
    )


def _other(username: object) -> Account:
    if not isinstance(username, str) or not username.strip():
        raise bad_request("username: required", "invalid_field")
    other = Account.get_or_none(Account.username == username.strip().lower())
    if other is None:
        raise ApiError(404, "unknown_user", "there is no user %(username)s", username=repr(username))
    return other


def _status(friendship: Friendship, me: Account) -> FriendStatus:
    if friendship.status == "accepted":
        return "accepted"
    return "pending_outgoing" if friendship.requester_id == me.id else "pending_incoming"


@api.get("/friends")
@device_required
def list_friends() -> ResponseReturnValue:
    me = g.account
    rows = (
        Friendship.select(Friendship, Account)
        .join(Account, on=((Account.id == Friendship.requester) | (Account.id == Friendship.addressee)))
        .where(((Friendship.requester == me) | (Friendship.addressee == me)) & (Account.id != me.id))
        .order_by(Account.username)
    )
    return answer(
        FriendList(
            [
                Friend(r.requester.username if r.requester_id != me.id else r.addressee.username, _status(r, me))
                for r in rows
            ]
        )
    )


@api.post("/friends")
@device_required
def request_friend() -> ResponseReturnValue:
    me, other = g.account, _other(read_body(FriendRequest).username)
    if other.id == me.id:
        raise ApiError(409, "self", "you cannot befriend yourself")
    with database.atomic():
        existing = _between(me, other)
        if existing is None:
            Friendship.create(requester=me, addressee=other)
            return answer(Friend(other.username, "pending_outgoing"), 201)
        if existing.status == "accepted":
            raise ApiError(409, "already_friends", "you and %(username)s are already friends", username=other.username)
        if existing.requester_id == other.id:  # they asked first: asking back accepts
            existing.status = "accepted"
            existing.save()
            return answer(Friend(other.username, "accepted"), 201)
        raise ApiError(409, "already_requested", "you already asked %(username)s", username=other.username)


@api.post("/friends/<username>/accept")
@device_required
def accept_friend(username: str) -> ResponseReturnValue:
    me, other = g.account, _other(username)
    with database.atomic():
        existing = _between(me, other)
        if existing is None or (existing.status == "pending" and existing.requester_id != other.id):
            raise ApiError(404, "no_request", "%(username)s has not asked to be your friend", username=other.username)
        existing.status = "accepted"
        existing.save()
    return answer(Friend(other.username, "accepted"))


@api.delete("/friends/<username>")
@device_required
def remove_friend(username: str) -> ResponseReturnValue:
    me, other = g.account, _other(username)
    with database.atomic():
        existing = _between(me, other)
        if existing is None:
            raise ApiError(
                404, "not_friends", "you have no friendship or request with %(username)s", username=other.username
            )
        existing.delete_instance()
    return "", 204
