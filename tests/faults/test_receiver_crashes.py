"""The receiver (a real headless receiver process) killed with SIGKILL mid-work, then restarted.

- Killed during a download from a slow store: after the restart it resumes with an HTTP
  ``Range`` request from the bytes it kept (the store's log shows ``bytes=N-``, N > 0),
  installs the package with the push's SHA-256 and reports the whole way to the relay.
- Killed while verifying or installing a large package: after the restart the push is
  either installed or failed with a reason the user can read (and Retry then installs it);
  never installed twice (one entry in the installed list, one ``installed`` in the
  relay's history), never a partial file (the installed file has the push's SHA-256, and
  no temporary copy is left beside it).
"""

from __future__ import annotations

import hashlib
import random
import time
from pathlib import Path

import pytest

from relay_server.demo_catalog import build_package
from shared.protocol import can_transition
from shared.relay_client import DeviceInfo, RelayClient
from tests.faults.conftest import wait_until
from tests.helpers.servers import FileServer, ThrottledFileServer

pytestmark = pytest.mark.e2e

PASSWORD = "receiver crash password"
SLOW_SIZE = 2 * 1024 * 1024
SLOW_RATE = 512 * 1024  # four seconds for the whole package
BIG_SIZE = 48 * 1024 * 1024  # big enough that copying it into place takes a visible moment


@pytest.fixture
def world(tmp_path, relays):
    relay = relays(tmp_path / "relay")
    laptop = RelayClient(relay.url)
    laptop.create_account("rita", PASSWORD)
    laptop.login("rita", PASSWORD, DeviceInfo("rita-laptop", "Rita's laptop", "ThinkPad", "linux"))
    return relay, laptop


def _phone(receivers, tmp_path, relay):
    return receivers(
        tmp_path / "phone", relay.url, "rita", PASSWORD, name="Rita's Pixel", model="Pixel 8", platform="android"
    )


def _push(laptop, phone_id: str, app_id: str, url: str, body_sha: str, size: int) -> dict:
    app = {
        "id": app_id,
        "name": app_id.rsplit(".", 1)[-1].title(),
        "version": "1.0",
        "version_code": 1,
        "packages": [{"format": "apk", "url": url, "sha256": body_sha, "size": size}],
    }
    (push,) = laptop.push(app, "install_now", [phone_id])
    return push


def _device_id(phone) -> str:
    import json

    return json.loads((phone.data_dir / "profile.json").read_text())["device_id"]


def _card(state: dict, push_id: str) -> dict | None:
    return next((p for p in state["pushes"] if p["push_id"] == push_id), None)


