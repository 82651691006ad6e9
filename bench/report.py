"""RESULTS.md from results.json: one table of headline numbers, then each benchmark's detail."""

from __future__ import annotations

import json
from pathlib import Path


def _v(x, unit=""):
    return "n/a" if x is None else f"{x}{unit}"


def _met(t: dict | None) -> str:
    if not t:
        return ""
    return {True: "met", False: "**missed**", None: "n/a"}[t.get("met")]


def _met_value(value, ok) -> str:
    """Met or missed for one row whose group shares a target."""
    return "n/a" if value is None else ("met" if ok(value) else "**missed**")


def _ms(x) -> str:
    return "n/a" if x is None else f"{x:.3g} ms" if x < 10 else f"{x:.0f} ms"


def push_path_rows(b: dict) -> list[tuple[str, str, str, str, str]]:
    """Issue 16's figures: Appbeam and Mosquitto measured the same way in the same run."""
    rows = []
    lat = b.get("push_latency") if b.get("push_latency", {}).get("status") == "ok" else None
    tp = b.get("push_throughput") if b.get("push_throughput", {}).get("status") == "ok" else None
    if lat:
        mid = lat["relay"][len(lat["relay"]) // 2]
        peer = next((m for m in lat.get("mosquitto", []) if m["n"] == mid["n"]), {})
        rows.append(
            (
                f"server CPU per delivered push (N={mid['n']}, {lat['rate_per_s']}/s, acks included)",
                _ms(mid.get("server_cpu_ms_per_push")),
                _ms(peer.get("server_cpu_ms_per_push")),
                "≤ 0.5 ms",
                _met(lat.get("cpu_target")),
            )
        )
    if tp:
        rows.append(
            (
                f"throughput, accepted + delivered + acked (N={tp['n']}, {tp['step_seconds']:g} s steps)",
                f"{tp['relay_max_rate']}/s (CPU {_ms(tp.get('relay_cpu_ms_at_max'))}/push)",
                f"{_v(tp.get('mosquitto_max_rate'))}/s (CPU {_ms(tp.get('mosquitto_cpu_ms_at_max'))}/msg)",
                "≥ 1,000/s, p99 < 100 ms",
                _met(tp["target"]),
            )
        )
    procs = b.get("push_processes") if b.get("push_processes", {}).get("status") == "ok" else None
    if procs:
        for r in procs["runs"]:
            db = (
                f" + PostgreSQL {_ms(r['db_cpu_ms_per_push_at_max'])}"
                if r.get("db_cpu_ms_per_push_at_max") is not None
                else ""
            )
            first = r["steps"][0] if r.get("steps") else None
            if r.get("skipped"):
                text = f"skipped: {r['skipped']}"
            elif r["max_rate"] or first is None:
                text = f"{r['max_rate']}/s (CPU {_ms(r.get('cpu_ms_per_push_at_max'))}/push{db})"
            else:  # even the first step failed: say how far it got
                db = (
                    f" + PostgreSQL {_ms(first['db_cpu_ms_per_push'])}"
                    if first.get("db_cpu_ms_per_push") is not None
                    else ""
                )
                text = (
                    f"0/s (at {first['offered_rate']}/s: {first['achieved_rate']}/s accepted, p99 "
                    f"{_ms(first['p99_ms'])}; CPU {_ms(first.get('server_cpu_ms_per_push'))}/push{db})"
                )
            rows.append(
                (
                    f"throughput, {r['processes']} relay process(es) on {r['database']}",
                    text,
                    "",
                    "≥ 1,000/s",
                    _met_value(r["max_rate"], lambda v: v >= 1000),
                )
            )
    if lat:
        for r in lat["relay"]:
            peer = next((m for m in lat.get("mosquitto", []) if m["n"] == r["n"]), {})
            last = r is lat["relay"][-1]
            rows.append(
                (
                    f"latency, N={r['n']} devices, {lat['rate_per_s']}/s: p50 / p99 / max",
                    f"{_v(r['p50_ms'])} / **{_v(r['p99_ms'])}** / {_v(r['max_ms'])} ms; "
                    f"{r['delivered']}/{r['accepted']} delivered, {r.get('acknowledged')} acked",
                    f"{_v(peer.get('p50_ms'))} / **{_v(peer.get('p99_ms'))}** / {_v(peer.get('max_ms'))} ms",
                    "p99 ≤ 10 ms" if last else "",
                    _met(lat["target"]) if last else "",
                )
            )
    return rows


def push_path_table(results: dict) -> list[str]:
    """The push-path table as markdown lines (also printed by ``python -m bench``)."""
    rows = push_path_rows(results.get("benchmarks", {}))
    if not rows:
        return []
    loads = {
        name: (e.get("load_before"), e.get("load_after"))
        for name, e in results.get("benchmarks", {}).items()
        if name in ("push_latency", "push_throughput", "push_processes")
    }
    return [
        "| push path (issue 16) | Appbeam relay | Mosquitto | goal | |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(r)} |" for r in rows],
        "",
        "Both systems measured the same way in the same run: latency from just before the request / publish "
        "call to the device reading the event; every push acknowledged by its device (relay: "
        "`POST /pushes/<id>/events`, MQTT: PUBACK); CPU = the server process's user + system time over the "
        "step / pushes delivered. Load average (1, 5, 15 min) before / after: "
        + "; ".join(f"{k} {v[0]} / {v[1]}" for k, v in loads.items())
        + ".",
    ]


