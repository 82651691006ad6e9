"""Serving the relay with gevent: one greenlet per connection, thousands of open streams."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import gevent
from gevent.pywsgi import WSGIServer

from relay_server.app import close_app, create_app
from relay_server.config import RelayConfig

log = logging.getLogger(__name__)


def serve(host: str, port: int, overrides: dict, *, certfile=None, keyfile=None, ready_file=None) -> int:
    """Run until SIGINT/SIGTERM; returns the exit status."""
    config = RelayConfig.from_env(**overrides)
    app = create_app(config)
    ssl_args = {"certfile": certfile, "keyfile": keyfile} if certfile else {}
    server = WSGIServer((host, port), app, log=None, error_log=logging.getLogger("relay_server.wsgi"),
                        **ssl_args)
    server.start()
    scheme = "https" if certfile else "http"
    url = f"{scheme}://{host}:{server.server_port}/"
    log.info("relay listening on %s (data in %s)", url, config.data_dir)
    if ready_file:
        tmp = Path(ready_file + ".tmp")
        tmp.write_text(url)
        tmp.replace(ready_file)

    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGINT, stop.set)
    gevent.signal_handler(signal.SIGTERM, stop.set)
    stop.wait()
    log.info("relay stopping")
    close_app(app)
    server.stop(timeout=2)
    return 0
