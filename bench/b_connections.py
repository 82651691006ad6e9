"""Benchmarks 3 and 4: many concurrent device streams, and a reconnect storm.

3. ``connections``: N device streams on one relay process with keepalives every 5 s; the
   relay's RSS growth per connection, keepalives seen on every stream, then one push to
   every device (50 targets per POST) and a check that each one got it. Peer: Mosquitto
   with N clients (RSS per connection, one QoS 1 message to each topic).
4. ``reconnect_storm``: N devices connected, all drop, one push to each while they are away,
   all reconnect spread over 5 s; every device must get its push, no errors; the time from
   the first reconnect to the last delivery. Peer: Mosquitto with persistent sessions
   (clean_session false, QoS 1): the queued message arrives on reconnect.
"""

from __future__ import annotations

import asyncio
import time

from bench.clients import Arrivals, MqttFleet, MqttPublisher, Pusher, SseFleet, wait_for
from bench.common import log, rss_bytes
from bench.peers import Mosquitto
from bench.relay import add_catalog_package, discard, fresh_relay, push_body


def _batches(n: int, size: int = 50):
    return [list(range(s, min(n, s + size))) for s in range(0, n, size)]


async def _push_all(pusher: Pusher, n: int, body_for_ids) -> tuple[list[str], int]:
    answers = await asyncio.gather(
        *(pusher.post(body_for_ids([f"dev-{i:05d}" for i in batch])) for batch in _batches(n))
    )
    ids = [i for a in answers if a[0] == 201 for i in a[1]]
    return ids, sum(1 for a in answers if a[0] != 201)


async def _relay_connections(relay, seeded, n: int, hold: float) -> dict:
    arrivals = Arrivals()
    out = {"n": n}
    async with (
        SseFleet(relay.url, seeded.tokens, arrivals) as fleet,
        Pusher(relay.url, seeded.sender_token, 64) as pusher,
    ):
        warm, _ = await _push_all(pusher, 1, lambda ids: push_body(ids))  # device 0 offline: warms the code paths
        await asyncio.sleep(0.5)
        before = rss_bytes(relay.proc.pid)
        out["connect_s"] = round(await fleet.connect(range(n), concurrency=200), 2)
        await asyncio.sleep(hold)  # keepalives flow
        after = rss_bytes(relay.proc.pid)
        live = sum(1 for t in fleet.tasks.values() if not t.done())
        out.update(
            rss_before_mb=round(before / 2**20, 1),
            rss_after_mb=round(after / 2**20, 1),
            rss_per_connection_kb=round((after - before) / n / 1024, 2),
            streams_open=live,
            streams_with_keepalive=sum(1 for i in range(n) if arrivals.keepalives.get(i)),
            hold_s=hold,
        )
        start = time.perf_counter()
        ids, post_errors = await _push_all(pusher, n, lambda ids: push_body(ids))
        ok = await wait_for(ids, arrivals, 300)
        got = {i for i in range(n) if any(k in ids for k in arrivals.by_device.get(i, []))}
        out.update(
            pushes=len(ids),
            push_post_errors=post_errors,
            devices_with_push=len(got),
            push_all_s=round(time.perf_counter() - start, 2),
            all_received=ok and len(got) == n,
            stream_errors=len(arrivals.errors),
            first_errors=arrivals.errors[:3],
        )
    return out


async def _mqtt_connections(mosq: Mosquitto, n: int, hold: float) -> dict:
    arrivals = Arrivals()
    fleet = MqttFleet(mosq.port, arrivals)
    out = {"n": n}
    try:
        before = rss_bytes(mosq.pid)
        out["connect_s"] = round(await fleet.connect(range(n), concurrency=200), 2)
        await asyncio.sleep(hold)
        after = rss_bytes(mosq.pid)
        out.update(
            rss_before_mb=round(before / 2**20, 1),
            rss_after_mb=round(after / 2**20, 1),
            rss_per_connection_kb=round((after - before) / n / 1024, 2),
            streams_open=sum(1 for t in fleet.tasks.values() if not t.done()),
        )
        start = time.perf_counter()
        async with MqttPublisher(mosq.port) as pub:
            answers = await asyncio.gather(*(pub.post(i, f"c{i}") for i in range(n)))
        keys = [k for a in answers if a[0] == 201 for k in a[1]]
        ok = await wait_for(keys, arrivals, 300)
        out.update(
            pushes=len(keys),
            devices_with_push=sum(1 for i in range(n) if arrivals.by_device.get(i)),
            push_all_s=round(time.perf_counter() - start, 2),
            all_received=ok and len(keys) == n,
            stream_errors=len(arrivals.errors),
        )
    finally:
        await fleet.close_all()
    return out


