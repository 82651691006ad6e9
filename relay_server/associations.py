"""Who may push to whom: a device of the same account, or of an accepted friend [13, 0049]."""

from __future__ import annotations

from relay_server.models import Account, Device, Friendship


def friend_ids(account: Account) -> list[int]:
    """Ids of the accounts with an accepted relation to ``account``."""
    rows = Friendship.select(Friendship.requester, Friendship.addressee).where(
        (Friendship.status == "accepted") & ((Friendship.requester == account) | (Friendship.addressee == account))
    )
    return [r.addressee_id if r.requester_id == account.id else r.requester_id for r in rows]


def associated_devices(account: Account, exclude_device_id: str | None = None) -> list[tuple[Device, str]]:
    """The account's own devices, then its friends' devices, each with its relation."""
    friends = friend_ids(account)
    query = (
        Device.select(Device, Account)
        .join(Account)
        .where(Device.account.in_([account.id, *friends]))
        .order_by(Account.username, Device.name, Device.id)
    )
    own, theirs = [], []
    for device in query:
        if device.id == exclude_device_id:
            continue
        if device.account_id == account.id:
            own.append((device, "self"))
        else:
            theirs.append((device, "friend"))
    return own + theirs


def relation(account: Account, device: Device) -> str | None:
    """``self``, ``friend``, or None when ``device`` is not associated with ``account``."""
    if device.account_id == account.id:
        return "self"
    return "friend" if device.account_id in friend_ids(account) else None
