"""Why a push stopped, in words, and whether that is for good.

Every way a download, a verification or an install can go wrong ends here as a
:class:`Failure`: a sentence for the card and the sender (made by ``shared.explain`` or
written here, never an exception's text), and whether the cause is *permanent* (the push
ends Failed and waits for Retry) or *passing* (the download waits and tries again by itself,
and the card says what it waits for: the relay, the download server, a connection).

Permanent causes: the package is gone (404/410) or refused (401/403), it is not the package
that was sent (checksum after a fresh download, size), it is not a valid package, this
device cannot install its format, there is no room for it, the disk cannot be written, the
installer refused it. Everything else that happens on the way (refused or dropped
connections, timeouts, DNS, 408/425/429/5xx, the relay restarting) is passing.

The sentences written here are in the phone's language at the moment it happened
(``mobile_receiver.i18n``): the card keeps them, and the relay passes them on to the sender,
usually the same person. A sentence about a place is written whole for each kind of place (the
relay, a named server, an unknown one), never with a translated place glued in.
``shared.explain`` writes its own sentences in the same language (``shared.i18n``, which
``mobile_receiver.i18n.set_language`` keeps in step), with the place named here.
"""

from __future__ import annotations

from dataclasses import dataclass

from mobile_receiver.download import DownloadError, NotEnoughSpace, PackageChanged
from mobile_receiver.i18n import N_, _, language
from shared.explain import explain, host_of, relay_place
from shared.formatting import local_size
from shared.protocol import Situation
from shared.relay_errors import RelayError


@dataclass(frozen=True)
class Failure:
    """What went wrong, for a person, and what happens next."""

    sentence: str
    permanent: bool
    #: For a passing cause: what the download is waiting for (the card's state, the sender's label).
    situation: Situation | None = None
    #: Retry must fetch the package from byte zero (the bytes on disk are not to be trusted).
    fresh_download: bool = False


@dataclass(frozen=True)
class Where:
    """Where a download came from, and what the receiver knows about its connections."""

    url: str
    relay_url: str | None = None
    relay_connected: bool = True  # the relay's event stream is open right now
    network_connected: bool = True  # the platform says there is a network

    @property
    def on_relay(self) -> bool:
        return bool(self.relay_url) and host_of(self.url).lower() == host_of(self.relay_url).lower()

    @property
    def place(self) -> str:
        """ "the relay at relay.example" or "the server at f-droid.org", for explain()."""
        if self.on_relay:
            return relay_place(self.relay_url)
        host = host_of(self.url)
        # a place for shared.explain's sentences, in the language they are written in
        return _("the server at {host}").format(host=host) if host else _("the download server")

    def situation(self) -> Situation:
        """What a download from here waits for while it cannot go on."""
        if not self.network_connected:
            return Situation.NO_CONNECTION
        if self.on_relay:
            return Situation.WAITING_FOR_RELAY
        # the package's own server: if the relay cannot be reached either, it is the connection
        return Situation.WAITING_FOR_SERVER if self.relay_connected else Situation.NO_CONNECTION

    def say(self, on_relay: str, on_server: str, on_unknown: str, **values: object) -> str:
        """The sentence (marked with ``N_``) for this kind of place, translated, with ``{host}``
        filled in: one whole sentence per place, as a translator needs it."""
        if self.on_relay:
            template, host = on_relay, host_of(self.relay_url)
        else:
            host = host_of(self.url)
            template = on_server if host else on_unknown
        return _(template).format(host=host, **values)


