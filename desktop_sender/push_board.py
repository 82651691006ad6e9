"""The pushes this computer sent and where each stands, per device (no Qt).

Fed by ``RelayClient.pushes("sent")`` at start, by the answers to new pushes, and by
``push_update`` events from the event stream. Updates can arrive out of order (a replayed
event after a fresher list), so an update older than what is known is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from shared.messages import Push, PushUpdate, percent, read
from shared.protocol import (
    CANCELLABLE_STATES,
    FINAL_STATES,
    ProtocolError,
    PushMode,
    PushState,
    state_label,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushEntry:
    """One push to one device, as the Pushes panel shows it."""

    push_id: str
    app_id: str
    app_name: str
    app_version: str | None
    icon_url: str | None
    device_id: str
    device_name: str
    owner: str
    mode: PushMode
    requested_mode: PushMode
    state: PushState
    bytes_done: int | None = None
    bytes_total: int | None = None
    detail: str | None = None
    created_at: str = ""
    updated_at: str = ""
    #: The install information as pushed (what Resend sends again).
    app: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_push(cls, push: Push) -> PushEntry:
        """From a push as the relay answers it (``shared.messages.Push``)."""
        app = push.app
        return cls(
            push_id=push.id,
            app_id=app.id,
            app_name=app.name or app.id,
            app_version=app.version,
            icon_url=app.icon_url,
            device_id=push.device_id,
            device_name=push.device_name or push.device_id,
            owner=push.owner,
            mode=push.mode,
            requested_mode=push.requested_mode,
            state=push.state,
            bytes_done=push.bytes_done,
            bytes_total=push.bytes_total,
            detail=push.detail,
            created_at=push.created_at,
            updated_at=push.updated_at,
            app=app.to_dict(),
        )

    @property
    def percent(self) -> int | None:
        """Download progress in percent, when the device said how far it is."""
        return percent(self.bytes_done, self.bytes_total)

    @property
    def label(self) -> str:
        """The state in words (``Downloading 37%``, ``Failed: no space``)."""
        return state_label(self.state, self.percent, self.detail)

    @property
    def cancellable(self) -> bool:
        """True while the sender may still withdraw the push."""
        return self.state in CANCELLABLE_STATES

    @property
    def finished(self) -> bool:
        """True when the push has ended. A push its phone declined may still come back (the
        phone's Download again re-opens it): ``apply_update`` then moves it on like any other,
        and a row hidden by Clear finished shows again while it is downloading."""
        return self.state in FINAL_STATES

    @property
    def resendable(self) -> bool:
        """True when the app did not arrive and sending it again makes sense."""
        return self.state in RESENDABLE_STATES


#: Pushes that ended without the app arriving: the panel offers Resend.
RESENDABLE_STATES = frozenset({PushState.FAILED, PushState.DECLINED, PushState.CANCELLED, PushState.EXPIRED})


class PushBoard:
    """Pushes by id, newest first, with the rules for merging what the relay says.

    ``cleared_at`` (an ISO time, kept in the sender's settings) hides the pushes that had
    finished by then: "Clear finished" empties the list without touching the relay's history.
    """

    def __init__(self, cleared_at: str = "") -> None:
        self._entries: dict[str, PushEntry] = {}
        self.cleared_at = cleared_at

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, push_id: object) -> bool:
        return push_id in self._entries

    def get(self, push_id: str) -> PushEntry | None:
        """One push by id, or None."""
        return self._entries.get(push_id)

    def entries(self) -> list[PushEntry]:
        """Newest first (ISO timestamps sort as text), without the cleared ones."""
        shown = [e for e in self._entries.values() if not self._cleared(e)]
        return sorted(shown, key=lambda e: (e.created_at, e.push_id), reverse=True)

    def _cleared(self, entry: PushEntry) -> bool:
        return bool(self.cleared_at) and entry.finished and entry.updated_at <= self.cleared_at

    def clear_finished(self, now: str) -> None:
        """Hide every push that has finished by ``now`` (ISO time)."""
        self.cleared_at = now

    def add_pushes(self, pushes: Iterable[Push]) -> list[str]:
        """Add or refresh pushes from the relay (as the relay client reads them); returns the ids
        that changed."""
        changed = []
        for push in pushes:
            entry = PushEntry.from_push(push)
            known = self._entries.get(entry.push_id)
            if known is not None and known.updated_at and entry.updated_at and entry.updated_at < known.updated_at:
                continue
            if known != entry:
                self._entries[entry.push_id] = entry
                changed.append(entry.push_id)
        return changed

    def apply_update(self, update: Mapping[str, Any]) -> PushEntry | None:
        """Apply a ``push_update`` event; returns the changed entry, or None if unknown/stale."""
        try:
            event = read(update, PushUpdate)
        except ProtocolError:
            return None
        known = self._entries.get(event.push_id)
        if known is None:
            return None
        if event.updated_at and known.updated_at and event.updated_at < known.updated_at:
            return None
        entry = replace(
            known,
            state=event.state,
            bytes_done=event.bytes_done,
            bytes_total=event.bytes_total if event.bytes_total is not None else known.bytes_total,
            detail=event.detail,
            updated_at=event.updated_at or known.updated_at,
        )
        self._entries[event.push_id] = entry
        return entry
