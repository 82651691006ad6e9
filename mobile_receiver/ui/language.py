"""The language as the ``.kv`` rules see it: ``tr._('Refresh')`` is re-evaluated when it changes.

Kivy binds a rule to the objects its expression reads; ``tr`` is a Kivy ``Observable`` whose
``_`` attribute is bound like a property, so ``set_language`` (``mobile_receiver.i18n``) makes
every rule that reads ``tr._`` or ``tr.ngettext`` run again: the screens change language without
a restart. Python code calls ``mobile_receiver.i18n._`` directly and redraws through
``ReceiverApp.language_changed``.

This module also registers a font with Chinese glyphs (``i18n/fonts.py``) and gives every
Label and TextInput the font its text needs (``font_for``): Kivy's Roboto has no Chinese glyphs,
and app or device names may be Chinese whatever the language. Text without CJK keeps Roboto
(and its bold), so the English screens look as they always did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.event import Observable
from kivy.lang import Builder, global_idmap

from mobile_receiver import i18n
from mobile_receiver.i18n.fonts import cjk_font

log = logging.getLogger(__name__)


#: The name Kivy knows the CJK font by (``LabelBase.register``).
CJK = "AppbeamCJK"
#: From the CJK Radicals block on: Chinese, Japanese, Korean, full-width forms.
_FIRST_CJK = 0x2E80


def register_cjk_font() -> str | None:
    """Register the font with Chinese glyphs as ``CJK``; returns its file, or None when this
    machine has none (then Chinese shows as boxes: the log says what to install)."""
    path = cjk_font()
    if path is None:
        log.warning(
            "no font with Chinese glyphs found: install fonts-wqy-microhei or set APPBEAM_CJK_FONT; "
            "Chinese text will show as boxes"
        )
        return None
    LabelBase.register(CJK, str(path))
    return str(path)


def font_for(text: str | None) -> str:
    """The font for ``text``: the CJK one when it has a CJK character (and there is one), else Kivy's."""
    if CJK_FONT and text and any(ord(c) >= _FIRST_CJK for c in text):
        return CJK
    return str(DEFAULT_FONT)


#: A rule bound to ``tr``: Kivy's callback, and the arguments it is called with.
Observer = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class KvTranslator(Observable):  # type: ignore[misc]  # Kivy has no type stubs: its classes are Any
    """``tr._(text)``, ``tr.ngettext(one, many, n)`` and ``tr.lang`` for the ``.kv`` rules."""

    def __init__(self) -> None:
        super().__init__()
        self._observers: list[Observer] = []
        i18n.on_language(self._changed)

    @property
    def lang(self) -> str:
        return i18n.language()

    def _(self, text: str) -> str:
        return i18n._(text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return i18n.ngettext(singular, plural, n)

    def fbind(self, name: str, func: Callable[..., Any], *largs: Any, **kwargs: Any) -> Any:
        if name in ("_", "ngettext", "lang"):
            self._observers.append((func, largs, kwargs))
            if len(self._observers) % 256 == 0:  # rows and dialogs come and go: forget the gone
                self._observers = [o for o in self._observers if _alive(o)]
            return len(self._observers)
        return super().fbind(name, func, *largs, **kwargs)

    def funbind(self, name: str, func: Callable[..., Any], *largs: Any, **kwargs: Any) -> None:
        if name in ("_", "ngettext", "lang"):
            self._observers = [o for o in self._observers if o != (func, largs, kwargs)]
            return
        super().funbind(name, func, *largs, **kwargs)

    def unbind_uid(self, name: str, uid: int) -> None:
        if name in ("_", "ngettext", "lang"):
            return  # rules of widgets that are gone: their callbacks hold weak references
        super().unbind_uid(name, uid)

    def _changed(self, lang: str) -> None:
        """Run every rule that read ``tr`` again (on the UI thread: Settings calls set_language)."""
        alive = []
        for observer in self._observers:
            func, largs, _kwargs = observer
            try:
                func(*largs, None, None)
            except ReferenceError:  # the rule's widget is gone (a card or row rebuilt since)
                continue
            alive.append(observer)
        self._observers = alive


def _alive(observer: Observer) -> bool:
    """Whether the widget of a rule bound to ``tr`` still exists (Kivy's rule handlers hold it
    by a weak proxy, which raises ReferenceError once it is gone)."""
    _func, largs, _kwargs = observer
    try:
        getattr(largs[0][0], "uid", None)
    except ReferenceError:
        return False
    except (IndexError, TypeError):
        pass
    return True


tr = KvTranslator()
CJK_FONT = register_cjk_font()

# Every Label (buttons, chips, titles) and every text field takes the font its text needs.
global_idmap["font_for"] = font_for  # (a rule cannot #:import from a module still importing)
Builder.load_string(
    """
<Label>:
    font_name: font_for(self.text)
<TextInput>:
    font_name: font_for(self.text or self.hint_text)
"""
)
