"""Benchmarks 5 and 6: serving package files, and the receiver's download engine.

5. ``package_serving``: the relay's public catalog file route ``/files/<sha256>/<name>``
   (the same ``send_file`` path as ``/api/v1/packages/<sha256>``, without the auth query)
   against nginx serving the same file; ``curl -o /dev/null``, one client and eight at once.
6. ``download_engine``: ``mobile_receiver.download.PackageDownload`` (SHA-256 computed while
   downloading) against ``curl -o <file>``, both from nginx, same file; the engine runs in its
   own process whose RSS is sampled every 10 ms (growth = peak minus the RSS after imports).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import REPO, log
from bench.peers import Nginx
from bench.prepare import ensure_binary
from bench.relay import add_catalog_package, discard, fresh_relay

MB = 2**20


def make_file(path: Path, size: int) -> Path:
    """``size`` bytes: a random 1 MiB block repeated (cheap to make; hashing and I/O do not care)."""
    if path.exists() and path.stat().st_size == size:
        return path
    block = os.urandom(MB)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(block[: min(MB, left)])
            left -= MB
    return path


def _curl_parallel(curl: str, url: str, clients: int, out: str = "/dev/null") -> dict:
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                curl,
                "-s",
                "-f",
                "-o",
                out if clients == 1 or out == "/dev/null" else f"{out}.{k}",
                "-w",
                "%{size_download} %{time_total}",
                url,
            ],
            stdout=subprocess.PIPE,
        )
        for k in range(clients)
    ]
    sizes = []
    for p in procs:
        stdout, _ = p.communicate(600)
        if p.returncode != 0:
            raise RuntimeError(f"curl {url} failed with {p.returncode}")
        sizes.append(int(float(stdout.split()[0])))
    wall = time.perf_counter() - start
    return {"bytes": sum(sizes), "seconds": wall, "mb_per_s": sum(sizes) / wall / MB}


def _median_run(fn, repeats: int) -> dict:
    runs = [fn() for _ in range(repeats)]
    speeds = [r["mb_per_s"] for r in runs]
    return {"mb_per_s": round(statistics.median(speeds), 1), "runs_mb_per_s": [round(s, 1) for s in speeds]}


def package_serving(ctx) -> dict:
    size = 5 * MB if ctx.smoke else 500 * MB
    repeats = 1 if ctx.smoke else 3
    curl = ensure_binary("curl")
    if curl is None:
        raise RuntimeError("curl is needed and cannot be installed")
    site = ctx.work / "site"
    site.mkdir(exist_ok=True)
    big = make_file(site / "big.apk", size)
    seeded = ctx.seeded(5)
    holder = {}

    def prepare(data_dir):
        holder["sha"] = add_catalog_package(data_dir, "org.example.big", big, "big.apk")

    result = {
        "file_mb": size // MB,
        "route": "relay /files/<sha256>/<name> (catalog file; Werkzeug send_file, "
        "the same path as /api/v1/packages/<sha256>)",
        "client": "curl -o /dev/null",
        "repeats": repeats,
    }
    relay = fresh_relay(seeded, prepare=prepare)
    try:
        url = f"{relay.url}/files/{holder['sha']}/big.apk"
        for clients in (1, 8):
            result[f"relay_{clients}"] = _median_run(lambda: _curl_parallel(curl, url, clients), repeats)
            log(f"  relay, {clients} client(s): {result[f'relay_{clients}']}")
    finally:
        discard(relay)
    nginx = Nginx(site)
    if nginx.available:
        with nginx:
            for clients in (1, 8):
                result[f"nginx_{clients}"] = _median_run(
                    lambda: _curl_parallel(curl, f"{nginx.url}/big.apk", clients), repeats
                )
                log(f"  nginx, {clients} client(s): {result[f'nginx_{clients}']}")
        ratios = {c: round(result[f"relay_{c}"]["mb_per_s"] / result[f"nginx_{c}"]["mb_per_s"], 3) for c in (1, 8)}
        result["ratio_1"], result["ratio_8"] = ratios[1], ratios[8]
        result["target"] = {
            "what": "relay >= 0.5 x nginx (1 and 8 clients)",
            "value": min(ratios.values()),
            "met": min(ratios.values()) >= 0.5,
        }
    else:
        result["nginx_skipped"] = "nginx not installable here"
        result["target"] = {"what": "relay >= 0.5 x nginx", "value": None, "met": None}
    return result


ENGINE_SCRIPT = r"""
import hashlib, json, sys, threading, time
import psutil
from mobile_receiver.download import PackageDownload
url, part = sys.argv[1], sys.argv[2]
proc = psutil.Process()
base = proc.memory_info().rss
peak = [base]
done = threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], proc.memory_info().rss)
        time.sleep(0.01)
