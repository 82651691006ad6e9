"""Errors in words: what a person reads is a sentence with what to do, never exception text."""

from __future__ import annotations

import errno
import socket

import pytest
import requests

from appbeam_devtools.local_relay import free_port
from shared.explain import explain, host_of, relay_place
from shared.relay_client import RelayClient
from shared.relay_errors import RelayError, RelayUnavailable


def _unreachable_relay_error() -> RelayUnavailable:
    """What the relay client really raises when nothing listens at the address."""
    client = RelayClient(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RelayUnavailable) as caught:
        client.health()
    return caught.value


def test_a_relay_that_is_down_reads_as_a_sentence_with_the_retry():
    exc = _unreachable_relay_error()
    said = explain(exc, place=relay_place("http://127.0.0.1:8765"), retry_in=8)

    assert (
        said.text == "Can't reach the relay at 127.0.0.1:8765: nothing answers there. Is it running? Retrying in 8 s."
    )
    assert said.transient
    for internals in ("HTTPConnectionPool", "Errno", "Max retries", "object at 0x", "urllib3"):
        assert internals not in said.text


def test_relay_codes_become_plain_sentences():
    assert (
        explain(RelayError(401, "bad_credentials", "wrong username or password")).text == "Wrong username or password."
    )
    wait = explain(RelayError(429, "too_many_requests", "too many attempts; try again in 12 s", retry_after=12))
    assert wait.text == "Too many attempts. Try again in 12 s." and wait.transient
    assert (
        explain(RelayError(422, "no_compatible_package", "Pixel: installs apk only")).text
        == "Pixel: installs apk only."
    )
    assert not explain(RelayError(403, "not_associated", "x")).transient


def test_a_package_server_answer_says_whether_to_wait():
    gone = requests.Response()
    gone.status_code = 404
    broken = requests.Response()
    broken.status_code = 503

    assert (
        explain(requests.HTTPError(response=gone), place="downloads.example.com").text
        == "The package is no longer on downloads.example.com (HTTP 404)."
    )
    assert explain(requests.HTTPError(response=broken), place="downloads.example.com").transient


def test_names_that_do_not_resolve_and_full_disks():
    lookup = requests.ConnectionError("x")
    lookup.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert explain(lookup, place="relay.invalid").text.startswith("Can't find relay.invalid.")
    assert (
        explain(OSError(errno.ENOSPC, "No space left on device")).text
        == "This device is out of storage space. Free some space, then try again."
    )


def test_anything_else_still_reads_as_a_sentence():
    said = explain(KeyError("push_id"))
    assert said.text == "Something unexpected went wrong. The details are in the log."
    assert "KeyError" not in said.text


def test_hosts_are_shown_as_people_know_them():
    assert host_of("https://relay.example:8765/api/v1") == "relay.example:8765"
    assert relay_place(None) == "the relay"
