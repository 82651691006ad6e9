"""The operations routes at their addresses (issue 13): ``/healthz`` and ``/metrics`` at the
root, the OpenAPI document under the API's prefix, and the old addresses answering a permanent
redirect, so a monitor or client set up before the move keeps working. Against a real relay
process over HTTP on 127.0.0.1, as a load balancer or Prometheus sees it."""

from __future__ import annotations

import pytest
import requests

from shared.relay_client import RelayClient
from tests.helpers.relay_process import RelayProcess


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    with RelayProcess(tmp_path_factory.mktemp("relay")) as relay:
        yield relay


def test_the_health_check_and_metrics_answer_at_the_root(relay):
    health = requests.get(f"{relay.url}/healthz", timeout=30, allow_redirects=False)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"

    metrics = requests.get(f"{relay.url}/metrics", timeout=30, allow_redirects=False)
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    assert "appbeam_connected_devices" in metrics.text


def test_the_openapi_document_sits_under_the_api_prefix(relay):
    answer = requests.get(f"{relay.url}/api/v1/openapi.json", timeout=30, allow_redirects=False)
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"] == "3.1.0"
    assert "/healthz" in document["paths"] and "/api/v1/pushes" in document["paths"]


@pytest.mark.parametrize(
    "old, new",
    [("/api/v1/healthz", "/healthz"), ("/api/openapi.json", "/api/v1/openapi.json")],
)
def test_an_old_address_redirects_permanently_to_the_new_one(relay, old, new):
    moved = requests.get(f"{relay.url}{old}?probe=1", timeout=30, allow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["Location"] == f"{new}?probe=1"  # relative: right behind any proxy

    followed = requests.get(f"{relay.url}{old}", timeout=30)  # what an old client does
    assert followed.status_code == 200
    assert followed.url == f"{relay.url}{new}"
    assert isinstance(followed.json(), dict)


def test_the_old_health_address_still_answers_a_head_probe(relay):
    moved = requests.head(f"{relay.url}/api/v1/healthz", timeout=30, allow_redirects=True)
    assert moved.status_code == 200
    assert moved.url == f"{relay.url}/healthz"


def test_the_relay_client_checks_health_at_the_root(relay):
    assert RelayClient(relay.url).health().status == "ok"
