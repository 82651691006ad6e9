"""A real relay in its own process for tests: small demo packages, fast keepalives, and the
test database (PostgreSQL when ``tests/with_postgres.sh`` asks for it, emptied first).

    with RelayProcess(tmp_path / "relay") as relay:
        client = RelayClient(relay.url)

``kill()`` sends SIGKILL (crash); ``start()`` brings it back on the same port and data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from appbeam_devtools.local_relay import LocalRelay, free_port  # noqa: F401  (free_port: re-exported for tests)
from tests.helpers.database import reset_database, test_database_url


class RelayProcess(LocalRelay):
    """``appbeam relay`` on 127.0.0.1 for one test (or one test session)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        demo_scale: float = 0.01,
        keepalive: float = 1.0,
        extra_args: list[str] | None = None,
        env: dict | None = None,
        fresh_database: bool = True,
    ):
        args = [
            "--demo-scale",
            str(demo_scale),
            "--keepalive",
            str(keepalive),
            "--allow-private-mirror",
            *(extra_args or []),
        ]
        env = {"APPBEAM_RATE_LIMITS": "0", **(env or {})}  # tests make many accounts from 127.0.0.1
        self.database_url = test_database_url()
        if self.database_url:
            env["APPBEAM_DATABASE_URL"] = self.database_url
        super().__init__(data_dir, port=port, extra_args=args, env=env)
        # False for a second relay process joining the same database as a first one.
        self._database_ready = not fresh_database

    def start(self, timeout: float = 60.0) -> "RelayProcess":
        if not self._database_ready:  # a restart after kill() keeps the data, as a real one would
            reset_database(self.database_url)
            self._database_ready = True
        super().start(timeout)
        return self


@contextmanager
def relay_with_laptop(
    data_dir: Path, username: str, password: str, *, device_id: str | None = None, name: str | None = None
) -> Iterator[RelayProcess]:
    """A relay with one account whose laptop is logged in (``relay.laptop``, a RelayClient with
    a signing key of its own), by default ``<username>-laptop``, "<Username>'s laptop"."""
    from shared.relay_client import DeviceInfo, RelayClient

    with RelayProcess(data_dir) as process:
        laptop = RelayClient(process.url)
        laptop.create_account(username, password)
        laptop.login(
            username,
            password,
            DeviceInfo(device_id or f"{username}-laptop", name or f"{username.title()}'s laptop", "ThinkPad", "linux"),
        )
        process.laptop = laptop
        yield process


def anna_with_laptop_and_phone(url: str):
    """On the relay at ``url``: Anna's account with a laptop (the sender) and a phone (the
    target), both logged in; returns their RelayClients."""
    from shared.relay_client import DeviceInfo, RelayClient

    laptop = RelayClient(url)
    laptop.create_account("anna", "correct horse")
    laptop.login("anna", "correct horse", DeviceInfo("anna-laptop", "Laptop", "ThinkPad", "linux"))
    phone = RelayClient(url)
    phone.login("anna", "correct horse", DeviceInfo("anna-phone", "Phone", "Pixel 8", "android"))
    return laptop, phone