def _kill(phone) -> None:
    phone.proc.kill()  # SIGKILL: no clean shutdown
    phone.proc.wait(10)


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fileobj:
        for block in iter(lambda: fileobj.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _history(laptop, push_id: str) -> list[str]:
    return [h.state for h in laptop.get_push(push_id).history]


def _assert_valid_history(states: list[str]) -> None:
    for before, after in zip(states, states[1:]):
        assert before == after or can_transition(before, after), f"impossible {before} -> {after} in {states}"


def test_killed_mid_download_resumes_with_range_and_installs_the_right_bytes(tmp_path, world, receivers, seed):
    relay, laptop = world
    rng = random.Random(seed)
    store = tmp_path / "store"
    store.mkdir()
    body = build_package("apk", "org.example.slow", "Slow", "1.0", 1, size=SLOW_SIZE, seed=rng.randbytes(32))
    (store / "slow.apk").write_bytes(body)
    body_sha = hashlib.sha256(body).hexdigest()
    phone = _phone(receivers, tmp_path, relay)
    with ThrottledFileServer(store, bytes_per_second=SLOW_RATE) as slow:
        push = _push(laptop, _device_id(phone), "org.example.slow", f"{slow.url}/slow.apk", body_sha, SLOW_SIZE)
        kill_at = rng.uniform(0.2, 0.6) * SLOW_SIZE
        phone.wait_for(
            lambda s: (
                (c := _card(s, push.id)) is not None
                and c["state"] == "downloading"
                and (c["bytes_done"] or 0) >= kill_at
            ),
            30,
            "the download to be under way",
        )
        _kill(phone)
        part = phone.data_dir / "downloads" / f"{push.id}.part"
        kept = part.stat().st_size if part.exists() else 0
        assert 0 < kept < SLOW_SIZE, f"the partial file has {kept} bytes"
        requests_before = len(slow.range_log)

        phone.start()
        # The installed list is written just before the card says "installed": wait for both.
        state = phone.wait_for(
            lambda s: (
                any(a["app_id"] == "org.example.slow" for a in s["installed"])
                and _card(s, push.id)["state"] == "installed"
            ),
            60,
            "the install after the restart",
        )
        resumed = slow.range_log[requests_before:]
    assert slow.range_log[0] == "", slow.range_log  # the first request fetched the whole package
    assert resumed, "no request after the restart"
    first = resumed[0]
    assert first.startswith("bytes=") and first.endswith("-"), f"the restart did not resume: {slow.range_log}"
    offset = int(first[len("bytes=") : -1])
    assert 0 < offset <= kept, f"resumed from {offset}, kept {kept}: {slow.range_log}"

    (installed,) = [a for a in state["installed"] if a["app_id"] == "org.example.slow"]
    assert installed["sha256"] == body_sha
    assert _sha(Path(installed["path"])) == body_sha
    assert _card(state, push.id)["state"] == "installed"
    wait_until(lambda: laptop.get_push(push.id).state == "installed", 30, "the relay to hear of it")
    history = _history(laptop, push.id)
    _assert_valid_history(history)
    assert history.count("installed") == 1, history
    assert not part.exists(), "the partial file is left after the install"


def test_killed_while_verifying_or_installing_never_installs_twice_or_partially(tmp_path, world, receivers, seed):
    relay, laptop = world
    rng = random.Random(seed)
    store = tmp_path / "store"
    store.mkdir()
    body = build_package("apk", "org.example.big", "Big", "1.0", 1, size=BIG_SIZE, seed=rng.randbytes(32))
    (store / "big.apk").write_bytes(body)
    body_sha = hashlib.sha256(body).hexdigest()
    del body
    phone = _phone(receivers, tmp_path, relay)
    phone_id = _device_id(phone)
    hit = None
    with FileServer(store) as fast:
        for attempt in range(4):  # the window is short: try a few pushes until a kill lands in it
            app_id = f"org.example.big{attempt}"
            push = _push(laptop, phone_id, app_id, f"{fast.url}/big.apk", body_sha, BIG_SIZE)
            deadline = time.monotonic() + 60
            seen = None
            while time.monotonic() < deadline:
                card = _card(phone.state(), push.id)
                seen = card and card["state"]
                if seen in ("verifying", "installing"):
                    _kill(phone)
                    break
                if seen in ("installed", "failed"):
                    break
                time.sleep(0.005)
            else:
                raise TimeoutError(f"the push never got to verifying; last state {seen}")
            if phone.proc.poll() is not None:
                hit = (app_id, push, seen)
                break
        assert hit is not None, "could not kill the receiver while it verified or installed (4 tries)"
        app_id, push, killed_in = hit

        phone.start()
        card = phone.wait_for(
            lambda s: (c := _card(s, push.id)) is not None and c["state"] in ("installed", "failed"),
            30,
            "the interrupted push to settle",
        )
        card = _card(card, push.id)
        if card["state"] == "failed":
            assert card["detail"] and "interrupt" in card["detail"].lower(), f"no clear reason: {card}"
            phone.tap(push.id, "retry")
        state = phone.wait_for(lambda s: _card(s, push.id)["state"] == "installed", 60, "the install after Retry")

    entries = [a for a in state["installed"] if a["app_id"] == app_id]
    assert len(entries) == 1, f"installed {len(entries)} times: {entries}"
    assert entries[0]["sha256"] == body_sha
    assert _sha(Path(entries[0]["path"])) == body_sha, "a partial or wrong file is installed"
    leftovers = [p.name for p in Path(entries[0]["path"]).parent.iterdir() if p != Path(entries[0]["path"])]
    assert not leftovers, f"files left beside the installed package: {leftovers}"
    wait_until(lambda: laptop.get_push(push.id).state == "installed", 30, "the relay to hear of it")
    history = _history(laptop, push.id)
    _assert_valid_history(history)
    assert history.count("installed") == 1, history
    print(f"\nreceiver killed while {killed_in} (push {push.id}); relay history: {history}")
