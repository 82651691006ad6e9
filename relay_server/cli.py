"""``appbeam relay``: flags, and start-up on gevent's WSGI server.

Nothing heavy is imported at module level: ``appbeam --help`` builds every part's parser.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    parser.add_argument("--data-dir", help="database and packages folder (default: the user data dir)")
    parser.add_argument("--database-url", help="peewee URL, e.g. postgresql://user:pw@host/db (default: SQLite)")
    parser.add_argument("--keepalive", type=float, help="seconds between stream keepalives (default 15)")
    parser.add_argument("--no-demo-catalog", action="store_true", help="do not seed the demo store")
    parser.add_argument("--demo-scale", type=float, help="size factor of generated demo packages (default 1.0)")
    parser.add_argument(
        "--allow-private-mirror",
        action="store_true",
        help="let the mirror fetch loopback/private addresses (off by default: SSRF)",
    )
    parser.add_argument("--certfile", help="TLS certificate (PEM) to serve HTTPS")
    parser.add_argument("--keyfile", help="TLS private key (PEM)")
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="relay processes on this port (SO_REUSEPORT), sharing the data dir and database "
        "(default 1; env APPBEAM_PROCESSES)",
    )
    parser.add_argument(
        "--http-server",
        choices=("lean", "pywsgi"),
        default=None,
        help="HTTP server in front of the app: lean (httptools, default) or pywsgi (gevent's); env APPBEAM_HTTP_SERVER",
    )
    parser.add_argument("--ready-file", help="write the listening URL to this file once serving (for scripts)")


def run(args: argparse.Namespace) -> int:
    # gevent must patch the standard library before requests, sockets or threads are used.
    from gevent import monkey

    monkey.patch_all()

    from relay_server.server import serve

    overrides = {
        "data_dir": args.data_dir,
        "database_url": args.database_url,
        "keepalive": args.keepalive,
        "demo_scale": args.demo_scale,
        "demo_catalog": False if args.no_demo_catalog else None,
        "mirror_allow_private": True if args.allow_private_mirror else None,
        "processes": args.processes,
    }
    try:
        import os

        http_server = args.http_server or os.environ.get("APPBEAM_HTTP_SERVER") or "lean"
        return serve(
            args.host,
            args.port,
            overrides,
            certfile=args.certfile,
            keyfile=args.keyfile,
            ready_file=args.ready_file,
            http_server=http_server,
        )
    except OSError as exc:
        # Storage that cannot be written at start-up: say which folder and what to do, no traceback.
        from relay_server.storage_health import storage_problem

        if storage_problem(exc) is None or not exc.filename:
            raise
        reason = "the disk is full" if storage_problem(exc) == "full" else exc.strerror
        print(
            f"appbeam relay: {exc.filename} cannot be written ({reason}). Free some space or give "
            f"--data-dir a folder this user can write, then start the relay again.",
            file=sys.stderr,
        )
        return 2
