"""The metered-data question before a download starts on mobile data [0081-0082]."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.modalview import ModalView

from mobile_receiver.i18n import _, language
from mobile_receiver.record import PushRecord
from mobile_receiver.ui import widgets  # noqa: F401
from shared.formatting import local_megabytes

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class MeteredDialog(ModalView):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """Download now / Wait for Wi-Fi / Cancel, for one push."""

    push_id = StringProperty("")
    title = StringProperty("")
    message = StringProperty("")

    def __init__(self, rec: PushRecord, on_answer: Callable[[str, str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.push_id = rec.push_id
        self.on_answer = on_answer
        self.relabel(rec)

    def relabel(self, rec: PushRecord) -> None:
        """The question in the language spoken now (again after Settings changed it)."""
        self.title = _("Use mobile data?")
        size = local_megabytes(rec.size, language())
        if size is None:
            self.message = _(
                "You are not on Wi-Fi. Downloading {app} now will use mobile data (how much is not known), "
                "which may cost you money."
            ).format(app=rec.app_name)
        else:
            self.message = _(
                "You are not on Wi-Fi. Downloading {app} now will use {size} of mobile data, which may cost you money."
            ).format(app=rec.app_name, size=size.replace(" ", "\u00a0"))  # "12.6 MB" stays on one line

    def answer(self, choice: str) -> None:
        """``now``, ``wait`` or ``cancel``."""
        self.dismiss()
        self.on_answer(self.push_id, choice)
