"""One received push as the receiver keeps it: the push message plus where it stands here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from mobile_receiver.said import Said
from shared.messages import InstallInfo, PackageRef, PushMessage
from shared.protocol import (
    FINAL_STATES,
    SITUATION_LABELS,
    PushState,
    Situation,
    state_label,
)

#: Questions a push can be waiting on the user for.
PROMPT_DOWNLOAD = "download"  # a notify push: Download or Dismiss [0141]
PROMPT_METERED = "metered"  # about to use mobile data: Download now / Wait for Wi-Fi / Cancel [0081]


def parse_push(data: Any) -> "PushRecord":
    """A new record from a ``push`` stream event; raise ProtocolError when it is malformed.

    The ``package`` may be missing: the app id is then resolved through the relay's
    catalog (download by app id [0074]) when the download starts.
    """
    message = PushMessage.from_dict(data)
    return PushRecord(
        push_id=message.push_id,
        mode=str(message.mode),
        sender=message.sender.to_dict(),
        app=message.app.to_dict(),
        package=message.package.to_dict() if message.package else None,
        created_at=message.created_at,
        received_at=_now(),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class PushRecord:
    """A push on this device. Persisted as JSON; ``speed``/``eta`` live only in memory."""

    push_id: str
    mode: str
    sender: dict[str, Any]
    app: dict[str, Any]
    package: dict[str, Any] | None
    created_at: str
    received_at: str
    state: str = str(PushState.DELIVERED)
    bytes_done: int = 0
    bytes_total: int | None = None
    detail: str | None = None
    prompt: str | None = None
    allow_metered: bool = False  # the user said "Download now" on mobile data
    notice: str | None = None  # one line for the user under the state (why it paused, ...)
    #: ``notice`` as a template and its values (``said.Said.to_dict``), when it was written here:
    #: the card says it again in the language spoken when it is shown.
    notice_said: dict[str, Any] | None = None
    #: Why an install_now push became a notice here (unsigned, untrusted key, ...): mobile_receiver/trust.py
    downgraded: str | None = None
    #: More about ``downgraded`` for the card's Details toggle (the fingerprint to compare).
    downgraded_details: str | None = None
    #: ``downgraded`` and ``downgraded_details`` as templates (``said.Said.to_dict``) when written here.
    downgraded_said: dict[str, Any] | None = None
    downgraded_details_said: dict[str, Any] | None = None
    #: What the push waits for though nobody paused it (a ``shared.protocol.Situation``); while it
    #: is set, the relay was told ``paused`` with it as the detail.
    situation: str | None = None
    #: Download again re-opened this push after its user cancelled or dismissed it: the relay may
    #: have let the package go since (a package missing then has its own sentence, failures.py).
    reopened: bool = False
    #: ... and the relay no longer had its package: declined for good, nothing to download again.
    package_gone: bool = False
    speed: float | None = field(default=None, compare=False)
    eta: float | None = field(default=None, compare=False)
    #: While a download waits to try again: what for (a Situation) and when (time.time()).
    waiting: str | None = field(default=None, compare=False)
    retry_at: float | None = field(default=None, compare=False)

    _TRANSIENT = ("speed", "eta", "waiting", "retry_at")

    # ------------------------------------------------------------------ storage

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in self._TRANSIENT:
            data.pop(key, None)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PushRecord":
        known = {f.name for f in fields(cls)} - set(cls._TRANSIENT)
        return cls(**{k: v for k, v in data.items() if k in known})

    def keep_notice(self, notice: str | Said | None) -> None:
        """The line under the state: a Said is kept with its template (shown in the language of
        the moment), a str as it is (a failure's sentence, already in the language it happened in)."""
        if isinstance(notice, Said):
            self.notice, self.notice_said = notice.english(), notice.to_dict()
        else:
            self.notice, self.notice_said = notice, None

    def notice_text(self) -> str | None:
        """``notice`` in the language spoken now where it was kept as a Said (and not replaced since)."""
        if self.notice_said and self.notice:
            said = Said.from_dict(self.notice_said)
            if said.english() == self.notice:
                return said.text()
        return self.notice

    def downgraded_reason(self) -> Said | str | None:
        """Why it was not installed by itself: kept as a template where it was written here."""
        if not self.downgraded:
            return None
        if self.downgraded_said:
            said = Said.from_dict(self.downgraded_said)
            if said.english() == self.downgraded:
                return said
        return self.downgraded

    def details_text(self) -> str:
        """``downgraded_details`` (the fingerprint to compare) in the language spoken now."""
        if self.downgraded_details_said and self.downgraded_details:
            said = Said.from_dict(self.downgraded_details_said)
            if said.english() == self.downgraded_details:
                return said.text()
        return self.downgraded_details or ""

    # ------------------------------------------------------------------ views

    @property
    def install_info(self) -> InstallInfo:
        return InstallInfo.from_dict(self.app)

    @property
    def package_ref(self) -> PackageRef | None:
        return PackageRef.from_dict(self.package) if self.package else None

    @property
    def push_state(self) -> PushState:
        return PushState(self.state)

    @property
    def is_final(self) -> bool:
        return self.push_state in FINAL_STATES

    @property
    def size(self) -> int | None:
        """The package size, from the best source that knows it."""
        if self.bytes_total:
            return self.bytes_total
        if self.package and self.package.get("size"):
            return int(self.package["size"])
        size = self.app.get("size")
        return int(size) if size is not None else None

    @property
    def percent(self) -> int | None:
        total = self.size
        if not total:
            return None
        return max(0, min(100, int(self.bytes_done * 100 / total)))

    @property
    def waiting_for(self) -> Situation | None:
        """What a download that cannot go on right now waits for (it retries by itself)."""
        if self.push_state is PushState.DOWNLOADING and self.waiting is not None and self.waiting in SITUATION_LABELS:
            return Situation(self.waiting)
        return None

    @property
    def label(self) -> str:
        """The state in a few words for the card's chip (``Downloading 42%``, ``Waiting for the relay``).

        Short on purpose: why a push failed or waits is a sentence in ``notice``, where it wraps.
        """
        if self.prompt == PROMPT_DOWNLOAD:
            return "Ready to download"
        if self.prompt == PROMPT_METERED:
            return "Uses mobile data"
        waiting = self.waiting_for
        if waiting is not None:
            return SITUATION_LABELS[waiting]
        if self.push_state is PushState.DELIVERED:
            return "Starting"
        return state_label(self.push_state, self.percent)

    @property
    def app_name(self) -> str:
        return str(self.app.get("name") or self.app["id"])
