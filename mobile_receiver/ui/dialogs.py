"""The metered-data question before a download starts on mobile data [0081-0082]."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.modalview import ModalView

from mobile_receiver.record import PushRecord
from mobile_receiver.ui import widgets  # noqa: F401
from shared.formatting import megabytes

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class MeteredDialog(ModalView):
    """Download now / Wait for Wi-Fi / Cancel, for one push."""

    push_id = StringProperty("")
    title = StringProperty("Use mobile data?")
    message = StringProperty("")

    def __init__(self, rec: PushRecord, on_answer: Callable[[str, str], None], **kwargs):
        super().__init__(**kwargs)
        self.push_id = rec.push_id
        self.on_answer = on_answer
        self.message = (
            f"You are not on Wi-Fi. Downloading {rec.app_name} now will use {megabytes(rec.size)} "
            "of mobile data, which may cost you money."
        )

    def answer(self, choice: str) -> None:
        """``now``, ``wait`` or ``cancel``."""
        self.dismiss()
        self.on_answer(self.push_id, choice)
