"""Benchmark 8: a normal account's pushes while the relay is abused (issue 11).

One relay (SQLite, ``--allow-private-mirror`` so it may fetch from 127.0.0.1, rate limits on
with the per-device push limit raised so the normal account's steady load fits). The *normal
account* is the seeded one: its sender device pushes open loop (``rate``/s for ``seconds``) to
an online phone (device 0, one event stream); every ``offline_every``-th push also goes to an
offline phone (device 1), so the relay must mirror its package from a fast package server on
127.0.0.1 (64 KB, real SHA-256).

Two phases on the same relay, in this order:

- **quiet**: only the normal account;
- **abuse**: the same normal load while ``bench/abuse_child.py`` (a process of its own, so
  the measuring client stays lean) holds ``idle`` idle device streams, ``slow`` slow clients
  (half slowloris headers, half slow ``POST /api/v1/accounts`` bodies, reconnecting when the
  relay drops them) and one *abusive account* pushing packages hosted on a server that trickles
  ~1 KB/s to its own offline phone (so the relay keeps mirroring trickles).

Per phase: the online phone's latency from just before the POST to the stream reading the
``push`` event (p50/p99/max), every POST's status (5xx counted apart), pushes accepted but never
read, offline pushes mirrored while the phase lasted (polled every 0.5 s as the offline
phone: ``GET /api/v1/pushes?role=received``) and a ``/healthz`` probe every 0.5 s. At the end
the offline phone connects and must read every mirrored push with the relay's own URL.

Goal (issue 11): under abuse, every normal push delivered (online read, offline mirrored),
p99 < 100 ms, no 5xx answered to the normal account.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiohttp
import requests

from bench.common import REPO, log, summary_ms
from bench.relay import discard, fresh_relay, push_body

ABUSER = "abuser"
ABUSER_PASSWORD = "abuser password 123"
P99_GOAL_MS = 100.0
POST_TIMEOUT_S = 40.0  # the relay's database pool gives up after 30 s; this is longer


def sizes(smoke: bool, override: str | None = None) -> dict:
    """The sizes; ``override`` (``BENCH_ABUSE_SIZES``, e.g. ``"idle=1000,slow=200,seconds=10"``)
    changes some of them, for a run between smoke and full size."""
    if smoke:
        s = dict(
            idle=50,
            slow=20,
            rate=10.0,
            seconds=2.0,
            offline_every=5,
            settle=8.0,
            interval=3.0,
            ramp=1.0,
            child_settle=1.0,
            abuser_rate=2.0,
            final_wait=4.0,
        )
    else:
        s = dict(
            idle=5000,
            slow=1000,
            rate=20.0,
            seconds=30.0,
            offline_every=20,
            settle=10.0,
            interval=3.0,
            ramp=3.0,
            child_settle=3.0,
            abuser_rate=1.0,
            final_wait=8.0,
        )
    for item in filter(None, (override or "").split(",")):
        key, _, value = item.partition("=")
        key = key.strip()
        if key not in s:
            raise ValueError(f"BENCH_ABUSE_SIZES: unknown size {key!r} (known: {', '.join(s)})")
        s[key] = type(s[key])(float(value)) if isinstance(s[key], int) else float(value)
    return s


# ---------------------------------------------------------------------------- a fast package server


class PackageServer:
    """A well-behaved package server on 127.0.0.1 for the normal account's offline pushes."""

    def __init__(self, body: bytes):
        self.body = body
        self.sha256 = hashlib.sha256(body).hexdigest()
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's name
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.android.package-archive")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ok/bench-offline.apk"
        self.thread = threading.Thread(target=self.server.serve_forever, name="bench-package-server", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


# ---------------------------------------------------------------------------- the online phone


class PhoneStream:
    """One device's event stream; reconnects (with Last-Event-ID) when it breaks, as a phone would."""

    def __init__(self, url: str, token: str):
        self.url = f"{url}/api/v1/stream"
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        self.at: dict[str, float] = {}
        self.packages: dict[str, str] = {}  # push id -> package url as read
        self.errors: list[str] = []
        self.connects = 0
        self.last_id: str | None = None
        self.connected = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def _run(self, session: aiohttp.ClientSession) -> None:
        while True:
            headers = dict(self.headers)
            if self.last_id:
                headers["Last-Event-ID"] = self.last_id
            try:
                async with session.get(
                    self.url, headers=headers, timeout=aiohttp.ClientTimeout(total=None, connect=60)
                ) as resp:
                    if resp.status != 200:
                        self.errors.append(f"HTTP {resp.status}")
                    else:
                        self.connects += 1
                        kind = data = None
                        async for line in resp.content:
                            if line == b"\n":
                                if kind == "push" and data is not None:
                                    now = time.perf_counter()
                                    message = json.loads(data)
                                    self.at.setdefault(message["push_id"], now)
                                    self.packages[message["push_id"]] = message["package"]["url"]
                                kind = data = None
                            elif line.startswith(b"id:"):
                                self.last_id = line[3:].strip().decode()
                            elif line.startswith(b"event:"):
                                kind = line[6:].strip().decode()
                            elif line.startswith(b"data:"):
                                data = line[5:].strip()
                            elif line.startswith(b": connected"):
                                self.connected.set()
                        self.errors.append("stream ended by the relay")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - counted, then reconnect
                self.errors.append(f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(0.5)

    def start(self, session: aiohttp.ClientSession) -> None:
        self.task = asyncio.create_task(self._run(session))

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


# ---------------------------------------------------------------------------- one phase of normal load


async def _post(session, url: str, token: str, body: dict) -> tuple[str, list[dict], float, float]:
    """(status or error name, [{id, device_id}], perf_counter just before sending, of the answer)."""
    sent = time.perf_counter()
    try:
        async with session.post(
            f"{url}/api/v1/pushes",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT_S),
        ) as resp:
            payload = await resp.read()
            done = time.perf_counter()
            made = json.loads(payload)["pushes"] if resp.status == 201 else []
            return str(resp.status), [{"id": p["id"], "device_id": p["device_id"]} for p in made], sent, done
    except TimeoutError:
        return "timeout", [], sent, time.perf_counter()
    except Exception as exc:  # noqa: BLE001 - counted
        return type(exc).__name__, [], sent, time.perf_counter()


async def _health_probe(session, url: str, stop: asyncio.Event, out: dict) -> None:
    statuses, times = Counter(), []
    while not stop.is_set():
        start = time.perf_counter()
        try:
            async with session.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT_S)) as r:
                await r.read()
                statuses[str(r.status)] += 1
        except TimeoutError:
            statuses["timeout"] += 1
        except Exception as exc:  # noqa: BLE001
            statuses[type(exc).__name__] += 1
        times.append(time.perf_counter() - start)
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except TimeoutError:
            pass
    out.update(
        statuses=dict(statuses), **{k: v for k, v in summary_ms(times).items() if k in ("count", "p99_ms", "max_ms")}
    )


