"""Open a picture (a screenshot or a photo of the computer's QR code) on a desktop receiver."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from kivy.lang import Builder
from kivy.uix.modalview import ModalView

from mobile_receiver.ui import widgets  # noqa: F401

Builder.load_string("""
#:import theme mobile_receiver.ui.theme
#:import tr mobile_receiver.ui.language.tr
<ImageChooser>:
    size_hint: 0.94, 0.8
    background: ''
    background_color: 0, 0, 0, 0
    overlay_color: 0.05, 0.07, 0.12, 0.55
    BoxLayout:
        orientation: 'vertical'
        padding: dp(16)
        spacing: dp(10)
        canvas.before:
            Color:
                rgba: theme.SURFACE
            RoundedRectangle:
                pos: self.pos
                size: self.size
                radius: [dp(18)]
        Label:
            text: tr._('Open a picture of the QR code')
            font_size: sp(18)
            bold: True
            color: theme.TEXT
            size_hint_y: None
            height: dp(32)
        FileChooserListView:
            id: files
            path: root.start_dir
            filters: ['*.png', '*.jpg', '*.jpeg', '*.gif', '*.bmp', '*.webp', '*.PNG', '*.JPG']
            on_submit: root.choose(self.selection)
        BoxLayout:
            size_hint_y: None
            height: dp(44)
            spacing: dp(8)
            PillButton:
                text: tr._('Open')
                filled: True
                disabled: not files.selection
                on_release: root.choose(files.selection)
            PillButton:
                text: tr._('Cancel')
                tint: theme.NEUTRAL
                on_release: root.dismiss()
""")


class ImageChooser(ModalView):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """Calls ``on_chosen(path)`` with the picture the user picks."""

    def __init__(self, on_chosen: Callable[[str], None], start_dir: str | None = None, **kwargs: Any) -> None:
        self.start_dir = start_dir or os.path.expanduser("~")
        super().__init__(**kwargs)
        self.on_chosen = on_chosen

    def choose(self, selection: list[str]) -> None:
        if selection:
            self.dismiss()
            self.on_chosen(selection[0])
