"""Write ``vectors.json``: push signatures made by ``shared/signing.py``, for the extension's tests.

    .venv/bin/python -m tests.extension.make_vectors     # rewrites tests/extension/vectors.json

The Python test (``test_signing_vectors.py``) checks that this file is what the script makes and
that every signature verifies; the extension's node test (``browser_extension/test/signing.test.js``)
checks that its canonical bytes and signatures are the same, byte for byte. Ed25519 signatures are
deterministic, so one key and one set of facts give one signature in both languages.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.signing import DeviceKey, PushFacts

PATH = Path(__file__).with_name("vectors.json")

#: A fixed key (its 32-byte seed): the vectors must not change from one run to the next.
SEED = bytes(range(1, 33))

CASES = [
    PushFacts(
        "p_0c9e41d2a8b7c6d5e4f30211",
        "anna-phone",
        "install_now",
        "org.videolan.vlc",
        "3.6.0",
        "apk",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "2026-11-26T19:48:42Z",
    ),
    PushFacts("p_1", "tablet-1", "notify", "com.example.app", None, "ipa", None, "2026-01-02T03:04:05Z"),
    # Text outside ASCII and characters JSON escapes: both sides must write them the same way.
    PushFacts(
        "ext:p.2-x_y",
        "phone:2",
        "install_now",
        "org.example.cafe",
        '1.0-béta "quoted" \\ / ✓ 😀',
        "apk",
        None,
        "2026-11-30T09:31:00Z",
    ),  # DEL and the C1/separator controls: Python's ensure_ascii writes \u007f, \u0085, \u001c...
    PushFacts("p_3", "phone", "install_now", "org.example.ctl", "2.0\x7f\x85\x1c", "apk", None, "2026-11-30T10:00:00Z"),
]


def vectors() -> dict:
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    key = DeviceKey(private)
    pkcs8 = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "about": "Made by tests/extension/make_vectors.py from shared/signing.py; do not edit by hand.",
        "private_key_pkcs8": base64.b64encode(pkcs8).decode("ascii"),
        "public_key": key.public_key,
        "fingerprint": key.fingerprint,
        "cases": [
            {
                "facts": {name: getattr(facts, name) for name in facts.__dataclass_fields__},
                "canonical": facts.canonical().decode("ascii"),
                "signature": key.sign(facts).value,
            }
            for facts in CASES
        ],
    }


def render() -> str:
    return json.dumps(vectors(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {PATH}")
