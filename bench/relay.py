"""A relay for a benchmark: a seeded database (one account, many devices with tokens) copied
into a fresh data dir, started with ``appbeam_devtools.local_relay.LocalRelay``.

Seeding: the account and the sender device are made through the API (POST /accounts,
POST /login). The other devices are written straight into the relay's database with the
relay's own models and token digest, because every login costs one argon2 verification
(tens of milliseconds of CPU): 10,000 logins would take minutes and measure argon2, not
delivery. The rows are exactly what ``POST /login`` writes (a Device and a Token whose
SHA-256 is stored).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests

from appbeam_devtools.local_relay import LocalRelay
from bench.common import log

USERNAME = "bench"
PASSWORD = "bench password 123"
SENDER_ID = "bench-sender"
DB_FILES = ("relay.db", "relay.db-wal", "relay.db-shm")
#: Every bench relay runs with the abuse rate limits off (RelayConfig.rate_limits; "off only for
#: tests and benchmarks"): one sender device pushes thousands of times a minute here.
RELAY_ENV = {"APPBEAM_RATE_LIMITS": "0"}


@dataclass
class Seeded:
    dir: Path
    tokens: list[str]  # index i -> token of device dev-<i>
    sender_token: str

    @staticmethod
    def device_id(i: int) -> str:
        return f"dev-{i:05d}"


def _open_db(data_dir: Path, database_url: str | None = None):
    from relay_server.db import database, init_database

    init_database(database_url or f"sqlite:///{data_dir / 'relay.db'}")
    return database


def seed(base: Path, devices: int, database_url: str | None = None) -> Seeded:
    """Make a template data dir holding ``devices`` logged-in Android devices of one account
    (in ``database_url`` when given, e.g. a PostgreSQL template database; else SQLite in the dir)."""
    tpl = base / (f"template-{devices}" if not database_url else f"template-pg-{devices}")
    if (tpl / "seed.json").exists():
        data = json.loads((tpl / "seed.json").read_text())
        return Seeded(tpl, data["tokens"], data["sender_token"])
    tpl.mkdir(parents=True, exist_ok=True)
    args = ["--no-demo-catalog"] + (["--database-url", database_url] if database_url else [])
    relay = LocalRelay(tpl, extra_args=args, env=RELAY_ENV).start()
    try:
        api = f"{relay.url}/api/v1"
        requests.post(
            f"{api}/accounts", json={"username": USERNAME, "password": PASSWORD}, timeout=10
        ).raise_for_status()
        answer = requests.post(
            f"{api}/login",
            json={
                "username": USERNAME,
                "password": PASSWORD,
                "device": {"id": SENDER_ID, "name": "Bench laptop", "model": "bench", "platform": "linux"},
            },
            timeout=10,
        )
        answer.raise_for_status()
        sender_token = answer.json()["token"]
        # one device through the real login, so the bulk rows can be checked against it
        first = requests.post(
            f"{api}/login",
            json={
                "username": USERNAME,
                "password": PASSWORD,
                "device": {"id": Seeded.device_id(0), "name": "Phone 0", "model": "Pixel", "platform": "android"},
            },
            timeout=10,
        )
        first.raise_for_status()
        tokens = [first.json()["token"]]
    finally:
        relay.stop()

    database = _open_db(tpl, database_url)
    from relay_server.auth import token_digest
    from relay_server.db import utcnow
    from relay_server.models import Account, Device, Token

    with database.connection_context():
        account = Account.get(Account.username == USERNAME)
        now = utcnow()
        for start in range(1, devices, 500):
            ids = range(start, min(devices, start + 500))
            new_tokens = [f"bench-{i}-" + os.urandom(16).hex() for i in ids]
            tokens.extend(new_tokens)
            with database.atomic():
                Device.insert_many(
                    [
                        dict(
                            id=Seeded.device_id(i),
                            account=account.id,
                            name=f"Phone {i}",
                            model="Pixel",
                            platform="android",
                            created_at=now,
                            last_seen=now,
                        )
                        for i in ids
                    ]
                ).execute()
                Token.insert_many(
                    [
                        dict(token_hash=token_digest(t), device=Seeded.device_id(i), created_at=now)
                        for i, t in zip(ids, new_tokens)
                    ]
                ).execute()
    database.close()
    from relay_server.db import close_pool

    close_pool()  # (a PostgreSQL template database must have no connections left)
    (tpl / "relay.log").unlink(missing_ok=True)
    (tpl / "seed.json").write_text(json.dumps({"tokens": tokens, "sender_token": sender_token}))
    log(f"seeded {devices} devices in {tpl}")
    return Seeded(tpl, tokens, sender_token)


def add_catalog_package(data_dir: Path, app_id: str, source: Path, filename: str) -> str:
    """Put ``source`` in the relay's store as a catalog package of ``app_id`` (relay stopped);
    returns its SHA-256. The file is hard-linked when possible (500 MB files are not copied)."""
    sha = hashlib.sha256()
    with open(source, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha.update(chunk)
    digest = sha.hexdigest()
    target = data_dir / "packages" / digest[:2] / digest
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    database = _open_db(data_dir)
    from relay_server.models import CatalogApp, CatalogPackage, Package

    with database.connection_context(), database.atomic():
        Package.insert(
            sha256=digest, size=source.stat().st_size, content_type="application/vnd.android.package-archive"
        ).on_conflict_ignore().execute()
        CatalogApp.insert(
            app_id=app_id, name=app_id, version="1.0", version_code=1, description="benchmark package"
        ).on_conflict_ignore().execute()
        CatalogPackage.insert(
            app=app_id, format="apk", package=digest, filename=filename, runtime="Android 5.0+"
        ).on_conflict_ignore().execute()
    database.close()
    return digest


def fresh_relay(
    seeded: Seeded, extra_args: list[str] | None = None, env: dict | None = None, prepare=None
) -> LocalRelay:
    """A started relay on a copy of the template's database (``prepare(data_dir)`` runs first)."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-relay-", dir=seeded.dir.parent))
    for name in DB_FILES:
        if (seeded.dir / name).exists():
            shutil.copyfile(seeded.dir / name, data_dir / name)
    if prepare is not None:
        prepare(data_dir)
    return LocalRelay(
        data_dir, extra_args=["--no-demo-catalog", *(extra_args or [])], env={**RELAY_ENV, **(env or {})}
    ).start()


def discard(relay: LocalRelay) -> None:
    relay.stop()
    shutil.rmtree(relay.data_dir, ignore_errors=True)


def push_body(
    device_ids: list[str],
    url: str = "http://127.0.0.1:9/bench.apk",
    sha256: str | None = None,
    size: int = 1234567,
    app_id: str = "org.example.bench",
) -> dict:
    return {
        "app": {
            "id": app_id,
            "name": "Bench App",
            "version": "1.0",
            "version_code": 1,
            "size": size,
            "runtime": "Android 5.0+",
            "packages": [{"format": "apk", "url": url, "sha256": sha256 or "ab" * 32, "size": size}],
        },
        "mode": "install_now",
        "device_ids": device_ids,
    }