def connections(ctx) -> dict:
    n = 5 if ctx.smoke else 10000
    hold = 6.0 if ctx.smoke else 12.0
    seeded = ctx.seeded(n)
    result = {"keepalive_s": 5}
    relay = fresh_relay(seeded, extra_args=["--keepalive", "5"])
    try:
        result["relay"] = asyncio.run(_relay_connections(relay, seeded, n, hold))
    finally:
        discard(relay)
    log(f"  relay: {result['relay']}")
    mosq = Mosquitto()
    if mosq.available:
        with mosq:
            result["mosquitto"] = asyncio.run(_mqtt_connections(mosq, n, hold))
        log(f"  mosquitto: {result['mosquitto']}")
    else:
        result["mosquitto_skipped"] = "mosquitto not installable here"
    r = result["relay"]
    result["target"] = {
        "what": "relay RSS growth <= 50 KB per connection, every device gets a push",
        "value_kb": r["rss_per_connection_kb"],
        "met": r["rss_per_connection_kb"] <= 50 and r["all_received"] and r["streams_open"] == n,
    }
    return result


async def _relay_storm(relay, seeded, n: int, spread: float, sha: str, filename: str) -> dict:
    arrivals = Arrivals()
    out = {"n": n, "reconnect_spread_s": spread}
    url = f"{relay.url}/files/{sha}/{filename}"
    async with (
        SseFleet(relay.url, seeded.tokens, arrivals) as fleet,
        Pusher(relay.url, seeded.sender_token, 64) as pusher,
    ):
        out["connect_s"] = round(await fleet.connect(range(n), concurrency=200), 2)
        await fleet.close_all()  # every device drops
        await asyncio.sleep(1.0)
        ids, post_errors = await _push_all(
            pusher, n, lambda ids: push_body(ids, url=url, sha256=sha, size=65536, app_id="org.example.small")
        )
        out["push_post_errors"] = post_errors
        errors_before = len(arrivals.errors)
        start = time.perf_counter()
        reconnect = asyncio.create_task(fleet.connect(range(n), concurrency=n, spread=spread))
        ok = await wait_for(ids, arrivals, 300)
        out["all_connected_s"] = round(await reconnect, 2)
        last = max((arrivals.at[k] for k in ids if k in arrivals.at), default=start)
        out.update(
            pushes=len(ids),
            delivered=sum(1 for k in ids if k in arrivals.at),
            all_received=ok,
            last_delivery_s=round(last - start, 2),
            errors=len(arrivals.errors) - errors_before,
            http_errors=sum(1 for s in fleet.status.values() if s != 200),
            first_errors=arrivals.errors[errors_before : errors_before + 3],
        )
    return out


async def _mqtt_storm(mosq: Mosquitto, n: int, spread: float) -> dict:
    arrivals = Arrivals()
    fleet = MqttFleet(mosq.port, arrivals, clean_session=False)
    out = {"n": n, "reconnect_spread_s": spread}
    try:
        out["connect_s"] = round(await fleet.connect(range(n), concurrency=200), 2)
        await fleet.close_all()
        await asyncio.sleep(1.0)
        async with MqttPublisher(mosq.port) as pub:
            answers = await asyncio.gather(*(pub.post(i, f"r{i}") for i in range(n)))
        keys = [k for a in answers if a[0] == 201 for k in a[1]]
        errors_before = len(arrivals.errors)
        start = time.perf_counter()
        reconnect = asyncio.create_task(fleet.connect(range(n), concurrency=n, spread=spread))
        ok = await wait_for(keys, arrivals, 300)
        out["all_connected_s"] = round(await reconnect, 2)
        last = max((arrivals.at[k] for k in keys if k in arrivals.at), default=start)
        out.update(
            pushes=len(keys),
            delivered=sum(1 for k in keys if k in arrivals.at),
            all_received=ok,
            last_delivery_s=round(last - start, 2),
            errors=len(arrivals.errors) - errors_before,
        )
    finally:
        await fleet.close_all()
    return out


def reconnect_storm(ctx) -> dict:
    n = 5 if ctx.smoke else 5000
    spread = 1.0 if ctx.smoke else 5.0
    seeded = ctx.seeded(n)
    small = ctx.work / "small.apk"
    small.write_bytes(bytes(range(256)) * 256)  # 64 KB
    holder = {}

    def prepare(data_dir):
        holder["sha"] = add_catalog_package(data_dir, "org.example.small", small, "small.apk")

    result = {"package": "a catalog file of the relay (/files/<sha>/small.apk): queued pushes need no mirroring"}
    relay = fresh_relay(seeded, prepare=prepare)
    try:
        result["relay"] = asyncio.run(_relay_storm(relay, seeded, n, spread, holder["sha"], "small.apk"))
    finally:
        discard(relay)
    log(f"  relay: {result['relay']}")
    mosq = Mosquitto()
    if mosq.available:
        with mosq:
            result["mosquitto"] = asyncio.run(_mqtt_storm(mosq, n, spread))
        log(f"  mosquitto: {result['mosquitto']}")
    else:
        result["mosquitto_skipped"] = "mosquitto not installable here"
    r = result["relay"]
    result["target"] = {
        "what": "every device gets its missed push, zero errors",
        "value_s": r["last_delivery_s"],
        "met": r["all_received"] and r["errors"] == 0 and r["push_post_errors"] == 0,
    }
    return result
