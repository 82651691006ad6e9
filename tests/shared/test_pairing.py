"""Pairing codes: easy to read aloud, hard to guess, and the QR payload round-trips."""

from __future__ import annotations

import pytest

from shared.pairing import ALPHABET, BadCode, new_code, normalise, parse_qr_payload, qr_payload


def test_codes_have_no_look_alike_characters():
    for confusable in "0O1IL":
        assert confusable not in ALPHABET
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200  # random enough that two in a row never repeat here
    assert all(len(c) == 9 and c[4] == "-" for c in codes)


def test_what_people_type_is_read_as_the_code():
    assert normalise(" abcd efgh ") == normalise("ABCD-EFGH") == "ABCDEFGH"
    with pytest.raises(BadCode, match="8 letters and digits"):
        normalise("ABCD-EFG")


def test_the_qr_payload_carries_relay_code_and_fingerprint():
    text = qr_payload("https://relay.example:8765/", "ABCD-EFGH", "f0ca 0bc1 c0ae c7c5")

    assert text.startswith("appbeam://pair?")
    assert parse_qr_payload(text) == {
        "relay": "https://relay.example:8765",
        "code": "ABCD-EFGH",
        "fp": "f0ca 0bc1 c0ae c7c5",
    }
    with pytest.raises(ValueError, match="not an Appbeam pairing code"):
        parse_qr_payload("https://example.com/?code=ABCD-EFGH")
