"""``python -m desktop_sender``: the same as ``appbeam sender``, without the other parts' flags."""

from __future__ import annotations

import argparse
import logging
import sys

from desktop_sender import cli


def main(argv: list[str] | None = None) -> int:
    """Parse the sender's flags and run it."""
    parser = argparse.ArgumentParser(prog="appbeam-sender", description="Send apps from your browser to your phone.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    cli.add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return cli.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
