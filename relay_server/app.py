"""The relay application factory."""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from relay_server import catalog, events
from relay_server.api import api
from relay_server.api.ops import HEALTH_PATH, ops
from relay_server.api.uploads import uploads
from relay_server.cluster import Cluster, HostCluster
from relay_server.config import RelayConfig
from relay_server.context import Relay
from relay_server.db import close_pool, database, init_database, is_postgres
from relay_server.errors import bad_request, register_error_handlers
from relay_server.group_commit import GroupCommit
from relay_server.hot_routes import HotRoutes
from relay_server.hub import Hub
from relay_server.janitor import Janitor
from relay_server.limits import RateLimits
from relay_server.metrics import RelayMetrics
from relay_server.mirror import Mirror
from relay_server.package_store import PackageStore
from relay_server.storage_health import StorageProbe
from relay_server.store import store
from shared.assets import real_path

log = logging.getLogger(__name__)

#: The store's stylesheet and icons, served under /static (the logo comes from shared/assets: store.py).
ASSETS = real_path(files(__package__) / "static")


def create_app(config: RelayConfig | None = None) -> Flask:
    """Build a relay: database, package store, mirror worker, routes. Call ``close_app`` to stop it."""
    config = config or RelayConfig.from_env()
    config.packages_dir.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, static_folder=str(ASSETS), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False  # answers keep the order the code writes them in

    init_database(config.effective_database_url)
    hub = Hub()
    relay = Relay(
        config=config,
        hub=hub,
        store=PackageStore(config.packages_dir),
        mirror=None,  # type: ignore[arg-type]  # the mirror needs the relay: set just below
        metrics=RelayMetrics(hub),
    )
    relay.store.clean_tmp()
    relay.limits = RateLimits(config)
    # Several processes on one SQLite file: wait for each other's write lock cooperatively.
    relay.commits = GroupCommit(cooperative_begin=config.processes > 1 and not is_postgres(), inside=events.order_held)
    relay.metrics.watch_commits(relay.commits)
    relay.storage = StorageProbe(config.data_dir)
    if not relay.storage.check().ok:
        log.error(
            "the relay's storage is not usable: %s (%s says so until it is fixed)",
            "; ".join(relay.storage.check().problems),
            HEALTH_PATH,
        )
    relay.mirror = Mirror(relay)
    app.extensions["appbeam_relay"] = relay

    if config.demo_catalog:
        with database.connection_context():
            catalog.seed_demo(relay)
    if is_postgres():
        # Other relay processes may share this database: wake-ups and presence go through it.
        hub.cluster = Cluster(config.effective_database_url, hub)
        hub.cluster.start()
    elif config.processes > 1:
        # Sibling processes on this host share the SQLite file: wake-ups go over local sockets.
        hub.cluster = HostCluster(_cluster_dir(config), hub)
        hub.cluster.start()
    relay.mirror.start()
    relay.janitor = Janitor(relay)
    relay.janitor.start()

    register_error_handlers(app)
    app.register_blueprint(api)
    app.register_blueprint(uploads)  # PUT /api/v1/packages/<sha256> (relay_server/api/uploads.py)
    app.register_blueprint(store)
    app.register_blueprint(ops)  # /healthz, /metrics, /api/v1/openapi.json (and their old addresses)

    @app.before_request
    def _open_db() -> None:
        # No route takes a NUL character anywhere (and PostgreSQL cannot store one).
        if "\x00" in request.path:
            raise bad_request("the URL path must not contain NUL characters")
        for key, value in request.args.items(multi=True):
            if "\x00" in key or "\x00" in value:
                raise bad_request(
                    "%(field)s: must not contain NUL characters", "invalid_field", field=key.replace(chr(0), "")
                )
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close_db(exc: BaseException | None) -> None:
        if not database.is_closed():
            database.close()

    # POST /pushes and a device's report on a push skip Flask (the same functions, the same answers).
    app.wsgi_app = HotRoutes(app, relay)  # type: ignore[method-assign]
    return app


def _cluster_dir(config: RelayConfig) -> Path:
    """Where the processes of one relay put their wake-up sockets (short enough for AF_UNIX)."""
    import hashlib
    import tempfile

    directory = config.data_dir / "cluster"
    if len(str(directory)) > 70:  # socket paths must stay under 108 bytes
        digest = hashlib.sha256(str(config.data_dir.resolve()).encode()).hexdigest()[:16]
        directory = Path(tempfile.gettempdir()) / f"appbeam-cluster-{digest}"
    return directory


def close_app(app: Flask) -> None:
    """Stop the relay's background work and close its streams."""
    relay: Relay = app.extensions["appbeam_relay"]
    relay.hub.close_all()
    marks = getattr(relay, "sent_marks", None)
    if marks is not None:
        marks.wait_idle()  # streams' last "sent" marks are written before the database closes
    relay.mirror.stop()
    relay.janitor.stop()
    if relay.hub.cluster is not None:
        relay.hub.cluster.stop()
    if not database.is_closed():
        database.close()
    close_pool()
