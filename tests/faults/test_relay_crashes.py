"""The relay killed (SIGKILL) at random moments under load, and restarted on the same data.

Each round sends a batch of pushes (to devices holding an open stream, and to devices
that are offline, whose packages the relay must first copy from a slow outside store),
while the online devices report their progress and a prober downloads the relay's
copies; then the relay is killed at a seeded random moment and started again. Proved:

- every push the relay answered 201 for reaches its device's app layer exactly once
  after deduplication by push id (at least once on the wire: duplicates are counted and
  printed, never a loss), and only its own device;
- every report the relay answered 200 for is in the push's history after the crash;
- no package the relay serves from ``/api/v1/packages/<sha>`` has another SHA-256 (no
  half-written copy is ever served), during the rounds and at the end;
- the ``*.part`` files a killed mirror left in ``packages/tmp`` are gone after the
  restart, and ``tmp`` is empty once the mirror is idle;
- the database stays consistent: every push has a history whose last row is its state,
  consecutive history states follow ``shared.protocol.TRANSITIONS``, no push waiting for
  its copy is anything but queued, and every pending copy ends done or failed.

Bounded: ``ROUNDS`` rounds of a few seconds each (about a minute on two cores).
``APPBEAM_FAULT_SEED`` replays another sequence of kill moments.
"""

from __future__ import annotations

import collections
import hashlib
import random
import threading
import time
from pathlib import Path

import pytest
import requests

from shared.messages import Push
from shared.protocol import PushState, can_transition
from shared.relay_client import DeviceInfo, RelayClient
from shared.relay_errors import RelayError
from tests.faults.conftest import RelayDatabase, wait_until
from tests.helpers.servers import ThrottledFileServer

pytestmark = pytest.mark.e2e

PASSWORD = "crash test password"
ROUNDS = 8
PUSHES_PER_ROUND = 40  # at most; a batch ends when the relay dies under it
STORE_RATE = 1_500_000  # bytes/s of the outside store: a 300 KB copy takes ~0.2 s
ONLINE = ["phone-on-1", "phone-on-2"]
OFFLINE = ["phone-off-1", "phone-off-2"]
#: What an online device reports for every second push it gets (the others stop at delivered).
FULL_RUN = ["delivered", "downloading", "downloading", "verifying", "installing", "installed"]


