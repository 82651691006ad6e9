"""One push on the app-message page: icon, name, version, size, sender, state, progress, controls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from mobile_receiver.cardview import CANCEL, DETAILS, DISMISS, REMOVE, CardView, button_text
from mobile_receiver.i18n import _
from mobile_receiver.ui import (
    theme,
    widgets,  # noqa: F401 - loads the rules the card uses
)
from mobile_receiver.ui.widgets import PillButton
from shared.protocol import PushState

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class PushCard(BoxLayout):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """Draws a CardView; its buttons call ``on_action(action, push_id)``."""

    push_id = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    origin = StringProperty("")
    state_text = StringProperty("")
    state_colour = ColorProperty(theme.PRIMARY)
    show_progress = BooleanProperty(False)
    progress = NumericProperty(0.0)
    progress_text = StringProperty("")
    notice = StringProperty("")
    icon_source = StringProperty("")
    icon_letter = StringProperty("?")
    icon_tint = ColorProperty(theme.PLACEHOLDERS[0])
    details = StringProperty("")
    details_open = BooleanProperty(False)

    def __init__(self, on_action: Callable[[str, str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_action = on_action
        self._layout_key: tuple[str, bool, tuple[str, ...], bool] | None = None
        # ids are weak: keep the parts that come and go alive while they are out of the card
        self._parts = {
            name: self.ids[name].__self__ for name in ("progress_line", "progress_label", "notice_label", "actions")
        }

    def show(self, view: CardView) -> None:
        """Update the card; the buttons are rebuilt only when the state changes."""
        self.push_id = view.push_id
        self.title = view.title
        self.subtitle = view.subtitle
        self.origin = view.origin
        self.state_text = view.state_text
        colour = theme.STATE_COLOURS.get(PushState(view.state), theme.PRIMARY)
        self.state_colour = theme.AMBER if view.waiting else colour  # held up by something passing
        self.show_progress = view.show_progress
        self.progress = view.progress
        self.progress_text = view.progress_text
        self.details = view.details
        self._view_notice = view.notice
        self._show_notice()
        self.icon_letter = (view.title[:1] or "?").upper()
        self.icon_tint = theme.placeholder_colour(view.app_id)
        if view.layout_key != self._layout_key:
            self._layout_key = view.layout_key
            self._relayout(view)
            self._build_actions(view.actions)

    def _show_notice(self) -> None:
        notice = getattr(self, "_view_notice", self.notice)
        self.notice = f"{notice}\n{self.details}" if self.details_open and self.details else notice

    def toggle_details(self) -> None:
        """The Details button: show or hide the fingerprint under the notice's one line."""
        self.details_open = not self.details_open
        self._show_notice()
        button = self.button(DETAILS)
        if button is not None:
            button.text = _("Hide details") if self.details_open else button_text(DETAILS)

    def relabel(self) -> None:
        """The language changed: the buttons are made again in it at the next ``show``."""
        self._layout_key = None

    def _relayout(self, view: CardView) -> None:
        """Only the parts this state needs are in the card (hidden ones would still take room)."""
        parts = self._parts
        optional = [
            (parts["progress_line"], view.show_progress),
            (parts["progress_label"], view.show_progress and view.state not in ("verifying", "installing")),
            (parts["notice_label"], bool(view.notice)),
            (parts["actions"], bool(view.actions)),
        ]
        for widget, _wanted in optional:
            if widget.parent is self:
                self.remove_widget(widget)
        for widget, wanted in optional:
            if wanted:
                self.add_widget(widget, index=0)  # index 0 = last in a vertical BoxLayout

    def _build_actions(self, actions: tuple[str, ...]) -> None:
        box = self._parts["actions"]
        box.clear_widgets()
        for i, action in enumerate(actions):
            quiet = action in (CANCEL, DISMISS, REMOVE, DETAILS)
            button = PillButton(
                text=button_text(action),
                action=action,
                filled=i == 0 and not quiet,
                tint=theme.RED if action == CANCEL else (theme.NEUTRAL if quiet else theme.PRIMARY),
            )
            if action == DETAILS:
                button.text = _("Hide details") if self.details_open else button_text(DETAILS)
                button.bind(on_release=lambda b: self.toggle_details())
            else:
                button.bind(on_release=lambda b: self.on_action(b.action, self.push_id))
            box.add_widget(button)

    def button(self, action: str) -> PillButton | None:
        """The button for ``action`` (tests tap it)."""
        return next((b for b in self._parts["actions"].children if b.action == action), None)
