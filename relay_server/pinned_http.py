"""A ``requests`` adapter that connects to the address it resolved and checked itself.

Checking a name's address and then letting the connection resolve the name again leaves a
window for DNS rebinding: a hostile DNS server can answer a public address to the check
and 127.0.0.1 to the connection. :class:`PinnedAdapter` closes it: for every connection it
calls ``resolve(hostname)`` once (which checks the address, or raises) and opens the socket
to exactly the address returned. The request still names the host: the ``Host`` header,
TLS SNI and the certificate check all use the URL's hostname, never the address.

Through an HTTP proxy (``HTTPS_PROXY`` and friends), HTTPS tunnels go to the pinned address
as well; a plain ``http://`` request through a proxy is resolved by the proxy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from requests import PreparedRequest
from requests.adapters import HTTPAdapter

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs


class PinnedAdapter(HTTPAdapter):
    """Connects to ``resolve(hostname)``; Host, SNI and certificate use the hostname."""

    def __init__(self, resolve: Callable[[str], str], **kwargs: Any):
        self.resolve = resolve
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(
        self, request: PreparedRequest, verify: bool | str, cert: str | tuple[str, str] | None = None
    ) -> tuple[_HostParams, _PoolKwargs]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        hostname = host_params["host"]
        address = self.resolve(hostname)
        # urllib3 keys its pools by (scheme, host, port, server_hostname, ...): one pool per
        # checked address, never shared with another name or address.
        host_params["host"] = f"[{address}]" if ":" in address else address
        if host_params["scheme"] == "https":
            # SNI, and the name the certificate must match (a urllib3 pool argument that
            # types-requests leaves out: it lists only the keys requests itself sets).
            pool_kwargs["server_hostname"] = hostname  # type: ignore[typeddict-unknown-key]
        return host_params, pool_kwargs

    def add_headers(self, request: PreparedRequest, **kwargs: Any) -> None:
        # Without this, http.client would send the address as the Host header.
        request.headers["Host"] = urlsplit(str(request.url)).netloc.rpartition("@")[2]
