"""The key ring across logins: which keys a phone trusts, and when."""

from __future__ import annotations

from mobile_receiver.trust import KeyRing
from shared.api_messages import Device
from shared.signing import DeviceKey
from tests.helpers.messages import listed_device

ACCOUNT = "anna@http://relay.test"


def _laptop(key: DeviceKey) -> Device:
    return listed_device("laptop", name="Laptop", platform="", public_key=key.public_key)


def test_logging_in_again_to_the_same_account_does_not_trust_a_swapped_key(tmp_path):
    ring = KeyRing(tmp_path)
    ring.pin_account([_laptop(DeviceKey.generate())], ACCOUNT)

    (announced,) = KeyRing(tmp_path).pin_account([_laptop(DeviceKey.generate())], ACCOUNT)

    assert announced.changed and not announced.trusted
    assert not KeyRing(tmp_path).get("laptop").trusted  # and it was stored that way


def test_a_ring_first_filled_after_login_remembers_its_account(tmp_path):
    """Login could not read the keys; the first refresh pins them for the account, so the
    next login to that account announces a swapped key instead of pinning it."""
    original = DeviceKey.generate()
    assert KeyRing(tmp_path).observe([_laptop(original)], ACCOUNT) == []
    assert KeyRing(tmp_path).get("laptop").trusted

    (announced,) = KeyRing(tmp_path).pin_account([_laptop(DeviceKey.generate())], ACCOUNT)

    assert not announced.trusted


def test_another_account_starts_afresh(tmp_path):
    KeyRing(tmp_path).pin_account([_laptop(DeviceKey.generate())], ACCOUNT)
    fresh = DeviceKey.generate()

    assert KeyRing(tmp_path).pin_account([_laptop(fresh)], "ben@http://relay.test") == []
    assert KeyRing(tmp_path).get("laptop").public_key == fresh.public_key
    assert KeyRing(tmp_path).get("laptop").trusted
