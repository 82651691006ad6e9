"""Serving the relay with gevent: one greenlet per connection, thousands of open streams."""

from __future__ import annotations

import gc
import logging
import signal
import socket
from pathlib import Path

import gevent
from gevent.pywsgi import WSGIServer

from relay_server.app import close_app, create_app
from relay_server.config import RelayConfig

log = logging.getLogger(__name__)

#: Seconds between the relay's own full garbage collections (see ``_collect_garbage``).
FULL_GC_INTERVAL = 300.0


def _collect_garbage(interval: float = FULL_GC_INTERVAL) -> gevent.Greenlet:
    """Keep full garbage collections out of the way of pushes.

    A full collection walks every object of every open stream (tens of objects each, so
    0.1-0.2 s with 5,000 streams, all greenlets stopped), and Python starts one by itself
    whenever the long-lived objects grew by a quarter: with thousands of streams opening,
    that lands in the middle of pushes. Young collections still run as usual (they reclaim
    the garbage of requests); the full one runs here, every ``interval``. What is loaded at
    start-up (modules, the app) is frozen out of the collections for good.
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000)  # the full generation: only below

    def loop():
        while True:
            gevent.sleep(interval)
            gc.collect()

    return gevent.spawn(loop)


class _RelayServer(WSGIServer):
    """gevent's WSGI server with Nagle's algorithm off on every connection.

    An event stream writes each event as one small chunk. With Nagle's algorithm a chunk
    written while the previous one is still unacknowledged waits for that ACK, and clients
    delay ACKs by up to 40 ms: a device sent two pushes in quick succession got the second
    one 40 ms late (the p99 of the latency benchmark with one device at 200 pushes/s).
    """

    def handle(self, sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


def serve(host: str, port: int, overrides: dict, *, certfile=None, keyfile=None, ready_file=None) -> int:
    """Run until SIGINT/SIGTERM; returns the exit status."""
    config = RelayConfig.from_env(**overrides)
    app = create_app(config)
    ssl_args = {"certfile": certfile, "keyfile": keyfile} if certfile else {}
    server = _RelayServer((host, port), app, log=None, error_log=logging.getLogger("relay_server.wsgi"),
                        **ssl_args)
    collector = _collect_garbage()
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
    collector.kill()
    return 0
