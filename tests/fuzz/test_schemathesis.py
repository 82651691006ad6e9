"""Property-based fuzzing of the relay API from its own OpenAPI document (schemathesis 4).

What this proves, for every operation in ``/api/v1/openapi.json`` except the endless
``GET /api/v1/stream``, on generated valid *and* invalid requests (bodies, path and query
parameters, headers), both with a live bearer token and without one:

- the relay never answers 5xx (``not_a_server_error``): bad input is a 4xx;
- every answer whose status the document declares matches the declared schema
  (``response_schema_conformance``), errors included (``{"error": {"code", "message"}}``);
- every status the relay answers is listed for that operation (``status_code_conformance``,
  its own test, so a gap in the hand-written ``relay_server/openapi.py`` is named as such);
- with real push ids and device ids drawn in, generated pushes, reports and cancellations
  reach the code that acts on them and still never cause a 5xx.

The stream is fuzzed separately, and only with Last-Event-ID values that are not a whole
number from 0 to 2**53-1: each must be refused with a 400 before any streaming starts.

The relay runs in process (``create_app`` as a WSGI app on a fresh database); nothing
listens on a socket. The CI run is short: ``APPBEAM_FUZZ_EXAMPLES`` examples per operation
(default 25). A long run, e.g. before a release::

    APPBEAM_FUZZ_EXAMPLES=1000 .venv/bin/python -m pytest tests/fuzz -p no:cacheprovider \\
        -o addopts="" --timeout 3600

(``APPBEAM_FUZZ_SEED=<n>`` fixes hypothesis' seed to replay a run; a failure prints the
reproducing request as a ``curl`` command.)
"""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from relay_server.openapi import openapi_document
from shared.protocol import MAX_INT

EXAMPLES = int(os.environ.get("APPBEAM_FUZZ_EXAMPLES", "25"))
#: One request to the in-process relay takes milliseconds; this only catches a hang.
DEADLINE_MS = 5000
CHECKS = [not_a_server_error, response_schema_conformance]
#: Every status the relay answers is one the document lists for that operation.
STATUS_CHECKS = [status_code_conformance]
STREAM = "/api/v1/stream"

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=DEADLINE_MS,
    suppress_health_check=list(HealthCheck),
    derandomize="APPBEAM_FUZZ_SEED" not in os.environ,  # CI: the same examples every run
    database=None,
)


def _seeded(func):
    value = os.environ.get("APPBEAM_FUZZ_SEED")
    return seed(int(value))(func) if value else func


@pytest.fixture(scope="module")
def relay_schema(relay_app, world):
    """The relay's own document, loaded through the app (``world`` is set up first)."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", relay_app)


# The operations, read from the same document the relay serves (no app needed for that).
# (schemathesis' lazy ``pytest.from_fixture`` loader does not work with pytest 9.2: it sets
# ``request.node._nodeid``, which pytest 9.2 no longer has; so the cases are drawn here with
# ``APIOperation.as_strategy``, schemathesis' documented way to use it inside any test.)
OPERATIONS = sorted(
    (path, method.upper())
    for path, methods in openapi_document()["paths"].items()
    for method in methods
    if path != STREAM
)
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def _ends_session(method: str, path: str) -> bool:
    return method == "POST" and path == "/api/v1/logout"


def _fuzz(
    relay_schema, path: str, method: str, mode: GenerationMode, headers, checks=CHECKS, strategy=None, prepare=None
) -> None:
    operation = relay_schema[path][method]

    @given(case=strategy if strategy is not None else operation.as_strategy(generation_mode=mode))
    @FUZZ_SETTINGS
    @_seeded
    def run(case):
        if prepare is not None:
            prepare(case)
        extra = headers() if headers else None
        case.call_and_validate(headers=extra, checks=checks)

    try:
        run()
    except Unsatisfiable:
        # Negative mode on an operation whose inputs are all unconstrained strings (e.g. only
        # an ``{app_id}`` path parameter): there is no invalid request to make.
        if mode is not GenerationMode.NEGATIVE:
            raise


_OPERATION_IDS = [f"{m} {p}" for p, m in OPERATIONS]


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=_OPERATION_IDS)
def test_api_with_a_device_token(relay_schema, world, path, method, mode):
    """Every operation as the logged-in laptop of ``fuzzer``: no 5xx, answers match the document."""
    headers = world.throwaway_headers if _ends_session(method, path) else world.headers
    _fuzz(relay_schema, path, method, mode, headers)


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=_OPERATION_IDS)
def test_api_without_a_token(relay_schema, world, path, method, mode):
    """Every operation with no token (or whatever Authorization the fuzzer made up):
    public routes work, the rest answer the documented 401 error, never a 5xx."""
    _fuzz(relay_schema, path, method, mode, None)


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=_OPERATION_IDS)
def test_every_status_the_relay_answers_is_documented(relay_schema, world, path, method):
    """``/api/v1/openapi.json`` lists every status each operation really answers (clients are
    generated from it), for valid and invalid input, with and without a token."""
    headers = world.throwaway_headers if _ends_session(method, path) else world.headers
    for mode in MODES:
        _fuzz(relay_schema, path, method, mode, headers, checks=STATUS_CHECKS)
    # Without a token, invalid input adds nothing over valid input: both meet the 401 first.
    _fuzz(relay_schema, path, method, GenerationMode.POSITIVE, None, checks=STATUS_CHECKS)


# ----------------------------------------------------------------------------- deeper: real ids
# Random path ids and device ids almost always hit 404/403 before any real work is done.
# These runs draw them from the world's real pushes and devices, so generated install
# information, reports and cancellations reach the code that acts on them.

_TARGETS = ["fuzz-phone", "fuzz-ipad", "friend-phone", "stranger-phone", "fuzz-laptop"]


def _real_targets(case) -> None:
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("device_ids"), list) and body["device_ids"]:
        body["device_ids"] = [_TARGETS[len(str(d)) % len(_TARGETS)] for d in body["device_ids"]][:3]
    app = body.get("app") if isinstance(body, dict) else None
    # The relay mirrors packages for offline devices: point generated URLs at a loopback
    # address the mirror's SSRF guard refuses without a DNS lookup.
    for ref in app.get("packages") if isinstance(app, dict) and isinstance(app.get("packages"), list) else []:
        if isinstance(ref, dict) and isinstance(ref.get("url"), str):
            ref["url"] = "http://127.0.0.1:9/" + ref["url"][-40:].replace("/", "_")


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_pushes_to_real_devices(relay_schema, world, mode):
    """``POST /pushes`` with generated install information to real (own, friend's,
    stranger's, own sender) devices: 201, 403, 404, 422 or 400, never a 5xx."""
    _fuzz(relay_schema, "/api/v1/pushes", "POST", mode, world.headers, prepare=_real_targets)
    _fuzz(relay_schema, "/api/v1/pushes", "POST", mode, world.headers, checks=STATUS_CHECKS, prepare=_real_targets)


@pytest.mark.parametrize("as_device", ["fuzz-laptop", "fuzz-phone", "friend-phone"])
@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/pushes/{push_id}/events", "POST"),
        ("/api/v1/pushes/{push_id}", "GET"),
        ("/api/v1/pushes/{push_id}", "DELETE"),
    ],
    ids=["report", "get", "cancel"],
)
def test_real_pushes(relay_schema, world, path, method, as_device):
    """Reports, reads and cancellations of real pushes by their sender, their target and
    another device: only documented answers, never a 5xx, answers match the document."""
    operation = relay_schema[path][method]
    for mode in MODES:
        strategy = st.sampled_from(world.push_ids).flatmap(
            lambda pid, mode=mode: operation.as_strategy(generation_mode=mode, path_parameters={"push_id": pid})
        )
        headers = lambda: world.headers(as_device)  # noqa: E731
        _fuzz(relay_schema, path, method, mode, headers, checks=CHECKS + STATUS_CHECKS, strategy=strategy)


