"""The signing vectors the extension's node test uses are ``shared/signing.py``'s own, and valid."""

from __future__ import annotations

import json

from shared.signing import PushFacts, verify
from tests.extension import make_vectors


def test_the_committed_vectors_are_what_the_script_makes():
    assert make_vectors.PATH.read_text(encoding="utf-8") == make_vectors.render(), (
        "vectors.json is stale: run .venv/bin/python -m tests.extension.make_vectors"
    )


def test_every_vector_verifies_and_only_over_its_own_facts():
    data = json.loads(make_vectors.PATH.read_text(encoding="utf-8"))
    assert data["cases"]
    for case in data["cases"]:
        facts = PushFacts(**case["facts"])
        assert facts.canonical().decode("ascii") == case["canonical"]
        assert verify(data["public_key"], facts, case["signature"])
        other = PushFacts(**{**case["facts"], "app_id": "org.evil.app"})
        assert not verify(data["public_key"], other, case["signature"])
