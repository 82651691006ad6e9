"""``appbeam push``: send an app from a script, signed exactly as the sender window signs it.

    appbeam push org.videolan.vlc --to "Anna's Pixel"
    appbeam push https://f-droid.org/repo/org.fdroid.fdroid.apk --to pixel,tablet --wait
    appbeam push ./notes-3.0.apk --to "Anna's Pixel" --mode notify --json

What to send is an app id from the relay's store, a package address (http or https), or a
package file on this computer: the file is checked here, uploaded to the relay (skipped when
the relay already keeps it for this account) and the relay's copy is pushed, with the name and
version the package itself gives. It runs as this computer's sender profile (its relay, account,
token and signing key: ``appbeam sender`` signs in once), or signs in with ``--username``.
With ``--wait`` it follows the pushes on the relay's event stream and prints each state until
every target is done: exit 0 when all are installed, 1 when one failed or was refused, 3 on
``--timeout``. No Qt: it runs on a machine without a screen.
"""

from __future__ import annotations

import argparse
import json
import queue
import re
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.api_messages import Device
from shared.explain import explain, relay_place
from shared.formatting import human_size
from shared.messages import InstallInfo, Push, PushUpdate, read
from shared.protocol import (
    FINAL_STATES,
    ProtocolError,
    PushMode,
    PushState,
    format_from_filename,
    state_label,
)
from shared.relay_client import RelayClient
from shared.relay_errors import RelayError

if TYPE_CHECKING:
    from desktop_sender.profile import SenderProfile

#: Exit statuses.
OK, FAILED, USAGE, TIMED_OUT = 0, 1, 2, 3
_APP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,199}$")
_DONE_WELL = {PushState.INSTALLED, PushState.ALREADY_INSTALLED}


class PushProblem(Exception):
    """Something the person has to fix; ``str()`` is the sentence, ``status`` the exit status."""

    def __init__(self, message: str, status: int = FAILED):
        super().__init__(message)
        self.status = status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", metavar="FILE|URL|APP_ID", help="a package file, a package address, or an app id")
    parser.add_argument(
        "--to",
        required=True,
        metavar="DEVICE[,DEVICE]",
        help="device names or ids, comma-separated (as the picker lists them)",
    )
    parser.add_argument(
        "--mode",
        choices=[m.value for m in PushMode],
        default=PushMode.INSTALL_NOW.value,
        help="install_now (own devices install by themselves) or notify (default install_now)",
    )
    parser.add_argument("--wait", action="store_true", help="follow the pushes until installed (or failed)")
    parser.add_argument(
        "--timeout", type=seconds, default=900.0, help="seconds --wait waits at most, more than 0 (default 900)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of sentences")
    parser.add_argument("--profile", default="default", help="the sender profile to act as (default: default)")
    parser.add_argument("--data-dir", help="profile folder (default: the user data dir)")
    parser.add_argument("--relay-url", help="relay address (default: the profile's)")
    parser.add_argument("--username", help="sign in as this user first (with --password)")
    parser.add_argument("--password", help="password for --username")


def seconds(value: str) -> float:
    """``--timeout``: a number of seconds above 0; argparse refuses anything else, naming the flag."""
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds above 0 (e.g. 900)")
    return number


class _Printer:
    def __init__(self, as_json: bool):
        self.as_json = as_json

    def say(self, text: str, **data: Any) -> None:
        print(json.dumps({"message": text, **data}) if self.as_json else text, flush=True)


def run(args: argparse.Namespace) -> int:
    from desktop_sender.profile import SenderProfile

    out = _Printer(args.json)
    profile = SenderProfile(args.profile, args.data_dir, use_keyring=True)
    relay_url = (args.relay_url or profile.settings.relay_url or "").rstrip("/")
    try:
        if not relay_url:
            raise PushProblem(
                "This computer has no relay yet: sign in once with `appbeam sender`, or give "
                "--relay-url, --username and --password.",
                USAGE,
            )
        client = _signed_in_client(profile, relay_url, args.username, args.password)
        info = install_info_for(args.what, client)
        local = local_package(args.what)
        local_format = format_from_filename(local.name) if local is not None else None
        formats = (local_format,) if local_format else info.formats
        targets = _resolve_targets(client, formats, args.to)
        platforms = {d.id: d.platform for d in targets}
        if local is not None:
            out.say(f"Uploading {local.name} ({human_size(local.stat().st_size)}) to the relay…", uploading=str(local))
            pushes = client.push_file(local, info, args.mode, list(platforms), platforms=platforms)
        else:
            pushes = client.push(info, args.mode, list(platforms), platforms=platforms)
    except PushProblem as exc:
        out.say(str(exc), error=True)
        return exc.status
    except RelayError as exc:
        out.say(explain(exc, place=relay_place(relay_url)).text, error=True, code=exc.code)
        return FAILED
    names = {d.id: d.name for d in targets}
    for push in pushes:
        out.say(
            f"{names[push.device_id]}: {state_label(push.state, None, push.detail)}",
            push_id=push.id,
            device=push.device_id,
            state=str(push.state),
        )
    if not args.wait:
        return OK
    return _wait(client, pushes, names, out, args.timeout)


