"""This account's devices as the phone's Settings lists them, and the sentences about removing one.

Kivy-free (tested without a window). The words follow the sender's People dialog
(``desktop_sender/people.py``) so both sides say the same thing: "Remove Anna's laptop? It is
signed out at once and gets no more apps until it signs in again." Every line is made in the
language spoken now (``mobile_receiver.i18n``): Settings makes its rows again on every visit and
after a language switch, and the first screen makes the removal sentence again when it shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mobile_receiver.i18n import _, language
from mobile_receiver.verify import platform_label
from shared.api_messages import Device
from shared.explain import host_of
from shared.formatting import local_when


@dataclass(frozen=True)
class DeviceLine:
    """One of the account's devices, as one row: name, what it is, and whether it is this phone."""

    device_id: str
    name: str
    hint: str
    this: bool


def own_devices(devices: Iterable[Device], this_device: Mapping[str, Any]) -> list[DeviceLine]:
    """The account's own devices (friends' are left out), this phone first, the others by name.
    The relay lists the caller's associated devices without the caller: ``this_device`` (id,
    name, model, platform, as the profile has them) is added."""
    this_device_id = str(this_device["id"])
    this_hint = (
        _("This phone"),
        str(this_device.get("model") or ""),
        platform_label(str(this_device.get("platform") or "")),
    )
    lines = [DeviceLine(this_device_id, str(this_device.get("name") or this_device_id), _hint(this_hint), True)]
    for device in devices:
        if device.id == this_device_id or device.relation != "self":
            continue
        where = _("Online") if device.online else _last_seen(device.last_seen)
        hint = _hint((where, device.model, platform_label(device.platform)))
        lines.append(DeviceLine(device.id, device.name or device.id, hint, False))
    return sorted(lines, key=lambda line: (not line.this, line.name.casefold()))


def _hint(parts: Iterable[str]) -> str:
    return " · ".join(x for x in parts if x)


def _last_seen(seen: str | None) -> str:
    when = local_when(seen, language(), just_now=_("just now")) if seen else ""
    return _("Offline, seen {when}").format(when=when) if when else _("Offline")


def remove_question(name: str, this: bool, username: str) -> str:
    """What Remove asks first."""
    if this:
        return _(
            "Remove this phone from {user}'s account? It is signed out at once and gets no more "
            "apps; you can pair it again or sign in later."
        ).format(user=username)
    return _("Remove {device}? It is signed out at once and gets no more apps until it signs in again.").format(
        device=name
    )


def removed_sentence(username: str, relay_url: str | None) -> str:
    """On the first screen, after the relay stopped accepting this phone's token: what happened and
    what to do. The relay does not say why; it is one of two things, and both are named."""
    host = host_of(relay_url)
    if username and host:
        template = _(
            "This phone was signed out of {user}'s account on the relay at {host}: it was removed from the "
            "account, or the password was changed. Pair again or sign in."
        )
    elif username:
        template = _(
            "This phone was signed out of {user}'s account on the relay: it was removed from the account, "
            "or the password was changed. Pair again or sign in."
        )
    elif host:
        template = _(
            "This phone was signed out of its account on the relay at {host}: it was removed from the "
            "account, or the password was changed. Pair again or sign in."
        )
    else:
        template = _(
            "This phone was signed out of its account on the relay: it was removed from the account, "
            "or the password was changed. Pair again or sign in."
        )
    return template.format(user=username, host=host)
