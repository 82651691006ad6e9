"""The extension's protocol file (``browser_extension/src/protocol.js``) says what ``shared/protocol.py`` says.

node reads the ES module and prints its exports as JSON; every table the extension uses is
compared with the Python one, so a format, platform or state added on one side only fails here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from shared import protocol
from shared.signing import CONTEXT

EXTENSION = Path(__file__).resolve().parents[2] / "browser_extension"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


@pytest.fixture(scope="module")
def js() -> dict:
    script = "import('./src/protocol.js').then((m) => console.log(JSON.stringify(m)))"
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=EXTENSION,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return json.loads(out)


def test_formats_and_mime_types(js):
    assert js["FORMAT_MIME_TYPES"] == dict(protocol.FORMAT_MIME_TYPES)


def test_platforms_their_formats_and_labels(js):
    assert js["PLATFORM_FORMATS"] == {str(p): list(f) for p, f in protocol.PLATFORM_FORMATS.items()}
    assert js["PLATFORM_LABELS"] == {str(p): label for p, label in protocol.PLATFORM_LABELS.items()}
    assert js["BROWSER_PLATFORM"] == protocol.Platform.BROWSER


def test_push_modes(js):
    assert sorted(js["PushMode"].values()) == sorted(str(m) for m in protocol.PushMode)


def test_states_their_labels_and_the_final_ones(js):
    assert js["STATE_LABELS"] == {str(s): protocol.state_label(s) for s in protocol.PushState}
    assert sorted(js["FINAL_STATES"]) == sorted(str(s) for s in protocol.FINAL_STATES)
    assert sorted(js["REOPENABLE_STATES"]) == sorted(str(s) for s in protocol.REOPENABLE_STATES)
    assert js["SITUATION_LABELS"] == {str(s): label for s, label in protocol.SITUATION_LABELS.items()}


def test_stream_events_prefix_and_signing_context(js):
    assert sorted(js["StreamEvent"].values()) == sorted(str(e) for e in protocol.StreamEvent)
    assert js["API_PREFIX"] == protocol.API_PREFIX
    assert js["SIGNING_CONTEXT"] == CONTEXT
