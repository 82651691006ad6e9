"""A sentence kept for later: its English template and its values, said in the language of the moment.

A notice stored on a push ("Version 3.6 installed", "Not installed by itself: …") is read again
hours later, maybe after Settings switched the language. A finished sentence cannot be
translated any more (its values are glued in), so the push keeps a :class:`Said` beside it: the
English template (marked with ``N_`` where it is written), and named values, each a plain value
or a ``Said`` of its own (a reason inside a sentence). The card shows ``said.text()``, made
again in the language spoken then; ``english()`` is the same sentence in the catalog's source
language, for the log, the control socket and the relay.

Kivy-free; stored as JSON (``to_dict``/``from_dict``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mobile_receiver.i18n import _


@dataclass(frozen=True)
class Said:
    """An English template (a catalog key) and its named values."""

    template: str
    values: Mapping[str, str | int | Said] = field(default_factory=dict)

    def text(self) -> str:
        """The sentence in the language spoken now."""
        return self._fill(_)

    def english(self) -> str:
        """The sentence in English, the catalog's source language."""
        return self._fill(lambda message: message)

    def _fill(self, translate: Callable[[str], str]) -> str:
        values = {k: v._fill(translate) if isinstance(v, Said) else v for k, v in self.values.items()}
        return translate(self.template).format(**values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "values": {k: v.to_dict() if isinstance(v, Said) else v for k, v in self.values.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Said:
        values: dict[str, str | int | Said] = {}
        for key, value in dict(data.get("values") or {}).items():
            values[str(key)] = cls.from_dict(value) if isinstance(value, Mapping) else value
        return cls(str(data["template"]), values)


def say(template: str, **values: str | int | Said) -> Said:
    """``say(N_("{app} installed"), app=name)``: a sentence to keep (the template is marked by the caller)."""
    return Said(template, values)
