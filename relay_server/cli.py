"""``appbeam relay``: flags, and start-up on gevent's WSGI server.

Nothing heavy is imported at module level: ``appbeam --help`` builds every part's parser.
"""

from __future__ import annotations

import argparse
import errno
import math
import sys
from pathlib import Path


def tcp_port(text: str) -> int:
    """A TCP port: argparse refuses anything else with a sentence rather than a traceback at bind."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 65535, not {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535, not {port}")
    return port


def _scale(text: str) -> float:
    """A size factor: more than 0 (no demo package has a negative or zero size)."""
    try:
        scale = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number more than 0, not {text!r}") from None
    if not scale > 0 or not math.isfinite(scale):
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return scale


def _processes(text: str) -> int:
    """How many relay processes: at least the one."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, at least 1, not {text!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {count}")
    return count


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=tcp_port, default=8765, help="port to listen on (default 8765)")
    parser.add_argument("--data-dir", help="database and packages folder (default: the user data dir)")
    parser.add_argument("--database-url", help="peewee URL, e.g. postgresql://user:pw@host/db (default: SQLite)")
    parser.add_argument("--keepalive", type=float, help="seconds between stream keepalives (default 15)")
    parser.add_argument("--no-demo-catalog", action="store_true", help="do not seed the demo store")
    parser.add_argument("--demo-scale", type=_scale, help="size factor of generated demo packages (default 1.0)")
    parser.add_argument(
        "--allow-private-mirror",
        action="store_true",
        help="let the mirror fetch loopback/private addresses (off by default: SSRF)",
    )
    parser.add_argument("--certfile", help="TLS certificate (PEM) to serve HTTPS")
    parser.add_argument("--keyfile", help="TLS private key (PEM)")
    parser.add_argument(
        "--processes",
        type=_processes,
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

    from relay_server.db import DatabaseUnusable
    from relay_server.server import StartupRefused, serve
    from shared.paths import DataDirUnusable

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
    except (StartupRefused, DatabaseUnusable) as exc:  # the address, the certificate or the database
        return _refuse(str(exc))
    except DataDirUnusable as exc:  # the default data dir (APPBEAM_HOME or the platform's)
        return _refuse(exc.sentence)
    except OSError as exc:
        # Storage that cannot be made or written at start-up: say which folder and what to do.
        sentence = _storage_sentence(exc)
        if sentence is None:
            raise
        return _refuse(sentence)


def _refuse(sentence: str) -> int:
    """The relay does not start: one sentence on stderr, exit status 2 (as argparse's refusals)."""
    print(f"appbeam relay: {sentence}", file=sys.stderr)
    return 2


def _storage_sentence(exc: OSError) -> str | None:
    """What to do about a folder or file of the data dir that cannot be made or written;
    None for any other error (it is a bug, and its traceback is what a report needs)."""
    from relay_server.storage_health import storage_problem

    if not exc.filename:
        return None
    problem = storage_problem(exc)
    then = "then start the relay again."
    if problem == "full":
        return (
            f"{exc.filename} cannot be written: the disk is full. "
            f"Free some space or give --data-dir a folder on another disk, {then}"
        )
    if problem == "read_only":
        return (
            f"{exc.filename} cannot be written ({exc.strerror}). Give --data-dir a folder this user can write, {then}"
        )
    if exc.errno == errno.EEXIST or (exc.errno == errno.ENOTDIR and Path(exc.filename).is_file()):
        return f"{exc.filename} is a file, not a folder. Give --data-dir a folder, {then}"
    if exc.errno == errno.ENOTDIR:
        return (
            f"{exc.filename} cannot be made: part of that path is a file, not a folder. "
            f"Give --data-dir a folder this user can write, {then}"
        )
    if exc.errno == errno.ENOENT:
        return f"{exc.filename} cannot be made ({exc.strerror}). Give --data-dir a folder this user can write, {then}"
    return None
