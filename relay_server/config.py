"""Relay configuration: embedded defaults, then environment variables, then flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from shared.paths import data_dir as default_data_dir


def _env_bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class RelayConfig:
    """Everything an operator can set. Environment names are ``APPBEAM_`` + the upper-case field."""

    data_dir: Path = field(default_factory=lambda: default_data_dir("relay"))
    #: peewee/playhouse URL; empty means SQLite in ``data_dir``.
    database_url: str = ""
    #: Seconds between keepalive comments on event streams.
    keepalive: float = 15.0
    #: Seed the demo store (a dozen open-source apps with generated packages).
    demo_catalog: bool = True
    #: Size factor for generated demo packages (tests use a tiny one).
    demo_scale: float = 1.0
    #: Let the mirror fetch loopback/private/link-local addresses (off: SSRF protection).
    mirror_allow_private: bool = False
    #: Largest package the relay mirrors, in bytes.
    mirror_max_bytes: int = 2 * 1024**3
    #: Seconds to wait for an outside server while mirroring (connect and each read).
    mirror_timeout: float = 30.0
    #: Copies the mirror makes at once (a small pool of workers, shared fairly between accounts).
    mirror_workers: int = 4
    #: Copies one sending account may have in progress at once; while its turns are taken,
    #: the other accounts' copies go first (keep it below ``mirror_workers``).
    mirror_per_account: int = 2
    #: A copy that averages fewer bytes per second than this over ``mirror_rate_window``
    #: seconds is abandoned as too slow (the push goes out with the original URL); 0: no minimum.
    mirror_min_rate: int = 16 * 1024
    #: Seconds over which a copy's speed is averaged for ``mirror_min_rate``.
    mirror_rate_window: float = 30.0
    #: Seconds a push may wait for an offline device before it expires (default 14 days).
    queue_ttl: int = 14 * 24 * 3600
    #: Seconds that updates about finished pushes stay in the event log (default 7 days).
    event_retention: int = 7 * 24 * 3600
    #: Rate limits (``limits`` notation: "10/minute"); off only for tests and benchmarks.
    rate_limits: bool = True
    #: Password checks per account for signed-in devices (changing the password).
    limit_login_per_account: str = "10/minute"
    #: Wrong passwords per (address, account) pair, and per account from all addresses
    #: together (a device already registered to the account is not held by the latter).
    limit_login_failures: str = "10/minute"
    limit_login_failures_per_account: str = "100/hour"
    limit_login_per_address: str = "30/minute"
    limit_accounts_per_address: str = "20/hour"
    limit_pushes_per_device: str = "120/minute"
    #: Pairing codes a device may make (each is good for 10 minutes and once).
    limit_pairings_per_device: str = "20/hour"
    #: Bytes of mirrored packages one account's pushes may keep on the relay (default 5 GiB).
    mirror_quota_bytes: int = 5 * 1024**3
    #: Largest package file a device may upload to the relay (``PUT /packages/<sha256>``), in bytes.
    upload_max_bytes: int = 2 * 1024**3
    #: Bytes of uploaded packages one account may keep on the relay at once (default 5 GiB);
    #: an upload is deleted like a mirror copy once no unfinished push uses it.
    upload_quota_bytes: int = 5 * 1024**3
    #: An upload that averages fewer bytes per second than this over ``upload_rate_window``
    #: seconds is refused as too slow (408); 0: no minimum (``body_timeout`` then bounds each wait).
    upload_min_rate: int = 16 * 1024
    #: Seconds over which an upload's speed is averaged for ``upload_min_rate``.
    upload_rate_window: float = 30.0
    #: Uploads one account may have in progress at once, and all accounts together in one relay
    #: process (each holds a socket, a file and its reserved share of the quota; per process
    #: with ``--processes``). More are refused before their bodies are read (429, 503).
    upload_per_account: int = 2
    upload_concurrency: int = 32
    #: Seconds a package copy no push uses any more is kept before it is deleted.
    package_grace: int = 3600
    #: Largest JSON request body, in bytes.
    max_request_bytes: int = 1024 * 1024
    #: Seconds a client has to send its request headers, then its body (nginx's
    #: client_header_timeout and client_body_timeout), and an idle connection waits for its
    #: next request. A slow client is answered 408 (relay_server/request_deadlines.py).
    header_timeout: float = 20.0
    body_timeout: float = 20.0
    idle_timeout: float = 75.0
    #: Relay processes serving one port on this host (SO_REUSEPORT; ``appbeam relay --processes``).
    #: Above 1 on SQLite they wake each other's streams through ``relay_server.cluster.HostCluster``.
    processes: int = 1
    #: Base URL devices should use for the relay's own files when the request has no Host
    #: (empty: taken from each request).
    public_url: str = ""

    @property
    def packages_dir(self) -> Path:
        return self.data_dir / "packages"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'relay.db'}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, **overrides: Any) -> "RelayConfig":
        """Defaults, overridden by ``APPBEAM_*`` variables, overridden by ``overrides`` (flags)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"APPBEAM_{f.name.upper()}")
            if raw is None:
                continue
            if f.type in ("bool", bool):
                values[f.name] = _env_bool(raw)
            elif f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            elif f.name == "data_dir":
                values[f.name] = Path(raw)
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"])
        config = cls(**values)
        config.data_dir.mkdir(parents=True, exist_ok=True)
        config.packages_dir.mkdir(parents=True, exist_ok=True)
        return config

    def with_(self, **changes: Any) -> "RelayConfig":
        return replace(self, **changes)
