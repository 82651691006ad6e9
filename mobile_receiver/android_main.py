"""Entry point of the Android build (buildozer.spec ``entrypoint``): the receiver with a window."""

from __future__ import annotations

import sys

from shared.paths import data_dir


def main() -> int:
    from mobile_receiver.service import ReceiverService
    from mobile_receiver.ui import run_app

    service = ReceiverService(data_dir("receiver", "default"))
    return run_app(service, size=None)


if __name__ == "__main__":
    sys.exit(main())
