"""Passing or permanent, and in which words: every way a download can stop, classified.

The download errors here are the engine's own (made by running it against a real local server,
or an unreachable port), so the test covers what the engine really raises.
"""

from __future__ import annotations

import errno
import re

import pytest
import requests

from mobile_receiver import failures
from mobile_receiver.download import DownloadError, NotEnoughSpace, PackageChanged, PackageDownload
from mobile_receiver.failures import Where
from shared.protocol import SITUATION_LABELS, Situation, state_label
from shared.relay_errors import RelayError, RelayUnavailable

from .package_server import PackageServer
from .rig import BODY

RELAY = "http://relay.example:8765/"
STORE = "http://f-droid.example/repo/app.apk"
NOT_FOR_PEOPLE = re.compile(r"Error|Exception|Errno|Pool|Traceback|urllib3|Max retries|0x[0-9a-f]|[<>{}]|\bNone\b")


def _engine_error(tmp_path, url, **options) -> DownloadError:
    with pytest.raises(DownloadError) as info:
        PackageDownload(url, tmp_path / "x.part", attempts=1, **options).run()
    return info.value


def _for_people(sentence: str) -> bool:
    return bool(sentence) and sentence[0].isupper() and sentence.endswith(".") and not NOT_FOR_PEOPLE.search(sentence)


# --------------------------------------------------------------------------- passing causes


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_busy_or_broken_servers_are_passing(tmp_path, status):
    with PackageServer(BODY, fail_status=status, fail_times=5) as srv:
        error = _engine_error(tmp_path, srv.url)
    failure = failures.download_failure(error, Where(srv.url, RELAY))
    assert not failure.permanent and failure.situation is Situation.WAITING_FOR_SERVER
    assert _for_people(failure.sentence), failure.sentence
    assert f"(HTTP {status})" in failure.sentence


def test_nothing_listening_is_passing_and_the_sentence_names_the_place(tmp_path):
    error = _engine_error(tmp_path, "http://127.0.0.1:9/app.apk")
    assert error.transient
    on_store = failures.download_failure(error, Where("http://127.0.0.1:9/app.apk", RELAY))
    assert not on_store.permanent
    assert on_store.sentence == "Can't reach the server at 127.0.0.1:9: nothing answers there. Is it running?"
    on_relay = failures.download_failure(error, Where("http://127.0.0.1:9/app.apk", "http://127.0.0.1:9/"))
    assert on_relay.situation is Situation.WAITING_FOR_RELAY
    assert on_relay.sentence.startswith("Can't reach the relay at 127.0.0.1:9")


def test_a_connection_cut_mid_body_is_passing(tmp_path):
    with PackageServer(BODY, drop_after=100_000) as srv:
        error = _engine_error(tmp_path, srv.url)
    failure = failures.download_failure(error, Where(srv.url, RELAY))
    assert not failure.permanent and _for_people(failure.sentence), failure.sentence


@pytest.mark.parametrize(
    "relay_connected, network_connected, on_relay, situation",
    [
        (True, True, False, Situation.WAITING_FOR_SERVER),  # only the package's server is away
        (False, True, False, Situation.NO_CONNECTION),  # nothing answers: the connection
        (False, True, True, Situation.WAITING_FOR_RELAY),  # the package is the relay's: the relay is away
        (True, False, True, Situation.NO_CONNECTION),  # the platform says there is no network
        (True, False, False, Situation.NO_CONNECTION),
    ],
)
def test_what_a_passing_failure_waits_for(relay_connected, network_connected, on_relay, situation):
    url = RELAY + "api/v1/packages/" + "a" * 64 if on_relay else STORE
    where = Where(url, RELAY, relay_connected=relay_connected, network_connected=network_connected)
    error = DownloadError("test", transient=True, cause=requests.ConnectionError("refused"))
    assert failures.download_failure(error, where).situation is situation


