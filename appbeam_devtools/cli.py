"""The ``appbeam`` command: one entry point, a subcommand per part.

Each part owns its flags (``add_arguments``) and its start-up (``run``); this module only
dispatches, importing a part when its subcommand is chosen so that ``appbeam relay`` on a
server never imports Qt or Kivy.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from shared import __version__

#: subcommand -> (module with add_arguments/run, help line)
PARTS = {
    "relay": ("relay_server.cli", "run the relay server (store, pushes, event streams)"),
    "sender": ("desktop_sender.cli", "run the desktop sender (browser with the device picker)"),
    "receiver": ("mobile_receiver.cli", "run the receiver (the phone app)"),
    "push": ("desktop_sender.push_cli", "send an app to your devices from a script (no window)"),
    "demo": ("appbeam_devtools.demo", "run the whole system: relay, three receivers and the sender"),
}


#: subcommand -> the pyproject extra that brings what it needs
EXTRAS = {"relay": "relay", "sender": "sender", "receiver": "receiver", "demo": "all", "push": "sender"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appbeam", description="Send apps from your browser to your phone.")
    parser.add_argument("--version", action="version", version=f"appbeam {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in PARTS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # that part is not installed here (e.g. a relay-only server)
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def _patch_early_for_the_relay(argv: list[str]) -> None:
    """The relay runs on gevent, which must patch the standard library (ssl above all) before
    anything imports it; building the parser imports every part's flags, and some of those
    import requests. So ``appbeam relay`` patches first (relay_server.cli patches again: a no-op)."""
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command == "relay":
        try:
            from gevent import monkey
        except ImportError:  # the relay extra is not installed: its run() says which to install
            return
        monkey.patch_all()


def main(argv: list[str] | None = None) -> int:
    _patch_early_for_the_relay(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    module = importlib.import_module(PARTS[args.command][0])
    try:
        return module.run(args) or 0
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get(args.command)
        if extra is None or (exc.name or "").split(".")[0] in (
            "appbeam_devtools",
            "shared",
            "relay_server",
            "desktop_sender",
            "mobile_receiver",
        ):
            raise
        print(
            f"appbeam {args.command} needs {exc.name}, which comes with the {extra!r} extra: "
            f"pip install 'appbeam[{extra}]'",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