def _signed_in_client(
    profile: SenderProfile, relay_url: str, username: str | None, password: str | None
) -> RelayClient:
    """A client for the profile's device, signed in (with the profile's token, or the password given)."""
    client = RelayClient(relay_url, None, key=profile.signing_key)
    same_relay = relay_url == profile.settings.relay_url.rstrip("/")
    if username:
        if not password:
            raise PushProblem("Give --password with --username.", USAGE)
        session = client.login(username, password, profile.device_info())
        profile.settings.relay_url, profile.settings.username = relay_url, username
        profile.save()
        profile.tokens.save(session.token)
        return client
    token = profile.tokens.load() if same_relay else None
    if not token:
        raise PushProblem(
            "This computer is not signed in to that relay: run `appbeam sender` once, or give "
            "--username and --password.",
            USAGE,
        )
    client.token = token
    return client


def local_package(what: str) -> Path | None:
    """The package file on this computer that ``what`` names, if it names one."""
    path = Path(what).expanduser()
    return path.resolve() if path.is_file() else None


def install_info_for(what: str, client: RelayClient) -> InstallInfo:
    """What to push: a local package file (checked; its id, name and version read from it, and
    its one package the file's format, uploaded by ``RelayClient.push_file``), a package
    address, or an app id from the relay's store."""
    from desktop_sender.install_info import (
        PackageLink,
        info_from_link,
        local_package_problem,
    )

    path = local_package(what)
    if path is not None:
        fmt = format_from_filename(path.name)
        if fmt is None:
            raise PushProblem(f"{path.name} is not an app package Appbeam knows (apk, ipa, deb, …).")
        link = PackageLink(url=path.as_uri(), file_name=path.name)
        problem = local_package_problem(link)
        if problem:
            raise PushProblem(problem)
        info = info_from_link(link)
        # Its package is the relay's copy, added by RelayClient.push_file once uploaded.
        return InstallInfo(
            id=info.id, name=info.name, version=info.version, version_code=info.version_code, size=info.size
        )
    if what.startswith(("http://", "https://")):
        return info_from_link(PackageLink(url=what, file_name=what.rsplit("/", 1)[-1].split("?")[0]))
    if _APP_ID.fullmatch(what):
        return InstallInfo(id=what)
    raise PushProblem(f"{what!r} is neither a package file here, nor an http(s) address, nor an app id.", USAGE)


def _resolve_targets(client: RelayClient, formats: Iterable[str], wanted: str) -> list[Device]:
    devices = client.devices(formats)
    chosen = []
    for name in (part.strip() for part in wanted.split(",") if part.strip()):
        match = [d for d in devices if d.id == name or d.name.casefold() == name.casefold()]
        if not match:
            known = ", ".join(f'"{d.name}"' for d in devices) or "none"
            raise PushProblem(f'No device called "{name}" here. Your devices and friends\' devices: {known}.', USAGE)
        device = match[0]
        if not device.compatible:
            raise PushProblem(f"{device.name} can't install it: {device.reason}.")
        chosen.append(device)
    if not chosen:
        raise PushProblem("Name at least one device with --to.", USAGE)
    return chosen


def _wait(client: RelayClient, pushes: Iterable[Push], names: dict[str, str], out: _Printer, timeout: float) -> int:
    """Follow the pushes' updates on the relay's stream until each ended (or ``timeout``)."""
    waiting = {p.id: PushState(p.state) for p in pushes}
    shown: dict[str, _Shown] = {}
    deadline = time.monotonic() + timeout
    updates: queue.Queue[Any] = queue.Queue()
    stream = client.stream()

    def read_stream() -> None:
        for event in stream:
            if event.event == "push_update":
                updates.put(event.data)

    reader = threading.Thread(target=read_stream, name="push-wait", daemon=True)
    reader.start()
    try:
        # What changed before the stream connected is read from the pushes themselves.
        for push_id in list(waiting):
            push = client.get_push(push_id)
            _note(
                waiting,
                shown,
                PushUpdate(push.id, push.device_id, push.state, push.bytes_done, push.bytes_total, push.detail),
                names,
                out,
            )
        while not all(state in FINAL_STATES for state in waiting.values()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                out.say(f"Still not done after {timeout:g} s.", timed_out=True)
                return TIMED_OUT
            try:
                update = updates.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                continue
            try:
                event = read(update, PushUpdate)
            except ProtocolError:
                continue  # not one this command can read; the push's end still comes
            if event.push_id in waiting:
                _note(waiting, shown, event, names, out)
    finally:
        stream.close()
    return OK if all(state in _DONE_WELL for state in waiting.values()) else FAILED


#: What was last printed of a push: its state, its tenth of the download, its detail.
_Shown = tuple[PushState, int | None, str | None]


def _note(
    waiting: dict[str, PushState], shown: dict[str, _Shown], update: PushUpdate, names: dict[str, str], out: _Printer
) -> None:
    """Print a push's new state (downloads in steps of ten per cent, not every report)."""
    push_id, state, percent = update.push_id, PushState(update.state), update.percent
    waiting[push_id] = state
    key = (state, percent // 10 if percent is not None else None, update.detail)
    if shown.get(push_id) == key:
        return
    shown[push_id] = key
    device = update.device_id
    out.say(
        f"{names.get(device, device)}: {state_label(state, percent, update.detail)}",
        push_id=push_id,
        device=device,
        state=str(state),
    )


if __name__ == "__main__":  # pragma: no cover - ``appbeam push`` is the way in
    parser = argparse.ArgumentParser(prog="appbeam push")
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