async def _mirror_poll(
    session, url: str, offline_token: str, wanted: dict[str, float | None], failed: set[str], stop: asyncio.Event
) -> None:
    """Stamp each offline push when the relay says its copy is made (as the offline phone asks)."""
    headers = {"Authorization": f"Bearer {offline_token}"}
    while not stop.is_set():
        try:
            async with session.get(
                f"{url}/api/v1/pushes",
                params={"role": "received", "limit": "1000"},
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT_S),
            ) as r:
                listing = (await r.json())["pushes"] if r.status == 200 else []
            now = time.perf_counter()
            for p in listing:
                if p["id"] in wanted and wanted[p["id"]] is None:
                    if p.get("mirrored"):
                        wanted[p["id"]] = now
                    elif "could not keep a copy" in (p.get("detail") or ""):
                        failed.add(p["id"])
        except Exception:  # noqa: BLE001 - the next poll tries again
            pass
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except TimeoutError:
            pass


async def _phase(
    name: str,
    session,
    url: str,
    sender_token: str,
    offline_token: str,
    phone: PhoneStream,
    pkg: PackageServer,
    s: dict,
    relay_pid: int,
) -> dict:
    online, offline = "dev-00000", "dev-00001"
    count = int(s["rate"] * s["seconds"])
    mirrored: dict[str, float | None] = {}
    mirror_failed: set[str] = set()
    created: dict[str, float] = {}
    stop_probe, stop_poll = asyncio.Event(), asyncio.Event()
    health: dict = {}
    probe = asyncio.create_task(_health_probe(session, url, stop_probe, health))
    poll = asyncio.create_task(_mirror_poll(session, url, offline_token, mirrored, mirror_failed, stop_poll))
    errors_before = len(phone.errors)
    cpu_before = _cpu_seconds(relay_pid)
    offline_body = push_body(
        [online, offline], url=pkg.url, sha256=pkg.sha256, size=len(pkg.body), app_id="org.example.offline"
    )
    online_body = push_body([online])

    async def one(k: int):
        answer = await _post(session, url, sender_token, offline_body if k % s["offline_every"] == 0 else online_body)
        for p in answer[1]:
            if p["device_id"] == offline:
                mirrored[p["id"]] = None
                created[p["id"]] = answer[3]
        return answer

    start = time.perf_counter()
    tasks = []
    for k in range(count):
        delay = start + k / s["rate"] - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(k)))
    answers = await asyncio.gather(*tasks)
    answered_s = time.perf_counter() - start
    online_ids = {p["id"]: a for a in answers for p in a[1] if p["device_id"] == online}
    deadline = time.perf_counter() + s["settle"]
    while time.perf_counter() < deadline:
        if all(i in phone.at for i in online_ids) and all(
            v is not None or i in mirror_failed for i, v in mirrored.items()
        ):
            break
        await asyncio.sleep(0.05)
    stop_probe.set()
    stop_poll.set()
    await asyncio.gather(probe, poll)

    statuses = Counter(a[0] for a in answers)
    from_send = [phone.at[i] - a[2] for i, a in online_ids.items() if i in phone.at]
    answer_times = [a[3] - a[2] for a in answers]
    to_mirror = [v - created[i] for i, v in mirrored.items() if v is not None]
    out = {
        "phase": name,
        "posts": count,
        "offered_rate": s["rate"],
        "post_statuses": dict(statuses),
        "http_5xx": sum(n for st, n in statuses.items() if st.isdigit() and st.startswith("5")),
        "post_failures": count - statuses.get("201", 0),
        "online_accepted": len(online_ids),
        "online_delivered": len(from_send),
        "latency": summary_ms(from_send),
        "post_answer": summary_ms(answer_times),
        "offline_accepted": len(mirrored),
        "offline_mirrored": len(to_mirror),
        "offline_mirror_failed": len(mirror_failed),
        "to_mirrored_s": {
            k[:-3] + "_s": (None if v is None else round(v / 1000, 2))
            for k, v in summary_ms(to_mirror).items()
            if k in ("p50_ms", "max_ms")
        },
        "stream_errors": len(phone.errors) - errors_before,
        "first_stream_errors": phone.errors[errors_before:][:3],
        "healthz": health,
        "answered_s": round(answered_s, 2),
        "relay_cpu_s": None if cpu_before is None else round(_cpu_seconds(relay_pid) - cpu_before, 1),
    }
    out["errors"] = (
        out["post_failures"]
        + (out["online_accepted"] - out["online_delivered"])
        + (out["offline_accepted"] - out["offline_mirrored"])
        + out["stream_errors"]
    )
    out["all_delivered"] = (
        out["post_failures"] == 0
        and out["online_delivered"] == out["online_accepted"] == count
        and out["offline_mirrored"] == out["offline_accepted"] > 0
    )
    log(
        f"  {name}: p50 {out['latency']['p50_ms']} / p99 {out['latency']['p99_ms']} ms; online "
        f"{out['online_delivered']}/{count}, offline mirrored {out['offline_mirrored']}/{out['offline_accepted']}; "
        f"POST {dict(statuses)}; healthz {health.get('statuses')}; errors {out['errors']}"
    )
    return out


