"""Which devices may make this phone install silently: its account's device keys, pinned here.

"Install now" runs only for a push signed by a key this phone trusts, over exactly the
package it was given (``shared/signing.py``). The keys come from the relay's device list,
but the relay does not decide which are trusted:

- at the first login to an account on this phone (the user just typed the password) every
  key the account's devices have then is pinned as trusted; logging in again to the same
  account (after a logout or a password change) pins nothing new: a key the relay swapped in
  the meantime is a changed key like any other;
- a key seen later (a new device, or a device whose key changed) is announced to the user
  and is *not* trusted until they tap Trust in Settings, after comparing fingerprints;
- a device that leaves the account leaves the key ring.

So a compromised relay, or someone editing its database, can add devices and keys but can
not make this phone install anything silently: such pushes become notices that say why.
Kept in ``trusted_keys.json`` in the receiver's data dir, written atomically.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mobile_receiver.i18n import N_
from mobile_receiver.said import Said, say
from mobile_receiver.storage import read_json, write_json_atomic
from shared.api_messages import Device, PairedBy
from shared.messages import PushSignature
from shared.protocol import ProtocolError, parse_timestamp
from shared.signing import MAX_AGE, MAX_SKEW, facts_for, fingerprint, verify

log = logging.getLogger(__name__)

TRUST_FILE = "trusted_keys.json"
#: Platforms of devices that receive apps and never send them (``shared.protocol`` platforms).
RECEIVING_PLATFORMS = frozenset({"android", "ios", "symbian", "windows_phone"})


@dataclass
class KnownKey:
    """One device of this account and the key it signs with."""

    device_id: str
    name: str
    public_key: str
    trusted: bool
    first_seen: str
    changed: bool = False  # the device had another key before
    platform: str = ""  # as the relay lists the device ("" for keys pinned before it was kept)
    sent: bool = False  # a push from this device has reached this phone

    @property
    def can_send(self) -> bool:
        """Whether this device is one that sends apps: a computer or a browser, or any device
        that has sent a push here. Phones and tablets only receive, so they are no senders to trust."""
        return self.sent or self.platform not in RECEIVING_PLATFORMS

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def describe(self) -> str:
        what = "changed its key" if self.changed else "is new"
        return f"{self.name} {what} (fingerprint {self.fingerprint})"


def _own_keys(devices: Iterable[Device]) -> dict[str, Device]:
    """Devices of this account that registered a key, by id (friends' devices never count)."""
    return {d.id: d for d in devices if d.relation == "self" and d.public_key}


class Refusal(str):
    """A reason a push may not install by itself, with more for a details toggle. The text is
    English (the log, the sender's detail); ``said`` and ``details_said`` keep the templates, so
    the card says them in the language spoken when it is shown."""

    details: str = ""
    said: Said | None = None
    details_said: Said | None = None

    def __new__(cls, text: str, details: str = "") -> "Refusal":
        made = super().__new__(cls, text)
        made.details = details
        return made

    @classmethod
    def of(cls, said: Said, details: Said | None = None) -> "Refusal":
        made = cls(said.english(), details.english() if details else "")
        made.said, made.details_said = said, details
        return made


def refuse(template: str, **values: str | int | Said) -> Refusal:
    """A reason written here (the template marked with ``N_`` by the caller)."""
    return Refusal.of(say(template, **values))


def untrusted_sender(key: KnownKey, own_name: str | None) -> Refusal:
    """``Alex's desktop is new: open Appbeam on Anna's Pixel and tap Trust next to 'Alex's desktop'
    in Settings``, and the fingerprint to compare as details. One whole sentence per case."""
    if own_name:
        template = (
            N_("{device} changed its key: open Appbeam on {phone} and tap Trust next to '{device}' in Settings")
            if key.changed
            else N_("{device} is new: open Appbeam on {phone} and tap Trust next to '{device}' in Settings")
        )
        said = say(template, device=key.name, phone=own_name)
    else:
        template = (
            N_("{device} changed its key: open Appbeam on this phone and tap Trust next to '{device}' in Settings")
            if key.changed
            else N_("{device} is new: open Appbeam on this phone and tap Trust next to '{device}' in Settings")
        )
        said = say(template, device=key.name)
    details = say(
        N_("Before you tap Trust, check that {device} shows the fingerprint {fingerprint}."),
        device=key.name,
        fingerprint=key.fingerprint,
    )
    return Refusal.of(said, details)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class KeyRing:
    """The pinned keys of one receiver profile. Thread-safe."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / TRUST_FILE
        self._lock = threading.Lock()
        data = read_json(self.path, {}) or {}
        self._initialized = bool(data.get("initialized"))
        self._account = data.get("account")
        self._keys: dict[str, KnownKey] = {}
        for entry in data.get("keys", []):
            try:
                key = KnownKey(**entry)
            except TypeError:
                continue
            self._keys[key.device_id] = key

    # ------------------------------------------------------------------ reading

    def keys(self) -> list[KnownKey]:
        """Every known key: trusted first, then by name."""
        with self._lock:
            return sorted(self._keys.values(), key=lambda k: (not k.trusted, k.name.lower()))

    def get(self, device_id: str) -> KnownKey | None:
        with self._lock:
            return self._keys.get(device_id)

    @property
    def initialized(self) -> bool:
        return self._initialized

    # ------------------------------------------------------------------ changes

    def pin_account(self, devices: Iterable[Device], account: str | None = None) -> list[KnownKey]:
        """At login to ``account`` (``user@relay``): on the first login to it, trust every key its
        devices have now; on a later login, only announce what is new (returned)."""
        devices = list(devices)
        if self._initialized and account is not None and account == self._account:
            return self.observe(devices)
        with self._lock:
            self._keys.clear()
            self._account = account
            current = _own_keys(devices)
            for device_id, device in current.items():
                self._keys[device_id] = KnownKey(
                    device_id,
                    device.name or device_id,
                    device.public_key or "",  # _own_keys has only devices with one
                    trusted=True,
                    first_seen=_now(),
                    platform=device.platform,
                )
            self._initialized = True
            self._save()
        return []

    def observe(self, devices: Iterable[Device], account: str | None = None) -> list[KnownKey]:
        """The account's devices as the relay lists them now; returns keys to announce.

        A ring never pinned (a profile from before signed pushes, or a login that could not
        read the keys) pins what it sees first, as ``account``'s.
        """
        devices = list(devices)
        if not self._initialized:
            return self.pin_account(devices, account or self._account)
        announce = []
        with self._lock:
            current = _own_keys(devices)
            for device_id, device in current.items():
                known = self._keys.get(device_id)
                name = device.name or device_id
                if known is not None and known.public_key == device.public_key:
                    known.name, known.platform = name, device.platform or known.platform
                    continue
                key = KnownKey(
                    device_id,
                    name,
                    device.public_key or "",  # _own_keys has only devices with one
                    trusted=False,
                    first_seen=_now(),
                    changed=known is not None,
                    platform=device.platform,
                    sent=known.sent if known is not None else False,
                )
                self._keys[device_id] = key
                if key.can_send:  # a new phone is no news: it will never send anything
                    announce.append(key)
            for gone in set(self._keys) - set(current):
                del self._keys[gone]
            self._save()
        return announce

    def pin_pairing(self, devices: Iterable[Device], account: str, paired_by: PairedBy) -> list[KnownKey]:
        """After this phone was paired by a code that the device ``paired_by`` made (from the
        claim's answer): the account's keys as at a login, and ``paired_by``'s key trusted at
        once, as the answer gave it (the user read the code off that device's screen). Returns
        keys to announce."""
        devices = list(devices)
        announced = self.pin_account(devices, account)
        device_id, public_key = paired_by.device_id, paired_by.public_key
        if not public_key:
            return announced
        listed = {d.id: d for d in devices}.get(device_id)
        with self._lock:
            known = self._keys.get(device_id)
            name = paired_by.name or (known.name if known else None) or (listed.name if listed else None) or device_id
            self._keys[device_id] = KnownKey(
                device_id,
                name,
                public_key,
                trusted=True,
                first_seen=_now(),
                platform=(listed.platform if listed else "") or (known.platform if known else ""),
            )
            self._save()
        return [k for k in announced if k.device_id != device_id]

    def senders(self) -> list[KnownKey]:
        """The keys Settings lists under the devices that can install apps here: those of devices
        that send (computers, browsers, or any device that has sent a push here)."""
        return [k for k in self.keys() if k.can_send]

    def saw_push_from(self, device_id: str) -> None:
        """A push from ``device_id`` arrived: it is a sender, whatever its platform."""
        with self._lock:
            key = self._keys.get(device_id)
            if key is None or key.sent:
                return
            key.sent = True
            self._save()

    def trust(self, device_id: str) -> KnownKey:
        """The user compared the fingerprint and trusts this key."""
        with self._lock:
            key = self._keys[device_id]
            key.trusted, key.changed = True, False
            self._save()
            return key

    def distrust(self, device_id: str) -> KnownKey:
        with self._lock:
            key = self._keys[device_id]
            key.trusted = False
            self._save()
            return key

    def _save(self) -> None:
        write_json_atomic(
            self.path,
            {
                "initialized": self._initialized,
                "account": self._account,
                "keys": [asdict(k) for k in self._keys.values()],
            },
        )

    # ------------------------------------------------------------------ the decision

    def refusal(
        self, push: Mapping[str, Any], own_device_id: str, now: datetime | None = None, own_name: str | None = None
    ) -> Refusal | None:
        """Why this ``push`` message may *not* install silently here, or None if it may.

        For a sender this phone does not trust yet the reason is a :class:`Refusal`: one line
        that names the device to open (``own_name``, this phone) and what to tap there, with
        the fingerprint in ``details``.

        Checked: a signature is there, made by a trusted key of the sending device, over this
        push id, *this* device, install_now, the app id, version, format and the package's
        SHA-256, recently enough.
        """
        raw = push.get("signature")
        if not raw:
            return refuse(N_("the push is not signed"))
        try:
            signature = PushSignature.from_dict(raw)
        except ProtocolError as exc:
            log.warning("push %s: malformed signature: %s", push.get("push_id"), exc)
            return refuse(N_("its signature is malformed"))
        sender_id = (push.get("sender") or {}).get("device_id")
        key = self.get(sender_id) if isinstance(sender_id, str) else None
        if key is None:
            return refuse(N_("the sending device's key is unknown to this phone"))
        if not key.trusted:
            return untrusted_sender(key, own_name)
        package = push.get("package") or {}
        if not signature.sha256:
            return refuse(N_("the package's SHA-256 was not known when the push was signed"))
        if not package.get("sha256"):
            return refuse(N_("the push names no SHA-256 for its package, though the sender signed one"))
        if package["sha256"].lower() != signature.sha256:
            return refuse(N_("the package's SHA-256 differs from the one the sender signed"))
        if signature.push_id != push.get("push_id"):
            return refuse(N_("the signature belongs to another push"))
        app = push.get("app") or {}
        facts = facts_for(
            signature,
            device_id=own_device_id,
            mode="install_now",
            app_id=str(app.get("id")),
            version=app.get("version"),
            fmt=str(package.get("format")),
        )
        if not verify(key.public_key, facts, signature.value):
            return refuse(N_("the signature does not match this push (changed after it was signed)"))
        now = now or datetime.now(UTC)
        signed_at = parse_timestamp(signature.signed_at)
        if signed_at > now + MAX_SKEW:
            return refuse(N_("the signature is dated in the future"))
        if now - signed_at > MAX_AGE:
            return refuse(N_("the signature is older than {days} days"), days=MAX_AGE.days)
        return None
