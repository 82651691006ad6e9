"""Two small questions Settings asks: "Remove ...?" (yes/no) and "A new name for ..." (a text field)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import ListProperty, StringProperty
from kivy.uix.modalview import ModalView

from mobile_receiver.i18n import _
from mobile_receiver.ui import (
    theme,
    widgets,  # noqa: F401
)

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class ConfirmDialog(ModalView):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """A question with one action button (red for a removal) and Cancel."""

    title = StringProperty("")
    message = StringProperty("")
    action = StringProperty("")
    tint = ListProperty(list(theme.RED))

    def __init__(self, title: str, message: str, action: str, on_yes: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title, self.message, self.action = title, message, action
        self.on_yes = on_yes

    def answer(self, yes: bool) -> None:
        self.dismiss()
        if yes:
            self.on_yes()


class RenameDialog(ModalView):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """A device's new name; Save is offered only for a name that is not empty."""

    title = StringProperty("")
    error = StringProperty("")

    def __init__(self, current: str, on_name: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = _("A new name for {device}").format(device=current)
        self.on_name = on_name
        self.ids.name.text = current

    def save(self) -> None:
        name = self.ids.name.text.strip()
        if not name:
            self.error = _("Give the device a name.")
            return
        if len(name) > 100:
            self.error = _("A name has at most 100 characters.")
            return
        self.dismiss()
        self.on_name(name)