_VALID_ID = st.integers(min_value=0, max_value=MAX_INT).map(str)


def _is_valid_last_event_id(value: str) -> bool:
    raw = value.strip()
    return raw == "" or (raw.isascii() and raw.isdigit() and int(raw) <= MAX_INT)


# Header values Werkzeug's test client can carry: no CR/LF/NUL, Latin-1 only.
_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40)
_BAD_IDS = st.one_of(
    _HEADER_TEXT,
    st.integers(max_value=-1).map(str),
    st.integers(min_value=MAX_INT + 1, max_value=10**40).map(str),
    _VALID_ID.map(lambda v: v + "x"),
    _VALID_ID.map(lambda v: "-" + v),
    _VALID_ID.map(lambda v: v + ".0"),
    st.sampled_from(["1e3", "0x10", "+1", "١٢", "²", "1 2", "NaN", "9" * 400]),
).filter(lambda v: not _is_valid_last_event_id(v))


@given(value=_BAD_IDS, where=st.sampled_from(["header", "query"]))
@FUZZ_SETTINGS
@_seeded
def test_stream_refuses_a_bad_last_event_id_quickly(world, value, where):
    """``GET /stream`` with a Last-Event-ID that is not 0..2**53-1: a 400 error at once,
    never a stream (the endless stream itself is not fuzzed)."""
    client = world.client
    headers = {**world.headers("fuzz-phone"), "Accept": "text/event-stream"}
    kwargs = (
        {"headers": {**headers, "Last-Event-ID": value}}
        if where == "header"
        else {"headers": headers, "query_string": {"last_event_id": value}}
    )
    started = time.monotonic()
    resp = client.get(STREAM, buffered=False, **kwargs)
    try:
        assert resp.status_code == 400, (value, resp.status_code, resp.headers)
        assert resp.mimetype == "application/json"
        body = resp.get_json()
        assert set(body) == {"error"} and body["error"]["code"] in ("invalid_field", "bad_request"), body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    finally:
        resp.close()
    assert time.monotonic() - started < 2.0


def test_stream_with_a_valid_last_event_id_still_streams(world):
    """The control for the test above: a good Last-Event-ID opens the event stream."""
    headers = {**world.headers("fuzz-phone"), "Accept": "text/event-stream", "Last-Event-ID": "0"}
    resp = world.client.get(STREAM, headers=headers, buffered=False)
    try:
        assert resp.status_code == 200
        assert resp.mimetype == "text/event-stream"
        first = next(resp.response)
        assert b"connected" in (first if isinstance(first, bytes) else first.encode())
    finally:
        resp.close()