threading.Thread(target=sample, daemon=True).start()
start = time.perf_counter()
result = PackageDownload(url, part).run()
seconds = time.perf_counter() - start
done.set()
peak[0] = max(peak[0], proc.memory_info().rss)
print(json.dumps({"seconds": seconds, "bytes": result.bytes_done, "sha256": result.sha256,
                  "outcome": result.outcome.value, "rss_base_mb": base / 2**20, "rss_peak_mb": peak[0] / 2**20}))
"""


def _engine_once(url: str, part: Path) -> dict:
    part.unlink(missing_ok=True)
    Path(str(part) + ".json").unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", ENGINE_SCRIPT, url, str(part)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"engine failed: {out.stderr[-2000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["mb_per_s"] = data["bytes"] / data["seconds"] / MB
    part.unlink(missing_ok=True)
    Path(str(part) + ".json").unlink(missing_ok=True)
    return data


def download_engine(ctx) -> dict:
    size = 5 * MB if ctx.smoke else 1024 * MB
    repeats = 1 if ctx.smoke else 3
    curl = ensure_binary("curl")
    site = ctx.work / "site"
    site.mkdir(exist_ok=True)
    pkg = make_file(site / "package-1g.apk", size)
    import hashlib

    sha = hashlib.sha256()
    with open(pkg, "rb") as f:
        for chunk in iter(lambda: f.read(4 * MB), b""):
            sha.update(chunk)
    expected = sha.hexdigest()
    nginx = Nginx(site)
    if not nginx.available:
        raise RuntimeError("nginx is needed as the server and cannot be installed")
    result = {"file_mb": size // MB, "server": "nginx", "repeats": repeats}
    dest = ctx.work / "downloads"
    dest.mkdir(exist_ok=True)
    with nginx:
        url = f"{nginx.url}/package-1g.apk"
        engine_runs = []
        curl_runs = []
        for _ in range(repeats):  # interleaved, so a noisy moment hits both
            engine_runs.append(_engine_once(url, dest / "engine.part"))
            c = _curl_parallel(curl, url, 1, out=str(dest / "curl.out"))
            (dest / "curl.out").unlink(missing_ok=True)
            curl_runs.append(c)
    engine_speed = statistics.median(r["mb_per_s"] for r in engine_runs)
    curl_speed = statistics.median(r["mb_per_s"] for r in curl_runs)
    growth = max(r["rss_peak_mb"] - r["rss_base_mb"] for r in engine_runs)
    result.update(
        engine_mb_per_s=round(engine_speed, 1),
        engine_runs_mb_per_s=[round(r["mb_per_s"], 1) for r in engine_runs],
        curl_mb_per_s=round(curl_speed, 1),
        curl_runs_mb_per_s=[round(r["mb_per_s"], 1) for r in curl_runs],
        ratio=round(engine_speed / curl_speed, 3),
        sha256_ok=all(r["sha256"] == expected for r in engine_runs),
        rss_base_mb=round(engine_runs[0]["rss_base_mb"], 1),
        rss_growth_mb=round(growth, 1),
    )
    log(
        f"  engine {result['engine_mb_per_s']} MB/s vs curl {result['curl_mb_per_s']} MB/s, "
        f"RSS growth {result['rss_growth_mb']} MB"
    )
    result["target"] = {
        "what": "engine >= 0.8 x curl with SHA-256, RSS growth < 30 MB",
        "value": result["ratio"],
        "met": result["ratio"] >= 0.8 and growth < 30 and result["sha256_ok"],
    }
    return result
