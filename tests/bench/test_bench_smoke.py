"""``python -m bench --smoke`` runs every benchmark at a tiny size and writes sane results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXPECTED = [
    "push_latency",
    "push_throughput",
    "push_processes",
    "connections",
    "reconnect_storm",
    "package_serving",
    "download_engine",
    "sender",
    "abuse",
]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """One ``python -m bench --smoke`` run for the tests below: (process, results dir)."""
    tmp_path = tmp_path_factory.mktemp("bench-smoke")
    results = tmp_path / "results"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--results", str(results), "--workdir", str(tmp_path / "work")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=440,
    )
    return proc, results


@pytest.mark.timeout(460)
def test_bench_smoke(smoke_run):
    proc, results = smoke_run
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    data = json.loads((results / "results.json").read_text())
    assert (results / "RESULTS.md").read_text().count("|") > 20
    assert data["mode"] == "smoke"
    b = data["benchmarks"]
    assert sorted(b) == sorted(EXPECTED)
    for name in EXPECTED:
        assert b[name]["status"] == "ok", (name, b[name].get("error"))

    lat = b["push_latency"]
    for row in lat["relay"] + lat["mosquitto"]:
        assert row["accepted"] > 0 and row["delivered"] == row["accepted"], row
        assert row["errors"] == 0
        assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"], row  # from before the request: > 0
        assert row["acknowledged"] == row["delivered"], row  # every device acknowledged every push
        assert row["server_cpu_ms_per_push"] is not None and row["server_cpu_ms_per_push"] >= 0, row

    tp = b["push_throughput"]
    assert tp["relay_steps"] and tp["relay_steps"][0]["delivered"] == tp["relay_steps"][0]["accepted"] > 0
    assert tp["relay_steps"][0]["acknowledged"] == tp["relay_steps"][0]["delivered"]
    assert tp["relay_max_rate"] >= 0

    for run in b["push_processes"]["runs"]:
        if not run.get("skipped"):
            first = run["steps"][0]
            assert first["delivered"] == first["accepted"] == first["acknowledged"] > 0, run

    conn = b["connections"]["relay"]
    assert conn["streams_open"] == conn["n"] and conn["all_received"], conn
    assert conn["streams_with_keepalive"] == conn["n"], conn

    storm = b["reconnect_storm"]["relay"]
    assert storm["all_received"] and storm["errors"] == 0 and storm["delivered"] == storm["pushes"] == storm["n"]
    assert storm["last_delivery_s"] > 0

    serving = b["package_serving"]
    assert serving["relay_1"]["mb_per_s"] > 0 and serving["relay_8"]["mb_per_s"] > 0

    engine = b["download_engine"]
    assert engine["sha256_ok"] and engine["engine_mb_per_s"] > 0 and engine["curl_mb_per_s"] > 0

    sender = b["sender"]
    assert sender["picker_visible"]["p50_ms"] > 0 and sender["devices_filled"]["p50_ms"] > 0
    assert sender["devices_in_list"] >= 1 and sender["launch_to_first_page_ms"] > 0


@pytest.mark.timeout(460)
def test_abuse_smoke(smoke_run):
    """Issue 11: while slow clients, idle streams and an account mirroring a trickle abuse the relay,
    the normal account's pushes are all delivered (online read, offline mirrored) and nothing it
    asks is answered 5xx. Outcomes only: no timing is asserted at this size."""
    proc, results = smoke_run
    e = json.loads((results / "results.json").read_text())["benchmarks"]["abuse"]
    assert e["status"] == "ok", e.get("error")
    s = e["sizes"]
    abusers = e["abusers"]
    # the abuse really ran
    assert abusers["idle"]["n"] == s["idle"] and abusers["idle_open_at_stop"] == s["idle"], abusers.get("idle")
    assert abusers["slow"]["headers"]["connects"] > 0 and abusers["slow"]["body"]["connects"] > 0, abusers["slow"]
    assert abusers["trickle"]["requests"] >= 1, abusers["trickle"]  # the relay fetched from the trickle server
    assert sum(abusers["abuser_pushes"].values()) > 0, abusers["abuser_pushes"]
    for name in ("quiet", "abuse"):
        phase = e[name]
        assert phase["http_5xx"] == 0 and phase["post_failures"] == 0, (name, phase["post_statuses"])
        assert phase["online_delivered"] == phase["online_accepted"] == phase["posts"] > 0, (name, phase)
        assert phase["offline_accepted"] > 0, (name, phase)
        assert phase["offline_mirrored"] == phase["offline_accepted"], (
            name,
            f"{phase['offline_mirrored']}/{phase['offline_accepted']} offline pushes mirrored",
        )
        assert phase["stream_errors"] == 0, (name, phase["first_stream_errors"])
    assert e["final_offline_check"]["ok"], e["final_offline_check"]