def test_a_relay_that_cannot_be_reached_for_the_catalog_is_passing():
    cause = requests.ConnectionError("Max retries exceeded with url: /api/v1/apps (Caused by NewConnectionError)")
    try:
        raise RelayUnavailable("cannot reach the relay") from cause
    except RelayUnavailable as exc:
        error = exc
    failure = failures.relay_failure(error, RELAY)
    assert not failure.permanent and failure.situation is Situation.WAITING_FOR_RELAY
    assert failure.sentence == "Can't reach the relay at relay.example:8765."
    assert failures.relay_failure(RelayError(503, "busy", "busy"), RELAY).permanent is False


# --------------------------------------------------------------------------- permanent causes


@pytest.mark.parametrize(
    "status, start",
    [
        (404, "The package is no longer on the server at 127.0.0.1"),
        (410, "The package is no longer on the server at 127.0.0.1"),
        (403, "The server at 127.0.0.1"),
        (401, "The server at 127.0.0.1"),
        (400, "The server at 127.0.0.1"),
    ],
)
def test_gone_or_refused_packages_are_permanent(tmp_path, status, start):
    with PackageServer(BODY, fail_status=status, fail_times=5) as srv:
        error = _engine_error(tmp_path, srv.url)
    failure = failures.download_failure(error, Where(srv.url, RELAY))
    assert failure.permanent and failure.situation is None
    assert failure.sentence.startswith(start) and f"HTTP {status}" in failure.sentence
    assert _for_people(failure.sentence), failure.sentence


def test_a_package_of_another_size_than_the_push_said_is_permanent(tmp_path):
    with PackageServer(BODY) as srv:
        error = _engine_error(tmp_path, srv.url, expected_size=123)
    assert isinstance(error, PackageChanged)
    failure = failures.download_failure(error, Where(srv.url, RELAY))
    assert failure.permanent and failure.fresh_download and _for_people(failure.sentence)


def test_no_space_and_unwritable_disks_are_permanent():
    space = failures.download_failure(NotEnoughSpace("x", needed=45_000_000, free=2_000_000), Where(STORE))
    assert space.permanent and space.sentence == (
        "Not enough free space: this app needs 45.0 MB and 2.0 MB is free. Free some space, then tap Retry."
    )
    full = DownloadError("cannot write", cause=OSError(errno.ENOSPC, "No space left on device"))
    assert failures.download_failure(full, Where(STORE)).sentence.startswith("This device is out of storage space.")
    odd = DownloadError("cannot write", cause=OSError(errno.EIO, "Input/output error"))
    assert failures.download_failure(odd, Where(STORE)).sentence == (
        "Something unexpected went wrong. The details are in the log."
    )


def test_checks_before_installing_are_permanent_with_their_own_sentences():
    checksum = failures.checksum_mismatch()
    assert checksum.permanent and checksum.fresh_download  # Retry downloads from zero
    not_a_package = failures.not_a_package("This file is a web page, not an Android app (apk).")
    assert not_a_package.permanent and not_a_package.fresh_download
    wrong = failures.wrong_format("ipa", "Android")
    sentences = {
        checksum.sentence,
        not_a_package.sentence,
        wrong.sentence,
        failures.interrupted_install().sentence,
        failures.unexpected().sentence,
        failures.no_package_for_device("Android").sentence,
    }
    assert len(sentences) == 6  # each cause its own sentence
    assert all(_for_people(s) for s in sentences), sentences
    refused = failures.relay_failure(RelayError(404, "no_package_for_platform", "no android package of x.y"), RELAY)
    assert refused.permanent and refused.sentence == "No android package of x.y."


# --------------------------------------------------------------------------- the protocol's words for situations


def test_every_situation_has_a_label_the_sender_shows_for_a_paused_report():
    assert set(SITUATION_LABELS) == set(Situation)
    for situation, label in SITUATION_LABELS.items():
        assert state_label("paused", 40, str(situation)) == label
    assert state_label("paused", 40, "something else") == "Paused"
    assert state_label("paused") == "Paused"
