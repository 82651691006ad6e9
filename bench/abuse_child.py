"""Run by ``b_abuse`` in a process of its own: the abuse, while the parent measures a normal account.

``python -m bench.abuse_child CONFIG.json``. In order:

1. a *trickle server* on 127.0.0.1 (a package server that answers 200 with a large
   Content-Length and then sends ~1 KB/s, so a mirror never times out on a read);
2. ``idle`` device streams (``GET /api/v1/stream``), connected and then left alone;
3. ``slow`` raw sockets: half *slowloris headers* (the request line, then the headers one byte
   every ``interval`` s, never ending), half *slow bodies* (``POST /api/v1/accounts`` headers
   with ``Content-Length: 1000`` at once, then one body byte every ``interval`` s). A socket the
   relay answers or closes is opened again (what an attacker does), so the pressure stays;
4. the *abusive account* pushing, ``abuser_rate`` per second, packages hosted on the trickle
   server to its own offline phone, so every push asks the relay to mirror a trickle.

Then it prints ``{"event": "ready", ...}`` (one JSON line on stdout), keeps the abuse going until
a line arrives on stdin (or ``max_seconds`` pass), stops everything it opened and prints
``{"event": "done", ...}`` with its counts. Everything is on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import aiohttp

from bench.clients import Arrivals, SseFleet
from bench.common import raise_nofile, summary_ms

SLOW_BODY_LENGTH = 1000


def _emit(event: str, **data) -> None:
    sys.stdout.write(json.dumps({"event": event, **data}) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------- the trickle server


class TrickleServer:
    """Answers any GET with 200, ``size`` bytes announced, sent ``rate`` bytes per second."""

    def __init__(self, size: int, rate: int, tick: float = 0.25):
        self.size = size
        self.piece = max(1, int(rate * tick))
        self.tick = tick
        self.server: asyncio.base_events.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.handlers: set[asyncio.Task] = set()
        self.requests = 0
        self.bytes_sent = 0
        self.finished = 0  # transfers that ran to the end (should be none while the bench lasts)
        self.dropped_by_client = 0
        self.paths: Counter = Counter()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        self.handlers.add(asyncio.current_task())
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            self.requests += 1
            self.paths[head.split(b" ", 2)[1].decode(errors="replace")] += 1
            writer.write(
                (
                    f"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.android.package-archive\r\n"
                    f"Content-Length: {self.size}\r\nConnection: close\r\n\r\n"
                ).encode()
            )
            left = self.size
            while left > 0:
                piece = min(self.piece, left)
                writer.write(b"\0" * piece)
                await writer.drain()
                self.bytes_sent += piece
                left -= piece
                await asyncio.sleep(self.tick)
            self.finished += 1
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            self.dropped_by_client += 1
        except asyncio.CancelledError:
            pass  # the bench is over
        finally:
            self.writers.discard(writer)
            self.handlers.discard(asyncio.current_task())
            writer.close()

    async def stop(self) -> dict:
        active = len(self.writers)
        self.server.close()
        handlers = list(self.handlers)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await self.server.wait_closed()
        return {
            "requests": self.requests,
            "active_at_stop": active,
            "bytes_sent": self.bytes_sent,
            "finished_transfers": self.finished,
            "dropped_by_relay": self.dropped_by_client,
            "distinct_paths": len(self.paths),
        }


# ---------------------------------------------------------------------------- slow clients


class SlowClients:
    """Raw sockets that send their request one byte every ``interval`` seconds."""

    def __init__(self, host: str, port: int, interval: float):
        self.host, self.port, self.interval = host, port, interval
        self.tasks: list[asyncio.Task] = []
        self.stats = {
            kind: {
                "connects": 0,
                "connect_errors": 0,
                "answers": Counter(),
                "closed_without_answer": 0,
                "reset": 0,
                "bytes_sent": 0,
                "open": 0,
                "held_s": [],
            }
            for kind in ("headers", "body")
        }
        self._stop = asyncio.Event()

    def _opening(self, kind: str) -> tuple[bytes, bytes]:
        """(sent at once, then sent byte by byte, repeating)."""
        host = f"Host: {self.host}:{self.port}\r\n"
        if kind == "headers":
            return (
                b"GET /healthz HTTP/1.1\r\n",
                (host + "User-Agent: slowloris-bench\r\nAccept: */*\r\nX-Padding: a\r\n").encode(),
            )
        head = (
            f"POST /api/v1/accounts HTTP/1.1\r\n{host}Content-Type: application/json\r\n"
            f"Content-Length: {SLOW_BODY_LENGTH}\r\n\r\n"
        ).encode()
        return head, b" " * (SLOW_BODY_LENGTH - 1) + b"{"

    async def _one(self, kind: str, first_delay: float) -> None:
        s = self.stats[kind]
        await asyncio.sleep(first_delay)
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 10)
            except (TimeoutError, OSError):
                s["connect_errors"] += 1
                await asyncio.sleep(1.0)
                continue
            s["connects"] += 1
            s["open"] += 1
            opened = time.perf_counter()
            head, trickle = self._opening(kind)
            try:
                writer.write(head)
                s["bytes_sent"] += len(head)
                k = 0
                while not self._stop.is_set():
                    try:
                        data = await asyncio.wait_for(reader.read(4096), self.interval * random.uniform(0.8, 1.2))
                    except TimeoutError:
                        writer.write(trickle[k % len(trickle) : k % len(trickle) + 1])
                        await writer.drain()
                        s["bytes_sent"] += 1
                        k += 1
                        continue
                    if data:
                        line = data.split(b"\r\n", 1)[0].split()
                        s["answers"][line[1].decode() if len(line) > 1 else "?"] += 1
                    else:
                        s["closed_without_answer"] += 1
                    break
            except (ConnectionError, OSError):
                s["reset"] += 1
            finally:
                s["open"] -= 1
                s["held_s"].append(time.perf_counter() - opened)
                writer.close()
            if not self._stop.is_set():
                await asyncio.sleep(random.uniform(0.2, 1.0))  # and again

    def start(self, count: int, ramp: float) -> None:
        for i in range(count):
            kind = "headers" if i % 2 == 0 else "body"
            self.tasks.append(asyncio.create_task(self._one(kind, ramp * i / max(1, count))))

    async def stop(self) -> dict:
        self._stop.set()
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        out = {}
        for kind, s in self.stats.items():
            held = summary_ms(s["held_s"])
            out[kind] = {
                **{k: v for k, v in s.items() if k not in ("answers", "held_s", "open")},
                "answers": dict(s["answers"]),
                "held_s_p50": None if held["p50_ms"] is None else round(held["p50_ms"] / 1000, 1),
                "held_s_max": None if held["max_ms"] is None else round(held["max_ms"] / 1000, 1),
            }
        return out

    def open_now(self) -> dict:
        return {kind: s["open"] for kind, s in self.stats.items()}


# ---------------------------------------------------------------------------- the abusive account


async def _abuser(
    url: str, token: str, target: str, trickle_port: int, size: int, rate: float, stop: asyncio.Event, statuses: Counter
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    tasks = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def post(k: int) -> None:
            body = {
                "app": {
                    "id": "org.example.trickle",
                    "name": "Trickle",
                    "version": "1.0",
                    "version_code": 1,
                    "size": size,
                    "runtime": "Android 5.0+",
                    "packages": [
                        {
                            "format": "apk",
                            "url": f"http://127.0.0.1:{trickle_port}/slow/{k}.apk",
                            "sha256": f"{k:064x}",
                            "size": size,
                        }
                    ],
                },
                "mode": "install_now",
                "device_ids": [target],
            }
            try:
                async with session.post(f"{url}/api/v1/pushes", json=body, headers=headers) as resp:
                    await resp.read()
                    statuses[str(resp.status)] += 1
            except Exception as exc:  # noqa: BLE001 - counted
                statuses[type(exc).__name__] += 1

        k = 0
        start = time.perf_counter()
        while not stop.is_set():
            tasks.append(asyncio.create_task(post(k)))
            k += 1
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, start + k / rate - time.perf_counter()))
            except TimeoutError:
                pass
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# ---------------------------------------------------------------------------- main


async def run(cfg: dict) -> dict:
    url = cfg["url"]
    host, port = "127.0.0.1", int(url.rsplit(":", 1)[1])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def wait_stdin() -> None:
        sys.stdin.readline()  # a line, or EOF when the parent is gone
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_stdin, daemon=True).start()
    started = time.perf_counter()
    deadline = started + cfg["max_seconds"]

    trickle = TrickleServer(cfg["trickle_size"], cfg["trickle_rate"])
    trickle_port = await trickle.start()
    tokens = json.loads(Path(cfg["tokens_file"]).read_text())
    arrivals = Arrivals()
    slow = SlowClients(host, port, cfg["interval"])
    abuser_statuses: Counter = Counter()
    out: dict = {}
    async with SseFleet(url, tokens, arrivals) as fleet:
        try:
            out["idle_connect_s"] = round(await fleet.connect(range(len(tokens)), concurrency=200), 2)
            out["idle_connect_errors"] = len(arrivals.errors)
            slow.start(cfg["slow"], cfg["ramp"])
            abuser = asyncio.create_task(
                _abuser(
                    url,
                    cfg["abuser_token"],
                    cfg["abuser_target"],
                    trickle_port,
                    cfg["trickle_size"],
                    cfg["abuser_rate"],
                    stop,
                    abuser_statuses,
                )
            )
            await asyncio.sleep(cfg["ramp"] + cfg["settle"])
            _emit(
                "ready",
                idle_open=sum(1 for t in fleet.tasks.values() if not t.done()),
                slow_open=slow.open_now(),
                trickle_requests=trickle.requests,
                setup_s=round(time.perf_counter() - started, 2),
            )
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, deadline - time.perf_counter()))
            except TimeoutError:
                out["stopped_by_deadline"] = True
            stop.set()
            out["idle_open_at_stop"] = sum(1 for t in fleet.tasks.values() if not t.done())
            out["slow_open_at_stop"] = slow.open_now()
            out["trickle_active_at_stop"] = len(trickle.writers)
            await abuser
        finally:
            stop.set()
            out["slow"] = await slow.stop()
            out["trickle"] = await trickle.stop()
    out["idle"] = {
        "n": len(tokens),
        "http_status": dict(Counter(str(s) for s in fleet.status.values())),
        "errors": len(arrivals.errors),
        "first_errors": arrivals.errors[:3],
        "with_keepalive": sum(1 for v in arrivals.keepalives.values() if v),
    }
    out["abuser_pushes"] = dict(abuser_statuses)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def main() -> int:
    raise_nofile(65536)
    cfg = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(run(cfg))
    _emit("done", **result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