def headline_rows(b: dict) -> list[tuple[str, str, str, str, str]]:
    rows = []  # rows 1 and 2 (push latency, throughput): the push-path table above
    e = b.get("connections")
    if e and e.get("status") == "ok":
        r, m = e["relay"], e.get("mosquitto", {})
        rows.append(
            (
                f"3. {r['n']} streams, keepalive {e['keepalive_s']} s",
                f"{r['rss_per_connection_kb']} KB/conn; {r['devices_with_push']}/{r['n']} got a push; "
                f"connect {r['connect_s']} s",
                f"{_v(m.get('rss_per_connection_kb'))} KB/conn; {_v(m.get('devices_with_push'))} got one",
                "≤ 50 KB/conn, all get a push",
                _met(e["target"]),
            )
        )
    e = b.get("reconnect_storm")
    if e and e.get("status") == "ok":
        r, m = e["relay"], e.get("mosquitto", {})
        rows.append(
            (
                f"4. reconnect storm, {r['n']} devices over {r['reconnect_spread_s']} s",
                f"last delivery {r['last_delivery_s']} s; {r['delivered']}/{r['pushes']}; errors {r['errors']}",
                f"last {_v(m.get('last_delivery_s'))} s; {_v(m.get('delivered'))}/{_v(m.get('pushes'))}",
                "all, 0 errors",
                _met(e["target"]),
            )
        )
    e = b.get("package_serving")
    if e and e.get("status") == "ok":
        for c in (1, 8):
            rows.append(
                (
                    f"5. serving {e['file_mb']} MB, {c} client(s)",
                    f"{e[f'relay_{c}']['mb_per_s']} MB/s",
                    f"nginx {_v(e.get(f'nginx_{c}', {}).get('mb_per_s'))} MB/s (ratio {_v(e.get(f'ratio_{c}'))})",
                    "≥ 0.5 × nginx",
                    _met_value(e.get(f"ratio_{c}"), lambda r: r >= 0.5),
                )
            )
    e = b.get("download_engine")
    if e and e.get("status") == "ok":
        rows.append(
            (
                f"6. download engine, {e['file_mb']} MB",
                f"{e['engine_mb_per_s']} MB/s, RSS +{e['rss_growth_mb']} MB, "
                f"SHA-256 {'ok' if e['sha256_ok'] else 'WRONG'}",
                f"curl {e['curl_mb_per_s']} MB/s (ratio {e['ratio']})",
                "≥ 0.8 × curl, < 30 MB",
                _met(e["target"]),
            )
        )
    e = b.get("sender")
    if e and e.get("status") == "ok":
        rows.append(
            (
                "7. sender: click → picker visible",
                f"p50 {e['picker_visible']['p50_ms']} / p99 {e['picker_visible']['p99_ms']} ms",
                "",
                "< 150 ms",
                _met_value(e["picker_visible"].get("p99_ms"), lambda ms: ms < 150),
            )
        )
        rows.append(
            (
                "7. sender: click → device list filled",
                f"p50 {e['devices_filled']['p50_ms']} / p99 {e['devices_filled']['p99_ms']} ms",
                "",
                "< 300 ms",
                _met(e["target"]),
            )
        )
        rows.append(("7. sender: launch → first page loaded", f"{e['launch_to_first_page_ms']} ms", "", "", ""))
    e = b.get("abuse")
    if e and e.get("status") == "ok":
        s = e["sizes"]
        for key, label in (
            ("quiet", f"8. normal account, quiet ({s['rate']:g}/s for {s['seconds']:g} s)"),
            (
                "abuse",
                f"8. same, under abuse: {s['slow']} slow clients, {s['idle']} idle streams, "
                "1 account mirroring a trickle",
            ),
        ):
            p = e[key]
            rows.append(
                (
                    label,
                    f"POST → read p50 {_v(p['latency']['p50_ms'])} / p99 {_v(p['latency']['p99_ms'])} ms; "
                    f"{p['online_delivered']}/{p['posts']} read, {p['offline_mirrored']}/"
                    f"{p['offline_accepted']} mirrored; 5xx {p['http_5xx']}, errors {p['errors']}",
                    "",
                    "all delivered, p99 < 100 ms, no 5xx" if key == "abuse" else "",
                    _met(e["target"]) if key == "abuse" else "",
                )
            )
    for name, e in b.items():
        if e.get("status") != "ok":
            rows.append((name, f"ERROR: {e.get('error')}", "", "", "**failed**"))
    return rows


