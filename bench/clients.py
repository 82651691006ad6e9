"""Async clients in the benchmark process: SSE devices and a pusher (aiohttp), MQTT devices
and a publisher (aiomqtt). Every arrival is stamped with ``time.perf_counter()`` when read."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass, field

import aiohttp

# aiomqtt warns "There are N pending publish calls" whenever more than 10 QoS 1 publishes are
# in flight, which is the point of an open-loop load: keep the output readable.
for _name in ("mqtt", "aiomqtt"):
    logging.getLogger(_name).setLevel(logging.ERROR)


@dataclass
class Arrivals:
    """Who got what, when (push id / message id -> perf_counter of arrival)."""

    at: dict[str, float] = field(default_factory=dict)
    by_device: dict[int, list[str]] = field(default_factory=dict)
    keepalives: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    waiters: dict[str, asyncio.Future] = field(default_factory=dict)
    #: push id -> HTTP status of the device's acknowledgement (``SseFleet(ack=True)``)
    acks: dict[str, int] = field(default_factory=dict)

    def record(self, device: int, key: str) -> None:
        now = time.perf_counter()
        if key not in self.at:
            self.at[key] = now
        self.by_device.setdefault(device, []).append(key)


def connector() -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(limit=0, force_close=False, enable_cleanup_closed=True)


class SseFleet:
    """N device event streams to one relay.

    With ``ack=True`` every device acknowledges each push it reads, as a phone does
    (``POST /pushes/<id>/events {"state": "delivered"}``, on keep-alive connections of their
    own session); ``arrivals.acks`` holds the answers.
    """

    def __init__(self, base_url: str, tokens: list[str], arrivals: Arrivals, ack: bool = False):
        self.base_url = base_url
        self.tokens = tokens
        self.arrivals = arrivals
        self.ack = ack
        self.session: aiohttp.ClientSession | None = None
        self.ack_session: aiohttp.ClientSession | None = None
        self.tasks: dict[int, asyncio.Task] = {}
        self.ack_tasks: set[asyncio.Task] = set()
        self.connected: dict[int, asyncio.Event] = {}
        self.status: dict[int, int] = {}

    async def __aenter__(self):
        self.session = aiohttp.ClientSession(connector=connector(), timeout=aiohttp.ClientTimeout(total=None))
        if self.ack:
            self.ack_session = aiohttp.ClientSession(connector=connector(), timeout=aiohttp.ClientTimeout(total=60))
        return self

    async def __aexit__(self, *exc):
        await self.close_all()
        if self.ack_tasks:
            await asyncio.gather(*self.ack_tasks, return_exceptions=True)
        await self.session.close()
        if self.ack_session is not None:
            await self.ack_session.close()

    def _acknowledge(self, i: int, push_id: str) -> None:
        task = asyncio.create_task(self._post_ack(i, push_id))
        self.ack_tasks.add(task)
        task.add_done_callback(self.ack_tasks.discard)

    async def _post_ack(self, i: int, push_id: str) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[i]}"}
        try:
            async with self.ack_session.post(
                f"{self.base_url}/api/v1/pushes/{push_id}/events", json={"state": "delivered"}, headers=headers
            ) as resp:
                await resp.read()
                self.arrivals.acks[push_id] = resp.status
        except Exception as exc:  # noqa: BLE001 - counted, never raised
            self.arrivals.acks[push_id] = -1
            self.arrivals.errors.append(f"device {i}: ack {push_id}: {type(exc).__name__}: {exc}")

    async def _stream(self, i: int) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[i]}", "Accept": "text/event-stream"}
        try:
            async with self.session.get(
                f"{self.base_url}/api/v1/stream", headers=headers, timeout=aiohttp.ClientTimeout(total=None, connect=60)
            ) as resp:
                self.status[i] = resp.status
                if resp.status != 200:
                    self.arrivals.errors.append(f"device {i}: HTTP {resp.status}")
                    self.connected[i].set()
                    return
                kind = None
                data = None
                async for line in resp.content:
                    if line == b"\n":
                        if kind == "push" and data is not None:
                            push_id = json.loads(data)["push_id"]
                            first = push_id not in self.arrivals.at
                            self.arrivals.record(i, push_id)
                            if self.ack and first:
                                self._acknowledge(i, push_id)
                        kind = data = None
                    elif line.startswith(b"event:"):
                        kind = line[6:].strip().decode()
                    elif line.startswith(b"data:"):
                        data = line[5:].strip()
                    elif line.startswith(b": connected"):
                        self.connected[i].set()
                    elif line.startswith(b": keepalive"):
                        self.arrivals.keepalives[i] = self.arrivals.keepalives.get(i, 0) + 1
                # the relay ended the stream: a device would reconnect; here it counts as an error
                self.arrivals.errors.append(f"device {i}: stream ended by the relay")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is counted
            self.arrivals.errors.append(f"device {i}: {type(exc).__name__}: {exc}")
            self.connected[i].set()

    async def connect(self, indices, concurrency: int = 200, spread: float | None = None) -> float:
        """Open the streams of ``indices`` (at most ``concurrency`` handshakes at once, or started
        evenly over ``spread`` seconds); returns the seconds until every one said ``: connected``."""
        indices = list(indices)
        start = time.perf_counter()
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int, delay: float) -> None:
            if delay:
                await asyncio.sleep(delay)
            async with gate:
                self.connected[i] = asyncio.Event()
                self.tasks[i] = asyncio.create_task(self._stream(i))
                await self.connected[i].wait()

        await asyncio.gather(*(one(i, (k * spread / len(indices)) if spread else 0) for k, i in enumerate(indices)))
        return time.perf_counter() - start

    async def close_all(self) -> None:
        tasks = list(self.tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks.clear()


class Pusher:
    """POST /pushes as the sender device; open loop at a given rate."""

    def __init__(self, base_url: str, token: str, max_in_flight: int = 256):
        self.url = f"{base_url}/api/v1/pushes"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.session: aiohttp.ClientSession | None = None
        self.gate = asyncio.Semaphore(max_in_flight)

    async def __aenter__(self):
        self.session = aiohttp.ClientSession(connector=connector(), timeout=aiohttp.ClientTimeout(total=60))
        return self

    async def __aexit__(self, *exc):
        await self.session.close()

    async def post(self, body: dict) -> tuple[int, list[str], float, float]:
        """(status, push ids, perf_counter just before the request call, perf_counter of the answer).

        The clock starts before waiting for a free slot: a push held back in the client
        because too many were in flight counts that wait too (the same for MQTT)."""
        sent = time.perf_counter()
        async with self.gate:
            try:
                async with self.session.post(self.url, json=body, headers=self.headers) as resp:
                    payload = await resp.read()
                    done = time.perf_counter()
                    ids = [p["id"] for p in json.loads(payload)["pushes"]] if resp.status == 201 else []
                    return resp.status, ids, sent, done
            except Exception as exc:  # noqa: BLE001
                return -1, [repr(exc)], sent, time.perf_counter()

    async def open_loop(self, rate: float, count: int, body_for) -> list[tuple]:
        """``count`` POSTs at ``rate``/s (scheduled, not waiting for answers); returns the answers."""
        start = time.perf_counter()
        tasks = []
        for k in range(count):
            delay = start + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.post(body_for(k))))
        return await asyncio.gather(*tasks)


# ---------------------------------------------------------------------------- MQTT


class MqttFleet:
    """N MQTT clients, one topic each (``dev/<i>``), QoS 1, aiomqtt (paho-mqtt underneath)."""

    def __init__(self, port: int, arrivals: Arrivals, clean_session: bool = True):
        self.port = port
        self.arrivals = arrivals
        self.clean_session = clean_session
        self.tasks: dict[int, asyncio.Task] = {}
        self.ready: dict[int, asyncio.Event] = {}
        self.stop_flags: dict[int, asyncio.Event] = {}

    async def _client(self, i: int) -> None:
        import aiomqtt

        try:
            async with aiomqtt.Client(
                "127.0.0.1",
                self.port,
                identifier=f"bench-dev-{i}",
                clean_session=self.clean_session,
                keepalive=60,
                protocol=aiomqtt.ProtocolVersion.V311,
                timeout=60,
            ) as client:
                await client.subscribe(f"dev/{i}", qos=1)
                self.ready[i].set()
                async for message in client.messages:
                    payload = message.payload
                    key = payload[: payload.index(b"|")].decode()
                    self.arrivals.record(i, key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            self.arrivals.errors.append(f"mqtt device {i}: {type(exc).__name__}: {exc}")
            self.ready[i].set()

    async def connect(self, indices, concurrency: int = 100, spread: float | None = None) -> float:
        indices = list(indices)
        start = time.perf_counter()
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int, delay: float) -> None:
            if delay:
                await asyncio.sleep(delay)
            async with gate:
                self.ready[i] = asyncio.Event()
                self.tasks[i] = asyncio.create_task(self._client(i))
                await self.ready[i].wait()

        await asyncio.gather(*(one(i, (k * spread / len(indices)) if spread else 0) for k, i in enumerate(indices)))
        return time.perf_counter() - start

    async def close_all(self) -> None:
        tasks = list(self.tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks.clear()


class MqttPublisher:
    """One publishing client; ``publish`` returns when the broker's PUBACK came (QoS 1)."""

    def __init__(self, port: int, max_in_flight: int = 256):
        self.port = port
        self.client = None
        self.gate = asyncio.Semaphore(max_in_flight)
        self.payload_pad = b"x" * 800  # about the size of a push event

    async def __aenter__(self):
        import aiomqtt

        self.client = aiomqtt.Client(
            "127.0.0.1",
            self.port,
            identifier=f"bench-pub-{random.random()}",
            max_inflight_messages=1000,
            max_queued_outgoing_messages=0,
            protocol=aiomqtt.ProtocolVersion.V311,
            timeout=60,
        )
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc):
        await self.client.__aexit__(*exc)

    async def post(self, device: int, key: str) -> tuple[int, list[str], float, float]:
        """(201 once PUBACK came, [key], perf_counter just before the publish call, perf_counter of PUBACK)."""
        sent = time.perf_counter()
        async with self.gate:
            try:
                await self.client.publish(f"dev/{device}", key.encode() + b"|" + self.payload_pad, qos=1)
                return 201, [key], sent, time.perf_counter()
            except Exception as exc:  # noqa: BLE001
                return -1, [repr(exc)], sent, time.perf_counter()

    async def open_loop(self, rate: float, count: int, target_for, prefix: str = "m") -> list[tuple]:
        start = time.perf_counter()
        tasks = []
        for k in range(count):
            delay = start + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.post(target_for(k), f"{prefix}{k}")))
        return await asyncio.gather(*tasks)


