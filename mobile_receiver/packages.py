"""Which package a push's download fetches, and how to ask for it.

A push names one package; when its format is not one this device installs, another package
of the app is taken, or the relay's catalog is asked for one by app id (download by app id
[0074]). Asking the relay may have to wait for it: :func:`resolve_waiting` tries again with
the downloads' backoff for as long as the relay is only away. The relay's token goes only
to the relay (:func:`request_for`).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_never

from mobile_receiver.record import PushRecord
from mobile_receiver.retry import (
    DOWNLOAD_BACKOFF_CAP,
    DOWNLOAD_BACKOFF_INITIAL,
    backoff,
)
from shared.messages import PackageRef
from shared.protocol import (
    ProtocolError,
    choose_format,
    format_from_filename,
    formats_for,
)
from shared.relay_client import RelayClient
from shared.relay_errors import RelayError


def resolve(rec: PushRecord, device_platform: str, client: RelayClient | None) -> PackageRef:
    """The package this device should fetch: the push's, another of the app's, or the catalog's.

    Raises RelayError (the relay could not be asked, or has none) or ProtocolError (no format).
    """
    wanted = formats_for(device_platform)
    pkg = rec.package_ref
    if pkg and pkg.format in wanted:
        return pkg
    info = rec.install_info
    fmt = choose_format(device_platform, info.formats)
    found = info.package_for(fmt) if fmt else None
    if found is not None:
        return found
    if client is None:
        raise RelayError(None, "offline", "not logged in to a relay")
    url = client.package_url_for(info.id, device_platform)
    fmt = format_from_filename(url) or (wanted[0] if wanted else None)
    if fmt is None:
        raise ProtocolError("package", f"no package format for {device_platform}")
    return PackageRef(format=fmt, url=url, sha256=None, size=info.size)


def resolve_waiting(
    rec: PushRecord,
    device_platform: str,
    client: Callable[[], RelayClient | None],
    *,
    sleep: Callable[[float], None],
    on_wait: Callable[[RelayError, float], None],
    backoff_initial: float = DOWNLOAD_BACKOFF_INITIAL,
    backoff_max: float = DOWNLOAD_BACKOFF_CAP,
) -> PackageRef:
    """:func:`resolve`, trying again while the relay is only away (``on_wait(error, seconds)``
    before each wait; ``sleep`` may raise to stop). Other errors are raised."""
    retrying = Retrying(
        retry=retry_if_exception(lambda exc: isinstance(exc, RelayError) and exc.transient),
        wait=backoff(backoff_initial, backoff_max),
        stop=stop_never,
        sleep=sleep,
        before_sleep=lambda state: _tell_wait(state, on_wait),
        reraise=True,
    )
    return retrying(lambda: resolve(rec, device_platform, client()))


def _tell_wait(state: RetryCallState, on_wait: Callable[[RelayError, float], None]) -> None:
    """Before a wait: the relay's error and the seconds to wait (only a RelayError is retried)."""
    error = state.outcome.exception() if state.outcome is not None else None
    if isinstance(error, RelayError):
        on_wait(error, state.next_action.sleep if state.next_action is not None else 0.0)


def request_for(url: str, client: RelayClient | None) -> tuple[str, dict[str, str]]:
    """The absolute URL of a package and the headers to send: the token only to the relay."""
    if client is None:
        return url, {}
    absolute = client.absolute_url(url)
    same_host = _origin(absolute) == _origin(client.base_url)
    return absolute, (client._headers() if same_host else {})


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
