"""Small reusable widgets: pill buttons, a thin progress bar, a state chip, an app icon, a top bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.core.text import Label as CoreLabel
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.relativelayout import RelativeLayout
from kivy.uix.widget import Widget

from mobile_receiver.ui import (
    language,  # noqa: F401 - the font each label needs, before any rule is applied
    theme,
)

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class PillButton(ButtonBehavior, Label):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """A rounded button: ``filled`` for the main action, tinted otherwise."""

    tint = ColorProperty(theme.PRIMARY)
    filled = BooleanProperty(False)
    action = StringProperty("")


class ProgressLine(Widget):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """A thin rounded progress bar (``value`` 0..1)."""

    value = NumericProperty(0.0)
    tint = ColorProperty(theme.PRIMARY)


class StateChip(Label):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """The push state in words on a soft coloured background: as wide as its words, and never
    wider than ``max_width`` (it wraps onto a second line instead of running off the card)."""

    tint = ColorProperty(theme.PRIMARY)
    max_width = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fbind("text", self._fit)
        self.fbind("font_size", self._fit)
        self.fbind("max_width", self._fit)
        self.fbind("font_name", self._fit)
        self._fit()

    def _fit(self, *_: Any) -> None:
        pad = dp(20)
        # measured in the font the label draws with (the CJK one for Chinese: ui/language.py)
        measure = CoreLabel(font_size=self.font_size, bold=self.bold, font_name=self.font_name)
        natural = measure.get_extents(self.text or " ")[0] + pad
        width = min(natural, self.max_width) if self.max_width > pad else natural
        self.width = width
        self.text_size = (max(1, width - pad), None)


class AppIcon(RelativeLayout):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """An app's icon, or a coloured square with its initial while there is none."""

    source = StringProperty("")
    letter = StringProperty("?")
    tint = ColorProperty(theme.PLACEHOLDERS[0])


class ToggleSwitch(ButtonBehavior, Widget):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """An on/off switch in the style of today's phones; tap to flip ``active``."""

    active = BooleanProperty(False)

    def on_release(self) -> None:
        self.active = not self.active


class TopBar(BoxLayout):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """The coloured bar at the top of a screen."""

    title = StringProperty("")


class SectionTitle(Label):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """A small heading above a group of settings."""


class SettingRow(BoxLayout):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """A setting: a title, a hint under it, and a control on the right."""

    title = StringProperty("")
    hint = StringProperty("")
