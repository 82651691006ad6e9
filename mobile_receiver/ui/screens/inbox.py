"""The app-message page [0130, 0138]: one card per push, newest first, with live progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import ColorProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView

from mobile_receiver.cardview import card_view
from mobile_receiver.record import PROMPT_METERED, PushRecord
from mobile_receiver.ui import (
    theme,
    widgets,  # noqa: F401
)
from mobile_receiver.ui.card import PushCard
from mobile_receiver.ui.dialogs import MeteredDialog

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: How far (in dp) the list must be pulled down past its top to refresh.
PULL_TO_REFRESH = 70


class RefreshScrollView(ScrollView):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """A ScrollView that fires ``on_refresh`` when pulled down past its top and let go."""

    __events__ = ("on_refresh",)

    def on_touch_up(self, touch: Any) -> bool:
        pulled = self.effect_y is not None and abs(self.effect_y.overscroll) > dp(PULL_TO_REFRESH)
        at_top = self.scroll_y >= 1.0
        handled = bool(super().on_touch_up(touch))
        if pulled and at_top and self.collide_point(*touch.pos):
            self.dispatch("on_refresh")
        return handled

    def on_refresh(self) -> None:
        pass


class InboxScreen(Screen):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """The list of pushes; the app keeps it up to date from the service's threads."""

    app = ObjectProperty(None)
    connection_text = StringProperty("")
    connection_colour = ColorProperty(theme.GREY)
    device_text = StringProperty("")
    snackbar_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cards: dict[str, PushCard] = {}
        self.dialog: MeteredDialog | None = None
        self._snackbar_event: Any = None  # Kivy's ClockEvent while a snackbar shows

    # ------------------------------------------------------------------ list

    def refresh_all(self) -> None:
        """Rebuild the list from the inbox (new pushes, removed ones, order)."""
        records = self.app.service.inbox.records()
        box = self.ids.cards
        wanted = [r.push_id for r in records]
        for push_id in list(self.cards):
            if push_id not in wanted:
                box.remove_widget(self.cards.pop(push_id))
        box.clear_widgets()
        for rec in records:
            card = self.cards.get(rec.push_id)
            if card is None:
                card = self.cards[rec.push_id] = PushCard(on_action=self.app.on_card_action)
            card.show(card_view(rec))
            self._load_icon(card, rec)
            box.add_widget(card)
        self.ids.empty.opacity = 0 if records else 1
        self._ask_metered_if_needed()

    def relabel(self) -> None:
        """The language changed: every card, and an open mobile-data question, in the new one."""
        for card in self.cards.values():
            card.relabel()
        self.refresh_all()
        if self.dialog is not None:
            rec = self.app.service.inbox.get(self.dialog.push_id)
            if rec is not None:
                self.dialog.relabel(rec)

    def tick(self, *_: Any) -> None:
        """Once a second: what depends on the time ("5 min ago", "Retrying in 4 s") is redrawn."""
        inbox = self.app.service.inbox
        for push_id, card in list(self.cards.items()):
            rec = inbox.get(push_id)
            if rec is not None:
                card.show(card_view(rec))

    def refresh_one(self, push_id: str) -> None:
        rec = self.app.service.inbox.get(push_id)
        card = self.cards.get(push_id)
        if rec is None or card is None:
            self.refresh_all()
            return
        card.show(card_view(rec))
        self._ask_metered_if_needed()

    def _load_icon(self, card: PushCard, rec: PushRecord) -> None:
        if card.icon_source:
            return
        app_id = rec.app["id"]

        def ready(path: Path, card: PushCard = card) -> None:
            Clock.schedule_once(lambda dt: setattr(card, "icon_source", str(path)))

        path = self.app.icons.get(app_id, rec.app.get("icon_url"), ready)
        if path is not None:
            card.icon_source = str(path)

    # ------------------------------------------------------------------ metered question

    def _ask_metered_if_needed(self) -> None:
        if self.dialog is not None:
            return
        rec = next((r for r in self.app.service.inbox.records() if r.prompt == PROMPT_METERED), None)
        if rec is None:
            return
        self.dialog = MeteredDialog(rec, self._answered)
        self.dialog.open()

    def _answered(self, push_id: str, choice: str) -> None:
        self.dialog = None
        self.app.service.inbox.answer_metered(push_id, choice)
        Clock.schedule_once(lambda dt: self._ask_metered_if_needed())

    # ------------------------------------------------------------------ status

    def show_connection(self, text: str, state: str) -> None:
        self.connection_text = text
        self.connection_colour = {
            "connected": theme.GREEN,
            "reconnecting": theme.AMBER,
            "connecting": theme.AMBER,
            "signed_out": theme.RED,
        }.get(state, theme.GREY)

    def show_snackbar(self, text: str, seconds: float = 4.0) -> None:
        self.snackbar_text = text
        if self._snackbar_event is not None:
            self._snackbar_event.cancel()
        self._snackbar_event = Clock.schedule_once(lambda dt: setattr(self, "snackbar_text", ""), seconds)
