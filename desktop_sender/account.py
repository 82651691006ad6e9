"""Signing this computer in to a relay: create the account if asked, then log in as this device."""

from __future__ import annotations

from shared.api_messages import Session
from shared.relay_client import DeviceInfo, RelayClient
from shared.relay_errors import RelayError


def sign_in(
    client: RelayClient, username: str, password: str, device: DeviceInfo, create_account: bool = False
) -> Session:
    """Log in as ``device`` (creating the account first when asked); returns the login answer.

    Runs on a worker thread. An account that already exists is not an error when creating:
    the login that follows checks the password, so running the same demo twice works.
    """
    if create_account:
        try:
            client.create_account(username, password)
        except RelayError as exc:
            if exc.code != "username_taken":
                raise
    return client.login(username, password, device)