def _open_files(pid: int) -> dict | None:
    """The relay's open descriptors and its limit (it inherits the bench's raised limit)."""
    try:
        import psutil

        process = psutil.Process(pid)
        return {"open": process.num_fds(), "limit": process.rlimit(psutil.RLIMIT_NOFILE)[0]}
    except Exception:  # noqa: BLE001
        return None


def _cpu_seconds(pid: int) -> float | None:
    try:
        import psutil

        t = psutil.Process(pid).cpu_times()
        return t.user + t.system
    except Exception:  # noqa: BLE001
        return None


# ---------------------------------------------------------------------------- the abuse process


async def _start_abuse(work: Path, url: str, tokens: list[str], abuser: dict, s: dict, max_seconds: float):
    tokens_file = work / "abuse-tokens.json"
    tokens_file.write_text(json.dumps(tokens))
    cfg_file = work / "abuse-config.json"
    cfg_file.write_text(
        json.dumps(
            {
                "url": url,
                "tokens_file": str(tokens_file),
                "slow": s["slow"],
                "interval": s["interval"],
                "ramp": s["ramp"],
                "settle": s["child_settle"],
                "abuser_token": abuser["token"],
                "abuser_target": abuser["target"],
                "abuser_rate": s["abuser_rate"],
                "trickle_size": 1024 * 1024,
                "trickle_rate": 1024,
                "max_seconds": max_seconds,
            }
        )
    )
    from appbeam_devtools.local_relay import _die_with_parent

    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    stderr = open(work / "abuse-child.log", "ab")  # noqa: SIM115 - closed in _stop_abuse
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.abuse_child",
        str(cfg_file),
        cwd=REPO,
        env=env,
        limit=1 << 22,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    proc._bench_log = stderr  # noqa: SLF001
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), max_seconds)
        if not line:
            raise RuntimeError(
                f"the abuse process exited before it was ready: "
                f"{(work / 'abuse-child.log').read_text(errors='replace')[-2000:]}"
            )
        return proc, json.loads(line)
    except BaseException:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        await proc.wait()
        stderr.close()
        raise