class Device:
    """A phone's relay side: its stream, its app layer (dedup by push id), its ordered reports."""

    def __init__(self, relay_url: str, device_id: str, token: str, deadline: float):
        self.id = device_id
        self.client = RelayClient(relay_url, token, timeout=5)
        self.deadline = deadline
        self.wire: collections.Counter[str] = collections.Counter()  # push events per push id
        self.app_layer: dict[str, dict] = {}  # push id -> first push message
        self.packages: dict[str, dict] = {}  # push id -> package of the latest push message
        self.confirmed: list[tuple[str, str]] = []  # (push id, state) the relay answered 200 for
        self.refused: list[tuple[str, str, str]] = []  # reports the relay refused for good
        self._reports: "collections.deque[tuple[str, str, dict]]" = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._stream = None
        self._threads: list[threading.Thread] = []
        self.connected = threading.Event()

    def connect(self) -> None:
        self._stream = self.client.stream(
            read_timeout=5, max_backoff=0.5, on_status=lambda s: s.state == "connected" and self.connected.set()
        )
        for target, name in ((self._read, "stream"), (self._report, "reports")):
            thread = threading.Thread(target=target, name=f"{self.id}-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._stream is not None:
            self._stream.close()
        for thread in self._threads:
            thread.join(10)

    def _read(self) -> None:
        for event in self._stream:
            if event.event != "push":
                continue
            push_id = event.data["push_id"]
            with self._lock:
                self.wire[push_id] += 1
                self.packages[push_id] = event.data["package"]
                if push_id in self.app_layer:
                    continue  # a replay: the app already has it
                self.app_layer[push_id] = event.data
                number = len(self.app_layer)
            size = event.data["package"].get("size") or 1000
            script = FULL_RUN if number % 2 == 0 else FULL_RUN[:1]
            progress = iter([0, size // 2])
            with self._lock:
                for state in script:
                    extra = {"bytes_done": next(progress), "bytes_total": size} if state == "downloading" else {}
                    self._reports.append((push_id, state, extra))
            self._wake.set()

    def _report(self) -> None:
        """Send reports in order; a relay that is down gets the same report again (bounded)."""
        while not self._stop.is_set() and time.monotonic() < self.deadline:
            with self._lock:
                item = self._reports[0] if self._reports else None
            if item is None:
                self._wake.wait(0.2)
                self._wake.clear()
                continue
            push_id, state, extra = item
            try:
                self.client.report(push_id, state, **extra)
            except RelayError as exc:
                if exc.transient:
                    time.sleep(0.05)
                    continue
                self.refused.append((push_id, state, f"{exc.status} {exc.code}: {exc}"))
            else:
                self.confirmed.append((push_id, state))
            with self._lock:
                self._reports.popleft()

    @property
    def reports_pending(self) -> int:
        with self._lock:
            return len(self._reports)


class Pusher:
    """A laptop sending one batch of pushes; remembers which the relay accepted (201)."""

    def __init__(self, client: RelayClient, files: list[tuple[str, str, int]], store_url: str):
        self.client = client
        self.files = files
        self.store_url = store_url
        self.accepted: dict[str, Push] = {}  # push id -> push as answered
        self.lost = 0  # requests without an answer (the relay died under them)
        self.count = 0

    def batch(self, rng: random.Random, n: int) -> None:
        """Up to ``n`` pushes, until the relay stops answering (it was killed)."""
        for _ in range(n):
            self.count += 1
            name, sha, size = self.files[self.count % len(self.files)]
            target = (ONLINE if self.count % 2 else OFFLINE)[self.count // 2 % 2]
            app = {
                "id": f"org.example.crash{self.count}",
                "name": f"Crash {self.count}",
                "version": "1.0",
                "packages": [{"format": "apk", "url": f"{self.store_url}/{name}", "sha256": sha, "size": size}],
            }
            try:
                (push,) = self.client.push(app, "install_now", [target])
            except RelayError as exc:
                assert exc.transient, f"the relay refused a good push: {exc}"
                self.lost += 1
                return
            else:
                self.accepted[push.id] = push
            time.sleep(rng.uniform(0, 0.1))


class Prober:
    """Downloads the relay's copies while the relay lives and dies; checks every complete body."""

    def __init__(self, relay_url: str, tokens: dict[str, str], expected: dict[str, str]):
        self.relay_url = relay_url
        self.tokens = tokens
        self.expected = expected  # sha -> file name
        self.verified = 0
        self.wrong: list[str] = []
        self.targets: list[tuple[str, str]] = []  # (device id, sha) worth asking for
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="package-prober", daemon=True)

    def start(self) -> "Prober":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        session = requests.Session()
        try:
            while not self._stop.is_set():
                for device_id, sha in list(self.targets):
                    if self._stop.is_set():
                        break
                    self.fetch(session, device_id, sha)
                self._stop.wait(0.05)
        finally:
            session.close()

    def fetch(self, session: requests.Session, device_id: str, sha: str) -> bool:
        """True if the relay served the package (and it was right)."""
        try:
            resp = session.get(
                f"{self.relay_url}/api/v1/packages/{sha}",
                timeout=5,
                headers={"Authorization": f"Bearer {self.tokens[device_id]}"},
            )
            body = resp.content
        except requests.RequestException:
            return False  # the relay died mid-answer: a transport error, not a wrong package
        if resp.status_code != 200:
            return False
        if len(body) != int(resp.headers.get("Content-Length", -1)):
            return False  # cut short by the kill: the client sees a short body, not a wrong one
        actual = hashlib.sha256(body).hexdigest()
        if actual != sha:
            self.wrong.append(f"/api/v1/packages/{sha} served {len(body)} bytes with SHA-256 {actual}")
            return False
        self.verified += 1
        return True


def _check_database(db: RelayDatabase, final: bool) -> list[str]:
    """Every invariant of the push tables the crash could break; returns the problems."""
    problems = []
    valid = {s.value for s in PushState}
    # Both tables from one snapshot: the restarted relay may be taking reports meanwhile.
    push_rows, history_rows = db.snapshot(
        "SELECT id, state, mirror_status, package_url, package_sha256 FROM push",
        "SELECT push_id, state FROM pushhistory ORDER BY id",
    )
    pushes = {row[0]: row[1:] for row in push_rows}
    history = collections.defaultdict(list)
    for push_id, state in history_rows:
        history[push_id].append(state)
    for push_id, (state, mirror, url, sha) in pushes.items():
        states = history.get(push_id, [])
        if state not in valid:
            problems.append(f"{push_id}: unknown state {state!r}")
        if not states:
            problems.append(f"{push_id}: no history row")
            continue
        if states[-1] != state:
            problems.append(f"{push_id}: state {state} but last history row {states[-1]} ({states})")
        for before, after in zip(states, states[1:]):
            if before != after and not can_transition(before, after):
                problems.append(f"{push_id}: impossible change {before} -> {after} in {states}")
        if mirror not in ("none", "pending", "done", "failed"):
            problems.append(f"{push_id}: mirror_status {mirror!r}")
        if mirror == "pending" and state != "queued":
            problems.append(f"{push_id}: waits for its copy but is {state}")
        if mirror == "done" and url != f"/api/v1/packages/{sha}":
            problems.append(f"{push_id}: mirrored but points at {url}")
        if final and mirror == "pending":
            problems.append(f"{push_id}: its copy is still pending")
    orphans = db.rows("SELECT COUNT(*) FROM pushhistory WHERE push_id NOT IN (SELECT id FROM push)")[0][0]
    if orphans:
        problems.append(f"{orphans} history rows of pushes that do not exist")
    return problems


def _tmp_parts(relay) -> set[str]:
    return {p.name for p in (Path(relay.data_dir) / "packages" / "tmp").glob("*.part")}


def test_relay_killed_under_load_loses_nothing_and_serves_nothing_half_written(tmp_path, relays, seed):
    rng = random.Random(seed)
    started = time.monotonic()
    store = tmp_path / "store"
    store.mkdir()
    files = []
    for i in range(8):
        body = rng.randbytes(rng.randrange(200_000, 400_000))
        (store / f"app{i}.apk").write_bytes(body)
        files.append((f"app{i}.apk", hashlib.sha256(body).hexdigest(), len(body)))
    expected = {sha: name for name, sha, _ in files}

    relay = relays(tmp_path / "relay", keepalive=0.5)
    db = RelayDatabase(relay)
    laptop = RelayClient(relay.url, timeout=5)
    laptop.create_account("crash", PASSWORD)
    laptop.login("crash", PASSWORD, DeviceInfo("crash-laptop", "Laptop", "ThinkPad", "linux"))
    tokens = {}
    for device_id in ONLINE + OFFLINE:
        client = RelayClient(relay.url)
        tokens[device_id] = client.login(
            "crash", PASSWORD, DeviceInfo(device_id, device_id, "Pixel 8", "android")
        ).token
    deadline = time.monotonic() + 150  # hard bound for every helper thread
    devices = {d: Device(relay.url, d, tokens[d], deadline) for d in ONLINE + OFFLINE}
    prober = Prober(relay.url, tokens, expected)
    kills_mid_copy = 0
    leftovers_seen = 0
    try:
        with ThrottledFileServer(store, bytes_per_second=STORE_RATE) as outside:
            pusher = Pusher(laptop, files, outside.url)
            for device_id in ONLINE:
                devices[device_id].connect()
                assert devices[device_id].connected.wait(10)
            prober.start()
            for round_no in range(ROUNDS):
                batch = threading.Thread(
                    target=pusher.batch,
                    args=(random.Random(rng.random()), PUSHES_PER_ROUND),
                    name="pusher",
                    daemon=True,
                )
                batch.start()
                time.sleep(rng.uniform(0.3, 2.0))
                prober.targets = [
                    (p.device_id, p.package.sha256) for p in list(pusher.accepted.values()) if p.device_id in OFFLINE
                ]
                relay.kill()
                parts = _tmp_parts(relay)
                leftovers_seen += len(parts)
                kills_mid_copy += bool(parts)
                batch.join(30)
                assert not batch.is_alive()
                relay.start()
                still_there = parts & _tmp_parts(relay)
                assert not still_there, f"round {round_no}: half-written copies survived the restart: {still_there}"
                problems = _check_database(db, final=False)
                assert not problems, f"round {round_no}: inconsistent after the crash:\n" + "\n".join(problems)

            # Every copy the killed relays left pending is finished by the last one.
            wait_until(
                lambda: not db.rows("SELECT id FROM push WHERE mirror_status = 'pending'"),
                60,
                "the mirror to finish every pending copy",
            )
            for device_id in OFFLINE:
                devices[device_id].connect()
            accepted = pusher.accepted
            for push_id, push in accepted.items():
                device = devices[push.device_id]
                wait_until(lambda: push_id in device.app_layer, 30, f"push {push_id} on {device.id}")
            wait_until(lambda: all(d.reports_pending == 0 for d in devices.values()), 30, "the reports to go out")
        prober.stop()

        # -- delivery: all accepted pushes, each once in the app layer, only on its own device
        received = {d.id: set(d.app_layer) for d in devices.values()}
        targets = dict(db.rows("SELECT id, target_device_id FROM push"))
        for device_id, push_ids in received.items():
            strangers = {p for p in push_ids if targets.get(p) != device_id}
            assert not strangers, f"{device_id} got pushes of other devices: {strangers}"
        missing = {p for p, push in accepted.items() if p not in received[push.device_id]}
        assert not missing, f"pushes answered 201 but never delivered: {missing}"
        duplicates = {p: n - 1 for d in devices.values() for p, n in d.wire.items() if n > 1}

        # -- reports: what the relay confirmed survived its crashes, none refused
        refused = [r for d in devices.values() for r in d.refused]
        assert not refused, f"the relay refused reports of a correct device: {refused}"
        for device in devices.values():
            for push_id, state in device.confirmed:
                history = [h.state for h in RelayClient(relay.url, tokens[device.id]).get_push(push_id).history]
                assert state in history, f"report {state} of {push_id} was confirmed, then lost: {history}"

        # -- packages: every relay copy a device was sent is whole and right
        session = requests.Session()
        checked = 0
        for device in devices.values():
            for package in device.packages.values():
                sha = package["sha256"]
                if package["url"].endswith(f"/api/v1/packages/{sha}"):
                    assert prober.fetch(session, device.id, sha), f"the relay does not serve {package['url']}"
                    checked += 1
        session.close()
        assert not prober.wrong, "the relay served wrong bytes:\n" + "\n".join(prober.wrong)
        assert checked, "no push was delivered with the relay's own copy"
        assert not _tmp_parts(relay), f"leftover temporary files: {_tmp_parts(relay)}"
        problems = _check_database(db, final=True)
        assert not problems, "inconsistent at the end:\n" + "\n".join(problems)

        print(
            f"\nrelay crashes (seed {seed}): {ROUNDS} kills, {kills_mid_copy} of them mid-copy "
            f"({leftovers_seen} .part files cleaned); {len(accepted)} pushes accepted, {pusher.lost} lost "
            f"in flight (no answer); {sum(len(d.wire) for d in devices.values())} delivered, "
            f"{sum(duplicates.values())} duplicate push events on the wire over {len(duplicates)} pushes; "
            f"{sum(len(d.confirmed) for d in devices.values())} reports confirmed; "
            f"{prober.verified + checked} package downloads verified; {time.monotonic() - started:.0f}s"
        )
    finally:
        prober.stop()
        for device in devices.values():
            device.close()
