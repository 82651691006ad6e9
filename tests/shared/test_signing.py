"""shared/signing.py: push facts, their canonical bytes, signatures, device keys, fingerprints.

The receiver installs silently only what verifies here, so these tests pin the exact bytes
that are signed (any change would break every signature already made by deployed senders)
and check that every single fact a signature covers really is covered.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from shared.messages import PushSignature
from shared.protocol import ProtocolError, is_push_id, parse_timestamp
from shared.signing import (
    CONTEXT,
    DeviceKey,
    PushFacts,
    facts_for,
    fingerprint,
    new_push_id,
    parse_public_key,
    utc_timestamp,
    verify,
)

# RFC 8032, section 7.1, test 1: a fixed, published Ed25519 key.
RFC8032_PRIVATE = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_PUBLIC_B64 = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

SHA_A = "a" * 64
SHA_B = "b" * 64


def _fixed_key() -> DeviceKey:
    return DeviceKey(Ed25519PrivateKey.from_private_bytes(RFC8032_PRIVATE))


def _facts(**changes) -> PushFacts:
    facts = PushFacts(
        push_id="p_0123456789abcdef01234567",
        device_id="anna-phone",
        mode="install_now",
        app_id="org.videolan.vlc",
        version="3.6.0",
        format="apk",
        sha256=SHA_A,
        signed_at="2026-11-26T19:48:42Z",
    )
    return dataclasses.replace(facts, **changes)


# --------------------------------------------------------------------------- sign and verify


def test_a_signature_verifies_with_the_signers_public_key():
    key = DeviceKey.generate()
    facts = _facts()

    signature = key.sign(facts)

    assert verify(key.public_key, facts, signature.value)
    # The signature carries what the receiver needs to rebuild the facts, and nothing else.
    assert (signature.push_id, signature.signed_at, signature.sha256) == (facts.push_id, facts.signed_at, facts.sha256)
    rebuilt = facts_for(
        signature,
        device_id=facts.device_id,
        mode=facts.mode,
        app_id=facts.app_id,
        version=facts.version,
        fmt=facts.format,
    )
    assert rebuilt == facts


def test_a_signature_survives_its_trip_through_json():
    key = DeviceKey.generate()
    facts = _facts(version=None, sha256=None)
    sent = json.loads(json.dumps(key.sign(facts).to_dict()))

    received = PushSignature.from_dict(sent)

    assert received == key.sign(facts)  # Ed25519 is deterministic: same facts, same signature
    assert verify(
        key.public_key,
        facts_for(
            received, device_id=facts.device_id, mode=facts.mode, app_id=facts.app_id, version=None, fmt=facts.format
        ),
        received.value,
    )


# One changed value per fact. The test below checks that every field of PushFacts is here,
# so a fact added later without a case here fails loudly instead of going untested.
CHANGED = {
    "push_id": ["p_ffffffffffffffffffffffff", "p_0123456789abcdef0123456"],
    "device_id": ["anna-tablet", "anna-phone "],
    "mode": ["notify"],
    "app_id": ["org.videolan.vlc.evil", "org.fdroid.fdroid"],
    "version": ["3.6.1", None, ""],
    "format": ["ipa", "deb"],
    "sha256": [SHA_B, None, SHA_A.upper()],
    "signed_at": ["2026-11-26T19:48:43Z", "2036-11-26T19:48:42Z"],
}


def test_every_fact_of_a_push_has_a_tampering_case():
    assert set(CHANGED) == {f.name for f in dataclasses.fields(PushFacts)}


@pytest.mark.parametrize(
    "field, value", [(f, v) for f, values in CHANGED.items() for v in values], ids=lambda x: repr(x)
)
def test_changing_any_single_fact_breaks_the_signature(field, value):
    key = DeviceKey.generate()
    facts = _facts()
    signature = key.sign(facts)
    changed = dataclasses.replace(facts, **{field: value})
    assert changed != facts

    assert not verify(key.public_key, changed, signature.value)
    assert verify(key.public_key, facts, signature.value)  # the original still does


def test_a_signature_from_another_key_does_not_verify():
    owner, thief = DeviceKey.generate(), DeviceKey.generate()
    facts = _facts()

    assert not verify(owner.public_key, facts, thief.sign(facts).value)
    assert not verify(thief.public_key, facts, owner.sign(facts).value)


def test_a_signature_with_one_bit_flipped_does_not_verify():
    key = DeviceKey.generate()
    facts = _facts()
    raw = bytearray(base64.b64decode(key.sign(facts).value))
    for index in (0, 31, 32, 63):
        flipped = bytearray(raw)
        flipped[index] ^= 0x01
        assert not verify(key.public_key, facts, base64.b64encode(bytes(flipped)).decode())


@pytest.mark.parametrize(
    "public_key, value",
    [
        ("not base64!", None),
        ("", None),
        (base64.b64encode(b"\x00" * 31).decode(), None),
        (None, "not base64!"),
        (None, ""),
        (None, base64.b64encode(b"\x00" * 64).decode()),
        (None, base64.b64encode(b"\x00" * 63).decode()),
    ],
    ids=["key-not-base64", "key-empty", "key-31-bytes", "sig-not-base64", "sig-empty", "sig-zeros", "sig-63-bytes"],
)
def test_verify_says_false_for_garbage_and_never_raises(public_key, value):
    key = DeviceKey.generate()
    facts = _facts()
    assert (
        verify(
            public_key if public_key is not None else key.public_key,
            facts,
            value if value is not None else key.sign(facts).value,
        )
        is False
    )


def test_the_context_string_is_part_of_what_is_signed():
    """A signature over the same facts without the context (as another protocol might
    sign them) is not a push signature."""
    private = Ed25519PrivateKey.from_private_bytes(RFC8032_PRIVATE)
    facts = _facts()
    without_context = json.dumps(dataclasses.asdict(facts), sort_keys=True, separators=(",", ":")).encode()
    other_context = facts.canonical().replace(CONTEXT.encode(), b"appbeam-push-v2")
    assert other_context != facts.canonical()

    for message in (without_context, other_context):
        value = base64.b64encode(private.sign(message)).decode()
        assert not verify(RFC8032_PUBLIC_B64, facts, value)


# --------------------------------------------------------------------------- canonical bytes


def test_canonical_bytes_are_sorted_compact_json_with_the_context():
    facts = _facts()
    expected = (
        '{"app_id":"org.videolan.vlc","context":"appbeam-push-v1","device_id":"anna-phone",'
        '"format":"apk","mode":"install_now","push_id":"p_0123456789abcdef01234567",'
        '"sha256":"' + SHA_A + '","signed_at":"2026-11-26T19:48:42Z","version":"3.6.0"}'
    ).encode("ascii")

    assert CONTEXT == "appbeam-push-v1"
    assert facts.canonical() == expected


def test_canonical_bytes_of_unknown_version_and_hash_and_of_non_ascii_text():
    facts = _facts(version=None, sha256=None, app_id="org.example.caf\u00e9")
    expected = (
        '{"app_id":"org.example.caf\\u00e9","context":"appbeam-push-v1","device_id":"anna-phone",'
        '"format":"apk","mode":"install_now","push_id":"p_0123456789abcdef01234567",'
        '"sha256":null,"signed_at":"2026-11-26T19:48:42Z","version":null}'
    ).encode("ascii")

    assert facts.canonical() == expected


def test_a_fixed_key_signs_exactly_the_canonical_bytes():
    """With the RFC 8032 key the whole output is fixed: the public key is the published one,
    and the signature is Ed25519 over the explicit canonical text, made independently here."""
    key = _fixed_key()
    facts = _facts()
    canonical = (
        '{"app_id":"org.videolan.vlc","context":"appbeam-push-v1","device_id":"anna-phone",'
        '"format":"apk","mode":"install_now","push_id":"p_0123456789abcdef01234567",'
        '"sha256":"' + SHA_A + '","signed_at":"2026-11-26T19:48:42Z","version":"3.6.0"}'
    ).encode("ascii")
    independent = Ed25519PrivateKey.from_private_bytes(RFC8032_PRIVATE).sign(canonical)

    signature = key.sign(facts)

    assert key.public_key == RFC8032_PUBLIC_B64
    assert base64.b64decode(key.public_key) == RFC8032_PUBLIC
    assert base64.b64decode(signature.value) == independent
    assert signature.to_dict() == {
        "push_id": facts.push_id,
        "signed_at": "2026-11-26T19:48:42Z",
        "sha256": SHA_A,
        "value": base64.b64encode(independent).decode(),
    }
    Ed25519PublicKey.from_public_bytes(RFC8032_PUBLIC).verify(independent, canonical)  # raises if not
    assert verify(RFC8032_PUBLIC_B64, facts, signature.value)


# --------------------------------------------------------------------------- device keys on disk


def test_load_or_create_makes_a_private_key_file_only_the_owner_can_read(tmp_path):
    path = tmp_path / "not" / "yet" / "there" / "device_key.pem"

    key = DeviceKey.load_or_create(path)

    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert [p.name for p in path.parent.iterdir()] == ["device_key.pem"]  # no temporary file left
    assert parse_public_key(key.public_key) == key.public_key


def test_load_or_create_loads_the_same_key_next_time(tmp_path):
    path = tmp_path / "device_key.pem"
    first = DeviceKey.load_or_create(path)
    pem = path.read_bytes()

    again = DeviceKey.load_or_create(path)

    assert again.public_key == first.public_key
    assert again.fingerprint == first.fingerprint
    assert path.read_bytes() == pem  # loading does not rewrite it
    facts = _facts()
    assert verify(first.public_key, facts, again.sign(facts).value)


def test_load_or_create_loads_a_key_made_elsewhere(tmp_path):
    path = tmp_path / "device_key.pem"
    path.write_bytes(
        Ed25519PrivateKey.from_private_bytes(RFC8032_PRIVATE).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )

    assert DeviceKey.load_or_create(path).public_key == RFC8032_PUBLIC_B64


@pytest.mark.parametrize(
    "make",
    [
        lambda: generate_private_key(SECP256R1()),
        lambda: Ed448PrivateKey.generate(),
    ],
    ids=["ecdsa-p256", "ed448"],
)
def test_load_or_create_refuses_a_key_that_is_not_ed25519_and_keeps_the_file(tmp_path, make):
    path = tmp_path / "device_key.pem"
    pem = make().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)

    with pytest.raises(ValueError, match="Ed25519"):
        DeviceKey.load_or_create(path)
    assert path.read_bytes() == pem


def test_load_or_create_does_not_replace_an_unreadable_key_file(tmp_path):
    """A damaged key file is an error, not a reason to make a new identity silently."""
    path = tmp_path / "device_key.pem"
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")

    with pytest.raises(ValueError):
        DeviceKey.load_or_create(path)
    assert b"broken" in path.read_bytes()


def test_generated_keys_differ():
    assert DeviceKey.generate().public_key != DeviceKey.generate().public_key


# --------------------------------------------------------------------------- malformed input


def test_parse_public_key_accepts_and_normalises_a_real_key():
    key = DeviceKey.generate()
    assert parse_public_key(key.public_key) == key.public_key
    assert parse_public_key(RFC8032_PUBLIC_B64, "device.public_key") == RFC8032_PUBLIC_B64


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "must be base64 text"),
        (42, "must be base64 text"),
        (b"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "must be base64 text"),
        ("not base64!", "must be base64 text"),
        ("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo", "must be base64 text"),  # padding missing
        ("A" * 300, "must be base64 text"),
        ("", "must be 32 bytes"),
        ("AAAA", "must be 32 bytes"),
        (base64.b64encode(b"\x01" * 33).decode(), "must be 32 bytes"),
        (base64.b64encode(b"\x01" * 64).decode(), "must be 32 bytes"),
    ],
)
def test_parse_public_key_rejects_malformed_keys_naming_the_field(value, message):
    with pytest.raises(ProtocolError) as info:
        parse_public_key(value, "device.public_key")
    assert info.value.field == "device.public_key"
    assert message in info.value.message
    assert str(info.value).startswith("device.public_key: ")


def test_parse_public_key_names_public_key_by_default():
    with pytest.raises(ProtocolError) as info:
        parse_public_key("AAAA")
    assert info.value.field == "public_key"


def _good_signature_dict() -> dict:
    return DeviceKey.generate().sign(_facts()).to_dict()


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"push_id": None}, "push_id", "must be 1-40"),
        ({"push_id": ""}, "push_id", "must be 1-40"),
        ({"push_id": "p" * 41}, "push_id", "must be 1-40"),
        ({"push_id": "p 1"}, "push_id", "must be 1-40"),
        ({"push_id": "p/1"}, "push_id", "must be 1-40"),
        ({"push_id": 7}, "push_id", "must be 1-40"),
        ({"signed_at": None}, "signed_at", "must be a time"),
        ({"signed_at": "2026-11-26 19:48:42"}, "signed_at", "must be a time"),
        ({"signed_at": "2026-11-26T19:48:42+00:00"}, "signed_at", "must be a time"),
        ({"signed_at": "2026-13-26T19:48:42Z"}, "signed_at", "must be a time"),
        ({"value": None}, "value", "must be base64 text"),
        ({"value": "not base64!"}, "value", "must be base64 text"),
        ({"value": "A" * 300}, "value", "must be base64 text"),
        ({"value": base64.b64encode(b"\x00" * 32).decode()}, "value", "must be 64 bytes"),
        ({"sha256": "abc"}, "sha256", "64 hexadecimal digits"),
        ({"sha256": "g" * 64}, "sha256", "64 hexadecimal digits"),
        ({"sha256": 12}, "sha256", "64 hexadecimal digits"),
    ],
    ids=lambda x: repr(x) if not isinstance(x, dict) else "-".join(f"{k}={v!r}"[:30] for k, v in x.items()),
)
def test_signature_from_dict_rejects_malformed_fields_naming_them(change, field, message):
    data = {**_good_signature_dict(), **change}

    with pytest.raises(ProtocolError) as info:
        PushSignature.from_dict(data)
    assert info.value.field == f"signature.{field}"
    assert message in info.value.message

    with pytest.raises(ProtocolError) as info:
        PushSignature.from_dict(data, "signatures.anna-phone.")
    assert info.value.field == f"signatures.anna-phone.{field}"


@pytest.mark.parametrize("missing", ["push_id", "signed_at", "value"])
def test_signature_from_dict_rejects_a_missing_field_naming_it(missing):
    data = _good_signature_dict()
    del data[missing]
    with pytest.raises(ProtocolError) as info:
        PushSignature.from_dict(data)
    assert info.value.field == f"signature.{missing}"


@pytest.mark.parametrize("data", [None, "signature", ["push_id"], 42])
def test_signature_from_dict_rejects_what_is_not_an_object(data):
    with pytest.raises(ProtocolError) as info:
        PushSignature.from_dict(data, "signatures.anna-phone.")
    assert info.value.field == "signatures.anna-phone"
    assert info.value.message == "must be an object"


def test_signature_from_dict_takes_an_unknown_hash_and_normalises_case():
    data = _good_signature_dict()
    assert PushSignature.from_dict({**data, "sha256": None}).sha256 is None
    assert PushSignature.from_dict({**data, "sha256": ""}).sha256 is None
    assert PushSignature.from_dict({k: v for k, v in data.items() if k != "sha256"}).sha256 is None
    assert PushSignature.from_dict({**data, "sha256": SHA_B.upper()}).sha256 == SHA_B


# --------------------------------------------------------------------------- ids, times, fingerprints


def test_new_push_ids_are_fresh_and_valid():
    ids = {new_push_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"p_[0-9a-f]{24}", i) and is_push_id(i) for i in ids)


def test_timestamps_round_trip_in_utc():
    stamp = utc_timestamp()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    assert utc_timestamp(parse_timestamp(stamp)) == stamp
    with pytest.raises(ProtocolError) as info:
        parse_timestamp("yesterday", "signatures.x.signed_at")
    assert info.value.field == "signatures.x.signed_at"


def test_fingerprint_is_four_groups_of_the_keys_sha256():
    expected_hex = hashlib.sha256(RFC8032_PUBLIC).hexdigest()[:16]

    printed = fingerprint(RFC8032_PUBLIC_B64)

    assert re.fullmatch(r"[0-9a-f]{4}( [0-9a-f]{4}){3}", printed)
    assert printed.replace(" ", "") == expected_hex
    assert _fixed_key().fingerprint == printed


def test_fingerprints_of_different_keys_differ_and_are_stable():
    keys = [DeviceKey.generate() for _ in range(20)]
    assert len({k.fingerprint for k in keys}) == 20
    for key in keys:
        assert key.fingerprint == fingerprint(key.public_key) == fingerprint(key.public_key)


def test_device_key_public_key_is_the_raw_key_in_base64():
    key = DeviceKey.generate()
    raw = base64.b64decode(key.public_key, validate=True)
    assert len(raw) == 32
    assert base64.b64encode(raw).decode("ascii") == key.public_key  # standard base64 with padding
