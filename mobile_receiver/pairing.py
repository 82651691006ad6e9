"""Pairing this phone with a computer by a one-time code instead of a password (issue 14, item 1).

What the person gives us: the code typed (``ABCD-EFGH``, case, spaces and dashes ignored) with
the relay's address, or the QR code's text (``appbeam://pair?relay=...&code=...&fp=...``), or a
picture of the QR code (decoded with zxing-cpp, imported only when a picture is opened). Then
:func:`claim` joins the account as this device and returns what the relay said, with the
pairing computer's key (``paired_by``) for the key ring to trust at once.

Kivy-free: the screen, the service and the tests call it alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mobile_receiver.i18n import N_, _
from mobile_receiver.profile import KEY_FILE, Profile, ProfileStore
from shared import pairing as codes
from shared.api_messages import PairingClaimed
from shared.relay_client import RelayClient
from shared.relay_errors import RelayError
from shared.signing import DeviceKey, fingerprint


class PairingInputError(ValueError):
    """What was typed, pasted or opened is not a pairing code; the message is a sentence."""


@dataclass(frozen=True)
class PairingRequest:
    """A code and where to claim it."""

    relay_url: str
    code: str  # normalised: 8 characters, no dashes
    fingerprint: str | None = None  # the pairing computer's, when the QR code carried it


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


#: ``shared.pairing``'s refusals (English, lower case), as whole sentences for the catalog.
_REFUSALS = {
    "this is not an Appbeam pairing code": N_("This is not an Appbeam pairing code."),
    "this pairing code is incomplete": N_("This pairing code is incomplete."),
}


def _refusal(exc: ValueError) -> str:
    """Why ``shared.pairing`` refused what was typed or pasted, in the language spoken now."""
    if isinstance(exc, codes.BadCode):
        return _("A pairing code is {length} letters and digits, like ABCD-EFGH.").format(length=codes.CODE_LENGTH)
    template = _REFUSALS.get(str(exc))
    return _(template) if template else _sentence(str(exc))


def parse(text: str, relay_url: str = "") -> PairingRequest:
    """A typed code (with ``relay_url``) or a pasted QR payload, as a request to claim."""
    text = (text or "").strip()
    if not text:
        raise PairingInputError(_("Type the code your computer shows, or paste or open its QR code."))
    if text.lower().startswith(f"{codes.QR_SCHEME}:"):
        try:
            values = codes.parse_qr_payload(text)
        except ValueError as exc:
            raise PairingInputError(_refusal(exc)) from None
        return PairingRequest(values["relay"], codes.normalise(values["code"]), values.get("fp"))
    try:
        code = codes.normalise(text)
    except codes.BadCode as exc:
        raise PairingInputError(_refusal(exc)) from None
    relay_url = (relay_url or "").strip()
    if not relay_url:
        raise PairingInputError(_("Enter the relay address your computer uses, or scan its QR code instead."))
    if not relay_url.startswith(("http://", "https://")):
        relay_url = "http://" + relay_url
    return PairingRequest(relay_url.rstrip("/"), code)


def read_qr_image(path: str | Path) -> str:
    """The text of the QR code in the picture at ``path`` (a photo or a screenshot of it)."""
    import zxingcpp  # noqa: PLC0415 - only needed when someone opens a picture
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415

    try:
        with Image.open(path) as image:
            found = zxingcpp.read_barcodes(image.convert("RGB"))
    except (OSError, UnidentifiedImageError):
        raise PairingInputError(
            _("{file} is not a picture this phone can open.").format(file=Path(path).name)
        ) from None
    texts = [b.text for b in found if b.text]
    if not texts:
        raise PairingInputError(
            _("There is no QR code in {file} that this phone can read.").format(file=Path(path).name)
        )
    pairing = [t for t in texts if t.lower().startswith(f"{codes.QR_SCHEME}:")]
    return (pairing or texts)[0]


class FingerprintMismatch(PairingInputError):
    """The relay named a pairing computer whose key is not the one the QR code showed."""


def claim(store: ProfileStore, profile: Profile, request: PairingRequest) -> PairingClaimed:
    """Join the account of ``request``'s code as this device; saves the profile (logged in) and
    returns the relay's answer (``paired_by`` names the computer that made the code).

    Raises RelayError (used, expired, unknown code; relay away) or FingerprintMismatch.
    """
    client = RelayClient(request.relay_url)
    key = DeviceKey.load_or_create(store.path.parent / KEY_FILE)
    try:
        answer = client.claim_pairing(request.code, profile.device_info(), key=key)
    except RelayError as exc:
        if exc.code != "device_id_unavailable":
            raise
        # This phone's id belongs to another account it was used with: a new device here.
        profile.device_id = Profile().device_id
        answer = client.claim_pairing(request.code, profile.device_info(), key=key)
    paired_by = answer.paired_by
    if request.fingerprint and paired_by.public_key:
        seen = fingerprint(paired_by.public_key)
        if seen.replace(" ", "").lower() != request.fingerprint.replace(" ", "").lower():
            try:
                client.logout()  # the token came with a key we will not trust: give it back
            except RelayError:
                pass
            raise FingerprintMismatch(
                _(
                    "The relay named a computer whose key is not the one in the QR code ({seen} instead of "
                    "{expected}). Nothing was paired; make a new code on your computer."
                ).format(seen=seen, expected=request.fingerprint)
            )
    profile.relay_url = client.base_url.rstrip("/")
    profile.username = answer.account.username
    profile.token = client.token
    store.save(profile)
    return answer