async def _stop_abuse(proc) -> dict:
    result: dict = {}
    try:
        proc.stdin.write(b"stop\n")
        await proc.stdin.drain()
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        result = json.loads(line) if line else {"error": f"no result (exit {proc.returncode})"}
        await asyncio.wait_for(proc.wait(), 30)
    except (TimeoutError, OSError, ValueError) as exc:
        result.setdefault("error", f"{type(exc).__name__}: {exc}")
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        proc._bench_log.close()  # noqa: SLF001
    result.pop("event", None)
    return result


# ---------------------------------------------------------------------------- the benchmark


def _make_abuser(url: str) -> dict:
    api = f"{url}/api/v1"
    requests.post(
        f"{api}/accounts", json={"username": ABUSER, "password": ABUSER_PASSWORD}, timeout=30
    ).raise_for_status()
    tokens = {}
    for device_id, platform in (("abuser-laptop", "linux"), ("abuser-phone", "android")):
        r = requests.post(
            f"{api}/login",
            json={
                "username": ABUSER,
                "password": ABUSER_PASSWORD,
                "device": {"id": device_id, "name": device_id, "model": "bench", "platform": platform},
            },
            timeout=30,
        )
        r.raise_for_status()
        tokens[device_id] = r.json()["token"]
    return {"token": tokens["abuser-laptop"], "target": "abuser-phone"}