def download_failure(error: DownloadError, where: Where) -> Failure:
    """A failed download (``mobile_receiver.download``) as a Failure."""
    place = where.place
    if isinstance(error, NotEnoughSpace):
        return Failure(
            _(
                "Not enough free space: this app needs {needed} and {free} is free. Free some space, then tap Retry."
            ).format(needed=local_size(error.needed, language()), free=local_size(error.free, language())),
            True,
        )
    if isinstance(error, PackageChanged):
        return Failure(
            where.say(
                N_(
                    "The package on the relay at {host} is not the one that was sent (its size is different). "
                    "Ask the sender to send it again."
                ),
                N_(
                    "The package on the server at {host} is not the one that was sent (its size is different). "
                    "Ask the sender to send it again."
                ),
                N_(
                    "The package on the download server is not the one that was sent (its size is different). "
                    "Ask the sender to send it again."
                ),
            ),
            True,
            fresh_download=True,
        )
    if error.transient:
        found = explain(error.cause, place=place) if error.cause is not None else None
        if found is not None and found.transient:
            text = found.text
        elif error.status is not None:
            text = where.say(
                N_("The relay at {host} asked to try again later (HTTP {status})."),
                N_("The server at {host} asked to try again later (HTTP {status})."),
                N_("The download server asked to try again later (HTTP {status})."),
                status=error.status,
            )
        elif error.cause is not None:
            text = where.say(
                N_("The connection to the relay at {host} was lost."),
                N_("The connection to the server at {host} was lost."),
                N_("The connection to the download server was lost."),
            )
        else:
            text = where.say(
                N_("The package on the relay at {host} keeps changing while it downloads."),
                N_("The package on the server at {host} keeps changing while it downloads."),
                N_("The package on the download server keeps changing while it downloads."),
            )
        return Failure(text, False, where.situation())
    if error.cause is not None:
        found = explain(error.cause, place=place)
        return Failure(found.text, True)
    return Failure(
        _(
            "The download stopped for a reason Appbeam does not know. The details are in the log. "
            "Tap Retry to try again."
        ),
        True,
    )


def package_gone_after_decline(where: Where) -> Failure:
    """Download again on a push cancelled here long ago: the relay let its copy of the package
    go (it keeps it only as long as it keeps a push waiting for its phone)."""
    return Failure(
        where.say(
            N_(
                "The relay at {host} no longer keeps this app's package: it lets it go some time after "
                "a push is cancelled. Ask the sender to send it again."
            ),
            N_(
                "The server at {host} no longer keeps this app's package: it lets it go some time after "
                "a push is cancelled. Ask the sender to send it again."
            ),
            N_(
                "The download server no longer keeps this app's package: it lets it go some time after "
                "a push is cancelled. Ask the sender to send it again."
            ),
        ),
        True,
    )


def relay_failure(error: RelayError, relay_url: str | None, *, network_connected: bool = True) -> Failure:
    """The relay could not say which package to fetch (download by app id)."""
    found = explain(error, place=relay_place(relay_url))
    if found.transient:
        situation = Situation.WAITING_FOR_RELAY if network_connected else Situation.NO_CONNECTION
        return Failure(found.text, False, situation)
    return Failure(found.text, True)


def no_package_for_device(platform_label: str) -> Failure:
    return Failure(_("This app has no package that {platform} can install.").format(platform=platform_label), True)


def checksum_mismatch() -> Failure:
    """The package downloaded from zero does not have the SHA-256 the push names."""
    return Failure(
        _(
            "The downloaded package is not the one that was sent: its SHA-256 checksum does not match, "
            "so it was not installed. Tap Retry to download it again, or ask the sender to send it "
            "again."
        ),
        True,
        fresh_download=True,
    )


def not_a_package(sentence: str) -> Failure:
    """The package check said the file is not what it claims to be (its own sentence)."""
    return Failure(sentence, True, fresh_download=True)


def wrong_format(fmt: str, platform_label: str) -> Failure:
    return Failure(
        _("This {platform} device cannot install .{format} packages.").format(platform=platform_label, format=fmt),
        True,
    )


def install_failed(sentence: str) -> Failure:
    """The platform's installer refused (its InstallError messages are sentences)."""
    return Failure(sentence, True)


def interrupted_install() -> Failure:
    return Failure(_("Installing was interrupted when Appbeam closed. Tap Retry to install it."), True)


def unexpected() -> Failure:
    return Failure(_("Something unexpected went wrong. The details are in the log. Tap Retry to try again."), True)