def abuse_section(e: dict | None) -> list[str]:
    """What the normal account saw in each phase, and what the abusers saw (benchmark 8)."""
    if not e or e.get("status") != "ok":
        return []
    lines = [
        "## Under abuse (benchmark 8)",
        "",
        "The normal account's latency here is from just before its POST to its online phone reading the "
        "event (not from the 201); quiet and abuse phases ran on the same relay, one after the other.",
        "",
        "| phase | latency p50 / p99 / max ms | POST answers | POST answer p99 ms | online read | "
        "offline mirrored (time p50 / max s) | healthz | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in ("quiet", "abuse"):
        p = e[key]
        lat, m = p["latency"], p["to_mirrored_s"]
        lines.append(
            f"| {key} | {_v(lat['p50_ms'])} / {_v(lat['p99_ms'])} / {_v(lat['max_ms'])} | "
            f"{p['post_statuses']} | {_v(p['post_answer']['p99_ms'])} | {p['online_delivered']}/{p['posts']} | "
            f"{p['offline_mirrored']}/{p['offline_accepted']} ({_v(m['p50_s'])} / {_v(m['max_s'])}) | "
            f"{p['healthz'].get('statuses')} (p99 {_v(p['healthz'].get('p99_ms'))} ms) | {p['errors']} |"
        )
    a = e.get("abusers", {})
    slow = a.get("slow", {})
    lines.append("")
    if "idle" in a:
        lines.append(
            f"Abusers: idle streams open at the end {a.get('idle_open_at_stop')}/{a['idle']['n']} "
            f"(HTTP {a['idle']['http_status']}); slowloris headers: {slow.get('headers', {}).get('connects')} "
            f"connections, answers {slow.get('headers', {}).get('answers')}; slow bodies: "
            f"{slow.get('body', {}).get('connects')} connections, answers {slow.get('body', {}).get('answers')}; "
            f"abusive account's pushes {a.get('abuser_pushes')}; trickle server: "
            f"{a.get('trickle', {}).get('requests')} mirror requests."
        )
    else:
        lines.append(f"Abusers: {a.get('error')}")
    after = e.get("after_abuse_push", {})
    final = e.get("final_offline_check", {})
    lines += [
        f"After the abuse: a push answered {after.get('status')} in {after.get('answer_ms')} ms; the offline "
        f"phone read {final.get('read_with_relay_copy')}/{final.get('mirrored')} mirrored pushes with the "
        "relay's copy.",
        "",
    ]
    return lines


def write_markdown(results: dict, path: Path) -> None:
    b = results.get("benchmarks", {})
    m = results.get("machine", {})
    lines = [
        f"# Benchmark results ({results.get('mode')} run)",
        "",
        f"Machine: {m.get('cpus')} CPUs, {m.get('memory_gib')} GiB, Python {m.get('python')}, "
        f"kernel {m.get('kernel')}; load at start {m.get('load_at_start')}. Total {results.get('total_seconds')} s.",
        "Relay: one process (lean HTTP front on gevent, SQLite) unless a row says otherwise. Clients: one asyncio "
        "process (aiohttp / aiomqtt) on the same machine.",
        "",
    ]
    table = push_path_table(results)
    if table:
        lines += table + [""]
    lines += [
        "| Benchmark | Appbeam | Peer | Target | |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(r)} |" for r in headline_rows(b)]
    lines += ["", "Raw numbers, every step and the load average before/after each benchmark are in `results.json`.", ""]
    tp = b.get("push_throughput")
    if tp and tp.get("status") == "ok":
        lines += [
            "## Throughput steps",
            "",
            "Latency from just before the request / publish call; CPU per push = "
            "server process CPU time / pushes delivered (acks included).",
            "",
            "| system | offered/s | achieved/s | delivered / acked | p50 ms | p99 ms | max ms | server CPU ms/push | "
            "client CPU ms/push | ok |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for who in ("relay", "mosquitto"):
            for s in tp.get(f"{who}_steps", []):
                lines.append(
                    f"| {who} | {s['offered_rate']} | {s['achieved_rate']} | {s['delivered']}/{s['accepted']} / "
                    f"{s.get('acknowledged')} | {s['p50_ms']} | {s['p99_ms']} | {s['max_ms']} | "
                    f"{_v(s.get('server_cpu_ms_per_push'))} | {_v(s.get('client_cpu_ms_per_push'))} | "
                    f"{'yes' if s['ok'] else 'no'} |"
                )
        lines.append("")
    pp = b.get("push_processes")
    if pp and pp.get("status") == "ok":
        lines += [
            "## Relay processes (SO_REUSEPORT) and databases",
            "",
            "| processes | database | offered/s | achieved/s | delivered / acked | p99 ms | relay CPU ms/push | "
            "database server CPU ms/push | ok |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in pp["runs"]:
            for s in r["steps"]:
                lines.append(
                    f"| {r['processes']} | {r['database']} | {s['offered_rate']} | {s['achieved_rate']} | "
                    f"{s['delivered']}/{s['accepted']} / {s.get('acknowledged')} | {s['p99_ms']} | "
                    f"{_v(s.get('server_cpu_ms_per_push'))} | {_v(s.get('db_cpu_ms_per_push'))} | "
                    f"{'yes' if s['ok'] else 'no'} |"
                )
            if r.get("skipped"):
                lines.append(f"| {r['processes']} | {r['database']} | skipped: {r['skipped']} | | | | | | |")
        lines.append("")
    lines += abuse_section(b.get("abuse"))
    notes = results.get("notes")
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    import sys

    p = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("results") / "results.json")
    write_markdown(json.loads(p.read_text()), p.with_name("RESULTS.md"))
