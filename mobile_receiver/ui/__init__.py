"""The Kivy screens of the receiver. Import ``run_app`` from here: it configures Kivy first.

Kivy reads its environment and window configuration when first imported, so nothing in
this package imports Kivy at module level except the modules ``run_app`` loads after
``prepare_kivy``.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mobile_receiver.service import ReceiverService


def prepare_kivy(size: tuple[int, int] | None = (420, 860), *, quiet: bool | None = None) -> None:
    """Set Kivy's environment and window size; call before anything imports Kivy.

    Kivy's console log is off unless ``APPBEAM_KIVY_LOG=1`` (or ``quiet=False``).
    """
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our flags are argparse's, not Kivy's
    if quiet is None:
        quiet = os.environ.get("APPBEAM_KIVY_LOG") != "1"
    if quiet:
        os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
        # Kivy logs through Python logging too: keep its start-up chatter, and its complaints
        # about multitouch and clipboard tools a desktop emulator does not need, out of our log
        # (warnings and real errors, including tracebacks Kivy routes via stderr, still show).
        logging.getLogger("kivy").addFilter(_drop_harmless_kivy_noise)
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    root_level = logging.getLogger().level
    from kivy.config import Config

    logging.getLogger().setLevel(root_level)  # Kivy resets the root logger's level on import
    if quiet:
        Config.set("kivy", "log_level", "warning")
        logging.getLogger("kivy").setLevel(logging.WARNING)  # Kivy set it on import

    if size:  # None on a phone: the screen decides
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "1")


_HARMLESS = ("Input: MTDev", "Cutbuffer:", "Clipboard:")


def _drop_harmless_kivy_noise(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(_HARMLESS)


def run_app(
    service: ReceiverService,
    *,
    size: tuple[int, int] | None = (420, 860),
    screenshot: str | None = None,
    screenshot_delay: float = 3.0,
    quit_after: float | None = None,
    prefill: dict[str, str] | None = None,
) -> int:
    """Run the receiver window over ``service`` until it is closed."""
    prepare_kivy(size)
    from mobile_receiver.ui.app import ReceiverApp

    ReceiverApp(
        service,
        screenshot=screenshot,
        screenshot_delay=screenshot_delay,
        quit_after=quit_after,
        prefill=prefill,
    ).run()
    return 0
