"""Which addresses the mirror may fetch from: globally routable ones only (SSRF protection).

An IPv6 address can carry an IPv4 address inside it, and some networks route it there:
IPv4-mapped (``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``, deprecated), NAT64
(``64:ff9b::/96`` and the local-use ``64:ff9b:1::/48``), 6to4 (``2002:a.b.c.d::/48``) and
Teredo (``2001::/32``, the client's address inverted). Python calls some of these global,
so ``2002:7f00:1::`` (6to4 for 127.0.0.1) would pass a plain ``is_global`` check. Here the
embedded IPv4 address must itself be global.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it stands for one."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # (server, client): the client is where traffic ends up
    if any(address in net for net in _NAT64) or (address in _COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """True only for a globally routable address, looking through IPv6 forms that embed IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return inner.is_global
    return address.is_global