async def wait_for(keys, arrivals: Arrivals, timeout: float) -> bool:
    """Until every key arrived or ``timeout`` (polling every 10 ms)."""
    keys = list(keys)
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if all(k in arrivals.at for k in keys):
            return True
        await asyncio.sleep(0.01)
    return all(k in arrivals.at for k in keys)


def latencies(answers: list[tuple], arrivals: Arrivals) -> dict:
    """From the answers of ``open_loop``: accepted count, delivered count, acknowledged count
    (when the devices acknowledge), and latencies: ``from_send`` = arrival minus the moment
    just before the request/publish call (the headline figure, the same for both systems),
    ``from_ack`` = arrival minus the accepting answer (201 / PUBACK; 0 when the event came first)."""
    from bench.common import summary_ms

    accepted, from_ack, from_send, errors, early = 0, [], [], 0, 0
    missing = acked = 0
    for status, ids, sent, done in answers:
        if status != 201:
            errors += 1
            continue
        for key in ids:
            accepted += 1
            if arrivals.acks.get(key) == 200:
                acked += 1
            at = arrivals.at.get(key)
            if at is None:
                missing += 1
                continue
            if at < done:
                early += 1  # the event was read before the 201 (both race after the commit)
            from_ack.append(max(0.0, at - done))
            from_send.append(at - sent)
    return {
        "accepted": accepted,
        "delivered": accepted - missing,
        "acknowledged": acked,
        "errors": errors,
        "event_before_ack": early,
        "from_ack": summary_ms(from_ack),
        "from_send": summary_ms(from_send),
    }


async def wait_acks(keys, arrivals: Arrivals, timeout: float) -> bool:
    """Until every key was acknowledged (any answer) or ``timeout``."""
    keys = list(keys)
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if all(k in arrivals.acks for k in keys):
            return True
        await asyncio.sleep(0.01)
    return all(k in arrivals.acks for k in keys)