async def _run(relay, seeded, s: dict, work: Path) -> dict:
    url = relay.url
    out: dict = {}
    abuser = _make_abuser(url)
    with PackageServer(bytes(range(256)) * 256) as pkg:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            phone = PhoneStream(url, seeded.tokens[0])
            phone.start(session)
            await asyncio.wait_for(phone.connected.wait(), 30)
            # warm-up (imports, caches, prepared statements): not measured
            warm = await asyncio.gather(
                *(_post(session, url, seeded.sender_token, push_body(["dev-00000"])) for _ in range(10))
            )
            await asyncio.sleep(0.5)
            out["warmup_statuses"] = dict(Counter(a[0] for a in warm))

            out["quiet"] = await _phase(
                "quiet", session, url, seeded.sender_token, seeded.tokens[1], phone, pkg, s, relay.proc.pid
            )

            budget = s["seconds"] + s["settle"] + POST_TIMEOUT_S + 120  # the child stops by itself after this
            proc, ready = await _start_abuse(work, url, seeded.tokens[2 : 2 + s["idle"]], abuser, s, budget)
            ready.pop("event", None)
            ready["relay_open_files"] = _open_files(relay.proc.pid)
            out["abuse_ready"] = ready
            log(f"  abuse running: {ready}")
            try:
                out["abuse"] = await _phase(
                    "abuse", session, url, seeded.sender_token, seeded.tokens[1], phone, pkg, s, relay.proc.pid
                )
            finally:
                out["abusers"] = await _stop_abuse(proc)
            log(f"  abusers: {_abusers_line(out['abusers'])}")

            # after the abuse: how soon does the relay answer again, does the offline phone get its copies?
            start = time.perf_counter()
            status = await _post(session, url, seeded.sender_token, push_body(["dev-00000"]))
            out["after_abuse_push"] = {"status": status[0], "answer_ms": round((status[3] - start) * 1000, 1)}
            await phone.stop()
            out["online_stream_connects"] = phone.connects
            out["final_offline_check"] = await _offline_check(session, url, seeded.tokens[1], s["final_wait"])
    return out


async def _offline_check(session, url: str, token: str, wait: float) -> dict:
    """The offline phone connects at last: every push it reads should carry the relay's own copy."""
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(
        f"{url}/api/v1/pushes",
        params={"role": "received", "limit": "1000"},
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT_S),
    ) as r:
        listing = (await r.json())["pushes"] if r.status == 200 else []
    mirrored = {p["id"] for p in listing if p.get("mirrored")}
    phone = PhoneStream(url, token)
    phone.start(session)
    deadline = time.perf_counter() + wait
    while time.perf_counter() < deadline and not mirrored <= set(phone.at):
        await asyncio.sleep(0.05)
    await phone.stop()
    own = sum(1 for i in mirrored if "/api/v1/packages/" in phone.packages.get(i, ""))
    return {
        "pushes_to_offline": len(listing),
        "mirrored": len(mirrored),
        "read_on_connect": len(set(phone.at) & mirrored),
        "read_with_relay_copy": own,
        "ok": own == len(mirrored),
    }


def _abusers_line(a: dict) -> str:
    if "error" in a and "slow" not in a:
        return a["error"]
    slow = a.get("slow", {})
    return (
        f"idle {a.get('idle_open_at_stop')}/{a.get('idle', {}).get('n')} open; slow headers "
        f"{slow.get('headers', {}).get('answers')} body {slow.get('body', {}).get('answers')}; "
        f"abuser pushes {a.get('abuser_pushes')}; trickle {a.get('trickle', {}).get('requests')} requests"
    )


def abuse(ctx) -> dict:
    s = sizes(ctx.smoke, os.environ.get("BENCH_ABUSE_SIZES"))
    seeded = ctx.seeded(s["idle"] + 2)
    relay = fresh_relay(
        seeded,
        extra_args=["--allow-private-mirror"],
        env={"APPBEAM_RATE_LIMITS": "1", "APPBEAM_LIMIT_PUSHES_PER_DEVICE": "3000/minute"},
    )
    try:
        run = asyncio.run(_run(relay, seeded, s, ctx.work))
        relay_alive = relay.running
    finally:
        discard(relay)
    quiet, abused = run["quiet"], run["abuse"]
    result = {
        "sizes": s,
        "relay": {
            "rate_limits": "on (pushes per device 3000/minute)",
            "mirror_allow_private": True,
            "alive_at_end": relay_alive,
        },
        **run,
    }
    p99 = abused["latency"]["p99_ms"]
    result["target"] = {
        "what": f"under abuse: every normal push delivered, p99 < {P99_GOAL_MS:g} ms, no 5xx",
        "value_ms": p99,
        "met": bool(abused["all_delivered"] and abused["http_5xx"] == 0 and p99 is not None and p99 < P99_GOAL_MS),
        "quiet_met": bool(
            quiet["all_delivered"]
            and quiet["http_5xx"] == 0
            and quiet["latency"]["p99_ms"] is not None
            and quiet["latency"]["p99_ms"] < P99_GOAL_MS
        ),
    }
    return result
